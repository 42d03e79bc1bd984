"""Background jobs: bodies defined once, run in process (default) or on Celery workers."""
