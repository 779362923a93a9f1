"""Alerts: one per detention (or per system problem), opened, raised, acknowledged and
resolved as findings come and go; every transition persisted with the notifications it
causes, in one transaction (decide, persist, then send)."""
