"""``Cache-Control: no-store`` on every JSON response: complaint texts, notes and focal points' phone numbers
are personal data, and neither a browser's cache nor a proxy may keep a copy."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class NoStore:
    """ASGI middleware: adds ``Cache-Control: no-store`` to each ``application/json`` response that does
    not set its own ``Cache-Control``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                names = {name.lower(): value for name, value in headers}
                if names.get(b"content-type", b"").startswith(b"application/json") and b"cache-control" not in names:
                    message["headers"] = [*headers, (b"cache-control", b"no-store")]
            await send(message)

        await self.app(scope, receive, send_no_store)
