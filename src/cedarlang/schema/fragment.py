"""The unresolved schema fragment: both schema formats parse into this structure.

It mirrors Rust's ``json_schema::Fragment<RawName>``: names are kept exactly as written
(not yet qualified with the namespace), common-type references are not inlined, and
annotations keep the distinction between ``@a`` written in Cedar syntax (value ``""``) and
``"a": null`` written in JSON (value ``None``). Both printers work from a fragment, so what
the user wrote (namespaces, common types, annotations) survives a round trip.

Source spans are carried along for error messages but never take part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..source import Source, Span

#: Annotation values; ``None`` is a JSON ``null`` (printed as a value-less annotation).
Annotations = dict[str, str | None]


@dataclass(slots=True, kw_only=True)
class RawType:
    """Base class of unresolved types."""

    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class PrimRaw(RawType):
    """``{"type": "Long" | "String" | "Boolean"}``."""

    name: str


@dataclass(slots=True)
class SetRaw(RawType):
    element: RawType


@dataclass(slots=True)
class AttrRaw:
    type: RawType
    required: bool = True
    annotations: Annotations = field(default_factory=dict)
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class RecordRaw(RawType):
    attributes: dict[str, AttrRaw] = field(default_factory=dict)
    additional_attributes: bool = False

    def is_empty(self) -> bool:
        return not self.attributes and not self.additional_attributes


@dataclass(slots=True)
class EntityRaw(RawType):
    """``{"type": "Entity", "name": ...}``: must resolve to an entity type."""

    name: str


@dataclass(slots=True)
class EntityOrCommonRaw(RawType):
    """A bare type name in Cedar syntax / ``EntityOrCommon`` in JSON."""

    name: str


@dataclass(slots=True)
class ExtensionRaw(RawType):
    name: str


@dataclass(slots=True)
class CommonRefRaw(RawType):
    """``{"type": "<name>"}``: must resolve to a common type."""

    name: str


@dataclass(slots=True)
class RawName:
    """A type name as written (maybe unqualified), with its location."""

    name: str
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class EntityTypeRaw:
    member_of_types: list[RawName] = field(default_factory=list)
    shape: RawType = field(default_factory=RecordRaw)
    tags: RawType | None = None
    enum: list[str] | None = None
    annotations: Annotations = field(default_factory=dict)
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class ActionRefRaw:
    """An entry of an action's ``memberOf``; ``type`` ``None`` means ``Action``."""

    id: str
    type: str | None = None
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class ApplySpecRaw:
    principal_types: list[RawName] = field(default_factory=list)
    resource_types: list[RawName] = field(default_factory=list)
    context: RawType = field(default_factory=RecordRaw)


@dataclass(slots=True)
class ActionRaw:
    applies_to: ApplySpecRaw | None = None
    member_of: list[ActionRefRaw] | None = None
    annotations: Annotations = field(default_factory=dict)
    #: JSON ``attributes`` was given (and not ``null``): unsupported, rejected later.
    has_attributes: bool = False
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class CommonTypeRaw:
    type: RawType
    annotations: Annotations = field(default_factory=dict)
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class NamespaceRaw:
    """One namespace; ``name`` ``None`` is the empty namespace."""

    name: str | None
    common_types: dict[str, CommonTypeRaw] = field(default_factory=dict)
    entity_types: dict[str, EntityTypeRaw] = field(default_factory=dict)
    actions: dict[str, ActionRaw] = field(default_factory=dict)
    annotations: Annotations = field(default_factory=dict)
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class Fragment:
    """A whole schema, as written. ``source`` is set for Cedar-syntax input.

    The annotation accessors are Rust's ``SchemaFragment`` ones: ``namespace`` ``None`` is the
    empty namespace, names are unqualified, a value-less annotation reads ``""``, and ``None``
    means the namespace, declaration or key does not exist.
    """

    namespaces: dict[str | None, NamespaceRaw] = field(default_factory=dict)
    source: Source | None = field(default=None, compare=False, repr=False)

    def namespace_annotations(self, namespace: str) -> dict[str, str] | None:
        """The annotations of a namespace (the empty namespace has none)."""
        ns = self.namespaces.get(namespace) if namespace else None
        return None if ns is None else _values(ns.annotations)

    def namespace_annotation(self, namespace: str, key: str) -> str | None:
        return _get(self.namespace_annotations(namespace), key)

    def common_type_annotations(self, namespace: str | None, name: str) -> dict[str, str] | None:
        ns = self.namespaces.get(namespace)
        ct = None if ns is None else ns.common_types.get(name)
        return None if ct is None else _values(ct.annotations)

    def common_type_annotation(self, namespace: str | None, name: str, key: str) -> str | None:
        return _get(self.common_type_annotations(namespace, name), key)

    def entity_type_annotations(self, namespace: str | None, name: str) -> dict[str, str] | None:
        ns = self.namespaces.get(namespace)
        et = None if ns is None else ns.entity_types.get(name)
        return None if et is None else _values(et.annotations)

    def entity_type_annotation(self, namespace: str | None, name: str, key: str) -> str | None:
        return _get(self.entity_type_annotations(namespace, name), key)

    def action_annotations(self, namespace: str | None, action_id: str) -> dict[str, str] | None:
        ns = self.namespaces.get(namespace)
        action = None if ns is None else ns.actions.get(action_id)
        return None if action is None else _values(action.annotations)

    def action_annotation(self, namespace: str | None, action_id: str, key: str) -> str | None:
        return _get(self.action_annotations(namespace, action_id), key)


def _values(annotations: Annotations) -> dict[str, str]:
    return {k: "" if v is None else v for k, v in annotations.items()}


def _get(annotations: dict[str, str] | None, key: str) -> str | None:
    return None if annotations is None else annotations.get(key)
