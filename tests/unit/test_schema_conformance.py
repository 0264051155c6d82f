"""Entity and request validation against a schema: every violation is rejected with a
message that names the entity (or request part) and the attribute; Rust agrees."""

from __future__ import annotations

import json
from typing import Any

import cedarpy
import pytest

import cedarlang

SCHEMA = """
entity Group;
entity User in [Group] = { name: String, age: Long, manager?: User, emails: Set<String> } tags Long;
entity Doc = { owner: User, created: datetime };
entity Color enum ["red", "green"];
action view appliesTo { principal: [User], resource: [Doc], context: { ip: ipaddr, reason?: String } };
action paint appliesTo { principal: [User], resource: [Color] };
"""
ALICE = {
    "uid": {"type": "User", "id": "alice"},
    "attrs": {"name": "Alice", "age": 30, "emails": []},
    "parents": [],
}
DOC = {
    "uid": {"type": "Doc", "id": "d"},
    "attrs": {
        "owner": {"__entity": {"type": "User", "id": "alice"}},
        "created": {"__extn": {"fn": "datetime", "arg": "2024-01-01"}},
    },
    "parents": [],
}
GOOD_CONTEXT = {"ip": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}}
VIEW: dict[str, Any] = {
    "principal": 'User::"alice"',
    "action": 'Action::"view"',
    "resource": 'Doc::"d"',
    "context": GOOD_CONTEXT,
}


def alice(**changes: Any) -> dict[str, Any]:
    entity: dict[str, Any] = json.loads(json.dumps(ALICE))
    for key, value in changes.items():
        if key == "drop":
            del entity["attrs"][value]
        elif key in ("parents", "tags"):
            entity[key] = value
        else:
            entity["attrs"][key] = value
    return entity


def rust_rejects_entities(entities: list[dict[str, Any]]) -> bool:
    result = cedarpy.is_authorized(VIEW, "permit(principal, action, resource);", entities, schema=SCHEMA)
    return result.decision == cedarpy.Decision.NoDecision


def rust_rejects_request(request: dict[str, Any]) -> bool:
    result = cedarpy.is_authorized(
        request, "permit(principal, action, resource);", [ALICE, DOC], schema=SCHEMA
    )
    return result.decision == cedarpy.Decision.NoDecision


@pytest.fixture(scope="module")
def schema() -> cedarlang.Schema:
    return cedarlang.Schema.from_str(SCHEMA)


def test_valid_data_is_accepted(schema: cedarlang.Schema) -> None:
    entities = cedarlang.Entities.from_json([ALICE, DOC], schema=schema)
    request = cedarlang.Request(
        VIEW["principal"], VIEW["action"], VIEW["resource"], GOOD_CONTEXT, schema=schema
    )
    assert (
        cedarlang.Authorizer()
        .is_authorized(
            request, cedarlang.PolicySet.from_str("permit(principal, action, resource);"), entities
        )
        .allowed
    )
    assert not rust_rejects_entities([ALICE, DOC])
    assert not rust_rejects_request(VIEW)


ENTITY_CASES = [
    ("wrong attribute type", [alice(age="thirty")], ['User::"alice"', "age"]),
    ("missing required attribute", [alice(drop="name")], ['User::"alice"', "name"]),
    ("undeclared attribute", [alice(height=180)], ['User::"alice"', "height"]),
    ("wrong type inside a set", [alice(emails=["a@x", 3])], ['User::"alice"', "emails"]),
    (
        "entity attribute of the wrong type",
        [alice(manager={"__entity": {"type": "Doc", "id": "d"}})],
        ['User::"alice"', "manager"],
    ),
    ("undeclared parent type", [alice(parents=[{"type": "Doc", "id": "d"}])], ['User::"alice"', 'Doc::"d"']),
    ("wrong tag type", [alice(tags={"level": "high"})], ['User::"alice"', "level"]),
    (
        "undeclared entity type",
        [{"uid": {"type": "Robot", "id": "r"}, "attrs": {}, "parents": []}],
        ['Robot::"r"', "Robot"],
    ),
    (
        "enum entity with an undeclared id",
        [{"uid": {"type": "Color", "id": "blue"}, "attrs": {}, "parents": []}],
        ['Color::"blue"', "blue"],
    ),
    (
        "action that is not declared",
        [{"uid": {"type": "Action", "id": "fly"}, "attrs": {}, "parents": []}],
        ['Action::"fly"'],
    ),
]


