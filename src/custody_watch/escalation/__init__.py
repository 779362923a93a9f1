"""Who is told, when, and again when: pure functions of (alert state, policy, now).

Nothing here imports SQLAlchemy, a channel or a clock."""
