"""Reading a request, for the JSON API and the web pages alike: bounded bodies, typed
fields (names, entity uids, integers, roles) with errors that never echo more than a short
prefix of the input, and the bearer token of the caller."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast, get_args
from urllib.parse import parse_qsl

from starlette.requests import Request

from cedarlang import CedarError, EntityUid, parse_entity_uid

from .auth import AuthError, Credentials, TokenIssuer
from .core import AppError, Unauthenticated
from .model import LIST_TYPE, TEAM_TYPE, USER_TYPE, ShareRole, TaskState

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

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


def shown(text: str) -> str:
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
    """A JSON object, query string or form with typed, required-or-optional fields (in a
    query string or form, where every value is text, integers are read from text)."""

    TEXTUAL = ("query string", "form")

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
            raise BadRequest(f"invalid field `{name}`: {shown(text)} is not an entity uid") from None
        if "\x00" in uid.id:  # a Cedar escape: no database keeps NUL in text
            raise BadRequest(f"invalid field `{name}`: NUL characters are not allowed")
        if uid.type not in types:
            if len(types) == 1:
                expected = f"Expected an entity of type {types[0]}"
            else:
                expected = f"Expected one of the following entity types: {','.join(types)}"
            raise BadRequest(f"invalid field `{name}`: {expected}, got: {shown(str(uid))[1:-1]}")
        return uid

    def list(self, name: str = "list") -> EntityUid:
        return self.uid(name, (LIST_TYPE,))

    def user_or_team(self, name: str) -> EntityUid:
        return self.uid(name, (TEAM_TYPE, USER_TYPE))

    def integer(self, name: str, low: int = I64_MIN, high: int = I64_MAX) -> int:
        value = self._get(name)
        if isinstance(value, str) and self.where in self.TEXTUAL:
            if not value.lstrip("-").isdigit() or len(value) > MAX_NUMBER_DIGITS:
                raise BadRequest(f"invalid field `{name}`: expected an integer, got {shown(value)}")
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
        return cast(ShareRole, self._choice(name, get_args(ShareRole)))

    def task_state(self, name: str = "state") -> TaskState:
        return cast(TaskState, self._choice(name, get_args(TaskState)))

    def _choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self._get(name)
        if isinstance(value, str) and value in choices:
            return value
        got = shown(value) if isinstance(value, str) else _json_type(value)
        expected = " or ".join(f'"{choice}"' for choice in choices)
        raise BadRequest(f"invalid field `{name}`: expected {expected}, got {got}")

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


class TooManyLogins(AppError):
    status = 429


@dataclass(frozen=True)
class Security:
    """Who may log in, and the tokens that say who is calling."""

    credentials: Credentials
    tokens: TokenIssuer
    password_checks: int = 2
    """Password checks running at once (argon2id: about 64 MiB and 0.2 s each)."""
    login_queue: int = 32
    """Logins that may wait for a check; one more is answered 429 at once."""
    login_wait: float = 30.0
    """Seconds a login waits for a check before it is answered 429."""
    _slots: threading.BoundedSemaphore = field(init=False, repr=False, compare=False)
    _queue: threading.BoundedSemaphore = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_slots", threading.BoundedSemaphore(self.password_checks))
        object.__setattr__(
            self, "_queue", threading.BoundedSemaphore(self.password_checks + self.login_queue)
        )

    def verify_password(self, user: EntityUid, password: str) -> bool:
        """Whether ``password`` is ``user``'s (blocking: call it off the event loop). A flood
        of logins cannot take every thread or all the memory: beyond the checks running and
        the queue, or after waiting too long, :class:`TooManyLogins`."""
        if not self._queue.acquire(blocking=False):
            raise TooManyLogins(TOO_MANY_LOGINS)
        try:
            if not self._slots.acquire(timeout=self.login_wait):
                raise TooManyLogins(TOO_MANY_LOGINS)
            try:
                return self.credentials.verify(user, password)
            finally:
                self._slots.release()
        finally:
            self._queue.release()


TOO_MANY_LOGINS = "Too many logins at once: try again in a moment"


def bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if header is None:
        raise Unauthenticated("log in first: this call needs an `Authorization: Bearer <token>` header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be `Bearer <token>`")
    return token.strip()


def authenticate(security: Security, token: str) -> EntityUid:
    try:
        return security.tokens.subject(token)
    except AuthError as err:
        raise Unauthenticated(str(err)) from None


async def read_body(request: Request, limits: WebLimits, media_type: str) -> bytes:
    """The body (at most ``limits.max_body`` bytes) of a request that must be ``media_type``."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != media_type:
        raise AppError(f"Content-Type must be {media_type}", 415)
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


MAX_FORM_FIELDS = 16


def parse_form(raw: bytes, limits: WebLimits) -> Fields:
    """An ``application/x-www-form-urlencoded`` body: at most :data:`MAX_FORM_FIELDS`
    fields, each given once, UTF-8 text."""
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the form is not valid UTF-8 text") from None
    except ValueError:
        raise BadRequest(f"the form has more than {MAX_FORM_FIELDS} fields") from None
    data: dict[str, str] = {}
    for key, value in pairs:
        if key in data:
            raise BadRequest(f"the form gives the field {shown(key)} twice")
        data[key] = value
    return Fields(data, "form", limits)
