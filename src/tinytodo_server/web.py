"""The HTTP API (Starlette): upstream TinyTodo's endpoints and JSON, behind a login.

=========  =====================  ===========================================
Method     Path                   Body / query
=========  =====================  ===========================================
POST       /api/login             ``{"uid", "password"}`` → ``{"token", ...}``
GET        /api/list/get          ``?list=List::"0"``
POST       /api/list/create       ``{"name"}``
POST       /api/list/update       ``{"list", "name"}``
DELETE     /api/list/delete       ``{"list"}``
POST       /api/task/create       ``{"list", "name"}``
POST       /api/task/update       ``{"list", "task", "name"?, "state"?, "toggle"?}``
DELETE     /api/task/delete       ``{"list", "task"}``
any        /api/lists/get         ``?limit=100&after=<list id>`` (next page: ``Link: <...>; rel="next"``)
POST       /api/share             ``{"list", "share_with", "role"}``
DELETE     /api/share             ``{"list", "unshare_with", "role"}``
=========  =====================  ===========================================

Every call but login needs ``Authorization: Bearer <token>``; the principal is the
token's user. A ``uid`` field (upstream's way to say who is calling) is still accepted,
and refused with 403 unless it names that same user. No cookies are used, so another
site cannot make a browser act for a user (no CSRF); JSON bodies must say
``Content-Type: application/json``; the ``Host`` header must be an allowed host (no DNS
rebinding).

Answers follow upstream: a denial is HTTP 200 with ``{"error": "Authorization Denied"}``;
malformed input is a 4xx with ``{"error": "..."}`` that never echoes more than a short
prefix of the input; an unknown list or task (after authorization) is a 404.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cedarlang import EntityUid

from .core import AppError, TinyTodo, Unauthenticated
from .inputs import JSON, BadRequest, Fields, Security, WebLimits, authenticate, bearer, parse_body, read_body
from .model import USER_TYPE
from .policies import FileSignature
from .ui import UiConfig, WebUi

log = logging.getLogger("tinytodo_server")
access_log = logging.getLogger("tinytodo_server.access")


def _error(message: str, status: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


# -- handlers ---------------------------------------------------------------------------

Command = Callable[[TinyTodo, EntityUid, Fields], Any]


@dataclass(frozen=True)
class Answer:
    body: Any
    headers: Mapping[str, str] | None = None


def _endpoint(command: Command, *, body: bool) -> Callable[[Request], Any]:
    """An endpoint: read the body (bounded), then, off the event loop, authenticate,
    parse and run ``command``; AppError becomes ``{"error": ...}`` with its status."""

    async def endpoint(request: Request) -> Response:
        core: TinyTodo = request.app.state.core
        security: Security = request.app.state.security
        limits: WebLimits = request.app.state.limits
        try:
            token = bearer(request)
            raw = await read_body(request, limits, JSON) if body else None
            query = None if body else request.query_params
            if query is not None and len(request.url.query) > limits.max_query:
                raise AppError("Query string too long", 414)

            def run() -> Any:
                principal = authenticate(security, token)
                request.scope["tinytodo.user"] = str(principal)
                fields = (
                    parse_body(raw, limits)
                    if raw is not None
                    else Fields(dict(query or {}), "query string", limits)
                )
                return command(core, fields.caller(principal), fields)

            result = await run_in_threadpool(run)
        except Unauthenticated as err:
            return _error(err.message, 401, {"WWW-Authenticate": 'Bearer realm="tinytodo"'})
        except AppError as err:
            return _error(err.message, err.status)
        if isinstance(result, Answer):
            return JSONResponse(result.body, headers=result.headers)
        return JSONResponse(result)

    endpoint.__name__ = command.__name__
    return endpoint


OK = {"message": "ok"}


def list_get(core: TinyTodo, user: EntityUid, f: Fields) -> Any:
    return core.get_list(user, f.list()).to_json(not core.templates)


def lists_get(core: TinyTodo, user: EntityUid, f: Fields) -> Any:
    limits = f.limits
    limit = f.integer("limit", 1, limits.max_page) if f.has("limit") else limits.default_page
    after = f.string("after", limits.max_uid) if f.has("after") else None
    lists, next_after = core.get_lists(user, after, limit)
    headers = None
    if next_after is not None:
        link = "/api/lists/get?" + urlencode({"limit": limit, "after": next_after})
        headers = {"Link": f'<{link}>; rel="next"'}
    return Answer([lst.to_json(not core.templates) for lst in lists], headers)


def list_create(core: TinyTodo, user: EntityUid, f: Fields) -> Any:
    return str(core.create_list(user, f.text("name")))


def list_update(core: TinyTodo, user: EntityUid, f: Fields) -> Any:
    core.update_list(user, f.list(), f.text("name"))
    return OK


def list_delete(core: TinyTodo, user: EntityUid, f: Fields) -> Any:
    core.delete_list(user, f.list())
    return OK


def task_create(core: TinyTodo, user: EntityUid, f: Fields) -> Any:
    return core.create_task(user, f.list(), f.text("name"))


def task_update(core: TinyTodo, user: EntityUid, f: Fields) -> Any:
    list_uid, task = f.list(), f.integer("task")
    name = f.text("name") if f.has("name") else None
    state = f.task_state() if f.has("state") else None
    toggle = f.boolean("toggle") if f.has("toggle") else False
    if toggle and state is not None:
        raise BadRequest("give either `state` or `toggle`, not both")
    core.update_task(user, list_uid, task, name, state, toggle)
    return OK


def task_delete(core: TinyTodo, user: EntityUid, f: Fields) -> Any:
    core.delete_task(user, f.list(), f.integer("task"))
    return OK


def share_post(core: TinyTodo, user: EntityUid, f: Fields) -> Any:
    core.share(user, f.list(), f.user_or_team("share_with"), f.role())
    return OK


def share_delete(core: TinyTodo, user: EntityUid, f: Fields) -> Any:
    core.unshare(user, f.list(), f.user_or_team("unshare_with"), f.role())
    return OK


async def share(request: Request) -> Response:
    handler = _SHARE_DELETE if request.method == "DELETE" else _SHARE_POST
    return await handler(request)  # type: ignore[no-any-return]


_SHARE_POST = _endpoint(share_post, body=True)
_SHARE_DELETE = _endpoint(share_delete, body=True)


async def login(request: Request) -> Response:
    security: Security = request.app.state.security
    limits: WebLimits = request.app.state.limits
    try:
        raw = await read_body(request, limits, JSON)

        def check() -> dict[str, Any]:
            fields = parse_body(raw, limits)
            user = fields.uid("uid", (USER_TYPE,))
            password = fields.string("password", limits.max_text)
            if not security.verify_password(user, password):
                raise Unauthenticated("wrong user or password")
            request.scope["tinytodo.user"] = str(user)
            token = security.tokens.issue(user)
            return {"token": token, "token_type": "Bearer", "expires_in": int(security.tokens.ttl)}

        return JSONResponse(await run_in_threadpool(check))
    except Unauthenticated as err:
        return _error(err.message, 401, {"WWW-Authenticate": 'Bearer realm="tinytodo"'})
    except AppError as err:
        return _error(err.message, err.status)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "pid": os.getpid()})


async def http_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        if not request.url.path.startswith("/api/"):  # a page: say it in words
            return request.app.state.ui.http_error(request, exc.status_code)  # type: ignore[no-any-return]
        headers = dict(exc.headers) if exc.headers else None
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)
    return _error("Internal Error", 500)  # pragma: no cover - only HTTPException is routed here


async def internal_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    if not request.url.path.startswith("/api/"):
        return request.app.state.ui.http_error(request, 500)  # type: ignore[no-any-return]
    return _error("Internal Error", 500)


# -- access log -------------------------------------------------------------------------------


class AccessLog:
    """One JSON line per request at INFO on ``tinytodo_server.access``: method, path,
    status, user (when authenticated) and milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not access_log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            entry = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "user": scope.get("tinytodo.user"),
                "ms": round((time.perf_counter() - start) * 1000, 2),
            }
            access_log.info("%s", json.dumps(entry))


