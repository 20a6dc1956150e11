"""Shared test setup. Server tests use pytest-django's `db` fixtures against
whatever DATABASE_URL the phase of `make test` sets (SQLite or PostgreSQL)."""
