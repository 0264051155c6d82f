"""The ASGI application (Starlette): AuthZEN 1.0 routes, discovery, admin, reload.

=======  ===================================  ==========================================
POST     /access/v1/evaluation                one decision
POST     /access/v1/evaluations               a batch (``options.evaluations_semantic``)
POST     /access/v1/search/subject            who may (paged)
POST     /access/v1/search/resource           on what (paged)
POST     /access/v1/search/action             which actions (paged)
GET      /.well-known/authzen-configuration   the PDP metadata
GET      /health                              liveness and the store version
*        /admin/v1/...                        see :mod:`cedarlang_serve.admin`
=======  ===================================  ==========================================

Errors: a 4xx (or 500) with ``{"error": {"status": N, "message": "..."}}``; an
``X-Request-ID`` sent with a request comes back on its answer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import logs
from .admin import admin_routes
from .config import ServeConfig
from .errors import BadRequest
from .pages import PageTokens
from .pdp import PDP, Decider, cedarlang_decider
from .reload import Reloader
from .store import StoreHolder
from .web import RequestIdMiddleware, error_response, json_body

log = logging.getLogger("cedarlang_serve")

ENDPOINTS = {
    "access_evaluation_endpoint": "/access/v1/evaluation",
    "access_evaluations_endpoint": "/access/v1/evaluations",
    "search_subject_endpoint": "/access/v1/search/subject",
    "search_resource_endpoint": "/access/v1/search/resource",
    "search_action_endpoint": "/access/v1/search/action",
}


def open_store(config: ServeConfig) -> StoreHolder:
    """The store named by ``config`` (a folder or PostgreSQL), read and checked."""
    if config.is_postgres():
        from .pg_store import PostgresStore

        return StoreHolder.open(PostgresStore(config.store, seed=config.seed))
    from .store import DirectoryStore

    return StoreHolder.open(DirectoryStore(config.store))


def create_app(holder: StoreHolder, config: ServeConfig, decider: Decider = cedarlang_decider) -> Starlette:
    pdp = PDP(lambda: holder.snapshot, PageTokens(config.page_secret.encode()), config.options(), decider)
    max_body = config.max_body

    def post(handle: Callable[[Any, str | None], dict[str, Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = await json_body(request, max_body)
            return JSONResponse(handle(body, request.headers.get("x-request-id")))

        return endpoint

    async def discovery(request: Request) -> Response:
        base = (config.public_url or str(request.base_url)).rstrip("/")
        data = {"policy_decision_point": base}
        data.update({key: base + path for key, path in ENDPOINTS.items()})
        return JSONResponse(data)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "store": holder.snapshot.version})

    routes = [
        Route(ENDPOINTS["access_evaluation_endpoint"], post(pdp.evaluation), methods=["POST"]),
        Route(ENDPOINTS["access_evaluations_endpoint"], post(pdp.evaluations), methods=["POST"]),
        *(
            Route(ENDPOINTS[f"search_{kind}_endpoint"], post(_searcher(pdp, kind)), methods=["POST"])
            for kind in ("subject", "resource", "action")
        ),
        Route("/.well-known/authzen-configuration", discovery, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
    ]
    if config.admin_token:
        routes += admin_routes(holder, config.admin_token, config.max_admin_body)

    async def bad_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadRequest)
        return JSONResponse(exc.body(), status_code=exc.status)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(exc.status_code, exc.detail)

    async def internal(request: Request, exc: Exception) -> Response:
        log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal error")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        reloader = Reloader(holder, config.reload_interval) if config.reload_interval > 0 else None
        if reloader is not None:
            reloader.start()
        listen = getattr(holder.backend, "listen", None)  # a store that announces changes
        if listen is not None:
            listen(reloader.wake if reloader is not None else holder.reload)
        try:
            yield
        finally:
            if reloader is not None:
                reloader.stop()
            close = getattr(holder.backend, "close", None)
            if close is not None:
                close()

    return Starlette(
        routes=routes,
        exception_handlers={BadRequest: bad_request, HTTPException: http_error, Exception: internal},
        lifespan=lifespan,
    )


def _searcher(pdp: PDP, kind: str) -> Callable[[Any, str | None], dict[str, Any]]:
    return lambda body, request_id: pdp.search(kind, body, request_id)


def build(config: ServeConfig, decider: Decider = cedarlang_decider) -> Any:
    """The complete ASGI app (with the request-id middleware outermost) for ``config``."""
    logs.configure(config.decision_log, config.log_level)
    holder = open_store(config)
    return RequestIdMiddleware(create_app(holder, config, decider))


def app_from_env() -> Any:
    """The app factory uvicorn's worker processes call (settings from the environment)."""
    return build(ServeConfig.from_env())
