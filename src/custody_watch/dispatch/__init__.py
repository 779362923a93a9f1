"""Draining the outbox: claim due messages, re-check the alert, send, record the result,
retry transient failures with backoff, fall back to another channel after permanent ones."""
