"""Optional API key: compared in constant time so response timing does not leak the key."""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from uniner.serving.errors import ApiError
from uniner.serving.settings import API_KEY_HEADER


def check_api_key(expected: str | None, given: str | bytes | None) -> None:
    """Nothing when no key is configured or the key matches; a 401 :class:`ApiError` otherwise."""
    if expected is None:
        return
    # compare bytes of both (compare_digest on str rejects non-ASCII); a missing key compares
    # against an empty value so the missing and the wrong case take the same path
    raw = given.encode("utf-8") if isinstance(given, str) else (given or b"")
    ok = hmac.compare_digest(raw, expected.encode("utf-8"))
    if not ok:
        raise ApiError(
            401,
            "unauthorized",
            f"missing or wrong API key (send it in the {API_KEY_HEADER} header)",
            field=API_KEY_HEADER,
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )


class ApiKeyGuard:
    """ASGI middleware: /v1/* needs the key before anything is read (the page and /health don't).

    Checked ahead of body parsing so an unauthenticated client learns nothing from validation
    errors and cannot make the server read its body.
    """

    def __init__(self, app: ASGIApp, api_key: str | None, prefix: str = "/v1/"):
        self.app = app
        self.api_key = api_key
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.api_key is None
            or scope["type"] != "http"
            or not scope.get("path", "").startswith(self.prefix)
            or scope.get("method") == "OPTIONS"
        ):
            await self.app(scope, receive, send)
            return
        given = None
        wanted = API_KEY_HEADER.lower().encode("latin-1")
        for name, value in scope.get("headers", ()):
            if name == wanted:
                given = value  # raw bytes: a UTF-8 key compares byte for byte
        try:
            check_api_key(self.api_key, given)
        except ApiError as exc:
            payload = json.dumps(exc.body()).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ]
            headers += [(k.lower().encode(), v.encode()) for k, v in (exc.headers or {}).items()]
            await send({"type": "http.response.start", "status": exc.status, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        await self.app(scope, receive, send)
