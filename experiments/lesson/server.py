"""The demo's web server: Solara's app behind an access-token gate, run by uvicorn.

``govsim-demo`` starts ``python -m experiments.lesson.server --host H --port P`` as its child.
When ``GOVSIM_DEMO_TOKEN`` is set (``govsim-demo`` sets it for any address other than this
machine's loopback), every request must carry the token, in the address (``?token=...``, as in
the link the launcher prints) or in the cookie the first such request sets; anything else gets
``403`` (HTTP) or a closed connection (websocket), before Solara sees it.
"""

from __future__ import annotations

import argparse
import hmac
import os
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

APP_MODULE = "experiments.lesson.page"
TOKEN_ENV = "GOVSIM_DEMO_TOKEN"
COOKIE = "govsim_token"


class TokenGate:
    """ASGI middleware that lets through only requests that carry the access token."""

    def __init__(self, app: Any, token: str) -> None:
        """Wrap ``app``; an empty ``token`` lets everything through."""
        self.app = app
        self.token = token

    def _presented(self, scope: dict[str, Any]) -> tuple[bool, bool]:
        """(carries the token, carried it in the query string)."""
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if any(hmac.compare_digest(t, self.token) for t in query.get("token", [])):
            return True, True
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookie = SimpleCookie()
                try:
                    cookie.load(value.decode("latin-1"))
                except Exception:  # a malformed cookie header is no token
                    continue
                if COOKIE in cookie and hmac.compare_digest(cookie[COOKIE].value, self.token):
                    return True, False
        return False, False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Pass a request with the token on (setting the cookie), refuse one without."""
        if not self.token or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        ok, in_query = self._presented(scope)
        if not ok:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            body = b"govsim-demo: this demo needs the link with its access token (ask the teacher)\n"
            headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if not in_query or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def main(argv: list[str] | None = None) -> None:
    """Run the demo's server on ``--host``/``--port`` (the launcher's child process)."""
    parser = argparse.ArgumentParser(description="govsim teaching demo server (started by govsim-demo)")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ["SOLARA_APP"] = APP_MODULE
    os.environ["SERVER_NAME"] = args.host
    os.environ["SERVER_PORT"] = str(args.port)
    import uvicorn
    from solara.server import settings

    settings.main.mode = "production"
    from solara.server.starlette import app

    uvicorn.run(
        TokenGate(app, os.environ.get(TOKEN_ENV, "")),
        host=args.host,
        port=args.port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
