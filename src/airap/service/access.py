"""Who is asking, and how much they may send: API keys (constant-time), client identity for rate
limits and ownership, signed file URLs (an ``<audio src>`` cannot send a header) and the request-body
cap counted on the wire (a chunked body has no Content-Length to trust).

One pure ASGI middleware, :class:`Guard`, does all of it before a route runs and leaves the answer in
``request.state.client``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import HTTPException
from fastapi.responses import JSONResponse

SIGNED_URL_SECONDS = 3600  # a result link on the page stays playable for an hour
JSON_BODY_BYTES = 256 * 1024  # lyrics are capped at 20,000 characters: ≤ 120 kB even fully \u-escaped
FORM_OVERHEAD_BYTES = 200_000  # a multipart form's text fields beside the upload


@dataclass(frozen=True)
class Client:
    id: str  # "key:<hash>" (one per configured key) or "addr:<ip>" when the service has no keys
    signed: bool = False  # came with a valid signed URL for this exact path (no key needed)


def key_id(key: str) -> str:
    return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]


def match_key(given: str | None, keys: tuple[str, ...]) -> str | None:
    """The configured key equal to ``given`` (compared in constant time against every key)."""
    found = None
    for key in keys:
        if hmac.compare_digest((given or "").encode(), key.encode()):
            found = key
    return found


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[str, ...]) -> str:
    """The caller's address. ``X-Forwarded-For`` counts only when the peer is a trusted proxy; then
    the right-most address that is not itself a trusted proxy (the left part is the client's to forge)."""
    peer = peer or "unknown"
    if not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _is_trusted(hop, trusted):
            return hop[:64]
    return peer


def _is_trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


def sign(secret: bytes, path: str, expires: int) -> str:
    return hmac.new(secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def signed_url(secret: bytes, path: str, now: float | None = None) -> str:
    expires = int((now or time.time()) + SIGNED_URL_SECONDS)
    return f"{path}?exp={expires}&sig={sign(secret, path, expires)}"


def _valid_signature(secret: bytes, path: str, query: bytes) -> bool:
    q = parse_qs(query.decode("latin-1"))
    try:
        expires, sig = int(q["exp"][0]), q["sig"][0]
    except (KeyError, ValueError, IndexError):
        return False
    return expires >= time.time() and hmac.compare_digest(sig, sign(secret, path, expires))


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"request body over {limit // 1024} kB")


class Guard:
    """Pure ASGI middleware: refuse oversized bodies (declared or counted), check the key on /v1
    routes, and identify the client."""

    def __init__(self, app, settings):
        self.app, self.settings = app, settings

    def _limit(self, headers: dict[bytes, bytes]) -> int:
        if headers.get(b"content-type", b"").startswith(b"multipart/form-data"):
            return int(self.settings.max_upload_mb * 1024 * 1024) + FORM_OVERHEAD_BYTES
        return JSON_BODY_BYTES

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        limit = self._limit(headers)
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return await _error(413, "too_large", f"request body over {limit // 1024} kB")(scope, receive, send)
        client = self._identify(scope, headers)
        if client is None:
            return await _error(401, "unauthorized", "missing or wrong X-API-Key header")(scope, receive, send)
        scope.setdefault("state", {})["client"] = client
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted_receive, send)

    def _identify(self, scope, headers: dict[bytes, bytes]) -> Client | None:
        s = self.settings
        if not s.api_keys:
            peer = scope["client"][0] if scope.get("client") else None
            forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1") or None
            return Client("addr:" + client_address(peer, forwarded, s.trusted_proxies))
        given = headers.get(b"x-api-key", b"").decode("latin-1")
        key = match_key(given, s.api_keys)
        if key is not None:
            return Client(key_id(key))
        if not scope["path"].startswith("/v1/"):
            return Client("public")  # the page, its static files and health checks
        if scope["method"] == "GET" and _valid_signature(s.url_secret, scope["path"], scope.get("query_string", b"")):
            return Client("signed", signed=True)
        return None
