"""The types a schema declares (after name resolution; common types are inlined)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class SchemaType:
    """Base class of every schema type."""


@dataclass(frozen=True, slots=True)
class BoolType(SchemaType):
    pass


@dataclass(frozen=True, slots=True)
class LongType(SchemaType):
    pass


@dataclass(frozen=True, slots=True)
class StringType(SchemaType):
    pass


@dataclass(frozen=True, slots=True)
class SetType(SchemaType):
    element: SchemaType


@dataclass(frozen=True, slots=True)
class EntityRefType(SchemaType):
    """A reference to an entity of the named (fully qualified) entity type."""

    name: str


@dataclass(frozen=True, slots=True)
class ExtensionType(SchemaType):
    """``ipaddr``, ``decimal``, ``datetime`` or ``duration``."""

    name: str


@dataclass(frozen=True, slots=True)
class Attribute:
    type: SchemaType
    required: bool = True
    annotations: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __hash__(self) -> int:
        return hash((self.type, self.required, tuple(sorted(self.annotations.items()))))


@dataclass(frozen=True, slots=True)
class RecordType(SchemaType):
    attributes: Mapping[str, Attribute] = field(default_factory=lambda: MappingProxyType({}))
    #: Records declared in a schema are closed: no other attributes are allowed.
    open: bool = False

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.attributes.items(), key=lambda kv: kv[0])))


BOOL = BoolType()
LONG = LongType()
STRING = StringType()
EMPTY_RECORD = RecordType()
