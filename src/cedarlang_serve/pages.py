"""Search paging: opaque, tamper-proof ``page`` tokens.

A token is ``base64url(payload) "." base64url(HMAC-SHA256(secret, payload))``; the
payload holds the offset of the next result and a digest of the request it continues
(every field but ``page.token``, canonical JSON), so a forged, altered or foreign token
and a token sent with a changed request are refused (400), as the specification asks.
Every replica behind one load balancer must share the secret (``--page-secret``).

Never a silent cap: a page holds at most ``limit`` results (the request's ``page.limit``,
at most the server's ``max_page_size``) and ``page.next_token`` is non-empty whenever
more results follow; ``page.total`` counts them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from .errors import BadRequest, ServeError


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def request_digest(body: dict[str, Any]) -> str:
    """A digest of a search request without its ``page.token``."""
    page = body.get("page")
    rest = dict(body)
    if isinstance(page, dict):
        rest["page"] = {k: v for k, v in page.items() if k != "token"}
        if not rest["page"]:
            del rest["page"]
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


class PageTokens:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ServeError("the page-token secret (--page-secret) must have at least 16 bytes")
        self._secret = secret

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()

    def issue(self, digest: str, offset: int) -> str:
        payload = json.dumps({"d": digest, "o": offset}, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def offset(self, token: str, digest: str) -> int:
        """The offset a token continues from; :class:`BadRequest` if it is not ours or not
        for this request."""
        head, dot, tail = token.partition(".")
        try:
            payload, mac = _unb64(head), _unb64(tail)
        except ValueError:
            payload, mac = b"", b""
        if not dot or not payload or not hmac.compare_digest(mac, self._mac(payload)):
            raise BadRequest("`page.token` is not a token this PDP issued")
        data = json.loads(payload)
        if data["d"] != digest:
            raise BadRequest(
                "`page.token` belongs to a different request: every field but `page.token` "
                "must be the same as in the request that returned it"
            )
        offset = data["o"]
        assert isinstance(offset, int)
        return offset


def page_limit(page: Any, max_page_size: int) -> tuple[int, str | None]:
    """``(limit, token)`` from a request's ``page`` object (structure checked)."""
    if page is None:
        return max_page_size, None
    if not isinstance(page, dict):
        raise BadRequest("`page` must be an object")
    limit = page.get("limit", max_page_size)
    if type(limit) is not int or limit < 0:
        raise BadRequest("`page.limit` must be a non-negative integer")
    token = page.get("token")
    if token is not None and (not isinstance(token, str) or not token):
        raise BadRequest("`page.token` must be a non-empty string")
    props = page.get("properties")
    if props is not None and not isinstance(props, dict):
        raise BadRequest("`page.properties` must be an object")
    return min(limit, max_page_size), token
