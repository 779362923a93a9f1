"""Security headers on every response, whatever route or error produced it, and a bound on
every request body.

No inline script or style anywhere, so the policy can be strict. ``no-referrer`` matters
here: an acknowledgement link's token must never leak to another site in a Referer.

Bodies: ``BodyLimit`` reads each request's body itself, in memory and at most ``MAX_BODY``
bytes whatever the transfer encoding (a chunked body has no Content-Length to check), before
any route or form parser sees it; past the limit the answer is 413 and nothing more is read.
Multipart bodies are refused outright (415): no route takes a file, and Starlette's parser
would spool one to a temporary file on disk."""

from __future__ import annotations

from collections.abc import Callable

import anyio.to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if self.https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                if not path.startswith("/static/"):
                    # Pages show custody data: never keep them in a shared or back-button cache.
                    headers.setdefault("Cache-Control", "no-store")
            if message["type"] == "http.response.start":
                started.append(True)
            await send(message)

        started: list[bool] = []
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette answers an unhandled error from its outermost middleware, outside
            # this one, so its 500 would go without these headers. Answer it here instead;
            # re-raising lets the server log it, and the outer layer sees a started response.
            if not started:
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                    }
                )
                await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise


# The largest body any route needs (forms of a few fields; Twilio's webhooks, the largest).
MAX_BODY = 64 * 1024


# Told of each refusal (path, client address, reason), e.g. to audit a refused webhook.
OnRefused = Callable[[str, str, str], None]


class BodyLimit:
    def __init__(
        self, app: ASGIApp, *, limit: int = MAX_BODY, on_refused: OnRefused | None = None
    ) -> None:
        self.app = app
        self.limit = limit
        self.on_refused = on_refused

    async def _refuse(self, scope: Scope, send: Send, status: int, reason: str) -> None:
        if self.on_refused is not None:
            client = scope.get("client") or ("unknown", 0)
            # The callback may write to the store: off the event loop.
            await anyio.to_thread.run_sync(self.on_refused, scope["path"], str(client[0]), reason)
        await _plain(send, status, reason[:1].upper() + reason[1:] + ".")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "").lower().lstrip().startswith("multipart/"):
            await self._refuse(scope, send, 415, "multipart bodies are not accepted here")
            return
        declared = headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send, 413, "body too large")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client went away: nothing to answer
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, send, 413, "body too large")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: only a disconnect is left to hear

        await self.app(scope, replay, send)


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
