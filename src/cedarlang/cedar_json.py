"""Cedar's JSON value encoding: entity uids, ``__entity``/``__extn`` escapes, records, sets.

With an expected schema type, the implicit forms Rust accepts are recognised too:
a bare ``{"type": T, "id": I}`` for an entity, and ``{"fn": F, "arg": A}`` or the
bare constructor argument for an extension value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from . import lexical
from .errors import CedarError, ExtensionError, ExtensionValueError, JsonValueError
from .extensions import EXTENSION_TYPES, FUNCTIONS, ExtensionFunction, construct
from .schema.types import (
    BoolType,
    EntityRefType,
    ExtensionType,
    LongType,
    RecordType,
    SchemaType,
    SetType,
    StringType,
)
from .source import Diagnostic, TextInput, decode_text
from .values import EMPTY_SET, I64_MAX, I64_MIN, CedarSet, EntityUid, Record, Value


class UnknownInValue(JsonValueError):
    """``{"__extn": {"fn": "unknown", "arg": name}}``: an unknown (partial evaluation), not a
    value. Entity loading catches it and keeps the attribute as a residual
    (:func:`cedarlang.partial.residual_attrs`)."""


def uid_from_json(data: Any, where: str = "entity uid") -> EntityUid:
    """``{"type": T, "id": I}`` or ``{"__entity": {...}}`` → :class:`EntityUid`.

    As in Rust (serde), other keys beside ``type`` and ``id`` are ignored.
    """
    if type(data) is dict:
        if "type" not in data and "__entity" in data:
            data = data["__entity"]
        elif "__expr" in data:
            raise JsonValueError(
                f"in {where}: the `__expr` escape is no longer supported; "
                'use `{"__entity": {"type": ..., "id": ...}}`'
            )
        if type(data) is dict:
            type_name, eid = data.get("type"), data.get("id")
            if type(type_name) is str and type(eid) is str:
                return EntityUid(_entity_type_name(type_name, where), eid)
    raise JsonValueError(
        f'in {where}: expected an entity uid like {{"type": "User", "id": "alice"}}, got {_show(data)}'
    )


def check_escapes(data: Any, where: str = "value") -> None:
    """Raise the error of the first malformed ``__entity`` escape in ``data``, if any.

    Rust parses every escape of a JSON value before it builds any extension value, so
    when building an extension value fails, a bad uid elsewhere is the error it reports.
    """
    stack = [data]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            if "__entity" in item and "type" not in item:
                uid_from_json(item, where)
            else:
                stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)


def _entity_escape(data: dict[str, Any], where: str) -> EntityUid | None:
    """``{"__entity": {"type", "id"}}`` (nothing beside it), else ``None`` (a plain record)."""
    if len(data) != 1:
        return None
    inner = data["__entity"]
    if type(inner) is not dict:
        return None
    type_name, eid = inner.get("type"), inner.get("id")
    if type(type_name) is not str or type(eid) is not str:
        return None
    return EntityUid(_entity_type_name(type_name, where), eid)


def _extension_escape(data: dict[str, Any], where: str) -> tuple[bool, Value]:
    """``{"__extn": {"fn", "arg" | "args"}}`` (nothing beside it) → ``(True, value)``;
    anything else is a plain record: ``(False, None)``."""
    if len(data) != 1:
        return False, None
    call = data["__extn"]
    if type(call) is not dict or type(call.get("fn")) is not str:
        return False, None
    if "arg" not in call and type(call.get("args")) is not list:
        return False, None
    return True, _call_from_json(call, where)


KNOWN_TYPE_NAMES: set[str] = set()
"""Entity type names already found well-formed (a set lookup is cheaper than a cached call)."""


def is_entity_type_name(name: str) -> bool:
    """Whether ``name`` is a well-formed (possibly namespaced) entity type name (cached)."""
    if name in KNOWN_TYPE_NAMES:
        return True
    if not lexical.is_entity_type_name(name):
        return False
    if len(KNOWN_TYPE_NAMES) < 4096:
        KNOWN_TYPE_NAMES.add(name)
    return True


def _entity_type_name(name: str, where: str) -> str:
    if name not in KNOWN_TYPE_NAMES and not is_entity_type_name(name):
        reserved = lexical.reserved_part(name)
        if reserved:
            raise JsonValueError(f"in {where}: `{name}` uses the reserved name `{reserved}`")
        raise JsonValueError(f"in {where}: `{name}` is not a valid entity type name")
    return name


def value_from_json(data: Any, expected: SchemaType | None = None, where: str = "value") -> Value:
    """Decode one JSON value, guided by ``expected`` when a schema type is known."""
    if expected is not None:
        return _typed_value(data, expected, where)
    t = type(data)
    if t is bool or t is str:
        return data
    if t is int:
        return _long(data, where)
    if t is list:
        return CedarSet(value_from_json(v, None, where) for v in data) if data else EMPTY_SET
    if t is dict:
        if "__entity" in data:
            uid = _entity_escape(data, where)
            if uid is not None:
                return uid
        elif "__extn" in data:
            found, value = _extension_escape(data, where)
            if found:
                return value
        elif "__expr" in data:
            raise JsonValueError(f"in {where}: the `__expr` escape is no longer supported")
        return Record((k, value_from_json(v, None, f"{where}.{k}")) for k, v in data.items())
    if data is None:
        raise JsonValueError(f"in {where}: `null` is not a Cedar value")
    raise JsonValueError(f"in {where}: {_show(data)} is not a Cedar value")


def _long(data: int, where: str) -> int:
    if not I64_MIN <= data <= I64_MAX:
        raise JsonValueError(f"in {where}: integer `{data}` is out of range for a Long")
    return data


def _extension(data: dict[str, Any], where: str) -> Value:
    found, value = _extension_escape(data, where)
    if not found:
        raise JsonValueError(f"in {where}: malformed `__extn` escape: {_show(data)}")
    return value


def _json_value_error(diagnostics: list[Diagnostic]) -> JsonValueError:
    return JsonValueError(diagnostics[0].message)


def load_json_text(text: TextInput, what: str, *, unique_keys: bool = True) -> Any:
    """Parse JSON text as strictly as Rust's serde does: no duplicate object keys (where
    Rust rejects them), no ``-0`` (a float to serde), no lone surrogate escapes."""
    hook = _unique_keys if unique_keys else None
    # strict UTF-8 (json.loads would guess UTF-16/32 and let encoded surrogates through)
    raw = text if type(text) is str else decode_text(text, what, _json_value_error)
    try:
        data = json.loads(raw, object_pairs_hook=hook)
    except (json.JSONDecodeError, ValueError) as err:
        raise JsonValueError(f"{what} is not valid JSON: {err}") from None
    except RecursionError:
        raise JsonValueError(f"{what} is nested too deeply") from None
    # (a search for one character is a memchr; "-0" in raw, a two-character search, is
    # slower than the regular expression on long texts)
    if "-" in raw and _NEGATIVE_ZERO.search(raw):
        json.loads(raw, parse_int=_no_negative_zero)
    if "\\" in raw and _SURROGATE_ESCAPE.search(raw):
        _check_surrogates(data, what)
    return data


_NEGATIVE_ZERO = re.compile(r"-0(?![0-9.eE])")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonValueError(f"duplicate key `{key}` in JSON object")
            seen.add(key)
    return result


def _no_negative_zero(text: str) -> int:
    if text == "-0":
        raise JsonValueError("`-0` is not an integer (Cedar has no floating-point numbers)")
    return int(text)


def _check_surrogates(data: Any, what: str) -> None:
    stack = [data]
    while stack:
        item = stack.pop()
        if type(item) is str:
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise JsonValueError(f"{what} contains a lone surrogate escape") from None
        elif type(item) is list:
            stack.extend(item)
        elif type(item) is dict:
            stack.extend(item)
            stack.extend(item.values())


_EXTENSION_VALUES: dict[tuple[str, str], Value] = {}
"""Extension values made from one string argument, by ``(fn, arg)``: a context carrying
``ip("10.0.0.1")`` on every request parses it once (the values are immutable)."""
EXTENSION_CACHE_SIZE = 4096
"""Entries kept in ``_EXTENSION_VALUES`` before it is emptied."""


def _call_from_json(call: dict[str, Any], where: str) -> Value:
    name = call.get("fn")
    arg = call.get("arg")
    if type(name) is str and type(arg) is str:
        cached = _EXTENSION_VALUES.get((name, arg))
        if cached is not None:
            return cached
        value = _call_uncached(call, name, where)
        if len(_EXTENSION_VALUES) >= EXTENSION_CACHE_SIZE:
            _EXTENSION_VALUES.clear()
        _EXTENSION_VALUES[name, arg] = value
        return value
    return _call_uncached(call, name, where)


def _call_uncached(call: dict[str, Any], name: Any, where: str) -> Value:
    if not isinstance(name, str):
        raise JsonValueError(f"in {where}: extension value needs a string `fn`: {_show(call)}")
    function = FUNCTIONS.get(name)
    if function is None:
        if name == "unknown":
            _reject_unknown({"__extn": call}, where)
        raise JsonValueError(f"in {where}: unknown extension function `{name}`")
    if "arg" in call:
        arg = call["arg"]
        if type(arg) is str and function.arg_types == _ONE_STRING:  # (a constructor): nothing to check
            return _apply(function, (arg,), where)
        raw_args = [arg]
    elif type(call.get("args")) is list:
        raw_args = call["args"]
    else:
        raise JsonValueError(f"in {where}: malformed extension value: {_show(call)}")
    args = [value_from_json(a, None, where) for a in raw_args]
    if len(args) != len(function.arg_types) or any(
        type(a) is not t for a, t in zip(args, function.arg_types, strict=False)
    ):
        raise JsonValueError(f"in {where}: wrong arguments for extension function `{name}`")
    return _apply(function, args, where)


_ONE_STRING: tuple[type, ...] = (str,)


def _apply(function: ExtensionFunction, args: Sequence[Value], where: str) -> Value:
    """``function`` on type-checked ``args``; a bad argument is a JsonValueError."""
    try:
        result: Value = function.impl(*args)
    except ExtensionError as err:
        raise ExtensionValueError(f"in {where}: {err.detail}") from None
    return result


def _typed_value(data: Any, expected: SchemaType, where: str) -> Value:
    t = type(expected)
    if isinstance(expected, EntityRefType):
        try:
            return _implicit_uid(data, where)
        except JsonValueError:
            _reject_unknown(data, where)
            raise
    if isinstance(expected, ExtensionType):
        return _typed_extension(data, expected, where)
    if isinstance(expected, SetType):
        if type(data) is not list:
            _reject_unknown(data, where)
            raise _mismatch(where, "a set", data)
        element = expected.element
        return CedarSet(_typed_value(v, element, where) for v in data)
    if isinstance(expected, RecordType):
        if type(data) is not dict:
            raise _mismatch(where, "a record", data)
        if "__extn" in data:
            _reject_unknown(data, where)
        attributes = expected.attributes
        out = Record()
        for key, raw in data.items():
            attr = attributes.get(key)
            out[key] = value_from_json(raw, attr.type if attr else None, f"{where}.{key}")
        return out
    value = value_from_json(data, None, where)
    if (
        (t is LongType and type(value) is not int)
        or (t is StringType and type(value) is not str)
        or (t is BoolType and type(value) is not bool)
    ):
        raise _mismatch(where, t.__name__.removesuffix("Type").lower(), data)
    return value


def is_unknown_json(data: Any) -> bool:
    """Whether ``data`` is ``{"__extn": {"fn": "unknown", "arg": name}}`` (an unknown)."""
    if type(data) is not dict or len(data) != 1:
        return False
    call = data.get("__extn")
    return type(call) is dict and call.get("fn") == "unknown"


def _reject_unknown(data: Any, where: str) -> None:
    if is_unknown_json(data):
        raise UnknownInValue(f"in {where}: an unknown (`unknown`) is allowed only in entity attributes")


def _implicit_uid(data: Any, where: str) -> EntityUid:
    if isinstance(data, dict) and set(data) == {"type", "id"}:
        return uid_from_json(data, where)
    return uid_from_json(data, where)


def _typed_extension(data: Any, expected: ExtensionType, where: str) -> Value:
    if isinstance(data, dict):
        if "__extn" in data:
            value = _extension(data, where)
        elif "fn" in data:
            value = _call_from_json(data, where)
        else:
            raise _mismatch(where, expected.name, data)
    elif isinstance(data, str):
        try:
            value = construct(expected.name, data)
        except ExtensionError as err:
            raise JsonValueError(f"in {where}: {err.detail}") from None
    else:
        raise _mismatch(where, expected.name, data)
    cls = EXTENSION_TYPES.get(expected.name)
    if cls is not None and type(value) is not cls:
        raise _mismatch(where, expected.name, data)
    return value


def _mismatch(where: str, expected: str, data: Any) -> JsonValueError:
    return JsonValueError(f"in {where}: expected {expected}, got {_show(data)}")


def compact_json(data: Any) -> str:
    """``json.dumps(data, ensure_ascii=False, separators=(",", ":"))`` for JSON data (dicts
    with string keys, lists, scalars) of any depth: past the recursion limit (a policy the
    parser accepts can be 100,000 levels deep) it is written by a loop."""
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        return compact_json_by_loop(data)


def compact_json_by_loop(data: Any) -> str:
    """What :func:`compact_json` writes, without recursion."""
    out: list[str] = []
    todo: list[tuple[bool, Any]] = [(False, data)]  # (is literal text, item), a stack
    while todo:
        literal, item = todo.pop()
        if literal:
            out.append(item)
        elif isinstance(item, dict):
            todo.append((True, "}"))
            entries = list(item.items())
            for i in range(len(entries) - 1, -1, -1):
                key, value = entries[i]
                todo.append((False, value))
                todo.append((True, ("," if i else "") + json.dumps(key, ensure_ascii=False) + ":"))
            todo.append((True, "{"))
        elif isinstance(item, list | tuple):
            todo.append((True, "]"))
            for i in range(len(item) - 1, -1, -1):
                todo.append((False, item[i]))
                if i:
                    todo.append((True, ","))
            todo.append((True, "["))
        else:
            out.append(json.dumps(item, ensure_ascii=False))
    return "".join(out)


def _show(data: Any) -> str:
    try:
        text = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(data)
    return text if len(text) <= 80 else text[:77] + "..."


__all__ = ["CedarError", "JsonValueError", "compact_json", "uid_from_json", "value_from_json"]
