"""Persistence: SQLAlchemy 2 tables, engine and session factories, and small repository
functions that take a ``Session`` (the caller owns the transaction)."""
