"""Every rule that makes a TPE input invalid raises its ``CedarError`` subclass, with the
``kind`` of the Rust error (``cedar-policy-core/src/tpe/err.rs``) and a message naming the
culprit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cedarlang import Entities, Entity, PolicySet, Request, Schema
from cedarlang.cli import main
from cedarlang.errors import (
    CedarError,
    EntitiesError,
    ReauthorizationError,
    RequestError,
    TpeEntitiesError,
    TpeError,
    TpePolicyValidationError,
    TpeRequestError,
)
from cedarlang.tpe import PartialEntities, PartialEntity, PartialEntityUid, PartialRequest, TpeResponse, tpe
from cedarlang.values import EntityUid, Record

SCHEMA = Schema.from_str(
    """
    entity Team in [Team];
    entity User in [Team] = { name: String, age?: Long } tags String;
    entity Doc = { owner: User, public: Bool };
    entity Color enum ["red", "green"];
    action all;
    action read in [all] appliesTo { principal: [User, Team], resource: [Doc, Color], context: { mfa: Bool } };
    action write appliesTo { principal: [User], resource: [Doc], context: { mfa: Bool } };
    action paint appliesTo { principal: [User], resource: [Color] };
    """
)


def uid(text: str) -> EntityUid:
    t, _, i = text.partition("::")
    return EntityUid(t, json.loads(i))


def partial_request(**overrides: Any) -> PartialRequest:
    args: dict[str, Any] = {
        "principal": PartialEntityUid("User", "alice"),
        "action": 'Action::"read"',
        "resource": PartialEntityUid("Doc"),
        "context": None,
    }
    args.update(overrides)
    return PartialRequest(args["principal"], args["action"], args["resource"], args["context"], SCHEMA)


# -- partial requests ----------------------------------------------------------------------

REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    ("UndeclaredAction", {"action": 'Action::"fly"'}, 'Action::"fly"'),
    ("InvalidPrincipalType", {"principal": PartialEntityUid("Doc")}, "principal type `Doc`"),
    ("InvalidResourceType", {"resource": PartialEntityUid("User")}, "resource type `User`"),
    ("InvalidPrincipalType", {"principal": PartialEntityUid("Nope")}, "principal type `Nope`"),
    (
        "InvalidEnumEntity",
        {"action": 'Action::"paint"', "resource": PartialEntityUid("Color", "blue")},
        '"blue"',
    ),
    ("InvalidContext", {"context": {"mfa": "yes"}}, "mfa"),
    ("InvalidContext", {"context": {}}, "required attribute `mfa`"),
    ("RequestValidation", {"action": "not a uid"}, "not a uid"),
    ("InvalidEntityId", {"principal": PartialEntityUid("User", 7)}, "string"),  # type: ignore[arg-type]
    ("InvalidEntityType", {"principal": PartialEntityUid("not a type")}, "not a type"),
]


@pytest.mark.parametrize(("kind", "overrides", "needle"), REQUESTS)
def test_invalid_partial_request(kind: str, overrides: dict[str, Any], needle: str) -> None:
    with pytest.raises(TpeRequestError) as info:
        partial_request(**overrides)
    assert info.value.kind == kind
    assert needle in str(info.value)
    assert isinstance(info.value, RequestError)  # also the library's request error


def test_action_must_be_concrete() -> None:
    with pytest.raises(TpeRequestError):
        PartialRequest('User::"a"', PartialEntityUid("Action"), PartialEntityUid("Doc"), None, SCHEMA)  # type: ignore[arg-type]


# -- partial entities ----------------------------------------------------------------------

USER = {"uid": {"type": "User", "id": "alice"}, "attrs": {"name": "A"}, "parents": [], "tags": {}}

ENTITY_JSON: list[tuple[str, Any, str]] = [
    ("UnexpectedEntityType", [{"uid": {"type": "Ghost", "id": "x"}}], "Ghost"),
    ("InvalidEnumEntity", [{"uid": {"type": "Color", "id": "blue"}}], '"blue"'),
    ("InvalidAncestorType", [{**USER, "parents": [{"type": "Doc", "id": "d"}]}], 'Doc::"d"'),
    ("Deserialization", [{**USER, "attrs": {"name": 3}}], "name"),  # typed by the schema while parsed
    ("InvalidAttribute", [{**USER, "attrs": {}}], "required attribute `name`"),
    ("InvalidAttribute", [{**USER, "attrs": {"name": "A", "extra": 1}}], "extra"),
    ("Deserialization", [{**USER, "tags": {"t": 1}}], "`t`"),
    ("UnexpectedEntityTag", [{"uid": {"type": "Team", "id": "t"}, "tags": {"t": "x"}}], "tag `t`"),
    (
        "UnexpectedAction",
        [{"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": []}],
        'Action::"read"',
    ),
    ("Duplicate", [USER, USER], 'User::"alice"'),
    (
        "AncestorValidation",
        [
            {"uid": {"type": "Team", "id": "t1"}, "parents": [{"type": "Team", "id": "t2"}]},
            {"uid": {"type": "Team", "id": "t2"}},
        ],
        'ancestor `Team::"t2"` of `Team::"t1"` has unknown ancestors',
    ),
    (
        "TCComputation",
        [
            {"uid": {"type": "Team", "id": "t1"}, "parents": [{"type": "Team", "id": "t2"}]},
            {"uid": {"type": "Team", "id": "t2"}, "parents": [{"type": "Team", "id": "t1"}]},
        ],
        "cycle",
    ),
    ("Deserialization", {"uid": 1}, "list"),
    ("Deserialization", [{"uid": {"type": "User", "id": "a"}, "color": 1}], "`color`"),
    ("Deserialization", [{"attrs": {}}], "`uid`"),
    ("Deserialization", "[", "not valid JSON"),
]


@pytest.mark.parametrize(("kind", "data", "needle"), ENTITY_JSON)
def test_invalid_partial_entities_json(kind: str, data: Any, needle: str) -> None:
    with pytest.raises(TpeEntitiesError) as info:
        PartialEntities.from_json(data if isinstance(data, str) else json.dumps(data), SCHEMA)
    assert info.value.kind == kind
    assert needle in str(info.value)
    assert isinstance(info.value, EntitiesError)


READ = uid('Action::"read"')
ACTIONS: list[tuple[str, PartialEntity, str]] = [
    (
        "UnknownActionComponent",
        PartialEntity(READ, None, {uid('Action::"all"')}, {}),
        "unknown ancestors/attrs/tags",
    ),
    (
        "UnknownActionComponent",
        PartialEntity(READ, {}, {uid('Action::"all"')}, None),
        "unknown ancestors/attrs/tags",
    ),
    ("UnknownActionComponent", PartialEntity(READ, {}, None, {}), "unknown ancestors/attrs/tags"),
    ("UnexpectedEntityAttr", PartialEntity(READ, {"a": 1}, {uid('Action::"all"')}, {}), "attribute `a`"),
    ("UnexpectedEntityTag", PartialEntity(READ, {}, {uid('Action::"all"')}, {"t": "x"}), "tag `t`"),
    ("UndeclaredAction", PartialEntity(uid('Action::"fly"'), {}, (), {}), 'Action::"fly"'),
    ("MismatchedActionAncestors", PartialEntity(READ, {}, (), {}), "ancestors do not match the schema"),
]


@pytest.mark.parametrize(("kind", "entity", "needle"), ACTIONS)
def test_invalid_action_entities(kind: str, entity: PartialEntity, needle: str) -> None:
    with pytest.raises(TpeEntitiesError) as info:
        PartialEntities.from_entities([entity], SCHEMA)
    assert info.value.kind == kind
    assert needle in str(info.value)


def test_valid_action_entity_and_concrete_store_are_accepted() -> None:
    PartialEntities.from_entities([PartialEntity(READ, {}, {uid('Action::"all"')}, {})], SCHEMA)
    store = Entities.from_json([USER], schema=SCHEMA)
    assert uid('User::"alice"') in PartialEntities.from_concrete(store, SCHEMA)


def test_ancestors_are_closed_transitively() -> None:
    entities = PartialEntities.from_json(
        [
            {**USER, "parents": [{"type": "Team", "id": "t1"}]},
            {"uid": {"type": "Team", "id": "t1"}, "parents": [{"type": "Team", "id": "t2"}]},
            {"uid": {"type": "Team", "id": "t2"}, "parents": []},
        ],
        SCHEMA,
    )
    assert entities.ancestors(uid('User::"alice"')) == frozenset({uid('Team::"t1"'), uid('Team::"t2"')})
    assert entities.attrs(uid('Team::"t1"')) is None  # attributes not given: unknown
    assert entities.tags(uid('User::"alice"')) == Record()  # given as {}: known, none


# -- policies --------------------------------------------------------------------------------

POLICIES: list[tuple[str, str]] = [
    ("permit (principal, action, resource) when { resource.missing };", "UnsafeAttributeAccess"),
    ("permit (principal, action, resource) when { principal.age > 1 };", "UnsafeOptionalAttributeAccess"),
    ("permit (principal, action, resource) when { 1 };", "UnexpectedType"),
    ('permit (principal == Ghost::"g", action, resource);', "UnrecognizedEntityType"),
    ('permit (principal, action == Action::"fly", resource);', "UnrecognizedActionId"),
    ('permit (principal, action, resource) when { Color::"blue" == Color::"red" };', "InvalidEnumEntity"),
]


@pytest.mark.parametrize(("text", "kind"), POLICIES)
def test_invalid_policies(text: str, kind: str) -> None:
    with pytest.raises(TpePolicyValidationError) as info:
        tpe(PolicySet.from_str(text), partial_request(), PartialEntities.from_json([], SCHEMA), SCHEMA)
    assert info.value.kind == "Validation"
    assert [d.kind for d in info.value.diagnostics] == [kind]
    assert info.value.message.startswith("policy failed to validate against the schema: ")
    assert "^" in info.value.render()


# -- reauthorization -------------------------------------------------------------------------

ALICE_DOC: list[dict[str, Any]] = [
    {
        "uid": {"type": "User", "id": "alice"},
        "attrs": {"name": "A"},
        "parents": [{"type": "Team", "id": "t"}],
        "tags": {},
    },
    {"uid": {"type": "Team", "id": "t"}, "attrs": {}, "parents": []},
    {
        "uid": {"type": "Doc", "id": "d"},
        "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}, "public": False},
        "parents": [],
    },
]


def response(context: dict[str, Any] | None = None) -> TpeResponse:
    policies = PolicySet.from_str(
        "permit (principal, action, resource) when { resource.owner == principal };"
    )
    request = partial_request(context=context)
    known = [dict(e) for e in ALICE_DOC if e["uid"]["type"] != "Doc"]
    return tpe(policies, request, PartialEntities.from_json(json.dumps(known), SCHEMA), SCHEMA)


def concrete(entities: list[dict[str, Any]] = ALICE_DOC, **request: Any) -> tuple[Request, Entities]:
    parts: dict[str, Any] = {
        "principal": 'User::"alice"',
        "action": 'Action::"read"',
        "resource": 'Doc::"d"',
        "context": {"mfa": True},
    }
    parts.update(request)
    req = Request(parts["principal"], parts["action"], parts["resource"], parts["context"])
    return req, Entities.from_json(json.dumps(entities), schema=SCHEMA)


def test_concrete_request_only_when_everything_is_known() -> None:
    assert partial_request().concrete() is None
    full = partial_request(resource='Doc::"d"', context={"mfa": True}).concrete()
    assert full is not None
    assert (full.principal, full.resource, dict(full.context)) == (
        uid('User::"alice"'),
        uid('Doc::"d"'),
        {"mfa": True},
    )


def test_reauthorize_consistent_inputs() -> None:
    r = response()
    assert r.decision is None
    assert r.reauthorize(*concrete()).allowed


def _with(index: int, **changes: Any) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = json.loads(json.dumps(ALICE_DOC))
    entities[index].update(changes)
    return entities


REAUTH: list[tuple[str, Callable[[], tuple[Request, Entities]], str]] = [
    ("RequestValidation", lambda: concrete(context={"mfa": 1}), "mfa"),
    ("InconsistentPrincipalType", lambda: concrete(principal='Team::"alice"'), "principal type"),
    ("InconsistentPrincipalEid", lambda: concrete(principal='User::"bob"'), "principal id `alice`"),
    ("InconsistentResourceType", lambda: concrete(resource='Color::"red"'), "resource type"),
    ("InconsistentAction", lambda: concrete(action='Action::"write"'), "action"),
    ("MissingEntity", lambda: concrete(entities=ALICE_DOC[:1] + ALICE_DOC[2:]), 'Team::"t"'),
    ("MismatchedAttribute", lambda: concrete(entities=_with(0, attrs={"name": "B"})), 'User::"alice"'),
    (
        "UnknownAttribute",
        lambda: concrete(entities=_with(0, attrs={"name": "A", "age": 3})),
        "attribute `age`",
    ),
    ("MismatchedAncestor", lambda: concrete(entities=_with(0, parents=[])), "ancestors"),
    ("UnknownTag", lambda: concrete(entities=_with(0, tags={"x": "y"})), "tag `x`"),
]


@pytest.mark.parametrize(("kind", "make", "needle"), REAUTH)
def test_reauthorize_rejects_inconsistent_inputs(
    kind: str, make: Callable[[], tuple[Request, Entities]], needle: str
) -> None:
    req, entities = make()
    with pytest.raises(ReauthorizationError) as info:
        response().reauthorize(req, entities)
    assert info.value.kind == kind
    assert needle in str(info.value)


def test_reauthorize_context_must_match_a_known_context() -> None:
    with pytest.raises(ReauthorizationError) as info:
        response(context={"mfa": False}).reauthorize(*concrete())
    assert info.value.kind == "InconsistentContext"


def test_reauthorize_rejects_entities_not_conforming() -> None:
    bad = Entities([Entity(uid('User::"alice"'), {"name": 1})])
    req, _ = concrete()
    with pytest.raises(ReauthorizationError) as info:
        response().reauthorize(req, bad)
    assert info.value.kind == "EntityValidation"


def test_every_tpe_error_is_a_cedar_error() -> None:
    for cls in (TpeRequestError, TpeEntitiesError, TpePolicyValidationError, ReauthorizationError):
        assert issubclass(cls, TpeError) and issubclass(cls, CedarError)


def test_cli_invalid_entities_no_traceback(tmp_path: Path) -> None:
    schema = tmp_path / "s.cedarschema"
    schema.write_text(
        "entity User; entity Doc = { public: Bool }; action view appliesTo { principal: User, resource: Doc };"
    )
    entities = tmp_path / "e.json"
    entities.write_text(json.dumps([{"uid": {"type": "Doc", "id": "d"}, "attrs": {"public": "no"}}]))
    policies = tmp_path / "p.cedar"
    policies.write_text("permit (principal, action, resource) when { resource.public };")
    result = CliRunner().invoke(
        main,
        [
            *("tpe", "--principal-type", "User", "-a", 'Action::"view"', "--resource-type", "Doc"),
            *("-p", str(policies), "--entities", str(entities), "-s", str(schema)),
        ],
    )
    assert result.exit_code == 1
    assert "public" in result.output
    assert "Traceback" not in result.output
