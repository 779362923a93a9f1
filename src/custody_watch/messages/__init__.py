"""What people read: alert texts rendered from Jinja2 templates in ``templates/``.

Rendering is kept apart from sending: the outbox stores the rendered message, so what was
decided is exactly what is sent, even after a restart or a template change."""
