"""The declared mapping from Cedar's entity model to SQL tables.

An :class:`EntityTable` says where the entities of one Cedar type live: the table,
the column holding the entity id, and one :class:`Attribute` per Cedar attribute:

* ``Column("name")``: a Bool, Long or String attribute stored in a column
  (``NULL`` means the attribute is absent, as for optional attributes);
* ``Ref("owner_id", "User")``: an entity-valued attribute, the column holds the id of
  an entity of that type;
* ``RefSet(assoc_table, "list_id", "user_id", "User")``: a set of entities, one row
  per element in an association table;
* ``Json("tasks")``: any other value (sets, records, extension values) stored as Cedar
  JSON text. Conditions on it are checked in Python after the SQL query (see the
  fragment table in the README);
* ``RecordSet(task_table, "list_id", {"id": "id", "name": "name"})``: a set of records,
  one row per element in a child table (conditions on it are checked in Python).

``EntityTable(..., parents=(EntityUid("Application", "TinyTodo"),))`` says every entity
of the type has exactly these parents (not stored per row: ``in`` them is true for every
row, and the membership table is not consulted for the type).

:class:`Membership` says where the hierarchy (``in``) lives: one table of
``(child_type, child_id, parent_type, parent_id)`` rows, holding either every
ancestor of each entity (``closure=True``: ``in`` is one indexed lookup; the
application keeps it closed when it changes parents) or only the direct parents
(``closure=False``: ``in`` is a recursive CTE, nothing to maintain, slower on deep
hierarchies).

:meth:`Mapping.check` validates the mapping against a Cedar schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from cedarlang import EntityUid, Schema
from cedarlang.schema.types import (
    BoolType,
    EntityRefType,
    LongType,
    RecordType,
    SchemaType,
    SetType,
    StringType,
)

from .errors import MappingError


@dataclass(frozen=True)
class Column:
    """A Bool, Long or String attribute in a column (``NULL``: the attribute is absent)."""

    column: str


@dataclass(frozen=True)
class Ref:
    """An entity-valued attribute: the column holds the id of an entity of ``entity_type``."""

    column: str
    entity_type: str


@dataclass(frozen=True)
class Json:
    """Any attribute value as Cedar JSON text (conditions on it are checked in Python)."""

    column: str


@dataclass(frozen=True)
class RefSet:
    """A set-of-entities attribute in an association table: one ``(owner id, member id)``
    row per element (no rows: the empty set; so the attribute must be required)."""

    table: Any
    owner: str
    member: str
    entity_type: str

    @property
    def core(self) -> sa.Table:
        return table_of(self.table)

    def columns(self) -> tuple[sa.Column[Any], sa.Column[Any]]:
        table = self.core
        for name in (self.owner, self.member):
            if name not in table.c:
                raise MappingError(f"association table `{table.name}` has no column `{name}`")
        return table.c[self.owner], table.c[self.member]


@dataclass(frozen=True, eq=False)
class RecordSet:
    """A set-of-records attribute in a child table: one row per element, ``owner`` holding
    the owning entity's id and ``fields`` naming the Bool, Long or String column of each
    record field (no rows: the empty set, so the attribute must be required)."""

    table: Any
    owner: str
    fields: MappingABC[str, str]

    @property
    def core(self) -> sa.Table:
        return table_of(self.table)

    def columns(self) -> tuple[sa.Column[Any], dict[str, sa.Column[Any]]]:
        table = self.core
        for name in (self.owner, *self.fields.values()):
            if name not in table.c:
                raise MappingError(f"child table `{table.name}` has no column `{name}`")
        return table.c[self.owner], {field: table.c[column] for field, column in self.fields.items()}


Attribute = Column | Ref | Json | RefSet | RecordSet


def table_of(table: Any) -> sa.Table:
    """A Core ``Table`` from a ``Table`` or an ORM model class."""
    if isinstance(table, sa.Table):
        return table
    found = getattr(table, "__table__", None)
    if isinstance(found, sa.Table):
        return found
    raise MappingError(f"expected a SQLAlchemy Table or an ORM model, got {table!r}")


@dataclass(frozen=True)
class EntityTable:
    """Where the entities of one Cedar type live."""

    entity_type: str
    table: Any
    key: str = "id"
    attributes: MappingABC[str, Attribute] = field(default_factory=dict)
    tags: str | None = None
    """A column holding the entity's tags as a Cedar JSON object (checked in Python)."""
    parents: tuple[EntityUid, ...] | None = None
    """When set, every entity of the type has exactly these parents (the membership
    table is not consulted for it)."""

    @property
    def core(self) -> sa.Table:
        return table_of(self.table)

    def column(self, name: str) -> sa.Column[Any]:
        table = self.core
        if name not in table.c:
            raise MappingError(f"table `{table.name}` of `{self.entity_type}` has no column `{name}`")
        return table.c[name]


