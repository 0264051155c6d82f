"""The resolved schema model: entity types and actions with fully qualified names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..values import EntityUid
from .types import EMPTY_RECORD, RecordType, SchemaType


def _no_annotations() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class EntityTypeDecl:
    """An entity type: its parents' types, attribute shape, tag type, or enumerated ids."""

    name: str  # fully qualified, e.g. "NS::User"
    member_of_types: frozenset[str] = frozenset()
    shape: RecordType = EMPTY_RECORD
    tags: SchemaType | None = None
    enum: tuple[str, ...] | None = None
    annotations: Mapping[str, str] = field(default_factory=_no_annotations)


@dataclass(frozen=True)
class ActionDecl:
    """An action: the groups it is in and the request environments it applies to.

    ``member_of`` lists the direct parent action groups (fully qualified uids).
    ``has_applies_to`` is true when the action applies to some request, i.e. both
    ``principal_types`` and ``resource_types`` are non-empty. An action without ``appliesTo``
    (or with an empty principal or resource list) applies to nothing; the JSON format can
    still list types on one side, and those are kept in ``principal_types`` /
    ``resource_types`` as Rust keeps them.
    """

    uid: EntityUid
    member_of: tuple[EntityUid, ...] = ()
    principal_types: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()
    context: RecordType = EMPTY_RECORD
    has_applies_to: bool = False
    annotations: Mapping[str, str] = field(default_factory=_no_annotations)


@dataclass(frozen=True)
class RequestEnv:
    """A request environment the schema allows (Rust's ``RequestEnv``): a principal type, an
    action and a resource type from the action's ``appliesTo``."""

    principal: str
    action: EntityUid
    resource: str
