"""The HTTP API (Starlette), the same endpoints and JSON as upstream TinyTodo.

=========  =====================  ===========================================
Method     Path                   Body / query
=========  =====================  ===========================================
GET        /api/list/get          ``?uid=User::"x"&list=List::"0"``
POST       /api/list/create       ``{"uid", "name"}``
POST       /api/list/update       ``{"uid", "list", "name"}``
DELETE     /api/list/delete       ``{"uid", "list"}``
POST       /api/task/create       ``{"uid", "list", "name"}``
POST       /api/task/update       ``{"uid", "list", "task", "name"?, "state"?}``
DELETE     /api/task/delete       ``{"uid", "list", "task"}``
any        /api/lists/get         ``?uid=User::"x"``
POST       /api/share             ``{"uid", "list", "share_with", "role"}``
DELETE     /api/share             ``{"uid", "list", "unshare_with", "role"}``
=========  =====================  ===========================================

Answers follow upstream: a denial is HTTP 200 with ``{"error": "Authorization Denied"}``;
malformed input is a 4xx with ``{"error": "..."}``; an unknown list or task
(after authorization) is a 404.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any, ParamSpec, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cedarlang import CedarError, EntityUid, parse_entity_uid

from .core import AppError, FileSignature, TinyTodo
from .model import LIST_TYPE, TEAM_TYPE, USER_TYPE, ShareRole, TaskState

log = logging.getLogger("tinytodo_server")

MAX_BODY = 1 << 20
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1

P = ParamSpec("P")
T = TypeVar("T")


class BadRequest(AppError):
    status = 400


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


# -- input parsing --------------------------------------------------------------------


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"invalid field `{field}`: expected a string, got {_json_type(value)}")
    if "\x00" in value:
        raise BadRequest(f"invalid field `{field}`: NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"invalid field `{field}`: not valid Unicode text") from None
    return value


def _uid(value: Any, field: str, types: tuple[str, ...]) -> EntityUid:
    text = _text(value, field)
    try:
        uid = parse_entity_uid(text)
    except CedarError as err:
        raise BadRequest(f"invalid field `{field}`: {text!r} is not an entity uid: {err}") from None
    if uid.type not in types:
        if len(types) == 1:
            expected = f"Expected an entity of type {types[0]}"
        else:
            expected = f"Expected one of the following entity types: {','.join(types)}"
        raise BadRequest(f"invalid field `{field}`: {expected}, got: {uid}")
    return uid


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


class Fields:
    """A JSON object (or query string) with typed, required-or-optional fields."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def _get(self, name: str) -> Any:
        if name not in self.data:
            raise BadRequest(f"missing field `{name}` in the {self.where}")
        return self.data[name]

    def has(self, name: str) -> bool:
        return name in self.data and self.data[name] is not None

    def user(self, name: str = "uid") -> EntityUid:
        return _uid(self._get(name), name, (USER_TYPE,))

    def list(self, name: str = "list") -> EntityUid:
        return _uid(self._get(name), name, (LIST_TYPE,))

    def user_or_team(self, name: str) -> EntityUid:
        return _uid(self._get(name), name, (TEAM_TYPE, USER_TYPE))

    def text(self, name: str) -> str:
        return _text(self._get(name), name)

    def integer(self, name: str) -> int:
        value = self._get(name)
        if type(value) is not int:
            raise BadRequest(f"invalid field `{name}`: expected an integer, got {_json_type(value)}")
        if not I64_MIN <= value <= I64_MAX:
            raise BadRequest(f"invalid field `{name}`: {value} is out of range")
        return value

    def role(self, name: str = "role") -> ShareRole:
        value = self._get(name)
        if value == "Reader":
            return "Reader"
        if value == "Editor":
            return "Editor"
        raise BadRequest(f'invalid field `{name}`: expected "Reader" or "Editor", got {value!r}')

    def task_state(self, name: str = "state") -> TaskState:
        value = self._get(name)
        if value == "Checked":
            return "Checked"
        if value == "Unchecked":
            return "Unchecked"
        raise BadRequest(f'invalid field `{name}`: expected "Checked" or "Unchecked", got {value!r}')


async def _body(request: Request) -> Fields:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise AppError("Request body too large", 413)
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise AppError("Request body too large", 413)
    if not raw.strip():
        raise BadRequest("Request body deserialize error: the body is empty (expected JSON)")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise BadRequest(f"Request body deserialize error: {err}") from None
    except RecursionError:
        raise BadRequest("Request body deserialize error: nested too deeply") from None
    if not isinstance(data, dict):
        raise BadRequest(f"Request body deserialize error: expected a JSON object, got {_json_type(data)}")
    return Fields(data, "request body")


def _query(request: Request) -> Fields:
    return Fields(dict(request.query_params), "query string")


# -- handlers ---------------------------------------------------------------------------


