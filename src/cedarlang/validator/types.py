"""The validator's type lattice (a port of Rust's ``cedar_policy_core::validator::types``).

Types are small immutable values. Besides the schema types there are the bottom type
``Never``, the singleton booleans ``True``/``False`` (which let the typechecker model
short-circuiting), entity *least upper bounds* (a set of entity type names; in strict mode
always a single name), ``AnyEntity`` and open records (both only used as expected types).

Subtyping and least upper bounds follow Rust's definitions, including the strict-mode rules:
no width subtyping, attribute optionality must agree, and different entity types never have
a least upper bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Final

__all__ = [
    "ANY_ENTITY",
    "ANY_RECORD",
    "ANY_SET",
    "BOOL",
    "FALSE",
    "LONG",
    "NEVER",
    "STRING",
    "TRUE",
    "AnyEntityType",
    "AttrType",
    "BoolType",
    "EntityType",
    "ExtType",
    "LongType",
    "LubError",
    "LubHelp",
    "NeverType",
    "RecordType",
    "SetType",
    "StringType",
    "Type",
    "is_subtype",
    "least_upper_bound",
    "reduce_lub",
    "singleton_bool",
]


class Type:
    """Base class of validator types."""

    __slots__ = ()

    #: Position of the variant in Rust's ``enum Type`` (used to sort types in messages).
    ORDER: int = 0

    def sort_key(self) -> tuple[object, ...]:
        """Rust's derived ``Ord`` on types (used to order types in messages)."""
        return (self.ORDER,)


class NeverType(Type):
    """The bottom type: a subtype of every type."""

    __slots__ = ()
    ORDER = 0

    def __repr__(self) -> str:
        return "Never"

    def __str__(self) -> str:
        return "__cedar::internal::Never"


class BoolType(Type):
    """``Bool`` (``kind == "any"``) or one of the singleton types ``True`` / ``False``."""

    __slots__ = ("kind",)
    ORDER = 1

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BoolType) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(("bool", self.kind))

    def __repr__(self) -> str:
        return {"any": "Bool", "true": "True", "false": "False"}[self.kind]

    def __str__(self) -> str:
        return {"any": "Bool", "true": "__cedar::internal::True", "false": "__cedar::internal::False"}[
            self.kind
        ]

    def sort_key(self) -> tuple[object, ...]:
        return (self.ORDER, ("true", "false", "any").index(self.kind))


class LongType(Type):
    __slots__ = ()
    ORDER = 2

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LongType)

    def __hash__(self) -> int:
        return hash("Long")

    def __repr__(self) -> str:
        return "Long"

    def __str__(self) -> str:
        return "Long"


class StringType(Type):
    __slots__ = ()
    ORDER = 3

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StringType)

    def __hash__(self) -> int:
        return hash("String")

    def __repr__(self) -> str:
        return "String"

    def __str__(self) -> str:
        return "String"


class SetType(Type):
    """``Set<element>``; ``element is None`` is the top set type (only an expected type)."""

    __slots__ = ("_hash", "element")
    ORDER = 4

    def __init__(self, element: Type | None) -> None:
        self.element = element
        self._hash = hash(("set", element))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SetType) and other.element == self.element

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Set<{self.element!r}>"

    def __str__(self) -> str:
        return f"Set<{'__cedar::internal::Any' if self.element is None else self.element}>"

    def sort_key(self) -> tuple[object, ...]:
        return (self.ORDER, 0) if self.element is None else (self.ORDER, 1, self.element.sort_key())


class AnyEntityType(Type):
    """Any entity (only an expected type in strict mode)."""

    __slots__ = ()
    ORDER = 5

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyEntityType)

    def __hash__(self) -> int:
        return hash("AnyEntity")

    def __repr__(self) -> str:
        return "AnyEntity"

    def __str__(self) -> str:
        return "__cedar::internal::AnyEntity"

    def sort_key(self) -> tuple[object, ...]:
        return (self.ORDER, 0, "")


