"""Plugins for the whole test suite; pytest reads `pytest_plugins` only from the root conftest."""

# DATABASE_URL or a temporary SQLite file; a fresh schema; empty tables for every test.
pytest_plugins = ["tests.database"]
