"""The validator's view of a :class:`~cedarlang.schema.Schema` (Rust's ``ValidatorSchema``).

Schema types are converted to validator types once; entity type descendants and action
descendants are precomputed; the request environments (every action x principal type x
resource type the schema allows) are listed once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..lexical import is_action_type
from ..schema import Schema
from ..schema import types as st
from ..values import EntityUid
from .types import (
    BOOL,
    LONG,
    STRING,
    AttrType,
    EntityType,
    ExtType,
    RecordType,
    SetType,
    Type,
)

__all__ = ["ActionInfo", "EntityInfo", "RequestEnv", "SchemaInfo", "is_action_type"]


@dataclass(frozen=True)
class EntityInfo:
    name: str
    attrs: dict[str, AttrType]
    open: bool
    tags: Type | None
    descendants: frozenset[str]
    enum: tuple[str, ...] | None


@dataclass(frozen=True)
class ActionInfo:
    uid: EntityUid
    principals: tuple[str, ...]
    resources: tuple[str, ...]
    context: RecordType
    descendants: frozenset[EntityUid]


@dataclass(frozen=True)
class RequestEnv:
    """One request environment, optionally with types for the template slots."""

    principal: str
    action: EntityUid
    resource: str
    context: RecordType
    principal_slot: str | None = None
    resource_slot: str | None = None


@dataclass
class SchemaInfo:
    schema: Schema
    entity_types: dict[str, EntityInfo] = field(default_factory=dict)
    actions: dict[EntityUid, ActionInfo] = field(default_factory=dict)
    envs: list[RequestEnv] = field(default_factory=list)
    #: (descendant action type, ancestor action type) pairs present in the action hierarchy.
    action_type_edges: frozenset[tuple[str, str]] = frozenset()
    #: The tag type of every entity type that declares tags (for ``AnyEntity``).
    all_tag_types: tuple[Type, ...] = ()

    @classmethod
    def build(cls, schema: Schema) -> SchemaInfo:
        info = cls(schema)
        convert = _Converter()
        for name, decl in schema.entity_types.items():
            attrs = {k: AttrType(convert(a.type), a.required) for k, a in decl.shape.attributes.items()}
            tags = None if decl.tags is None or decl.enum is not None else convert(decl.tags)
            info.entity_types[name] = EntityInfo(
                name,
                attrs,
                bool(decl.shape.open) and decl.enum is None,
                tags,
                schema.entity_type_descendants(name),
                decl.enum,
            )
        edges: set[tuple[str, str]] = set()
        for uid, adecl in schema.actions.items():
            context = convert(adecl.context)
            assert isinstance(context, RecordType)
            descendants = schema.action_descendants(uid)
            info.actions[uid] = ActionInfo(
                uid, tuple(adecl.principal_types), tuple(adecl.resource_types), context, descendants
            )
            for d in descendants:
                edges.add((d.type, uid.type))
        info.action_type_edges = frozenset(edges)
        for env in schema.request_envs():
            info.envs.append(
                RequestEnv(env.principal, env.action, env.resource, info.actions[env.action].context)
            )
        info.all_tag_types = tuple(e.tags for e in info.entity_types.values() if e.tags is not None)
        return info

    # -- queries (names follow Rust's ValidatorSchema)
    def is_known_entity_type(self, name: str) -> bool:
        return is_action_type(name) or name in self.entity_types

    def entity_types_in(self, name: str) -> set[str]:
        """Entity types ``T`` such that ``T in <an entity of type name>`` can be true."""
        info = self.entity_types.get(name)
        out = set(info.descendants) if info is not None else set()
        out.add(name)
        return out

    def actions_in_set(self, uids: list[EntityUid]) -> list[EntityUid] | None:
        """Actions ``a`` with ``a in uids`` true; ``None`` if some uid is not a declared action."""
        out: list[EntityUid] = []
        for uid in uids:
            ainfo = self.actions.get(uid)
            if ainfo is None:
                return None
            out.extend(ainfo.descendants)
            out.append(uid)
        return out

    def check_action_in_entity_type(self, lhs: str, rhs: str) -> bool:
        return lhs == rhs or (lhs, rhs) in self.action_type_edges

    def entity_attrs(self, name: str) -> dict[str, AttrType]:
        info = self.entity_types.get(name)
        return info.attrs if info is not None else {}

    def entity_open(self, name: str) -> bool:
        info = self.entity_types.get(name)
        if info is None:
            # Undeclared entity types may have any attribute; action entities have none.
            return not is_action_type(name)
        return info.open

    def entity_type_names(self) -> list[str]:
        return list(self.entity_types)


class _Converter:
    """Schema types to validator types (memoised: schemas share many type objects)."""

    def __init__(self) -> None:
        self.cache: dict[int, tuple[st.SchemaType, Type]] = {}

    def __call__(self, t: st.SchemaType) -> Type:
        hit = self.cache.get(id(t))
        if hit is not None and hit[0] is t:
            return hit[1]
        out = self.convert(t)
        self.cache[id(t)] = (t, out)
        return out

    def convert(self, t: st.SchemaType) -> Type:
        if isinstance(t, st.BoolType):
            return BOOL
        if isinstance(t, st.LongType):
            return LONG
        if isinstance(t, st.StringType):
            return STRING
        if isinstance(t, st.SetType):
            return SetType(self(t.element))
        if isinstance(t, st.EntityRefType):
            return EntityType.named(t.name)
        if isinstance(t, st.ExtensionType):
            return ExtType(t.name)
        if isinstance(t, st.RecordType):
            return RecordType(
                {k: AttrType(self(a.type), a.required) for k, a in t.attributes.items()}, bool(t.open)
            )
        raise TypeError(f"unknown schema type {t!r}")
