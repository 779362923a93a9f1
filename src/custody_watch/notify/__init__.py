"""Notification channels: one small protocol, one module per kind. Rendering is separate."""