class EntityType(Type):
    """An entity least upper bound: one or more entity type names (actions included)."""

    __slots__ = ("_hash", "lub")
    ORDER = 5

    def __init__(self, lub: frozenset[str]) -> None:
        self.lub = lub
        self._hash = hash(("entity", lub))

    @classmethod
    def named(cls, name: str) -> EntityType:
        return cls(frozenset((name,)))

    @property
    def single(self) -> str | None:
        """The entity type name if this LUB has exactly one element."""
        if len(self.lub) == 1:
            return next(iter(self.lub))
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EntityType) and other.lub == self.lub

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Entity{sorted(self.lub)}"

    def __str__(self) -> str:
        single = self.single
        if single is not None:
            return single
        return f"__cedar::internal::Union<{', '.join(sorted(self.lub))}>"

    def sort_key(self) -> tuple[object, ...]:
        return (self.ORDER, 1, tuple(sorted(self.lub)))


class AttrType:
    """The type of a record / entity attribute and whether it is required."""

    __slots__ = ("_hash", "required", "type")

    def __init__(self, type: Type, required: bool = True) -> None:
        self.type = type
        self.required = required
        self._hash = hash((type, required))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AttrType) and other.required == self.required and other.type == self.type

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"{self.type!r}{'' if self.required else '?'}"


class RecordType(Type):
    """A record type; ``open`` records may have attributes other than those listed."""

    __slots__ = ("_hash", "attrs", "open")
    ORDER = 6

    def __init__(self, attrs: Mapping[str, AttrType], open: bool = False) -> None:
        self.attrs: dict[str, AttrType] = dict(sorted(attrs.items()))
        self.open = open
        self._hash = hash(("record", tuple(self.attrs.items()), open))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RecordType) and other.open == self.open and other.attrs == self.attrs

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"Record{self.attrs!r}{'+' if self.open else ''}"

    def __str__(self) -> str:
        body = "".join(f"{k}{'' if a.required else '?'}: {a.type}," for k, a in self.attrs.items())
        return f"{'__cedar::internal::OpenRecord' if self.open else ''}{{{body}}}"

    def sort_key(self) -> tuple[object, ...]:
        attrs = tuple((k, a.type.sort_key(), a.required) for k, a in self.attrs.items())
        return (self.ORDER, attrs, self.open)


