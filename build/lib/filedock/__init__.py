"""filedock: a self-hosted service for large, resumable, chunked file uploads."""

__version__ = "0.1.0"
