"""The web side: the custody board, acknowledgement pages and links, Twilio webhooks, health,
metrics and a JSON API. ``create_app(web)`` is the whole of it; the daemon makes ``web``
(``daemon.web_side.build_web_context``), as the web side imports nothing of the daemon."""

from custody_watch.web.app import create_app
from custody_watch.web.app_context import WebContext

__all__ = ["WebContext", "create_app"]
