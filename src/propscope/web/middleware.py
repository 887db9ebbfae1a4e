"""ASGI middleware: HTTP methods, request bodies, security headers."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response


class MethodGuard:
    """Methods by the book, for every route: ``OPTIONS`` answers 204 with ``Allow``; a
    method a path does not take answers 405 with ``Allow`` (before any body check);
    ``HEAD`` works wherever ``GET`` does. Unknown paths go on to the app's 404."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app, self.routes = app, routes

    def _methods(self, scope: Scope) -> set[str] | None:
        """The methods the path takes (None: no route has this path)."""
        found: set[str] | None = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match == Match.NONE:
                continue
            methods = {"GET", "HEAD"} if isinstance(route, Mount) else set(
                getattr(route, "methods", None) or ())
            found = (found or set()) | methods
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        methods = self._methods(scope)
        method = scope["method"]
        if methods is None or method in methods:
            await self.app(scope, receive, send)
            return
        if method == "HEAD" and "GET" in methods:
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
            return
        allow = ", ".join(sorted(methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())))
        if method == "OPTIONS":
            await send({"type": "http.response.start", "status": 204,
                        "headers": [(b"allow", allow.encode())]})
            await send({"type": "http.response.body", "body": b""})
            return
        await error_response(405, "method_not_allowed",
                             f"{method[:20]} is not allowed here; allowed: {allow}",
                             {"Allow": allow})(scope, receive, send)


def _without_body(send: Send) -> Send:
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head


class BodyGuard:
    """For POST requests: 415 unless the body is JSON, 413 past ``max_bytes``.

    The body is read here (also when it comes chunked, without Content-Length) and
    handed on in one piece, so no handler ever sees more than ``max_bytes``.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._check_headers(headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        body = await self._read(receive)
        if body is None:  # the client left
            return
        if len(body) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> JSONResponse:
        return error_response(413, "too_large", f"the body is larger than this server's "
                                                f"limit of {self.max_bytes:,} bytes")

    def _check_headers(self, headers: dict[bytes, str]) -> JSONResponse | None:
        ctype = headers.get(b"content-type", "").split(";")[0].strip().lower()
        if not (ctype == "application/json" or
                (ctype.startswith("application/") and ctype.endswith("+json"))):
            got = f"got {ctype[:100]!r}" if ctype else "no Content-Type given"
            return error_response(415, "unsupported_media_type",
                                  f"send a JSON body with Content-Type: application/json ({got})")
        length = headers.get(b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                return error_response(400, "malformed_request", "invalid Content-Length")
            if int(length) > self.max_bytes:
                return self._too_large()
        return None

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or as much as exceeds the limit; None if the client left."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            if size > self.max_bytes or not message.get("more_body", False):
                return b"".join(chunks)


class SecurityHeaders:
    """nosniff, no referrer, no framing on every response; a strict CSP unless one is set."""

    EXTRA = [(b"x-content-type-options", b"nosniff"),
             (b"referrer-policy", b"no-referrer"),
             (b"x-frame-options", b"DENY"),
             (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.EXTRA if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
