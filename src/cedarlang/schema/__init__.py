"""Cedar schemas: parsing both formats, name resolution, and printing back to both formats.

>>> s = Schema.from_str('entity User; action view appliesTo { principal: User, resource: User };')
>>> sorted(s.entity_types)
['User']
>>> s.to_json()['']['actions']['view']['appliesTo']['principalTypes']
['User']
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import SchemaError
from ..lexical import is_action_type
from ..source import Diagnostic, TextInput, decode_text
from ..values import EntityUid
from .cedar_syntax import parse_cedar_schema
from .fragment import Fragment
from .json_syntax import fragment_to_json, parse_json_schema
from .model import ActionDecl, EntityTypeDecl
from .printer import fragment_to_cedar
from .resolve import resolve
from .types import (
    BOOL,
    EMPTY_RECORD,
    LONG,
    STRING,
    Attribute,
    BoolType,
    EntityRefType,
    ExtensionType,
    LongType,
    RecordType,
    SchemaType,
    SetType,
    StringType,
)

__all__ = [
    "BOOL",
    "EMPTY_RECORD",
    "LONG",
    "STRING",
    "ActionDecl",
    "Attribute",
    "BoolType",
    "EntityRefType",
    "EntityTypeDecl",
    "ExtensionType",
    "Fragment",
    "LongType",
    "RecordType",
    "Schema",
    "SchemaError",
    "SchemaType",
    "SetType",
    "StringType",
]


class Schema:
    """A validated Cedar schema with every name resolved.

    ``entity_types`` is keyed by fully qualified name (``"NS::User"``; no leading ``::`` for
    the empty namespace); ``actions`` by action uid (type ``Action`` or ``NS::Action``).
    Common types are inlined everywhere. The unresolved :class:`Fragment` is kept so that
    :meth:`to_json` and :meth:`to_cedarschema` print what was written.
    """

    __slots__ = (
        "_action_ancestors",
        "_action_descendants",
        "_entity_ancestors",
        "_entity_descendants",
        "_fragment",
        "actions",
        "entity_types",
        "warnings",
    )

    entity_types: dict[str, EntityTypeDecl]
    actions: dict[EntityUid, ActionDecl]
    #: Non-fatal diagnostics (e.g. a declaration shadowing a builtin type name).
    warnings: tuple[Diagnostic, ...]

    def __init__(self, fragment: Fragment) -> None:
        resolved = resolve(fragment)
        self._fragment = fragment
        self.entity_types = resolved.entity_types
        self.actions = resolved.actions
        self.warnings = tuple(resolved.warnings)
        self._action_ancestors: dict[EntityUid, frozenset[EntityUid]] | None = None
        self._action_descendants: dict[EntityUid, frozenset[EntityUid]] | None = None
        self._entity_descendants: dict[str, frozenset[str]] | None = None
        self._entity_ancestors: dict[str, frozenset[str]] | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_str(cls, text: TextInput, name: str = "<schema>") -> Schema:
        """Parse a schema written in the Cedar schema syntax (``.cedarschema``; text or UTF-8 bytes)."""
        try:
            return cls(parse_cedar_schema(text, name))
        except RecursionError:
            raise _too_deep() from None

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | TextInput, name: str = "<schema>") -> Schema:
        """Parse a schema in the JSON schema format: a parsed JSON object, JSON text or UTF-8 bytes."""
        if isinstance(data, Mapping) and not isinstance(data, dict):
            data = dict(data)
        try:
            return cls(parse_json_schema(data, name))
        except RecursionError:
            raise _too_deep() from None

    @classmethod
    def from_str_or_json(cls, data: Mapping[str, Any] | TextInput, name: str = "<schema>") -> Schema:
        """JSON if ``data`` is a mapping or text starting with ``{``; Cedar syntax otherwise."""
        if isinstance(data, bytes | bytearray | memoryview):
            data = decode_text(data, "schema", SchemaError)
        if not isinstance(data, str) or data.lstrip().startswith("{"):
            return cls.from_json(data, name)
        return cls.from_str(data, name)

    @classmethod
    def from_fragment(cls, fragment: Fragment) -> Schema:
        return cls(fragment)

    # ------------------------------------------------------------------ printing
    @property
    def fragment(self) -> Fragment:
        """The schema as written (unresolved names, common types, annotations)."""
        return self._fragment

    def to_json(self) -> dict[str, Any]:
        """The JSON schema format (as Rust's ``cedar translate-schema`` prints it)."""
        return fragment_to_json(self._fragment)

    def to_json_str(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_json(), indent=indent, ensure_ascii=False)

    def to_cedarschema(self) -> str:
        """The Cedar schema syntax (raises :class:`SchemaError` if it cannot express the schema,
        i.e. a namespace declaring an entity type and a common type with the same name)."""
        return fragment_to_cedar(self._fragment)

    # ------------------------------------------------------------------ queries
    def entity_type(self, name: str) -> EntityTypeDecl | None:
        return self.entity_types.get(name)

    def action(self, uid: EntityUid) -> ActionDecl | None:
        return self.actions.get(uid)

    def context_type(self, action_uid: EntityUid) -> RecordType | None:
        decl = self.actions.get(action_uid)
        return None if decl is None else decl.context

    def principals_for_action(self, uid: EntityUid) -> tuple[str, ...] | None:
        """The principal types the action applies to, or ``None`` for an undeclared action."""
        decl = self.actions.get(uid)
        return None if decl is None else decl.principal_types

    def resources_for_action(self, uid: EntityUid) -> tuple[str, ...] | None:
        """The resource types the action applies to, or ``None`` for an undeclared action."""
        decl = self.actions.get(uid)
        return None if decl is None else decl.resource_types

    def principals(self) -> frozenset[str]:
        """Every entity type that is a principal type of some action."""
        return frozenset(t for a in self.actions.values() for t in a.principal_types)

    def resources(self) -> frozenset[str]:
        """Every entity type that is a resource type of some action."""
        return frozenset(t for a in self.actions.values() for t in a.resource_types)

    def is_action_entity_type(self, name: str) -> bool:
        """Is ``name`` an action entity type (``Action`` / ``NS::Action``)?"""
        return is_action_type(name)

    def action_groups(self) -> frozenset[EntityUid]:
        """Actions that some other action is a member of."""
        return frozenset(p for a in self.actions.values() for p in a.member_of)

    def action_ancestors(self, uid: EntityUid) -> frozenset[EntityUid]:
        """All action groups ``uid`` is (transitively) in; empty for unknown actions."""
        if self._action_ancestors is None:
            self._action_ancestors = _closure({u: a.member_of for u, a in self.actions.items()})
        return self._action_ancestors.get(uid, frozenset())

    def action_descendants(self, uid: EntityUid) -> frozenset[EntityUid]:
        """All actions (transitively) in the group ``uid``."""
        if self._action_descendants is None:
            children: dict[EntityUid, list[EntityUid]] = {u: [] for u in self.actions}
            for u, a in self.actions.items():
                for p in a.member_of:
                    children[p].append(u)
            self._action_descendants = _closure(children)
        return self._action_descendants.get(uid, frozenset())

    def entity_type_descendants(self, name: str) -> frozenset[str]:
        """Entity types whose entities can (transitively) be members of a ``name`` entity."""
        if self._entity_descendants is None:
            children: dict[str, list[str]] = {n: [] for n in self.entity_types}
            for n, et in self.entity_types.items():
                for p in et.member_of_types:
                    children.setdefault(p, []).append(n)
            self._entity_descendants = _closure(children)
        return self._entity_descendants.get(name, frozenset())

    def entity_type_ancestors(self, name: str) -> frozenset[str]:
        """Entity types that a ``name`` entity can (transitively) be a member of."""
        if self._entity_ancestors is None:
            self._entity_ancestors = _closure({n: et.member_of_types for n, et in self.entity_types.items()})
        return self._entity_ancestors.get(name, frozenset())

    def action_entities(self) -> list[tuple[EntityUid, frozenset[EntityUid]]]:
        """Each declared action with its transitive ancestor action groups."""
        return [(uid, self.action_ancestors(uid)) for uid in self.actions]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schema):
            return NotImplemented
        return self.entity_types == other.entity_types and self.actions == other.actions

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Schema: {len(self.entity_types)} entity types, {len(self.actions)} actions>"


def _too_deep() -> SchemaError:
    return SchemaError([Diagnostic("schema is nested too deeply", help="reduce the nesting of types")])


def _closure(edges: Mapping[Any, Any]) -> dict[Any, frozenset[Any]]:
    """Transitive closure of a successor map (cycles allowed)."""
    out: dict[Any, frozenset[Any]] = {}
    for start in edges:
        seen: set[Any] = set()
        stack = list(edges.get(start, ()))
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(edges.get(node, ()))
        out[start] = frozenset(seen)
    return out