class ExtType(Type):
    """An extension type: ``ipaddr``, ``decimal``, ``datetime`` or ``duration``."""

    __slots__ = ("name",)
    ORDER = 7

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExtType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("ext", self.name))

    def __repr__(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name

    def sort_key(self) -> tuple[object, ...]:
        return (self.ORDER, self.name)


NEVER: Final = NeverType()
BOOL: Final = BoolType("any")
TRUE: Final = BoolType("true")
FALSE: Final = BoolType("false")
LONG: Final = LongType()
STRING: Final = StringType()
ANY_SET: Final = SetType(None)
ANY_ENTITY: Final = AnyEntityType()
#: Every record is a (permissive, width) subtype of the empty open record.
ANY_RECORD: Final = RecordType({}, open=True)


def singleton_bool(value: bool) -> BoolType:
    return TRUE if value else FALSE


# ---------------------------------------------------------------------------
# Subtyping


def _attrs_subtype(a0: Mapping[str, AttrType], a1: Mapping[str, AttrType], strict: bool) -> bool:
    for key, t1 in a1.items():
        t0 = a0.get(key)
        if t0 is None:
            return False
        qualifier_ok = (t0.required == t1.required) if strict else (t0.required or not t1.required)
        if not (qualifier_ok and is_subtype(t0.type, t1.type, strict)):
            return False
    return True


def is_subtype(t0: Type, t1: Type, strict: bool) -> bool:
    """Is ``t0`` a subtype of ``t1``? (``strict`` selects strict-mode rules.)"""
    if t0 is NEVER or isinstance(t0, NeverType):
        return True
    c0 = type(t0)
    if c0 is not type(t1):
        if c0 is EntityType and type(t1) is AnyEntityType:
            return not strict
        return False
    if c0 is BoolType:
        assert isinstance(t0, BoolType) and isinstance(t1, BoolType)
        return t1.kind == "any" or t0.kind == t1.kind
    if c0 is SetType:
        assert isinstance(t0, SetType) and isinstance(t1, SetType)
        if t1.element is None:
            return True
        if t0.element is None:
            return False
        return is_subtype(t0.element, t1.element, strict)
    if c0 is RecordType:
        assert isinstance(t0, RecordType) and isinstance(t1, RecordType)
        if t0.open and not t1.open:
            return False
        if t1.open and not strict and _attrs_subtype(t0.attrs, t1.attrs, strict):
            return True
        return t0.attrs.keys() == t1.attrs.keys() and _attrs_subtype(t0.attrs, t1.attrs, strict)
    if c0 is EntityType:
        assert isinstance(t0, EntityType) and isinstance(t1, EntityType)
        return t0.lub == t1.lub if strict else t0.lub <= t1.lub
    return t0 == t1


# ---------------------------------------------------------------------------
# Least upper bounds


class LubHelp(Enum):
    """Why two types have no least upper bound (Rust's ``LubHelp``)."""

    ATTRIBUTE_QUALIFIER = (
        "Corresponding attributes of compatible record types must have the same optionality, "
        "either both being required or both being optional"
    )
    RECORD_WIDTH = "Compatible record types must have exactly the same attributes"
    ENTITY_TYPE = "Different entity types are never compatible even when their attributes would be compatible"
    ENTITY_RECORD = (
        "Entity and record types are never compatible even when their attributes would be compatible"
    )
    NONE = "Types must be exactly equal to be compatible"


class LubError(Exception):
    """Raised when two types have no least upper bound."""

    def __init__(self, hint: LubHelp) -> None:
        super().__init__(hint.value)
        self.hint = hint


def _attr_lub(t0: AttrType, t1: AttrType, strict: bool) -> AttrType:
    lub = least_upper_bound(t0.type, t1.type, strict)
    if strict and t0.required != t1.required:
        raise LubError(LubHelp.ATTRIBUTE_QUALIFIER)
    return AttrType(lub, t0.required and t1.required)


def attributes_lub(
    a0: Mapping[str, AttrType], a1: Mapping[str, AttrType], strict: bool
) -> dict[str, AttrType]:
    """Least upper bound of two attribute maps (strict: same keys; permissive: common keys)."""
    if strict:
        if a0.keys() != a1.keys():
            raise LubError(LubHelp.RECORD_WIDTH)
        return {k: _attr_lub(t0, a1[k], True) for k, t0 in a0.items()}
    out: dict[str, AttrType] = {}
    for k, t0 in a0.items():
        t1 = a1.get(k)
        if t1 is None:
            continue
        try:
            out[k] = _attr_lub(t0, t1, False)
        except LubError:
            continue
    return out


def least_upper_bound(t0: Type, t1: Type, strict: bool) -> Type:
    """The least upper bound of two types; raises :class:`LubError` if there is none."""
    if is_subtype(t0, t1, strict):
        return t1
    if is_subtype(t1, t0, strict):
        return t0
    c0, c1 = type(t0), type(t1)
    if c0 is BoolType and c1 is BoolType:
        return BOOL
    if c0 is SetType and c1 is SetType:
        assert isinstance(t0, SetType) and isinstance(t1, SetType)
        if t0.element is None or t1.element is None:
            return ANY_SET
        return SetType(least_upper_bound(t0.element, t1.element, strict))
    if c0 is RecordType and c1 is RecordType:
        assert isinstance(t0, RecordType) and isinstance(t1, RecordType)
        attrs = attributes_lub(t0.attrs, t1.attrs, strict)
        is_open = t0.open or t1.open or set(attrs) != set(t0.attrs) | set(t1.attrs)
        return RecordType(attrs, is_open)
    entityish = (EntityType, AnyEntityType)
    if c0 in entityish and c1 in entityish:
        if c0 is EntityType and c1 is EntityType:
            assert isinstance(t0, EntityType) and isinstance(t1, EntityType)
            if strict and t0.lub != t1.lub:
                raise LubError(LubHelp.ENTITY_TYPE)
            return EntityType(t0.lub | t1.lub)
        if c0 is AnyEntityType and c1 is AnyEntityType:
            return ANY_ENTITY
        if strict:
            raise LubError(LubHelp.ENTITY_TYPE)
        return ANY_ENTITY
    if (c0 in entityish and c1 is RecordType) or (c0 is RecordType and c1 in entityish):
        raise LubError(LubHelp.ENTITY_RECORD)
    raise LubError(LubHelp.NONE)


def reduce_lub(types: Iterable[Type], strict: bool) -> Type:
    """The least upper bound of all ``types`` (``Never`` for none)."""
    lub: Type = NEVER
    for t in types:
        lub = least_upper_bound(lub, t, strict)
    return lub
