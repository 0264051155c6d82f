"""HTTP helpers shared by the AuthZEN and admin routes: JSON bodies, errors, request ids."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import BadRequest

REQUEST_ID = "x-request-id"


def _no_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not JSON")


async def read_body(request: Request, max_body: int) -> bytes:
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > max_body:
        raise BadRequest(f"the request body is larger than {max_body} bytes", 413)
    chunks = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > max_body:
            raise BadRequest(f"the request body is larger than {max_body} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, max_body: int) -> Any:
    """The request's JSON body; :class:`BadRequest` (400/413/415) if it is not JSON."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise BadRequest("the request must have `Content-Type: application/json`", 415)
    raw = await read_body(request, max_body)
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_constant=_no_constant)
        if "\\u" in text:  # an escaped lone surrogate is JSON but not Unicode text
            json.dumps(data, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise BadRequest("the request body is nested too deeply") from None
    except UnicodeError:
        raise BadRequest("the request body is not valid UTF-8 text") from None
    except ValueError as err:
        raise BadRequest(f"the request body is not valid JSON: {err}") from None
    return data


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


class RequestIdMiddleware:
    """Echo ``X-Request-ID`` on every answer to a request that carried one (errors too)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                request_id = value
                break
        if request_id is None:
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        await self.app(scope, receive, send_with_id)
