"""The service: one composition root (``build``), one cycle (``cycle.run_cycle``), and a thin
APScheduler shell (``scheduler``) that calls it."""
