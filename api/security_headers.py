"""Headers on every answer: never sniffed, and never stored unless it says it may be.

Answers carry personal data (persons, audit trails, exports), so each gets
``Cache-Control: no-store`` unless the route set its own Cache-Control: only the public
static assets do (the dashboard's stylesheet, the API docs' scripts). Every answer gets
``X-Content-Type-Options: nosniff`` (a browser must not run a JSON or CSV answer as script).
A header the route set itself is left as it is.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: What an answer without its own caching rule gets (the 500 handler sends these too).
DEFAULT_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class SecurityHeadersMiddleware:
    """Add DEFAULT_HEADERS to every HTTP answer that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.defaults = [(k.lower().encode(), v.encode()) for k, v in DEFAULT_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in self.defaults if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
