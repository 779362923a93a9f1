"""The web side: the custody board, acknowledgement pages and links, Twilio webhooks, health,
metrics and a JSON API. ``create_app(build_web_context(ctx, env))`` is the whole of it."""

from custody_watch.web.app import create_app
from custody_watch.web.context import WebContext, build_web_context

__all__ = ["WebContext", "build_web_context", "create_app"]
