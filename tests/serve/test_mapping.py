"""Per-request properties: merged over stored attributes, for that request only, typed by
the schema; the store's hierarchy is kept (``Entities.overlaid``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cedarlang import Authorizer, Entities, EntitiesError, Entity, EntityUid, Request, RequestError
from cedarlang_serve.mapping import Mapping, with_properties
from cedarlang_serve.store import Snapshot, Sources, build_snapshot

SCHEMA = """
entity Team;
entity User in [Team] = { level: Long, name?: String };
entity Doc = { owner: User, secret?: Bool };
action read appliesTo { principal: User, resource: Doc };
"""
POLICIES = """
@id("team-reads-open") permit (principal in Team::"t", action, resource) unless { resource has secret && resource.secret };
@id("high-level") permit (principal, action, resource) when { principal.level > 5 };
"""
ENTITIES = [
    {"uid": {"type": "Team", "id": "t"}, "attrs": {}, "parents": []},
    {"uid": {"type": "User", "id": "a"}, "attrs": {"level": 1}, "parents": [{"type": "Team", "id": "t"}]},
    {"uid": {"type": "Doc", "id": "d"}, "attrs": {"owner": {"type": "User", "id": "a"}}, "parents": []},
]
A, D = EntityUid("User", "a"), EntityUid("Doc", "d")


def snapshot() -> Snapshot:
    return build_snapshot(Sources({"p.cedar": POLICIES}, SCHEMA, json.dumps(ENTITIES), None))


def allowed(entities: Entities) -> bool:
    snap = snapshot()
    return (
        Authorizer()
        .is_authorized(Request(A, 'Action::"read"', D, {}, schema=snap.schema), snap.policies, entities)
        .allowed
    )


def test_properties_merge_for_one_request_and_keep_the_hierarchy() -> None:
    snap = snapshot()
    assert allowed(snap.entities)
    secret = with_properties(snap, [(D, {"secret": True})])
    assert not allowed(secret)  # the team policy no longer holds...
    assert secret.is_ancestor_of(EntityUid("Team", "t"), A)  # ...though the hierarchy is intact
    assert secret[D].attrs["owner"] == A  # stored attributes are kept
    assert allowed(with_properties(snap, [(D, {"secret": True}), (A, {"level": 9})]))
    assert "secret" not in snap.entities[D].attrs  # the store is unchanged
    assert with_properties(snap, []) is snap.entities


def test_properties_are_typed_by_the_schema() -> None:
    snap = snapshot()
    bad: list[dict[str, Any]] = [{"level": "9"}, {"level": 2**70}, {"nope": 1}]
    for props in bad:
        with pytest.raises(RequestError):
            with_properties(snap, [(A, props)])
    # an entity the store does not hold, given by properties alone, must conform too
    with pytest.raises(RequestError):
        with_properties(snap, [(EntityUid("User", "new"), {"name": "n"})])  # no `level`
    assert (
        with_properties(snap, [(EntityUid("User", "new"), {"level": 7})])[EntityUid("User", "new")].attrs[
            "level"
        ]
        == 7
    )


def test_an_overlay_cannot_change_parents() -> None:
    snap = snapshot()
    with pytest.raises(EntitiesError):
        snap.entities.overlaid([Entity(A, {"level": 1}, [])])


def test_mapping_file() -> None:
    mapping = Mapping.from_json('{"types": {"user": "App::User"}, "action_type": "App::Action"}')
    assert mapping.cedar_type("user") == "App::User" and mapping.cedar_type("doc") == "doc"
    assert mapping.action_uid("read") == EntityUid("App::Action", "read")
    with pytest.raises(RequestError):
        mapping.cedar_type("not a type")
    from cedarlang_serve.errors import StoreError

    for bad in ["[", "[]", '{"types": {"u": "not a type"}}', '{"action_type": 3}', '{"extra": 1}']:
        with pytest.raises(StoreError):
            Mapping.from_json(bad)
