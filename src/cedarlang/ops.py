"""Cedar operator semantics, shared by the interpreter and the compiled evaluator.

Each function takes evaluated Cedar values and returns a value or raises an
:class:`~cedarlang.errors.EvaluationError` with Rust Cedar's error kind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .errors import EvaluationError, ExtensionError
from .extensions import FUNCTIONS, Datetime, Duration, IPAddr
from .values import I64_MAX, I64_MIN, CedarSet, EntityUid, Record, Value, type_name


class EntityData(Protocol):
    """What the evaluator needs of an entity."""

    @property
    def attrs(self) -> Mapping[str, Value]: ...
    @property
    def ancestors(self) -> frozenset[EntityUid]: ...
    @property
    def tags(self) -> Mapping[str, Value]: ...


class EntityStore(Protocol):
    def get(self, uid: EntityUid) -> EntityData | None: ...


_ANY_ENTITY = "(entity of type `any_entity_type`)"
_SET_OR_ENTITY = ("set", _ANY_ENTITY)
_RECORD_OR_ENTITY = ("record", _ANY_ENTITY)
# Rust's `valid_comparison_op_types`: long, then the extension types with operator
# overloading in the order they are registered (cedar-policy-core/src/evaluator.rs).
_COMPARABLE = ("long", Datetime.cedar_type, Duration.cedar_type)
# Its advice lists them sorted by Rust's `Type` order (`Long` before `Extension`), the same order.
_COMPARABLE_HELP = f"Only types {', '.join(_COMPARABLE)} support comparison"
# Rust's advice when the left of `in` is not an entity, by the type of its right.
_IN_HELP: dict[type, str] = {
    CedarSet: "`in` is for checking the entity hierarchy; use `.contains()` to test set membership",
    Record: "`in` is for checking the entity hierarchy; use `has` to test if a record has a key",
}


def type_error(expected: str | tuple[str, ...], value: Value, help: str | None = None) -> EvaluationError:
    """Rust's ``TypeError`` display (cedar-policy-core/src/evaluator/err.rs): one expected
    type reads "expected X", several read "expected one of [X, Y]"."""
    if type(expected) is not str:
        expected = expected[0] if len(expected) == 1 else f"one of [{', '.join(expected)}]"
    return EvaluationError("TypeError", f"type error: expected {expected}, got {type_name(value)}", help)


def expect_bool(value: Value) -> bool:
    if value is True or value is False:
        return value
    raise type_error("bool", value)


def expect_long(value: Value) -> int:
    if type(value) is int:
        return value
    raise type_error("long", value)


def expect_entity(value: Value) -> EntityUid:
    if type(value) is EntityUid:
        return value
    raise type_error(_ANY_ENTITY, value)


def expect_set(value: Value) -> CedarSet:
    if type(value) is CedarSet:
        return value
    raise type_error("set", value)


def expect_string(value: Value) -> str:
    if type(value) is str:
        return value
    raise type_error("string", value)


def overflow(message: str) -> EvaluationError:
    return EvaluationError("IntegerOverflow", f"integer overflow while attempting to {message}")


def add(a: Value, b: Value) -> int:
    x, y = expect_long(a), expect_long(b)
    r = x + y
    if I64_MIN <= r <= I64_MAX:
        return r
    raise overflow(f"add the values `{x}` and `{y}`")


def sub(a: Value, b: Value) -> int:
    x, y = expect_long(a), expect_long(b)
    r = x - y
    if I64_MIN <= r <= I64_MAX:
        return r
    raise overflow(f"subtract the values `{x}` and `{y}`")


def mul(a: Value, b: Value) -> int:
    x, y = expect_long(a), expect_long(b)
    r = x * y
    if I64_MIN <= r <= I64_MAX:
        return r
    raise overflow(f"multiply the values `{x}` and `{y}`")


def neg(a: Value) -> int:
    x = expect_long(a)
    if x == I64_MIN:
        raise overflow(f"negate the value `{x}`")
    return -x


def not_(a: Value) -> bool:
    return not expect_bool(a)


def eq(a: Value, b: Value) -> bool:
    return type(a) is type(b) and a == b


def ne(a: Value, b: Value) -> bool:
    return not (type(a) is type(b) and a == b)


def _comparable(a: Value, b: Value) -> None:
    """Rust's ``binary_relation`` for ``<``/``<=``: two longs, or two values of one extension
    type with operator overloading; otherwise its type error, checked in Rust's order."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return
    if ta is tb and (ta is Datetime or ta is Duration):
        return
    raise _comparison_error(a, b)


def _comparison_error(a: Value, b: Value) -> EvaluationError:
    ta, tb = type(a), type(b)
    if ta is int:
        return type_error("long", b)
    if tb is int:
        return type_error("long", a)
    if ta is Datetime or ta is Duration:
        return type_error(type_name(a), b)
    if tb is Datetime or tb is Duration:
        return type_error(type_name(b), a)
    return type_error(_COMPARABLE, a, _COMPARABLE_HELP)


def lt(a: Value, b: Value) -> bool:
    _comparable(a, b)
    return bool(a < b)


def le(a: Value, b: Value) -> bool:
    _comparable(a, b)
    return bool(a <= b)


def gt(a: Value, b: Value) -> bool:
    _comparable(a, b)
    return bool(a > b)


def ge(a: Value, b: Value) -> bool:
    _comparable(a, b)
    return bool(a >= b)


