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

from cedarlang import CedarError, EntityUid, parse_entity_uid

from .auth import AuthError, Credentials, TokenIssuer
from .core import AppError, TinyTodo, Unauthenticated
from .model import LIST_TYPE, TEAM_TYPE, USER_TYPE, ShareRole, TaskState
from .policies import FileSignature

log = logging.getLogger("tinytodo_server")
access_log = logging.getLogger("tinytodo_server.access")

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
MAX_NUMBER_DIGITS = 20
SHOWN = 40  # characters of a bad input quoted back in an error


@dataclass(frozen=True)
class WebLimits:
    max_body: int = 64 * 1024
    max_text: int = 1000
    """Characters in a list or task name."""
    max_uid: int = 256
    """Characters in an entity uid."""
    max_query: int = 4096
    max_page: int = 1000
    default_page: int = 100


class BadRequest(AppError):
    status = 400


class Forbidden(AppError):
    status = 403


def _error(message: str, status: int, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _shown(text: str) -> str:
    """``text`` quoted, cut to a short prefix."""
    return repr(text) if len(text) <= SHOWN else repr(text[:SHOWN]) + f"... ({len(text)} characters)"


# -- input parsing --------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise BadRequest(f"Request body deserialize error: a number with {len(text)} digits is too large")
    return int(text)


def _parse_constant(text: str) -> Any:
    raise BadRequest(f"Request body deserialize error: {text} is not valid JSON")


class Fields:
    """A JSON object (or query string) with typed, required-or-optional fields."""

    def __init__(self, data: Mapping[str, Any], where: str, limits: WebLimits) -> None:
        self.data = data
        self.where = where
        self.limits = limits

    def _get(self, name: str) -> Any:
        if name not in self.data:
            raise BadRequest(f"missing field `{name}` in the {self.where}")
        return self.data[name]

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def string(self, name: str, max_length: int) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise BadRequest(f"invalid field `{name}`: expected a string, got {_json_type(value)}")
        if len(value) > max_length:
            raise BadRequest(f"invalid field `{name}`: longer than {max_length} characters")
        if "\x00" in value:
            raise BadRequest(f"invalid field `{name}`: NUL characters are not allowed")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(f"invalid field `{name}`: not valid Unicode text") from None
        return value

    def text(self, name: str) -> str:
        return self.string(name, self.limits.max_text)

    def uid(self, name: str, types: tuple[str, ...]) -> EntityUid:
        text = self.string(name, self.limits.max_uid)
        try:
            uid = parse_entity_uid(text)
        except CedarError:
            raise BadRequest(f"invalid field `{name}`: {_shown(text)} is not an entity uid") from None
        if uid.type not in types:
            if len(types) == 1:
                expected = f"Expected an entity of type {types[0]}"
            else:
                expected = f"Expected one of the following entity types: {','.join(types)}"
            raise BadRequest(f"invalid field `{name}`: {expected}, got: {_shown(str(uid))[1:-1]}")
        return uid

    def list(self, name: str = "list") -> EntityUid:
        return self.uid(name, (LIST_TYPE,))

    def user_or_team(self, name: str) -> EntityUid:
        return self.uid(name, (TEAM_TYPE, USER_TYPE))

    def integer(self, name: str, low: int = I64_MIN, high: int = I64_MAX) -> int:
        value = self._get(name)
        if isinstance(value, str) and self.where == "query string":
            if not value.lstrip("-").isdigit() or len(value) > MAX_NUMBER_DIGITS:
                raise BadRequest(f"invalid field `{name}`: expected an integer, got {_shown(value)}")
            value = int(value)
        if type(value) is not int:
            raise BadRequest(f"invalid field `{name}`: expected an integer, got {_json_type(value)}")
        if not low <= value <= high:
            raise BadRequest(f"invalid field `{name}`: {value} is out of range ({low} to {high})")
        return value

    def boolean(self, name: str) -> bool:
        value = self._get(name)
        if type(value) is not bool:
            raise BadRequest(f"invalid field `{name}`: expected true or false, got {_json_type(value)}")
        return value

    def role(self, name: str = "role") -> ShareRole:
        value = self._get(name)
        if value == "Reader":
            return "Reader"
        if value == "Editor":
            return "Editor"
        shown = _shown(value) if isinstance(value, str) else _json_type(value)
        raise BadRequest(f'invalid field `{name}`: expected "Reader" or "Editor", got {shown}')

    def task_state(self, name: str = "state") -> TaskState:
        value = self._get(name)
        if value == "Checked":
            return "Checked"
        if value == "Unchecked":
            return "Unchecked"
        shown = _shown(value) if isinstance(value, str) else _json_type(value)
        raise BadRequest(f'invalid field `{name}`: expected "Checked" or "Unchecked", got {shown}')

    def caller(self, principal: EntityUid) -> EntityUid:
        """``principal``, after checking that a ``uid`` field, if any, names it."""
        if "uid" in self.data:
            claimed = self.uid("uid", (USER_TYPE,))
            if claimed != principal:
                raise Forbidden("the `uid` field does not match the logged-in user")
        return principal


def parse_body(raw: bytes, limits: WebLimits) -> Fields:
    if not raw.strip():
        raise BadRequest("Request body deserialize error: the body is empty (expected JSON)")
    try:
        data = json.loads(raw, parse_int=_parse_int, parse_constant=_parse_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadRequest(f"Request body deserialize error: {err}") from None
    except RecursionError:
        raise BadRequest("Request body deserialize error: nested too deeply") from None
    if not isinstance(data, dict):
        raise BadRequest(f"Request body deserialize error: expected a JSON object, got {_json_type(data)}")
    return Fields(data, "request body", limits)


# -- authentication ------------------------------------------------------------------------


@dataclass(frozen=True)
class Security:
    credentials: Credentials
    tokens: TokenIssuer


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthenticated("log in first: this call needs an `Authorization: Bearer <token>` header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be `Bearer <token>`")
    return token.strip()


def _authenticate(security: Security, token: str) -> EntityUid:
    try:
        return security.tokens.subject(token)
    except AuthError as err:
        raise Unauthenticated(str(err)) from None


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
            token = _bearer(request)
            raw = await _read_body(request, limits) if body else None
            query = None if body else request.query_params
            if query is not None and len(request.url.query) > limits.max_query:
                raise AppError("Query string too long", 414)

            def run() -> Any:
                principal = _authenticate(security, token)
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


async def _read_body(request: Request, limits: WebLimits) -> bytes:
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise AppError("Content-Type must be application/json", 415)
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limits.max_body):
        raise AppError("Request body too large", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body:
            raise AppError("Request body too large", 413)
        chunks.append(chunk)
    return b"".join(chunks)


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
        raw = await _read_body(request, limits)

        def check() -> dict[str, Any]:
            fields = parse_body(raw, limits)
            user = fields.uid("uid", (USER_TYPE,))
            password = fields.string("password", limits.max_text)
            if not security.credentials.verify(user, password):
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
        headers = dict(exc.headers) if exc.headers else None
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)
    return _error("Internal Error", 500)  # pragma: no cover - only HTTPException is routed here


async def internal_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
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
    app.state.limits = limits or WebLimits()
    return app
