"""The database plumbing: the URL, the engine and its pool, one session per request, the
declarative base, and `models`, the one import through which Alembic sees every table."""