def rust_order_key(value: Value) -> tuple[Any, ...]:
    """A key sorting values in Rust's ``Ord`` for ``Value`` (the order of a ``BTreeSet``):
    literals (bool < long < string < entity) < sets < records < extension values."""
    t = type(value)
    if t is bool:
        return (0, 0, int(value))
    if t is int:
        return (0, 1, value)
    if t is str:
        return (0, 2, value)
    if t is EntityUid:
        parts = value.type.split("::")
        return (0, 3, parts[-1], tuple(parts[:-1]), value.id)
    if t is CedarSet:
        return (1, tuple(sorted(rust_order_key(v) for v in value)))
    if t is Record:
        return (2, tuple((k, rust_order_key(value[k])) for k in sorted(value)))
    if t is IPAddr:
        inner: tuple[Any, ...] = (0 if value.is_v4 else 1, value.addr, value.prefix)
    elif t is Datetime:
        inner = (value.epoch,)
    elif t is Duration:
        inner = (value.ms,)
    else:
        inner = (value.value,)
    return (3, value.cedar_type, inner)


def in_(entities: EntityStore, a: Value, b: Value) -> bool:
    if type(a) is not EntityUid:
        raise type_error(_ANY_ENTITY, a, _IN_HELP.get(type(b)))
    uid = a
    tb = type(b)
    if tb is EntityUid:
        if uid == b:
            return True
        entity = entities.get(uid)
        return entity is not None and b in entity.ancestors
    if tb is CedarSet:
        targets = list(b)
        if not all(type(t) is EntityUid for t in targets):
            for v in sorted(targets, key=rust_order_key):  # the first in Rust's set order
                expect_entity(v)
        if uid in b:
            return True
        entity = entities.get(uid)
        if entity is None:
            return False
        ancestors = entity.ancestors
        return any(t in ancestors for t in targets)
    raise type_error(_SET_OR_ENTITY, b)


def contains(a: Value, b: Value) -> bool:
    return b in expect_set(a)


def contains_all(a: Value, b: Value) -> bool:
    left = expect_set(a)
    return expect_set(b).issubset(left)


def contains_any(a: Value, b: Value) -> bool:
    left = expect_set(a)
    return not expect_set(b).isdisjoint(left)


def is_empty(a: Value) -> bool:
    return len(expect_set(a)) == 0


def _entity_missing(uid: EntityUid) -> EvaluationError:
    return EvaluationError("EntityDoesNotExist", f"entity `{uid}` does not exist")


def get_attr(entities: EntityStore, value: Value, attr: str) -> Value:
    t = type(value)
    if t is Record:
        try:
            return value[attr]
        except KeyError:
            raise EvaluationError(
                "RecordAttrDoesNotExist", f"record does not have the attribute `{attr}`"
            ) from None
    if t is EntityUid:
        entity = entities.get(value)
        if entity is None:
            raise _entity_missing(value)
        try:
            return entity.attrs[attr]
        except KeyError:
            raise EvaluationError(
                "EntityAttrDoesNotExist", f"`{value}` does not have the attribute `{attr}`"
            ) from None
    raise type_error(_RECORD_OR_ENTITY, value)


def has_attr(entities: EntityStore, value: Value, attr: str) -> bool:
    t = type(value)
    if t is Record:
        return attr in value
    if t is EntityUid:
        entity = entities.get(value)
        return entity is not None and attr in entity.attrs
    raise type_error(_RECORD_OR_ENTITY, value)


def get_tag(entities: EntityStore, value: Value, key: Value) -> Value:
    uid = expect_entity(value)
    tag = expect_string(key)
    entity = entities.get(uid)
    if entity is None:
        raise _entity_missing(uid)
    try:
        return entity.tags[tag]
    except KeyError:
        raise EvaluationError("EntityTagDoesNotExist", f"`{uid}` does not have the tag `{tag}`") from None


def has_tag(entities: EntityStore, value: Value, key: Value) -> bool:
    uid = expect_entity(value)
    tag = expect_string(key)
    entity = entities.get(uid)
    return entity is not None and tag in entity.tags


def is_type(value: Value, entity_type: str) -> bool:
    return expect_entity(value).type == entity_type


def like(value: Value, pattern: Sequence[str | None]) -> bool:
    """Cedar ``like``: ``None`` in ``pattern`` is the wildcard ``*``."""
    return match_pattern(expect_string(value), pattern)


def match_pattern(text: str, pattern: Sequence[str | None]) -> bool:
    """Glob matching with only ``*`` wildcards, in linear time (greedy segments)."""
    segments: list[str] = []
    current: list[str] = []
    for piece in pattern:
        if piece is None:
            segments.append("".join(current))
            current = []
        else:
            current.append(piece)
    segments.append("".join(current))
    if len(segments) == 1:
        return text == segments[0]
    first, last = segments[0], segments[-1]
    if len(text) < len(first) + len(last) or not text.startswith(first):
        return False
    if not text.endswith(last):
        return False
    pos = len(first)
    end = len(text) - len(last)
    for segment in segments[1:-1]:
        if not segment:
            continue
        found = text.find(segment, pos, end)
        if found == -1:
            return False
        pos = found + len(segment)
    return True


def call_extension(name: str, args: Sequence[Value]) -> Value:
    function = FUNCTIONS.get(name)
    if function is None:
        raise EvaluationError("FailedExtensionFunctionLookup", f"extension function `{name}` does not exist")
    if len(args) != len(function.arg_types):
        raise EvaluationError(
            "WrongNumArguments",
            f"wrong number of arguments provided to extension function `{name}`: "
            f"expected {len(function.arg_types)}, got {len(args)}",
        )
    for arg, expected in zip(args, function.arg_types, strict=True):
        if type(arg) is not expected:
            raise type_error(_cedar_name(expected), arg)
    result: Any = function.impl(*args)
    return result


def _cedar_name(cls: type) -> str:
    if cls is str:
        return "string"
    if cls is int:
        return "long"
    if cls is bool:
        return "bool"
    return str(getattr(cls, "cedar_type", cls.__name__))


__all__ = ["ExtensionError"]
