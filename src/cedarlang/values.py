"""Cedar run-time values.

Representation (chosen for speed; no wrapper objects for primitives):

========== ===================================================
Cedar      Python
========== ===================================================
Bool       ``bool``
Long       ``int`` (never a ``bool``; checked against i64)
String     ``str``
Entity     :class:`EntityUid`
Set        :class:`CedarSet`
Record     :class:`Record` (a ``dict`` with Cedar equality)
extension  classes in :mod:`cedarlang.extensions`
========== ===================================================

Python says ``True == 1``; Cedar does not. Equality between values must go
through :func:`cedar_eq`, and sets store booleans under distinct keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, Final

from .lexical import quote as quote_string

I64_MIN: Final = -(2**63)
I64_MAX: Final = 2**63 - 1

Value = Any
"""Any Cedar value (see the module docstring for the representation)."""


class EntityUid(tuple[str, str]):
    """An entity's unique identifier: a (possibly namespaced) type name and an id.

    A ``tuple`` underneath, so hashing and equality run at C speed (uids are looked
    up on every ``in``, attribute access and scope check). Compare uids only with
    uids: Cedar equality (:func:`cedar_eq`) checks types first.
    """

    __slots__ = ()

    def __new__(cls, type: str, id: str) -> EntityUid:
        return tuple.__new__(cls, (type, id))

    @property
    def type(self) -> str:
        return self[0]

    @property
    def id(self) -> str:
        return self[1]

    def __getnewargs__(self) -> tuple[str, str]:
        return (self[0], self[1])

    def __repr__(self) -> str:
        return f"EntityUid({self[0]!r}, {self[1]!r})"

    def __str__(self) -> str:
        return f"{self[0]}::{quote_string(self[1])}"

    def to_json(self) -> dict[str, str]:
        return {"type": self[0], "id": self[1]}


class _BoolKey:
    """Stand-in for a boolean inside a set, so that ``True`` and ``1`` stay apart."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"_BoolKey({self.value})"


_TRUE_KEY: Final = _BoolKey(True)
_FALSE_KEY: Final = _BoolKey(False)


def set_key(value: Value) -> Value:
    """The key under which ``value`` is stored in a :class:`CedarSet`."""
    if value is True:
        return _TRUE_KEY
    if value is False:
        return _FALSE_KEY
    return value


def _unkey(key: Value) -> Value:
    return key.value if type(key) is _BoolKey else key


class CedarSet:
    """An immutable Cedar set. Elements are compared with Cedar equality."""

    __slots__ = ("_hash", "keys")

    def __init__(self, items: Iterable[Value] = ()) -> None:
        self.keys: frozenset[Value] = frozenset(map(set_key, items))
        self._hash: int | None = None

    @classmethod
    def from_keys(cls, keys: frozenset[Value]) -> CedarSet:
        new = cls.__new__(cls)
        new.keys = keys
        new._hash = None
        return new

    def __iter__(self) -> Iterator[Value]:
        return map(_unkey, self.keys)

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, value: Value) -> bool:
        return set_key(value) in self.keys

    def __eq__(self, other: object) -> bool:
        return type(other) is CedarSet and self.keys == other.keys

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(self.keys)
        return self._hash

    def __repr__(self) -> str:
        return f"CedarSet({list(self)!r})"

    def issubset(self, other: CedarSet) -> bool:
        return self.keys <= other.keys

    def isdisjoint(self, other: CedarSet) -> bool:
        return self.keys.isdisjoint(other.keys)


EMPTY_SET: Final = CedarSet()
"""The empty set, shared (sets are immutable)."""


class Record(dict[str, Value]):
    """A Cedar record: a ``dict`` from attribute names to values with Cedar equality."""

    __slots__ = ("_hash",)
    _hash: int

    def __eq__(self, other: object) -> bool:
        if type(other) is not Record or len(self) != len(other):
            return False
        return all(key in other and cedar_eq(value, other[key]) for key, value in self.items())

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:  # type: ignore[override]
        try:
            return self._hash
        except AttributeError:
            h = hash(frozenset((k, set_key(v)) for k, v in self.items()))
            self._hash = h
            return h

    def __repr__(self) -> str:
        return f"Record({dict.__repr__(self)})"


def cedar_eq(a: Value, b: Value) -> bool:
    """Cedar's ``==``: values of different types are never equal."""
    return type(a) is type(b) and a == b


def type_name(value: Value) -> str:
    """The Cedar name of a value's type, as used in error messages."""
    t = type(value)
    if t is bool:
        return "bool"
    if t is int:
        return "long"
    if t is str:
        return "string"
    if t is EntityUid:
        return f"(entity of type `{value.type}`)"
    if t is CedarSet:
        return "set"
    if t is Record:
        return "record"
    name = getattr(t, "cedar_type", None)
    return str(name) if name else t.__name__


def to_json(value: Value) -> Any:
    """A value in the Cedar JSON value encoding (``__entity``, ``__extn``)."""
    t = type(value)
    if t is bool or t is int or t is str:
        return value
    if t is EntityUid:
        return {"__entity": value.to_json()}
    if t is CedarSet:
        return [to_json(v) for v in value]
    if t is Record:
        return {k: to_json(v) for k, v in value.items()}
    return value.to_json()


def to_cedar(value: Value) -> str:
    """A value written as a Cedar expression."""
    t = type(value)
    if t is bool:
        return "true" if value else "false"
    if t is int:
        return str(value)
    if t is str:
        return quote_string(value)
    if t is EntityUid:
        return str(value)
    if t is CedarSet:
        return "[" + ", ".join(sorted(to_cedar(v) for v in value)) + "]"
    if t is Record:
        return "{" + ", ".join(f"{json.dumps(k)}: {to_cedar(v)}" for k, v in value.items()) + "}"
    return str(value.to_cedar())
