"""AuthZEN 1.0 ↔ Cedar: requests in, decisions and search results out.

================================  ============================================================
AuthZEN                           Cedar
================================  ============================================================
``subject`` ``{type, id}``        principal ``type::"id"`` (``type`` through ``types``)
``resource`` ``{type, id}``       resource, the same way
``action`` ``{name}``             ``Action::"name"`` (``action_type`` names another type)
``subject/resource.properties``   attributes of that entity for this request only, merged over
                                  the stored ones (typed by the schema when there is one)
``context``                       the Cedar context (typed by the schema when there is one)
================================  ============================================================

The optional mapping file (``authzen.json`` in a store) is
``{"types": {"<authzen type>": "<Cedar type>"}, "action_type": "<Cedar type>"}``; without
it the AuthZEN type *is* the Cedar type and actions are ``Action``.

Two kinds of problem are told apart, as the specification's "Errors" section does:
a request that is not AuthZEN (not an object, a missing ``type``, a non-string ``id``...)
raises :class:`BadRequest` (HTTP 400 for the whole payload); an AuthZEN request that Cedar
cannot take (a type name Cedar cannot spell, a value the schema rejects) is a
:class:`cedarlang.RequestError` and is answered per evaluation as ``"decision": false``
with the reason in ``context.error``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cedarlang import CedarError, Entities, Entity, EntityUid, RequestError, Schema
from cedarlang.cedar_json import is_entity_type_name, value_from_json
from cedarlang.values import Record

from .errors import BadRequest, StoreError

if TYPE_CHECKING:
    from .store import Snapshot


@dataclass(frozen=True)
class Mapping:
    """How AuthZEN type names and action names become Cedar entity types."""

    types: MappingABC[str, str]
    action_type: str = "Action"

    @classmethod
    def from_json(cls, text: str | None) -> Mapping:
        if text is None:
            return cls({})
        try:
            data = json.loads(text)
        except ValueError as err:
            raise StoreError(f"the mapping is not valid JSON: {err}") from None
        if not isinstance(data, dict) or set(data) - {"types", "action_type"}:
            raise StoreError('the mapping must be an object with only "types" and "action_type"')
        types = data.get("types", {})
        if not isinstance(types, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and is_entity_type_name(v) for k, v in types.items()
        ):
            raise StoreError('mapping "types" must map AuthZEN type names to Cedar entity type names')
        action_type = data.get("action_type", "Action")
        if not isinstance(action_type, str) or not is_entity_type_name(action_type):
            raise StoreError('mapping "action_type" must be a Cedar entity type name')
        return cls(types, action_type)

    def cedar_type(self, authzen_type: str) -> str:
        cedar = self.types.get(authzen_type, authzen_type)
        if not is_entity_type_name(cedar):
            raise RequestError(f"the type `{authzen_type}` is not a Cedar entity type name")
        return cedar

    def action_uid(self, name: str) -> EntityUid:
        return EntityUid(self.action_type, name)


# -- reading AuthZEN JSON (structure only: BadRequest) -------------------------


@dataclass(frozen=True)
class Party:
    """A subject or resource as sent: ``id`` is None when searched for."""

    type: str
    id: str | None
    properties: MappingABC[str, Any] | None


def party(data: Any, where: str, *, need_id: bool) -> Party:
    if not isinstance(data, dict):
        raise BadRequest(f"`{where}` must be an object with `type` and `id`")
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise BadRequest(f"`{where}.type` is required and must be a non-empty string")
    eid = data.get("id")
    if need_id:
        if not isinstance(eid, str):
            raise BadRequest(f"`{where}.id` is required and must be a string")
    else:
        eid = None  # a search ignores the searched part's id, as the specification says
    props = data.get("properties")
    if props is not None and not isinstance(props, dict):
        raise BadRequest(f"`{where}.properties` must be an object")
    return Party(kind, eid, props or None)


def action_name(data: Any, where: str = "action") -> str:
    if not isinstance(data, dict):
        raise BadRequest(f"`{where}` must be an object with `name`")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise BadRequest(f"`{where}.name` is required and must be a non-empty string")
    props = data.get("properties")
    if props is not None and not isinstance(props, dict):
        raise BadRequest(f"`{where}.properties` must be an object")
    return name


def context_of(data: Any, where: str = "context") -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest(f"`{where}` must be an object")
    return data


def body_object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise BadRequest("the request body must be a JSON object")
    return data


# -- to Cedar (RequestError: answered per evaluation) ----------------------------


def uid_of(p: Party, mapping: Mapping) -> EntityUid:
    assert p.id is not None
    return EntityUid(mapping.cedar_type(p.type), p.id)


def with_properties(snapshot: Snapshot, parties: list[tuple[EntityUid, MappingABC[str, Any]]]) -> Entities:
    """The store's entities with each party's properties merged over its stored attributes
    (for this request only). Without properties: the store itself (no copy)."""
    if not parties:
        return snapshot.entities
    schema = snapshot.schema
    overlay: dict[EntityUid, Entity] = {}
    for uid, props in parties:
        old = overlay.get(uid) or snapshot.entities.get(uid)
        attrs = Record(old.attrs) if old is not None else Record()
        shape = _shape(schema, uid.type)
        try:
            for key, value in props.items():
                expected = shape[key].type if key in shape else None
                attrs[key] = value_from_json(value, expected, f"`{uid}` property `{key}`")
        except RecursionError:
            raise RequestError(f"the properties of `{uid}` are nested too deeply") from None
        except CedarError as err:
            raise RequestError(str(err)) from None
        overlay[uid] = Entity(uid, attrs, old.parents if old is not None else (), old.tags if old else None)
    try:
        return snapshot.entities.overlaid(overlay.values())
    except CedarError as err:
        raise RequestError(str(err)) from None


def _shape(schema: Schema | None, entity_type: str) -> MappingABC[str, Any]:
    if schema is None:
        return {}
    decl = schema.entity_type(entity_type)
    return decl.shape.attributes if decl is not None else {}