# -- policy watcher -------------------------------------------------------------------------


async def watch_policies(core: TinyTodo, interval: float) -> None:
    """Poll the policies file (upstream polls every second) and reload it on change.

    A change is acted on once the file has looked the same for two polls in a
    row, so a file caught half-written (say, truncated to nothing) is not loaded;
    and a file that does not load (missing, empty, invalid) keeps the last good policies.
    """
    path = core.policies_path
    if path is None:
        return
    current = FileSignature.of(path)
    pending: FileSignature | None = None
    while True:
        await asyncio.sleep(interval)
        signature = FileSignature.of(path)
        if signature is None:
            if current is not None:
                log.error("Error reloading policies: %s is missing; keeping the old policies", path)
                current = None
            pending = None
            continue
        if signature == current:
            pending = None
            continue
        if signature != pending:
            pending = signature  # changed since the last poll: wait until it settles
            continue
        pending = None
        current = signature
        log.info("%s changed; reloading", path)
        try:
            await run_in_threadpool(core.reload_policies)
        except Exception:  # never let the watcher die
            log.exception("Error reloading policies")


DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")


def create_app(
    core: TinyTodo,
    security: Security,
    *,
    reload_interval: float = 1.0,
    allowed_hosts: tuple[str, ...] = DEFAULT_HOSTS,
    limits: WebLimits | None = None,
    ui: UiConfig | None = None,
) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = None
        if reload_interval > 0:
            task = asyncio.create_task(watch_policies(core, reload_interval))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            await run_in_threadpool(core.close)

    routes = [
        Route("/api/login", login, methods=["POST"]),
        Route("/api/list/get", _endpoint(list_get, body=False), methods=["GET"]),
        Route("/api/list/create", _endpoint(list_create, body=True), methods=["POST"]),
        Route("/api/list/update", _endpoint(list_update, body=True), methods=["POST"]),
        Route("/api/list/delete", _endpoint(list_delete, body=True), methods=["DELETE"]),
        Route("/api/task/create", _endpoint(task_create, body=True), methods=["POST"]),
        Route("/api/task/update", _endpoint(task_update, body=True), methods=["POST"]),
        Route("/api/task/delete", _endpoint(task_delete, body=True), methods=["DELETE"]),
        # Upstream serves /api/lists/get for any method.
        Route(
            "/api/lists/get",
            _endpoint(lists_get, body=False),
            methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        ),
        Route("/api/share", share, methods=["POST", "DELETE"]),
        Route("/health", health, methods=["GET"]),
    ]
    limits = limits or WebLimits()
    web_ui = WebUi(core, security, limits, ui or UiConfig())
    routes += web_ui.routes()
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(AccessLog),
            Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)),
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )
    app.state.core = core
    app.state.security = security
    app.state.limits = limits
    app.state.ui = web_ui
    return app
