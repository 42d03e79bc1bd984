"""Metadata in SQL: tables, engine, repository and Alembic migrations."""
