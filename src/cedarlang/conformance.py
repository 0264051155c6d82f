"""Checks that requests, contexts and entities conform to a schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ast import Node
from .errors import EntitiesError, RequestError
from .extensions import EXTENSION_TYPES
from .lexical import is_action_type
from .schema.types import (
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
from .values import CedarSet, EntityUid, Record, Value, to_cedar, type_name

if TYPE_CHECKING:
    from .entities import Entity
    from .schema import Schema


def type_mismatch(value: Value, expected: SchemaType, schema: Schema) -> str | None:
    """Why ``value`` does not have type ``expected`` (``None`` if it does)."""
    match expected:
        case BoolType():
            return None if type(value) is bool else f"expected a Bool, got {type_name(value)}"
        case LongType():
            return None if type(value) is int else f"expected a Long, got {type_name(value)}"
        case StringType():
            return None if type(value) is str else f"expected a String, got {type_name(value)}"
        case EntityRefType(name=name):
            if type(value) is not EntityUid or value.type != name:
                return f"expected an entity of type `{name}`, got {type_name(value)}"
            return enum_problem(value, schema)
        case ExtensionType(name=name):
            if type(value) is not EXTENSION_TYPES.get(name):
                return f"expected {name}, got {type_name(value)}"
            return None
        case SetType(element=element):
            if type(value) is not CedarSet:
                return f"expected a Set, got {type_name(value)}"
            for item in value:
                problem = type_mismatch(item, element, schema)
                if problem:
                    return f"in a set element: {problem}"
            return None
        case RecordType():
            if type(value) is not Record:
                return f"expected a record, got {type_name(value)}"
            return record_mismatch(value, expected, schema)
    return None


def record_mismatch(value: Record, expected: RecordType, schema: Schema) -> str | None:
    if type(value) is not Record:
        return _residual_record_mismatch(value, expected, schema)
    attributes = expected.attributes
    for key, attr in attributes.items():
        if key not in value:
            if attr.required:
                return f"required attribute `{key}` is missing"
            continue
        problem = type_mismatch(value[key], attr.type, schema)
        if problem:
            return f"attribute `{key}`: {problem}"
    if not expected.open:
        for key in value:
            if key not in attributes:
                return f"attribute `{key}` is not declared in the schema"
    return None


def _residual_record_mismatch(value: Record, expected: RecordType, schema: Schema) -> str | None:
    """Entity attributes some of which are unknown (partial evaluation): an unknown may
    stand for a value of any type, so it is checked only for being declared; the known
    attributes are checked as usual."""
    unknown = [k for k, v in dict.items(value) if isinstance(v, Node)]
    attributes = expected.attributes
    if not expected.open:
        for key in unknown:
            if key not in attributes:
                return f"attribute `{key}` is not declared in the schema"
    known = Record((k, v) for k, v in dict.items(value) if k not in unknown)
    relaxed = {k: Attribute(a.type, required=False) if k in unknown else a for k, a in attributes.items()}
    return record_mismatch(known, RecordType(relaxed, expected.open), schema)


def enum_problem(uid: EntityUid, schema: Schema) -> str | None:
    decl = schema.entity_type(uid.type)
    if decl is not None and decl.enum is not None and uid.id not in decl.enum:
        choices = ", ".join(f'"{c}"' for c in decl.enum)
        return (
            f"entity `{uid}` is of an enumerated entity type, "
            f'but `"{uid.id}"` is not one of its ids ({choices})'
        )
    return None


def validate_request_scope(
    schema: Schema, principal: EntityUid | str, action: EntityUid, resource: EntityUid | str
) -> None:
    """Check a request's principal, action and resource against the schema.

    A principal or resource given as a type name alone (a permission query's unknown)
    is checked as a type."""
    decl = schema.action(action)
    if decl is None:
        raise RequestError(f"request's action `{action}` is not declared in the schema")
    for role, uid, allowed in (
        ("principal", principal, decl.principal_types),
        ("resource", resource, decl.resource_types),
    ):
        entity_type = uid if isinstance(uid, str) else uid.type
        if schema.entity_type(entity_type) is None:
            raise RequestError(f"{role} type `{entity_type}` is not declared in the schema")
        if entity_type not in allowed:
            raise RequestError(
                f"{role} type `{entity_type}` is not valid for `{action}`"
                + (f": it applies to {', '.join(f'`{t}`' for t in allowed)}" if allowed else "")
            )
        problem = None if isinstance(uid, str) else enum_problem(uid, schema)
        if problem:
            raise RequestError(f"{role}: {problem}")


def validate_context(schema: Schema, action: EntityUid, context: Record) -> None:
    expected = schema.context_type(action)
    if expected is None:
        raise RequestError(f"request's action `{action}` is not declared in the schema")
    problem = record_mismatch(context, expected, schema)
    if problem:
        raise RequestError(f"context `{to_cedar(context)}` is not valid for `{action}`: {problem}")


def validate_entity(entity: Entity, schema: Schema) -> None:
    """Raise :class:`EntitiesError` if ``entity`` does not conform to ``schema``."""
    uid = entity.uid
    if is_action_type(uid.type):
        _validate_action_entity(entity, schema)
        return
    decl = schema.entity_type(uid.type)
    if decl is None:
        raise EntitiesError(f"entity `{uid}` has type `{uid.type}`, which is not declared in the schema")
    problem = enum_problem(uid, schema)
    if problem:
        raise EntitiesError(problem)
    problem = record_mismatch(entity.attrs, decl.shape, schema)
    if problem:
        raise EntitiesError(f"entity `{uid}` does not conform to the schema: {problem}")
    if entity.tags:
        if decl.tags is None:
            first = next(iter(entity.tags))
            raise EntitiesError(f"entity `{uid}` has tag `{first}`, but its type allows no tags")
        residual = type(entity.tags) is not Record  # some tags unknown: they have any type
        for key, value in dict.items(entity.tags):
            if residual and isinstance(value, Node):
                continue
            problem = type_mismatch(value, decl.tags, schema)
            if problem:
                raise EntitiesError(f"entity `{uid}`, tag `{key}`: {problem}")
    # as Rust (`validate_entity_ancestors`): a parent may be of any type the schema lets
    # this type be in transitively, not only of a type in its `memberOfTypes`
    allowed = schema.entity_type_ancestors(uid.type)
    for parent in entity.parents:
        if parent.type not in allowed:
            raise EntitiesError(
                f"entity `{uid}` has parent `{parent}`, but `{uid.type}` entities cannot be in "
                f"`{parent.type}` entities according to the schema"
            )


def _validate_action_entity(entity: Entity, schema: Schema) -> None:
    uid = entity.uid
    decl = schema.action(uid)
    if decl is None:
        raise EntitiesError(f"action `{uid}` is not declared in the schema")
    if entity.attrs or entity.tags:
        raise EntitiesError(f"action `{uid}` must not have attributes or tags")
    expected_parents = set(decl.member_of)
    if not set(entity.parents) <= _all_action_ancestors(schema, uid) or not expected_parents <= set(
        entity.ancestors
    ):
        raise EntitiesError(
            f"action `{uid}` is declared with different parents in the schema than in the entity data"
        )


def _all_action_ancestors(schema: Schema, uid: EntityUid) -> set[EntityUid]:
    for action_uid, ancestors in schema.action_entities():
        if action_uid == uid:
            return set(ancestors)
    return set()
