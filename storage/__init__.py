"""Persistence: SQLAlchemy models, engine and session scope, Alembic migrations."""
