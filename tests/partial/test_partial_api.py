"""The partial-evaluation API: requests, residuals, typed unknowns, reauthorize, bad input,
unknown entity attributes on the ordinary authorization path, deep input and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cedarlang import (
    Authorizer,
    CedarError,
    Decision,
    Entities,
    EntitiesError,
    EntityUid,
    EvaluationError,
    Policy,
    PolicySet,
    Request,
    RequestError,
    Schema,
    ast,
)
from cedarlang.cli import main
from cedarlang.partial import (
    PartialRequest,
    TypedUnknown,
    partial_evaluate,
    partially_authorize,
    unknown,
    unknown_name,
    unknown_type,
    value_to_expr,
)
from cedarlang.values import CedarSet, Record

ALICE = EntityUid("User", "alice")
ENTITIES = Entities.from_json(
    [
        {
            "uid": {"type": "User", "id": "alice"},
            "attrs": {"level": 5},
            "parents": [{"type": "Team", "id": "t"}],
        },
        {
            "uid": {"type": "Photo", "id": "p"},
            "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}},
            "parents": [],
        },
    ]
)
SCHEMA = Schema.from_str(
    "entity Team; entity User in [Team] { level: Long }; entity Photo { owner: User };\n"
    "action view appliesTo { principal: User, resource: Photo, context: { mfa: Bool } };"
)


def policy(text: str) -> Policy:
    return Policy.from_str(text)


# -- unknowns --------------------------------------------------------------------------


def test_unknowns_are_extension_calls_named_by_a_string() -> None:
    u = unknown("principal")
    assert isinstance(u, ast.ExtCall) and u.name == "unknown" and unknown_name(u) == "principal"
    typed = unknown("principal", "User")
    assert isinstance(typed, TypedUnknown) and isinstance(typed, ast.ExtCall)
    assert unknown_name(typed) == "principal" and unknown_type(typed) == "User" and unknown_type(u) is None
    assert typed != u and unknown("principal") == u
    assert unknown_name(ast.ExtCall("decimal", (ast.Lit("1.0"),))) is None
    assert unknown_name(ast.Lit("principal")) is None


def test_values_become_expressions_as_rust_converts_them() -> None:
    value = CedarSet(["b", 2, True, EntityUid("A::B", "x"), EntityUid("C", "y"), Record({"z": 1, "a": 2})])
    expr = value_to_expr(value)
    assert isinstance(expr, ast.SetLit)
    # Rust's value order: bool < long < string < entity (basename, then path) < record
    assert [e.value if isinstance(e, ast.Lit) else "record" for e in expr.items] == [
        True,
        2,
        "b",
        EntityUid("A::B", "x"),
        EntityUid("C", "y"),
        "record",
    ]
    record = expr.items[-1]
    assert isinstance(record, ast.RecordLit) and [k for k, _ in record.fields] == ["a", "z"]


# -- one policy ------------------------------------------------------------------------


def test_partial_evaluate_gives_a_value_a_residual_or_an_error() -> None:
    request = PartialRequest(None, 'Action::"view"', 'Photo::"p"', {})
    assert partial_evaluate(policy("permit(principal, action, resource);"), request, ENTITIES) is True
    assert (
        partial_evaluate(policy('permit(principal, action == Action::"edit", resource);'), request, ENTITIES)
        is False
    )
    residual = partial_evaluate(
        policy("permit(principal, action, resource) when { principal.level > 3 };"), request, ENTITIES
    )
    assert not isinstance(residual, bool)
    names = {unknown_name(node) for node in ast.walk(residual)} - {None}
    assert names == {"principal"}
    with pytest.raises(EvaluationError, match="does not have the attribute"):
        partial_evaluate(
            policy("permit(principal, action, resource) when { resource.nope };"), request, ENTITIES
        )


def test_residual_policies_print_and_serialise_like_rust() -> None:
    pset = PolicySet.from_str('@id("x")\npermit(principal, action, resource) when { principal.level > 3 };')
    response = partially_authorize(PartialRequest(None, 'Action::"view"', 'Photo::"p"', {}), pset, ENTITIES)
    residual = response.residuals["policy0"]
    assert str(residual) == (
        '@id("x")\npermit(principal, action, resource) when { true && (true && (true && '
        '(!(((unknown("principal")).level) <= 3)))) };'
    )
    body = residual.to_json()["conditions"][0]["body"]
    assert body["&&"]["right"]["&&"]["right"]["&&"]["right"] == {
        "!": {
            "arg": {
                "<=": {
                    "left": {".": {"left": {"unknown": [{"Value": "principal"}]}, "attr": "level"}},
                    "right": {"Value": 3},
                }
            }
        }
    }
    assert residual.to_json()["annotations"] == {"id": "x"}


# -- the response ------------------------------------------------------------------------

POLICIES = """
permit(principal, action == Action::"view", resource) when { resource.owner == principal };
forbid(principal, action, resource) when { context.blocked };
permit(principal == User::"bob", action, resource);
"""


def test_partial_response_sorts_policies_and_decides_like_rust() -> None:
    pset = PolicySet.from_str(POLICIES)
    response = partially_authorize(PartialRequest(None, 'Action::"view"', 'Photo::"p"', None), pset, ENTITIES)
    assert response.decision is None
    assert sorted(response.nontrivial_residuals) == ["policy0", "policy1", "policy2"]
    assert response.must_be_determining == [] and sorted(response.may_be_determining) == [
        "policy0",
        "policy1",
        "policy2",
    ]
    known = partially_authorize(
        PartialRequest('User::"alice"', 'Action::"view"', 'Photo::"p"', {"blocked": False}), pset, ENTITIES
    )
    assert known.decision is Decision.ALLOW and known.satisfied == ["policy0"]
    assert sorted(known.false_policies) == ["policy1", "policy2"] and known.must_be_determining == ["policy0"]
    assert str(known.residuals["policy1"]) == "forbid(principal, action, resource) when { false };"
    blocked = partially_authorize(PartialRequest(None, None, None, {"blocked": True}), pset, ENTITIES)
    assert blocked.decision is Decision.DENY and blocked.must_be_determining == ["policy1"]
    assert (
        Authorizer()
        .is_authorized_partial(PartialRequest(None, None, None, {"blocked": True}), pset, ENTITIES)
        .decision
        is Decision.DENY
    )


def test_missing_entities_are_unknown_in_a_partial_store_only() -> None:
    pset = PolicySet.from_str('permit(principal, action, resource) when { User::"zed".level > 1 };')
    request = PartialRequest(ALICE, 'Action::"view"', 'Photo::"p"', {})
    response = partially_authorize(request, pset, ENTITIES)
    assert response.decision is None and response.unknown_entities == {EntityUid("User", "zed")}
    concrete = partially_authorize(request, pset, ENTITIES, partial_entities=False)
    assert concrete.decision is Decision.DENY and concrete.errored[0].kind == "EntityDoesNotExist"


def test_typed_unknowns_short_circuit_is_and_equality() -> None:
    request = PartialRequest(None, 'Action::"view"', 'Photo::"p"', {}, principal_type="User")
    assert partial_evaluate(policy("permit(principal is User, action, resource);"), request, ENTITIES) is True
    assert (
        partial_evaluate(policy("permit(principal is Team, action, resource);"), request, ENTITIES) is False
    )
    assert (
        partial_evaluate(policy('permit(principal == Team::"t", action, resource);'), request, ENTITIES)
        is False
    )
    residual = partial_evaluate(
        policy('permit(principal == User::"x", action, resource);'), request, ENTITIES
    )
    assert not isinstance(residual, bool)
    assert any(unknown_type(node) == "User" for node in ast.walk(residual))


def test_reauthorize_binds_unknowns_by_name() -> None:
    pset = PolicySet.from_str(POLICIES)
    response = partially_authorize(PartialRequest(None, 'Action::"view"', 'Photo::"p"', None), pset, ENTITIES)
    allowed = response.reauthorize({"principal": 'User::"alice"', "context": {"blocked": False}})
    assert allowed.decision is Decision.ALLOW and allowed.nontrivial_residuals == []
    denied = response.reauthorize({"principal": ALICE, "context": Record({"blocked": True})})
    assert denied.decision is Decision.DENY
    partly = response.reauthorize({"principal": {"type": "User", "id": "bob"}})
    assert partly.decision is None and partly.nontrivial_residuals == ["policy1"]
    with pytest.raises(RequestError, match="already has"):
        allowed.reauthorize({"principal": 'User::"bob"'})
    with pytest.raises(RequestError, match="expected a record"):
        response.reauthorize({"context": 1})
    typed = partially_authorize(PartialRequest(None, None, None, {}, principal_type="User"), pset, ENTITIES)
    with pytest.raises(RequestError, match="type `User`"):
        typed.reauthorize({"principal": 'Team::"t"'})


def test_unknown_entity_attributes() -> None:
    data = [
        {
            "uid": {"type": "User", "id": "u"},
            "attrs": {
                "level": {"__extn": {"fn": "unknown", "arg": "lvl"}},
                "tags": [1, {"__extn": {"fn": "unknown", "arg": "t"}}],
            },
            "parents": [],
        }
    ]
    store = Entities.from_json(data)
    pset = PolicySet.from_str("permit(principal, action, resource) when { principal.level > 3 };")
    response = partially_authorize(
        PartialRequest('User::"u"', 'Action::"view"', 'Photo::"p"', {}), pset, store
    )
    assert response.decision is None
    assert response.reauthorize({"lvl": 4}).decision is Decision.ALLOW
    assert response.reauthorize({"lvl": 2}).decision is Decision.DENY
    # the ordinary authorizer: a policy that meets an unknown errors (as Rust), `has` is fine
    request = Request('User::"u"', 'Action::"view"', 'Photo::"p"')
    for interpret in (False, True):
        answer = Authorizer(interpret=interpret).is_authorized(request, pset, store)
        assert answer.decision is Decision.DENY and [e.kind for e in answer.errors] == ["NonValue"]
        has = PolicySet.from_str("permit(principal, action, resource) when { principal has level };")
        assert Authorizer(interpret=interpret).is_authorized(request, has, store).allowed
    # with a schema, unknowns are accepted wherever a value of any type may be
    schema = Schema.from_str(
        "entity User { level: Long, tags: Set<Long> }; action view appliesTo { principal: User, resource: User };"
    )
    assert EntityUid("User", "u") in Entities.from_json(data, schema=schema)  # (and the action)


# -- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"principal": 'User::"a" extra'}, "invalid principal"),
        ({"principal": 'User::"a"', "principal_type": "User"}, "cannot also be given a type"),
        ({"context": "[1]"}, "context must be a record"),
        ({"context": {"a": {"__extn": {"fn": "unknown", "arg": 1}}}}, "string"),
        ({"principal": 'Nope::"a"', "schema": SCHEMA}, "principal type `Nope` is not declared"),
        ({"action": 'Action::"edit"', "schema": SCHEMA}, "not declared in the schema"),
        (
            {"action": 'Action::"view"', "resource": 'User::"a"', "schema": SCHEMA},
            "resource type `User` is not valid",
        ),
        ({"action": 'Action::"view"', "context": {"mfa": 1}, "schema": SCHEMA}, "expected bool"),
        ({"action": 'Action::"view"', "context": {}, "schema": SCHEMA}, "is not valid for"),
        (
            {
                "action": 'Action::"view"',
                "context": {"mfa": {"__extn": {"fn": "unknown", "arg": "m"}}},
                "schema": SCHEMA,
            },
            "with unknowns does not typecheck",
        ),
    ],
)
def test_bad_partial_requests_raise_request_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CedarError, match=message):
        PartialRequest(**kwargs)  # type: ignore[arg-type]


def test_valid_partial_requests_with_a_schema() -> None:
    PartialRequest(None, 'Action::"view"', None, {"mfa": True}, SCHEMA)
    PartialRequest('User::"a"', None, 'Photo::"p"', None, SCHEMA)
    # without an action the context is not checked (Rust)
    PartialRequest(None, None, None, {"anything": 1}, SCHEMA)


def test_unknowns_are_rejected_where_cedar_has_no_room_for_them() -> None:
    with pytest.raises(RequestError):
        Request('User::"a"', 'Action::"view"', 'Photo::"p"', {"x": {"__extn": {"fn": "unknown", "arg": "x"}}})
    with pytest.raises(EntitiesError, match="argument"):
        Entities.from_json(
            [
                {
                    "uid": {"type": "User", "id": "u"},
                    "attrs": {
                        "d": {"__extn": {"fn": "decimal", "arg": {"__extn": {"fn": "unknown", "arg": "x"}}}}
                    },
                    "parents": [],
                }
            ]
        )


# -- deep input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        " && ".join(["principal.a"] * 20_000),
        "principal" + ".a" * 20_000 + " == 1",
        "principal.n" + " + 1" * 20_000 + " == 1",
        "if principal.a then " * 1000 + "true" + " else false" * 1000,
    ],
    ids=["&& chain", "attribute chain", "+ chain", "nested if"],
)
def test_deep_policies_partially_evaluate_without_crashing(body: str) -> None:
    pset = PolicySet.from_str(f"permit(principal, action, resource) when {{ {body} }};")
    response = partially_authorize(PartialRequest(None, 'Action::"view"', 'Photo::"p"', {}), pset, ENTITIES)
    assert response.decision is None
    residual = response.residuals["policy0"]
    assert residual.to_json()["effect"] == "permit" and str(residual).startswith("permit(")


# -- the CLI ---------------------------------------------------------------------------


def test_cli_partially_authorize(tmp_path: Path) -> None:
    (tmp_path / "p.cedar").write_text(POLICIES)
    (tmp_path / "e.json").write_text(json.dumps(ENTITIES.to_json()))
    (tmp_path / "c.json").write_text('{"blocked": false}')
    base = ["partially-authorize", "-p", str(tmp_path / "p.cedar"), "--entities", str(tmp_path / "e.json")]
    runner = CliRunner()
    unknown_run = runner.invoke(main, [*base, "-a", 'Action::"view"', "-r", 'Photo::"p"'])
    assert unknown_run.exit_code == 4, unknown_run.output
    lines = unknown_run.output.splitlines()
    assert lines[:3] == ["", "UNKNOWN", "All policy residuals:"] and len(lines) == 6
    allow = runner.invoke(
        main,
        [
            *base,
            "-l",
            'User::"alice"',
            "-a",
            'Action::"view"',
            "-r",
            'Photo::"p"',
            "-c",
            str(tmp_path / "c.json"),
        ],
    )
    assert (allow.exit_code, allow.output) == (0, "\nALLOW\n")
    deny = runner.invoke(main, [*base, "-l", 'User::"bob"', "-a", 'Action::"view"', "-r", 'Photo::"p"', "-t"])
    assert deny.exit_code == 4 and "Authorization Time (micro seconds) : " in deny.output
    bad = runner.invoke(main, [*base, "-l", "User::bob"])
    assert bad.exit_code == 1 and "invalid principal" in bad.output


def test_entities_with_unknown_attributes_round_trip_and_compare() -> None:
    attrs: dict[str, Any] = {
        "level": {"__extn": {"fn": "unknown", "arg": "lvl"}},
        "tags": [1, {"__extn": {"fn": "unknown", "arg": "t"}}],
        "r": {
            "a": {"__extn": {"fn": "decimal", "arg": "1.5"}},
            "b": {"__extn": {"fn": "unknown", "arg": "x"}},
        },
        "k": 3,
    }
    data: list[dict[str, Any]] = [{"uid": {"type": "User", "id": "u"}, "attrs": attrs, "parents": []}]
    store = Entities.from_json(data + data)  # the same entity twice is no duplicate
    assert store.to_json() == data
    assert Entities.from_json(store.to_json()).to_json() == data
    other = [{**data[0], "attrs": {**attrs, "level": {"__extn": {"fn": "unknown", "arg": "other"}}}}]
    with pytest.raises(EntitiesError, match="duplicate"):
        Entities.from_json(data + other)


def test_record_literals_are_evaluated_in_key_order_as_in_rust() -> None:
    # Rust keeps record literals in a BTreeMap: `a` is evaluated (and fails) before `b`
    request = PartialRequest(ALICE, 'Action::"view"', 'Photo::"p"', {})
    with pytest.raises(EvaluationError, match="attribute `nope`"):
        partial_evaluate(
            policy("permit(principal, action, resource) when { {b: principal.x, a: context.nope} };"),
            request,
            ENTITIES,
        )


def test_unknown_entity_tags() -> None:
    data = [
        {
            "uid": {"type": "User", "id": "u"},
            "attrs": {},
            "parents": [],
            "tags": {"t": {"__extn": {"fn": "unknown", "arg": "tx"}}, "s": 1},
        }
    ]
    store = Entities.from_json(data)
    assert store.to_json() == data
    pset = PolicySet.from_str('permit(principal, action, resource) when { principal.getTag("t") == 1 };')
    response = partially_authorize(
        PartialRequest('User::"u"', 'Action::"view"', 'Photo::"p"', {}), pset, store
    )
    assert response.decision is None
    assert str(response.residuals["policy0"]).endswith(
        'when { true && (true && (true && ((unknown("tx")) == 1))) };'
    )
    answer = Authorizer().is_authorized(Request('User::"u"', 'Action::"view"', 'Photo::"p"'), pset, store)
    assert [e.kind for e in answer.errors] == ["NonValue"]
    schema = Schema.from_str(
        "entity User tags Long; action view appliesTo { principal: User, resource: User };"
    )
    assert EntityUid("User", "u") in Entities.from_json(data, schema=schema)


def test_in_reports_the_first_non_entity_in_rusts_set_order() -> None:
    request = PartialRequest(ALICE, 'Action::"view"', 'Photo::"p"', {})
    for _ in range(20):  # (a set's iteration order varies with the hash seed)
        with pytest.raises(EvaluationError, match="got long"):
            partial_evaluate(
                policy('permit(principal, action, resource) when { principal in [duration("1h"), 3] };'),
                request,
                ENTITIES,
            )