def _handler(
    fn: Callable[[TinyTodo, Request], Awaitable[Any]],
) -> Callable[[Request], Awaitable[Response]]:
    """Turn ``fn`` (which returns a JSON-able value) into an endpoint that maps
    AppError to ``{"error": ...}`` with the error's status."""

    async def endpoint(request: Request) -> Response:
        core: TinyTodo = request.app.state.core
        try:
            result = await fn(core, request)
        except AppError as err:
            return _error(err.message, err.status)
        return JSONResponse(result)

    endpoint.__name__ = fn.__name__
    return endpoint


async def _run(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Commands block (lock, database): run them off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)


OK = {"message": "ok"}


@_handler
async def list_get(core: TinyTodo, request: Request) -> Any:
    q = _query(request)
    uid, list_uid = q.user(), q.list()
    return (await _run(core.get_list, uid, list_uid)).to_json(not core.templates)


@_handler
async def lists_get(core: TinyTodo, request: Request) -> Any:
    uid = _query(request).user()
    return [lst.to_json(not core.templates) for lst in await _run(core.get_lists, uid)]


@_handler
async def list_create(core: TinyTodo, request: Request) -> Any:
    body = await _body(request)
    uid, name = body.user(), body.text("name")
    return str(await _run(core.create_list, uid, name))


@_handler
async def list_update(core: TinyTodo, request: Request) -> Any:
    body = await _body(request)
    uid, list_uid, name = body.user(), body.list(), body.text("name")
    await _run(core.update_list, uid, list_uid, name)
    return OK


@_handler
async def list_delete(core: TinyTodo, request: Request) -> Any:
    body = await _body(request)
    uid, list_uid = body.user(), body.list()
    await _run(core.delete_list, uid, list_uid)
    return OK


@_handler
async def task_create(core: TinyTodo, request: Request) -> Any:
    body = await _body(request)
    uid, list_uid, name = body.user(), body.list(), body.text("name")
    return await _run(core.create_task, uid, list_uid, name)


@_handler
async def task_update(core: TinyTodo, request: Request) -> Any:
    body = await _body(request)
    uid, list_uid, task = body.user(), body.list(), body.integer("task")
    name = body.text("name") if body.has("name") else None
    state = body.task_state() if body.has("state") else None
    await _run(core.update_task, uid, list_uid, task, name, state)
    return OK


@_handler
async def task_delete(core: TinyTodo, request: Request) -> Any:
    body = await _body(request)
    uid, list_uid, task = body.user(), body.list(), body.integer("task")
    await _run(core.delete_task, uid, list_uid, task)
    return OK


@_handler
async def share(core: TinyTodo, request: Request) -> Any:
    body = await _body(request)
    uid, list_uid = body.user(), body.list()
    if request.method == "DELETE":
        target, role = body.user_or_team("unshare_with"), body.role()
        await _run(core.unshare, uid, list_uid, target, role)
    else:
        target, role = body.user_or_team("share_with"), body.role()
        await _run(core.share, uid, list_uid, target, role)
    return OK


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


# -- policy watcher -------------------------------------------------------------------------


async def watch_policies(core: TinyTodo, interval: float) -> None:
    """Poll the policies file (upstream polls every second) and reload it on change.

    A change is acted on once the file has looked the same for two polls in a
    row, so a file caught half-written (say, truncated to nothing, which would
    parse as "no policies") is not loaded.
    """
    if core.policies_path is None:
        return
    pending: FileSignature | None = None
    while True:
        await asyncio.sleep(interval)
        signature = FileSignature.of(core.policies_path)
        if signature is None:
            if core.policies_signature is not None:
                log.error("Error reloading policies: %s is missing", core.policies_path)
                core.policies_signature = None
            pending = None
            continue
        if signature == core.policies_signature:
            pending = None
            continue
        if signature != pending:
            pending = signature  # changed since the last poll: wait until it settles
            continue
        pending = None
        log.info("%s changed; reloading", core.policies_path)
        try:
            await run_in_threadpool(core.reload_policies)
        except Exception:  # never let the watcher die
            log.exception("Error reloading policies")


def create_app(core: TinyTodo, *, reload_interval: float = 1.0) -> Starlette:
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
        Route("/api/list/get", list_get, methods=["GET"]),
        Route("/api/list/create", list_create, methods=["POST"]),
        Route("/api/list/update", list_update, methods=["POST"]),
        Route("/api/list/delete", list_delete, methods=["DELETE"]),
        Route("/api/task/create", task_create, methods=["POST"]),
        Route("/api/task/update", task_update, methods=["POST"]),
        Route("/api/task/delete", task_delete, methods=["DELETE"]),
        # Upstream serves /api/lists/get for any method.
        Route("/api/lists/get", lists_get, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/api/share", share, methods=["POST", "DELETE"]),
        Route("/health", health, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: internal_error},
    )
    app.state.core = core
    return app
