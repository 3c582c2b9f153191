"""Persistence: SQLAlchemy 2.x typed ORM on an async engine (SQLite or PostgreSQL)."""