@pytest.mark.parametrize(("label", "entities", "mentions"), ENTITY_CASES, ids=[c[0] for c in ENTITY_CASES])
def test_invalid_entities_are_rejected_clearly(
    schema: cedarlang.Schema, label: str, entities: list[dict[str, Any]], mentions: list[str]
) -> None:
    with pytest.raises(cedarlang.EntitiesError) as info:
        cedarlang.Entities.from_json(entities, schema=schema)
    message = str(info.value)
    for needle in mentions:
        assert needle in message, f"{label}: {message!r} should mention {needle!r}"
    assert rust_rejects_entities(entities), f"Rust accepts the {label} case"


REQUEST_CASES = [
    ("unknown action", dict(VIEW, action='Action::"fly"'), ['Action::"fly"']),
    ("principal type not in appliesTo", dict(VIEW, principal='Doc::"d"'), ["principal", "Doc"]),
    ("resource type not in appliesTo", dict(VIEW, resource='User::"alice"'), ["resource", "User"]),
    ("undeclared principal type", dict(VIEW, principal='Robot::"r"'), ["principal", "Robot"]),
    ("context missing a required attribute", dict(VIEW, context={}), ["context", "ip"]),
    ("context attribute of the wrong type", dict(VIEW, context={"ip": "not an ip"}), ["context", "ip"]),
    (
        "context with an undeclared attribute",
        dict(VIEW, context=dict(GOOD_CONTEXT, extra=1)),
        ["context", "extra"],
    ),
    (
        "enum resource with an undeclared id",
        dict(VIEW, action='Action::"paint"', resource='Color::"blue"', context={}),
        ["blue"],
    ),
]


@pytest.mark.parametrize(("label", "request_", "mentions"), REQUEST_CASES, ids=[c[0] for c in REQUEST_CASES])
def test_invalid_requests_are_rejected_clearly(
    schema: cedarlang.Schema, label: str, request_: dict[str, Any], mentions: list[str]
) -> None:
    with pytest.raises(cedarlang.RequestError) as info:
        cedarlang.Request(
            request_["principal"],
            request_["action"],
            request_["resource"],
            request_["context"],
            schema=schema,
        )
    message = str(info.value)
    for needle in mentions:
        assert needle in message, f"{label}: {message!r} should mention {needle!r}"
    assert rust_rejects_request(request_), f"Rust accepts the {label} case"


HIERARCHY = cedarlang.Schema.from_str(
    "entity Org; entity Team in [Org]; entity User in [Team]; entity Doc;"
    "action view appliesTo { principal: User, resource: Org };"
)


@pytest.mark.parametrize(
    ("parent_type", "accepted"),
    [("Team", True), ("Org", True), ("Doc", False), ("User", False)],
)
def test_a_parent_may_have_any_type_allowed_transitively(parent_type: str, accepted: bool) -> None:
    """Rust checks parents against the transitive closure of ``memberOfTypes``
    (cedar-policy-core/src/entities/conformance.rs, ``validate_entity_ancestors``)."""
    data = [
        {"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": [{"type": parent_type, "id": "p"}]}
    ]
    rust_accepts = True
    try:
        cedarpy.Entities.from_json_str(json.dumps(data), schema=HIERARCHY.to_json_str())
    except Exception:
        rust_accepts = False
    assert rust_accepts == accepted
    if accepted:
        entities = cedarlang.Entities.from_json(data, schema=HIERARCHY)
        alice = entities.get(cedarlang.EntityUid("User", "alice"))
        assert alice is not None and cedarlang.EntityUid(parent_type, "p") in alice.parents
    else:
        with pytest.raises(cedarlang.EntitiesError, match=f"cannot be in `{parent_type}` entities"):
            cedarlang.Entities.from_json(data, schema=HIERARCHY)
