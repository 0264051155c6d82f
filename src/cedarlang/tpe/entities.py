"""Partial entities (Rust's ``cedar-policy-core/src/tpe/entities.rs``).

Each of an entity's attributes, ancestors and tags is either known as a whole or unknown
(``None``). An entity absent from :class:`PartialEntities` is treated like an entity whose
every part is unknown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..cedar_json import load_json_text
from ..conformance import record_mismatch, type_mismatch
from ..entities import Entities, Entity, entity_from_json
from ..errors import CedarError, ReauthorizationError, TpeEntitiesError
from ..lexical import is_action_type
from ..schema import Schema
from ..schema.types import EntityRefType
from ..values import EntityUid, Record, Value, cedar_eq

__all__ = ["PartialEntities", "PartialEntity"]


def _record(values: Mapping[str, Value] | None) -> Record | None:
    if values is None or type(values) is Record:
        return values
    return Record(values)


class PartialEntity:
    """An entity whose attributes, ancestors and tags are each known or unknown (``None``).

    ``ancestors`` are all ancestors (the transitive closure is computed by
    :class:`PartialEntities`).
    """

    __slots__ = ("ancestors", "attrs", "tags", "uid")

    def __init__(
        self,
        uid: EntityUid,
        attrs: Mapping[str, Value] | None = None,
        ancestors: Iterable[EntityUid] | None = None,
        tags: Mapping[str, Value] | None = None,
    ) -> None:
        self.uid = uid
        self.attrs = _record(attrs)
        self.ancestors: frozenset[EntityUid] | None = None if ancestors is None else frozenset(ancestors)
        self.tags = _record(tags)

    @classmethod
    def from_entity(cls, entity: Entity) -> PartialEntity:
        """A fully known partial entity."""
        return cls(entity.uid, entity.attrs, entity.ancestors, entity.tags)

    def __repr__(self) -> str:
        return f"PartialEntity({self.uid})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, PartialEntity)
            and self.uid == other.uid
            and self.attrs == other.attrs
            and self.ancestors == other.ancestors
            and self.tags == other.tags
        )

    __hash__ = None  # type: ignore[assignment]

    def validate(self, schema: Schema) -> None:
        """Raise :class:`TpeEntitiesError` if the known parts do not conform to ``schema``
        (Rust's ``PartialEntity::validate``)."""
        uid = self.uid
        if is_action_type(uid.type):
            self._validate_action(schema)
            return
        decl = schema.entity_type(uid.type)
        if decl is None:
            raise TpeEntitiesError(
                "UnexpectedEntityType",
                f"entity `{uid}` has type `{uid.type}`, which is not declared in the schema",
            )
        problem = type_mismatch(uid, EntityRefType(uid.type), schema)
        if problem:
            raise TpeEntitiesError("InvalidEnumEntity", problem)
        if self.ancestors is not None:
            allowed = schema.entity_type_ancestors(uid.type)
            for parent in sorted(self.ancestors):
                if parent.type not in allowed:
                    raise TpeEntitiesError(
                        "InvalidAncestorType",
                        f"entity `{uid}` has ancestor `{parent}`, but `{uid.type}` entities cannot be in "
                        f"`{parent.type}` entities according to the schema",
                    )
        if self.attrs is not None:
            problem = record_mismatch(self.attrs, decl.shape, schema)
            if problem:
                raise TpeEntitiesError(
                    "InvalidAttribute", f"entity `{uid}` does not conform to the schema: {problem}"
                )
        if self.tags:
            if decl.tags is None:
                first = next(iter(self.tags))
                raise TpeEntitiesError(
                    "UnexpectedEntityTag", f"entity `{uid}` has tag `{first}`, but its type allows no tags"
                )
            for key, value in self.tags.items():
                problem = type_mismatch(value, decl.tags, schema)
                if problem:
                    raise TpeEntitiesError("InvalidTag", f"entity `{uid}`, tag `{key}`: {problem}")

    def _validate_action(self, schema: Schema) -> None:
        uid = self.uid
        if self.attrs is None or self.tags is None:
            raise TpeEntitiesError(
                "UnknownActionComponent", f"action `{uid}` has unknown ancestors/attrs/tags"
            )
        if self.attrs:
            raise TpeEntitiesError(
                "UnexpectedEntityAttr",
                f"action `{uid}` has attribute `{min(self.attrs)}`, but actions have none",
            )
        if self.tags:
            raise TpeEntitiesError(
                "UnexpectedEntityTag", f"action `{uid}` has tag `{min(self.tags)}`, but actions have none"
            )
        if schema.action(uid) is None:
            raise TpeEntitiesError("UndeclaredAction", f"action `{uid}` is not declared in the schema")
        if self.ancestors is None:
            raise TpeEntitiesError(
                "UnknownActionComponent", f"action `{uid}` has unknown ancestors/attrs/tags"
            )
        if self.ancestors != schema.action_ancestors(uid):
            raise TpeEntitiesError(
                "MismatchedActionAncestors", f"action `{uid}`'s ancestors do not match the schema"
            )

    def check_consistency(self, entity: Entity) -> None:
        """Raise :class:`ReauthorizationError` unless ``entity`` agrees with every known part
        (Rust's ``PartialEntity::check_consistency``)."""
        if self.attrs is not None and not _same_record(self.attrs, entity.attrs):
            extra = sorted(set(entity.attrs) - set(self.attrs))
            if extra:
                raise ReauthorizationError(
                    "UnknownAttribute",
                    f"concrete entity `{self.uid}` has attribute `{extra[0]}` "
                    "not present in the partial entity",
                )
            raise ReauthorizationError(
                "MismatchedAttribute",
                f"concrete entity `{self.uid}` has attribute values that do not match the partial entity",
            )
        if self.ancestors is not None and self.ancestors != entity.ancestors:
            raise ReauthorizationError(
                "MismatchedAncestor",
                f"concrete entity `{self.uid}` has ancestors that do not match the partial entity",
            )
        if self.tags is not None and not _same_record(self.tags, entity.tags):
            extra = sorted(set(entity.tags) - set(self.tags))
            if extra:
                raise ReauthorizationError(
                    "UnknownTag",
                    f"concrete entity `{self.uid}` has tag `{extra[0]}` not present in the partial entity",
                )
            raise ReauthorizationError(
                "MismatchedTag",
                f"concrete entity `{self.uid}` has tag values that do not match the partial entity",
            )


def _same_record(a: Mapping[str, Value], b: Mapping[str, Value]) -> bool:
    return len(a) == len(b) and all(k in b and cedar_eq(v, b[k]) for k, v in a.items())


class PartialEntities:
    """A store of partial entities, validated against a schema, ancestors transitively
    closed, with the schema's action entities added (Rust's ``PartialEntities``)."""

    __slots__ = ("_entities",)

    def __init__(self) -> None:
        self._entities: dict[EntityUid, PartialEntity] = {}

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_entities(cls, entities: Iterable[PartialEntity], schema: Schema) -> PartialEntities:
        """Validate, close the ancestors transitively and add the schema's actions."""
        return cls._build(_unique(entities), schema, compute_tc=True)

    @classmethod
    def from_concrete(cls, entities: Entities, schema: Schema) -> PartialEntities:
        """Every entity of a concrete store, fully known."""
        return cls._build(_unique(PartialEntity.from_entity(e) for e in entities), schema, compute_tc=False)

    @classmethod
    def from_json(cls, data: str | bytes | list[Any], schema: Schema) -> PartialEntities:
        """Rust's TPE entity JSON: a list of ``{"uid", "attrs"?, "parents"?, "tags"?}``, where
        a missing ``attrs`` / ``parents`` / ``tags`` field means that part is unknown (note: a
        missing ``tags`` means unknown tags, unlike the concrete format). Actions may not be
        listed: they come from the schema."""
        try:
            if isinstance(data, (str, bytes)):
                data = load_json_text(data, "entities")
            if not isinstance(data, list):
                raise TpeEntitiesError(
                    "Deserialization", "partial entities JSON must be a list of entity objects"
                )
            return cls.from_entities((_entity_from_json(item, schema) for item in data), schema)
        except TpeEntitiesError:
            raise
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise TpeEntitiesError("Deserialization", f"partial entities are not valid JSON: {err}") from None
        except RecursionError:
            raise TpeEntitiesError("Deserialization", "partial entities JSON is nested too deeply") from None
        except CedarError as err:
            raise TpeEntitiesError("Deserialization", str(err)) from None

    @classmethod
    def _build(
        cls, entities: dict[EntityUid, PartialEntity], schema: Schema, compute_tc: bool
    ) -> PartialEntities:
        for entity in entities.values():
            entity.validate(schema)
        _check_ancestors_known(entities)
        if compute_tc:
            _close(entities)
        store = cls()
        store._entities = entities
        store._insert_actions(schema)
        return store

    def _insert_actions(self, schema: Schema) -> None:
        for uid, ancestors in schema.action_entities():
            self._entities[uid] = PartialEntity(uid, Record(), ancestors, Record())

    def add_trusted(self, entity: PartialEntity) -> None:
        """Add an entity without validation (its ancestors must already be closed)."""
        if entity.uid in self._entities:
            raise TpeEntitiesError("Duplicate", f"duplicate entity entry `{entity.uid}`")
        self._entities[entity.uid] = entity

    def add_validated(self, entities: Iterable[PartialEntity], schema: Schema) -> None:
        """Add entities whose ancestors are already closed, validating each (Rust's
        ``add_entities`` with ``AssumeAlreadyComputed``)."""
        for entity in entities:
            entity.validate(schema)
            self.add_trusted(entity)
        _check_ancestors_known(self._entities)

    # -- access -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[PartialEntity]:
        return iter(self._entities.values())

    def __len__(self) -> int:
        return len(self._entities)

    def __contains__(self, uid: object) -> bool:
        return uid in self._entities

    def get(self, uid: EntityUid) -> PartialEntity | None:
        return self._entities.get(uid)

    def ancestors(self, uid: EntityUid) -> frozenset[EntityUid] | None:
        entity = self._entities.get(uid)
        return None if entity is None else entity.ancestors

    def attrs(self, uid: EntityUid) -> Record | None:
        entity = self._entities.get(uid)
        return None if entity is None else entity.attrs

    def tags(self, uid: EntityUid) -> Record | None:
        entity = self._entities.get(uid)
        return None if entity is None else entity.tags

    def __repr__(self) -> str:
        return f"<PartialEntities: {len(self._entities)} entities>"

    def check_consistency(self, concrete: Entities) -> None:
        """Raise :class:`ReauthorizationError` unless every partial entity is in ``concrete``
        and agrees with it (Rust's ``PartialEntities::check_consistency``)."""
        for uid, partial in self._entities.items():
            entity = concrete.get(uid)
            if entity is None:
                raise ReauthorizationError(
                    "MissingEntity",
                    f"entity `{uid}` is present in the partial entities "
                    "but missing from the concrete entities",
                )
            partial.check_consistency(entity)


def _unique(entities: Iterable[PartialEntity]) -> dict[EntityUid, PartialEntity]:
    out: dict[EntityUid, PartialEntity] = {}
    for entity in entities:
        if entity.uid in out:
            raise TpeEntitiesError("Duplicate", f"duplicate entity entry `{entity.uid}`")
        out[entity.uid] = entity
    return out


def _check_ancestors_known(entities: Mapping[EntityUid, PartialEntity]) -> None:
    """An entity with known ancestors cannot have an ancestor (in the store) whose own
    ancestors are unknown (Rust's ``validate_concrete_ancestors_concrete``)."""
    for entity in entities.values():
        if entity.ancestors is None:
            continue
        for ancestor in sorted(entity.ancestors):
            other = entities.get(ancestor)
            if other is not None and other.ancestors is None:
                raise TpeEntitiesError(
                    "AncestorValidation",
                    f"ancestor `{ancestor}` of `{entity.uid}` has unknown ancestors",
                    "an entity with known ancestors cannot have an ancestor whose own ancestors are unknown",
                )


def _close(entities: dict[EntityUid, PartialEntity]) -> None:
    """Close the known ancestor sets transitively; a cycle is an error (Rust's
    ``compute_tc(.., enforce_dag = true)``)."""
    closed: dict[EntityUid, frozenset[EntityUid]] = {}
    for start in entities:
        if entities[start].ancestors is None or start in closed:
            continue
        # iterative depth-first search, each entity's closure computed once
        stack: list[tuple[EntityUid, list[EntityUid]]] = [(start, sorted(entities[start].ancestors or ()))]
        on_path: set[EntityUid] = {start}
        while stack:
            uid, todo = stack[-1]
            if todo:
                nxt = todo.pop()
                if nxt in on_path:
                    raise TpeEntitiesError("TCComputation", f"entity `{nxt}` is its own ancestor (a cycle)")
                if nxt in entities and nxt not in closed:
                    stack.append((nxt, sorted(entities[nxt].ancestors or ())))
                    on_path.add(nxt)
                continue
            stack.pop()
            on_path.discard(uid)
            acc = set(entities[uid].ancestors or ())
            for parent in entities[uid].ancestors or ():
                acc |= closed.get(parent, frozenset())
            closed[uid] = frozenset(acc)
    for uid, ancestors in closed.items():
        entity = entities[uid]
        if entity.ancestors is None:
            continue
        entities[uid] = PartialEntity(uid, entity.attrs, ancestors, entity.tags)


def _entity_from_json(item: Any, schema: Schema) -> PartialEntity:
    if type(item) is not dict:
        raise TpeEntitiesError(
            "Deserialization", f"an entity must be a JSON object, got {type(item).__name__}"
        )
    if "uid" not in item:
        raise TpeEntitiesError("Deserialization", "entity is missing the required field `uid`")
    unknown = sorted(set(item) - {"uid", "attrs", "parents", "tags"})
    if unknown:
        raise TpeEntitiesError("Deserialization", f"entity has an unexpected field `{unknown[0]}`")
    filled = {
        "uid": item["uid"],
        "attrs": item.get("attrs") if item.get("attrs") is not None else {},
        "parents": item.get("parents") if item.get("parents") is not None else [],
        "tags": item.get("tags") if item.get("tags") is not None else {},
    }
    try:
        entity = entity_from_json(filled, schema)
    except CedarError as err:
        raise TpeEntitiesError("Deserialization", str(err)) from None
    if is_action_type(entity.uid.type):
        raise TpeEntitiesError(
            "UnexpectedAction",
            f"Unexpected action: `{entity.uid}`",
            "action entities come from the schema; do not list them",
        )
    return PartialEntity(
        entity.uid,
        entity.attrs if item.get("attrs") is not None else None,
        entity.parents if item.get("parents") is not None else None,
        entity.tags if item.get("tags") is not None else None,
    )