@dataclass(frozen=True)
class Membership:
    """The hierarchy table: ``(child_type, child_id, parent_type, parent_id)`` rows."""

    table: Any
    closure: bool = True
    child_type: str = "child_type"
    child_id: str = "child_id"
    parent_type: str = "parent_type"
    parent_id: str = "parent_id"

    @property
    def core(self) -> sa.Table:
        return table_of(self.table)

    def columns(self) -> tuple[sa.Column[Any], sa.Column[Any], sa.Column[Any], sa.Column[Any]]:
        table = self.core
        names = (self.child_type, self.child_id, self.parent_type, self.parent_id)
        missing = [n for n in names if n not in table.c]
        if missing:
            raise MappingError(
                f"membership table `{table.name}` has no column {', '.join(map(repr, missing))}"
            )
        return table.c[names[0]], table.c[names[1]], table.c[names[2]], table.c[names[3]]


class Mapping:
    """Entity types → tables, plus the membership table (if any entity has parents)."""

    def __init__(self, tables: Iterable[EntityTable], membership: Membership | None = None) -> None:
        self.tables: dict[str, EntityTable] = {}
        for table in tables:
            if table.entity_type in self.tables:
                raise MappingError(f"entity type `{table.entity_type}` is mapped twice")
            table.column(table.key)
            if table.tags is not None:
                table.column(table.tags)
            for name, attribute in table.attributes.items():
                if isinstance(attribute, (RefSet, RecordSet)):
                    attribute.columns()
                else:
                    table.column(attribute.column)
                if isinstance(attribute, (Ref, RefSet)) and not attribute.entity_type:
                    raise MappingError(
                        f"attribute `{name}` of `{table.entity_type}` refers to no entity type"
                    )
            self.tables[table.entity_type] = table
        self.membership = membership
        if membership is not None:
            membership.columns()

    def table(self, entity_type: str) -> EntityTable:
        found = self.tables.get(entity_type)
        if found is None:
            raise MappingError(f"entity type `{entity_type}` has no table in the mapping")
        return found

    def attribute(self, entity_type: str, name: str) -> Attribute:
        table = self.table(entity_type)
        found = table.attributes.get(name)
        if found is None:
            raise MappingError(f"attribute `{name}` of `{entity_type}` has no column in the mapping")
        return found

    def check(self, schema: Schema) -> None:
        """Raise :class:`MappingError` where the mapping disagrees with ``schema``: unknown
        types or attributes, a column kind that cannot hold the attribute's type, or a
        declared attribute left unmapped."""
        for entity_type, table in self.tables.items():
            decl = schema.entity_type(entity_type)
            if decl is None:
                raise MappingError(f"mapped entity type `{entity_type}` is not declared in the schema")
            declared = decl.shape.attributes
            for name in table.attributes:
                if name not in declared:
                    raise MappingError(f"mapped attribute `{name}` is not declared for `{entity_type}`")
            for name, attr in declared.items():
                mapped = table.attributes.get(name)
                if mapped is None:
                    raise MappingError(f"attribute `{name}` of `{entity_type}` has no column in the mapping")
                _check_kind(entity_type, name, mapped, attr.type)
                if isinstance(mapped, (RefSet, RecordSet)) and not attr.required:
                    raise MappingError(
                        f"attribute `{name}` of `{entity_type}` is optional: an association table cannot "
                        "tell an absent set from an empty one (map it with Json)"
                    )


def _check_kind(entity_type: str, name: str, mapped: Attribute, declared: SchemaType) -> None:
    where = f"attribute `{name}` of `{entity_type}`"
    if isinstance(mapped, Column) and not isinstance(declared, (BoolType, LongType, StringType)):
        raise MappingError(f"{where} is not a Bool, Long or String: map it with Ref or Json")
    if isinstance(mapped, RecordSet) and not (
        isinstance(declared, SetType) and isinstance(declared.element, RecordType)
    ):
        raise MappingError(f"{where} is not a set of records: map it with Json")
    if isinstance(mapped, Ref):
        if not isinstance(declared, EntityRefType):
            raise MappingError(f"{where} is not an entity reference: map it with Column or Json")
        if declared.name != mapped.entity_type:
            raise MappingError(
                f"{where} refers to `{declared.name}`, the mapping says `{mapped.entity_type}`"
            )
