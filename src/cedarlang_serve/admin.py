"""The admin API: read and replace the policies, schema, entities and mapping.

Off unless an admin token is configured (``--admin-token`` or ``CEDAR_SERVE_ADMIN_TOKEN``);
every call needs ``Authorization: Bearer <token>``.

=======  =========================  ====================================================
GET      /admin/v1/status           store version, load time, the last reload failure
GET      /admin/v1/{part}           the part's text (404 if an optional part is absent)
PUT      /admin/v1/{part}           replace it (body: its text); 400 and nothing changes
                                    if the store would not load, with the diagnostics;
                                    503 if the store cannot be written
DELETE   /admin/v1/{part}           remove an optional part (schema, entities, mapping)
=======  =========================  ====================================================

``part`` is ``policies`` (Cedar text; replaces all policy files with one), ``schema``
(Cedar schema text), ``entities`` (entities JSON) or ``mapping`` (the AuthZEN mapping).
A change is written to the store (folder or PostgreSQL), so other replicas pick it up.
"""

from __future__ import annotations

import hmac
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .errors import BadRequest, StoreError, StoreUnavailable
from .store import PARTS, StoreHolder
from .web import read_body

log = logging.getLogger("cedarlang_serve.admin")

_MEDIA = {
    "policies": "text/plain",
    "schema": "text/plain",
    "entities": "application/json",
    "mapping": "application/json",
}


def admin_routes(holder: StoreHolder, token: str, max_body: int) -> list[Route]:
    expected = f"Bearer {token}".encode()

    def authorize(request: Request) -> None:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise BadRequest("the admin API needs `Authorization: Bearer <admin token>`", 401)

    def part_of(request: Request) -> str:
        part = str(request.path_params["part"])
        if part not in PARTS:
            raise BadRequest(f"unknown store part `{part}`; one of " + ", ".join(PARTS), 404)
        return part

    async def status(request: Request) -> Response:
        authorize(request)
        snapshot = holder.snapshot
        return JSONResponse(
            {
                "store": holder.backend.describe(),
                "version": snapshot.version,
                "loaded_at": snapshot.loaded_at,
                "policies": len(snapshot.policies),
                "entities": len(snapshot.entities),
                "schema": snapshot.schema is not None,
                "last_error": holder.last_error,
                "last_error_at": holder.last_error_at,
            }
        )

    async def read(request: Request) -> Response:
        authorize(request)
        part = part_of(request)
        sources = holder.snapshot.sources
        text = sources.policy_text() if part == "policies" else getattr(sources, part)
        if text is None:
            raise BadRequest(f"the store has no {part}", 404)
        return PlainTextResponse(text, media_type=_MEDIA[part])

    async def replace(request: Request) -> Response:
        authorize(request)
        part = part_of(request)
        raw = await read_body(request, max_body)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("the body must be UTF-8 text") from None
        return _change(holder, part, text)

    async def remove(request: Request) -> Response:
        authorize(request)
        part = part_of(request)
        if part == "policies":
            raise BadRequest("the policies cannot be removed (PUT an empty text to have none)", 405)
        return _change(holder, part, None)

    return [
        Route("/admin/v1/status", status, methods=["GET"]),
        Route("/admin/v1/{part}", read, methods=["GET"]),
        Route("/admin/v1/{part}", replace, methods=["PUT"]),
        Route("/admin/v1/{part}", remove, methods=["DELETE"]),
    ]


def _change(holder: StoreHolder, part: str, text: str | None) -> Response:
    try:
        snapshot = holder.replace(part, text)
    except StoreError as err:
        status = 503 if isinstance(err, StoreUnavailable) else 400
        return JSONResponse(
            {"error": {"status": status, "message": err.summary, "details": err.details}}, status_code=status
        )
    log.info(
        "admin: %s %s; store version %s",
        "replaced" if text is not None else "removed",
        part,
        snapshot.version,
    )
    return JSONResponse({"version": snapshot.version})
