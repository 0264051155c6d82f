"""Cedar schemas: parsing both formats, name resolution, and printing back to both formats.

>>> s = Schema.from_str('entity User; action view appliesTo { principal: User, resource: User };')
>>> sorted(s.entity_types)
['User']
>>> s.to_json()['']['actions']['view']['appliesTo']['principalTypes']
['User']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import SchemaError
from ..lexical import is_action_type
from ..source import Diagnostic, TextInput, decode_text
from ..values import EntityUid
from .cedar_syntax import parse_cedar_schema
from .fragment import Fragment
from .json_syntax import fragment_to_json, parse_json_schema
from .model import ActionDecl, EntityTypeDecl, RequestEnv
from .printer import fragment_to_cedar
from .resolve import fragment_with_resolved_types, merge_fragments, resolve
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
    "RequestEnv",
    "Schema",
    "SchemaError",
    "SchemaType",
    "SetType",
    "StringType",
    "schema_str_to_json_with_resolved_types",
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
        try:
            return cls(_fragment_of(data, name))
        except RecursionError:
            raise _too_deep() from None

    @classmethod
    def from_fragment(cls, fragment: Fragment) -> Schema:
        return cls(fragment)

    @classmethod
    def from_schema_fragments(cls, fragments: Iterable[Fragment | Mapping[str, Any] | TextInput]) -> Schema:
        """One schema from several fragments (Rust's ``Schema::from_schema_fragments``).

        Each fragment is a :class:`Fragment`, JSON (a mapping, or text starting with ``{``) or
        Cedar schema text; a fragment may use types that another declares, and a namespace
        may be spread over several fragments, but each type and action is declared once.

        >>> s = Schema.from_schema_fragments([
        ...     "entity User in [Team]; action view appliesTo { principal: User, resource: Team };",
        ...     '{"": {"entityTypes": {"Team": {}}, "actions": {}}}'])
        >>> sorted(s.entity_types)
        ['Team', 'User']
        """
        try:
            return cls(merge_fragments(_fragment_of(f) for f in fragments))
        except RecursionError:
            raise _too_deep() from None

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

    def to_json_with_resolved_types(self) -> dict[str, Any]:
        """The JSON schema format with every type reference resolved (Rust's
        ``schema_str_to_json_with_resolved_types``, ``cedar translate-schema --direction
        cedar-to-json-with-resolved-types``): no ``EntityOrCommon`` types remain, names are
        fully qualified.

        >>> s = Schema.from_str('namespace NS { type T = Long; entity User { a: T, b: User, c: String }; }')
        >>> s.to_json_with_resolved_types()['NS']['entityTypes']['User']['shape']['attributes']
        {'a': {'type': 'NS::T'}, 'b': {'type': 'Entity', 'name': 'NS::User'}, 'c': {'type': 'String'}}
        """
        return fragment_to_json(fragment_with_resolved_types(self._fragment)[0])

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

    def request_envs(self) -> list[RequestEnv]:
        """Every request environment the schema allows (Rust's ``Schema::request_envs``): for
        each action, each principal type and resource type of its ``appliesTo``."""
        return [
            RequestEnv(p, uid, r)
            for uid, decl in self.actions.items()
            for p in decl.principal_types
            for r in decl.resource_types
        ]

    def actions_for_principal_and_resource(self, principal_type: str, resource_type: str) -> list[EntityUid]:
        """The actions whose ``appliesTo`` admits this principal type and resource type."""
        return [
            uid
            for uid, decl in self.actions.items()
            if principal_type in decl.principal_types and resource_type in decl.resource_types
        ]

    def ancestors(self, entity_type: str) -> frozenset[str] | None:
        """Rust's ``Schema::ancestors``: :meth:`entity_type_ancestors`, or ``None`` for an
        undeclared entity type."""
        if entity_type not in self.entity_types:
            return None
        return self.entity_type_ancestors(entity_type)

    # -- annotations: Rust's `SchemaFragment::*_annotation(s)` (also on :class:`Fragment`, with
    #    Rust's `(namespace, name)` arguments); here names are fully qualified
    def entity_type_annotations(self, name: str) -> Mapping[str, str] | None:
        """The annotations of an entity type (``NS::User``; ``None`` if it is not declared;
        a value-less annotation reads ``""``)."""
        return self._fragment.entity_type_annotations(*_split_name(name))

    def entity_type_annotation(self, name: str, key: str) -> str | None:
        return self._fragment.entity_type_annotation(*_split_name(name), key)

    def action_annotations(self, uid: EntityUid) -> Mapping[str, str] | None:
        """The annotations of an action (``None`` if it is not declared)."""
        namespace, base = _split_name(uid.type)
        return self._fragment.action_annotations(namespace, uid.id) if base == "Action" else None

    def action_annotation(self, uid: EntityUid, key: str) -> str | None:
        annotations = self.action_annotations(uid)
        return None if annotations is None else annotations.get(key)

    def namespace_annotations(self, namespace: str) -> Mapping[str, str] | None:
        """The annotations of a (non-empty) namespace, ``None`` if there is no such namespace."""
        return self._fragment.namespace_annotations(namespace)

    def namespace_annotation(self, namespace: str, key: str) -> str | None:
        return self._fragment.namespace_annotation(namespace, key)

    def common_type_annotations(self, name: str) -> Mapping[str, str] | None:
        """The annotations of a common type (``NS::T``), ``None`` if it is not declared."""
        return self._fragment.common_type_annotations(*_split_name(name))

    def common_type_annotation(self, name: str, key: str) -> str | None:
        return self._fragment.common_type_annotation(*_split_name(name), key)

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


def schema_str_to_json_with_resolved_types(
    text: TextInput, name: str = "<schema>"
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Rust's ``schema_str_to_json_with_resolved_types``: a Cedar-syntax schema as JSON with
    every type reference resolved (see :meth:`Schema.to_json_with_resolved_types`), and the
    warnings. Only names are checked (an undeclared type raises :class:`SchemaError`), not
    the rest of what makes a valid :class:`Schema`.
    """
    try:
        fragment, warnings = fragment_with_resolved_types(parse_cedar_schema(text, name))
    except RecursionError:
        raise _too_deep() from None
    return fragment_to_json(fragment), warnings


def _split_name(name: str) -> tuple[str | None, str]:
    """``"NS::User"`` -> ``("NS", "User")``; ``"User"`` -> ``(None, "User")``."""
    namespace, _, base = name.rpartition("::")
    return namespace or None, base


def _fragment_of(data: Fragment | Mapping[str, Any] | TextInput, name: str = "<schema>") -> Fragment:
    """A fragment from JSON (a mapping, or text starting with ``{``) or Cedar schema text."""
    if isinstance(data, Fragment):
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        data = decode_text(data, "schema", SchemaError)
    if not isinstance(data, str) or data.lstrip().startswith("{"):
        return parse_json_schema(dict(data) if isinstance(data, Mapping) else data, name)
    return parse_cedar_schema(data, name)


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
