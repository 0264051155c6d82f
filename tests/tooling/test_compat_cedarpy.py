"""`cedarlang.compat.cedarpy` against the real cedarpy, side by side (cedarpy README usage)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import cedarpy as real_cedarpy
import pytest

import cedarlang
import cedarlang.compat.cedarpy as compat_cedarpy

MODULES = [pytest.param(real_cedarpy, id="cedarpy"), pytest.param(compat_cedarpy, id="compat")]

POLICIES = """
@id("owner-views")
permit(principal, action == Action::"view", resource) when { resource.owner == principal };
permit(principal, action == Action::"edit", resource) when { principal.level > 3 };
forbid(principal == User::"eve", action, resource);
"""
ENTITIES: list[dict[str, Any]] = [
    {"uid": {"__entity": {"type": "User", "id": "alice"}}, "attrs": {"level": 5}, "parents": []},
    {"uid": {"type": "User", "id": "bob"}, "attrs": {}, "parents": []},
    {
        "uid": {"type": "Photo", "id": "1234-abcd"},
        "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}},
        "parents": [],
    },
]
SCHEMA = """
entity User { level?: Long };
entity Photo { owner: User };
action view, edit appliesTo { principal: User, resource: Photo };
"""


def request(principal: str = "alice", action: str = "view", **extra: Any) -> dict[str, Any]:
    return {
        "principal": f'User::"{principal}"',
        "action": f'Action::"{action}"',
        "resource": 'Photo::"1234-abcd"',
        "context": {},
        **extra,
    }


def summary(result: Any) -> tuple[Any, ...]:
    return (
        result.decision.value,
        sorted(result.diagnostics.reasons),
        result.diagnostics.id_annotations_by_reason,
        len(result.diagnostics.errors),
        result.correlation_id,
        result.allowed,
        result["allowed"],
    )


def both(fn: Any) -> tuple[Any, Any]:
    return fn(real_cedarpy), fn(compat_cedarpy)


def test_basic_is_authorized() -> None:
    for req in (request(), request("bob"), request("eve"), request("alice", "edit"), request("bob", "edit")):
        want, got = both(lambda m, req=req: summary(m.is_authorized(req, POLICIES, ENTITIES)))
        assert got == want
    result = compat_cedarpy.is_authorized(request(), POLICIES, ENTITIES)
    assert compat_cedarpy.Decision.Allow == result.decision
    assert result.allowed and result["allowed"]
    assert isinstance(result.diagnostics, compat_cedarpy.Diagnostics)
    assert set(result.metrics) == set(real_cedarpy.is_authorized(request(), POLICIES, ENTITIES).metrics)


def test_error_messages_have_rust_shape() -> None:
    want, got = both(lambda m: m.is_authorized(request("bob", "edit"), POLICIES, ENTITIES).diagnostics.errors)
    assert got == want


def test_entities_as_json_string_and_dict_uids() -> None:
    req = {
        "principal": {"type": "User", "id": "alice"},
        "action": 'Action::"view"',
        "resource": {"type": "Photo", "id": "1234-abcd"},
    }
    want, got = both(lambda m: summary(m.is_authorized(req, POLICIES, json.dumps(ENTITIES))))
    assert got == want


def test_batch_keeps_order_and_correlation_ids() -> None:
    requests = [
        request(p, a, correlation_id=f"authz::{p}-{a}") for p in ("alice", "bob") for a in ("view", "edit")
    ]

    def run(m: Any) -> list[Any]:
        results = m.is_authorized_batch(
            requests=requests, policies=POLICIES, entities=ENTITIES, schema=SCHEMA
        )
        for req, result in zip(requests, results, strict=True):
            assert req.get("correlation_id") == result.correlation_id
        return [summary(r) for r in results]

    want, got = both(run)
    assert got == want


def test_no_decision_on_bad_input() -> None:
    for args in (
        (request(), "permit(", ENTITIES),
        ({**request(), "principal": "not a uid"}, POLICIES, ENTITIES),
        (request(), POLICIES, "[bad"),
        ({**request(), "principal": 'Nope::"x"'}, POLICIES, ENTITIES, SCHEMA),
    ):
        want, got = both(lambda m, args=args: m.is_authorized(*args))
        assert got.decision == compat_cedarpy.Decision.NoDecision
        assert want.decision.value == got.decision.value
        assert len(got.diagnostics.errors) == 1


@pytest.mark.parametrize("m", MODULES)
def test_policy_set_handle_reuse(m: Any) -> None:
    policy_set = m.PolicySet.from_str(POLICIES)
    assert len(policy_set) == 3
    assert m.is_authorized(request(), policy_set, ENTITIES).allowed
    assert [r.allowed for r in m.is_authorized_batch([request(), request("eve")], policy_set, ENTITIES)] == [
        True,
        False,
    ]
    with pytest.raises(ValueError):
        m.PolicySet.from_str("permit(")
    from_json = m.PolicySet.from_json_str(m.policies_to_json_str(POLICIES))
    assert len(from_json) == 3 and m.is_authorized(request(), from_json, ENTITIES).allowed


def test_policy_set_str_and_repr() -> None:
    want, got = both(lambda m: (str(m.PolicySet.from_str(POLICIES)), repr(m.PolicySet.from_str(POLICIES))))
    assert got == want


def test_with_added_str_renumbers_like_concatenation() -> None:
    def run(m: Any) -> Any:
        base = m.PolicySet.from_str(POLICIES)
        added = base.with_added_str('@id("extra") permit(principal == User::"bob", action, resource);')
        result = m.is_authorized(request("bob"), added, ENTITIES)
        return len(base), len(added), summary(result)

    want, got = both(run)
    assert got == want


def test_entities_handle() -> None:
    def run(m: Any) -> Any:
        base = m.Entities.from_json_str(json.dumps(ENTITIES[:2]))
        delta = json.dumps(ENTITIES[2:])
        for_request = base.with_added_json_str(delta)
        with pytest.raises(ValueError):
            base.with_added_json_str(
                json.dumps([{"uid": {"type": "User", "id": "bob"}, "attrs": {"x": 1}, "parents": []}])
            )
        with pytest.raises(TypeError):
            m.Entities(None)
        return (
            len(base),
            len(for_request),
            summary(m.is_authorized(request(), POLICIES, for_request)),
            repr(for_request),
            # entity order in the JSON is arbitrary in Rust (a hash map): compare sorted
            sorted(json.loads(str(base)), key=lambda e: json.dumps(e["uid"], sort_keys=True)),
        )

    want, got = both(run)
    assert got == want


TEMPLATES = """
    @id("photo-access")
    permit (
      principal == ?principal,
      action == Action::"view",
      resource == ?resource
    )
    when { principal.subscriptionActive };

    @id("photo-edit")
    permit (
      principal == ?principal,
      action == Action::"edit",
      resource == ?resource
    )
    when
    { principal.subscriptionActive && (!principal.freePlan || principal.inTrial) };
"""


def _templates(handle: Any) -> list[Any]:
    return sorted(
        (
            t["id"],
            t["id_annotation"],
            sorted(t["slots"]),
            sorted((link["id"], sorted(link["values"].items())) for link in t["links"]),
        )
        for t in handle.templates()
    )


def test_linking_templates_readme_example() -> None:
    def run(m: Any) -> Any:
        base = m.PolicySet.from_str(TEMPLATES)
        linked = base.with_linked(
            template_id="photo-access",
            new_id="alice-vacation",
            values={"?principal": 'User::"alice"', "?resource": 'Photo::"vacation.jpg"'},
        )
        entities = [
            {"uid": {"type": "User", "id": "alice"}, "attrs": {"subscriptionActive": True}, "parents": []}
        ]
        req = {"principal": 'User::"alice"', "action": 'Action::"view"', "resource": 'Photo::"vacation.jpg"'}
        result = m.is_authorized(req, linked, entities)
        assert result.decision == m.Decision.Allow
        batch = base.with_linked_batch(
            [
                {
                    "template_id": "photo-access",
                    "new_id": "alice-vacation",
                    "values": {"?principal": 'User::"alice"', "?resource": 'Photo::"vacation.jpg"'},
                },
                {
                    "template_id": "photo-access",
                    "new_id": "bob-skyline",
                    "values": {"?principal": 'User::"bob"', "?resource": 'Photo::"skyline.jpg"'},
                },
                {
                    "template_id": "photo-edit",
                    "new_id": "alice-edit-vacation",
                    "values": {
                        "?principal": {"type": "User", "id": "alice"},
                        "?resource": {"type": "Photo", "id": "vacation.jpg"},
                    },
                },
            ]
        )
        revoked = batch.without_linked("bob-skyline")
        errors: list[str] = []
        bad: Callable[[], object]
        for bad in (
            lambda: base.with_linked("nope", "x", {}),
            lambda: batch.with_linked(
                "photo-access", "bob-skyline", {"?principal": 'User::"a"', "?resource": 'P::"b"'}
            ),
            lambda: base.with_linked("photo-access", "z", {"?principal": 'User::"a"'}),
        ):
            with pytest.raises(ValueError):
                bad()
        with pytest.raises(KeyError):
            base.with_linked_batch([{"template_id": "photo-access"}])
        return (
            summary(result),
            result.diagnostics.reasons,
            _templates(batch),
            _templates(revoked),
            len(base),
            len(batch),
            len(revoked),
            str(batch),
            errors,
        )

    want, got = both(run)
    assert got == want


@pytest.mark.skipif(not hasattr(cedarlang, "Validator"), reason="no cedarlang.Validator")
def test_validate_policies() -> None:
    policies = POLICIES + 'permit(principal, action == Action::"delete", resource);\n'

    def run(m: Any) -> Any:
        ok = m.validate_policies(POLICIES, SCHEMA)
        bad = m.validate_policies(policies, SCHEMA)
        parse = m.validate_policies("permit(", SCHEMA)
        schema_bad = m.validate_policies(POLICIES, "entity")
        return (
            ok.validation_passed,
            bool(ok),
            repr(ok),
            bad.validation_passed,
            bool(bad),
            sorted({e.policy_id for e in bad.errors}),
            bad.id_annotations_by_policy_id,
            parse.validation_passed,
            [e.policy_id for e in parse.errors],
            schema_bad.validation_passed,
        )

    want, got = both(run)
    assert got == want
    result = compat_cedarpy.validate_policies(
        policies, json.loads(json.dumps(compat_cedarpy.Schema.from_str(SCHEMA).schema.to_json()))
    )
    assert not result and all(isinstance(e, compat_cedarpy.ValidationError) for e in result.errors)
    first = result.errors[0]
    assert str(first).startswith(f"[{first.policy_id}] for policy `{first.policy_id}`")


def test_schema_handle() -> None:
    def run(m: Any) -> Any:
        schema = m.Schema.from_str(SCHEMA)
        results = [
            summary(m.is_authorized(request(p), POLICIES, ENTITIES, schema=schema)) for p in ("alice", "bob")
        ]
        with pytest.raises(ValueError):
            m.Schema.from_str("entity")
        return results, repr(schema)

    want, got = both(run)
    assert got == want


def test_format_policies_readme_example() -> None:
    policies = """
    permit(
        principal,
        action == Action::"edit",
        resource
    )
    when {
        resource.owner == principal
    };
"""
    want, got = both(lambda m: m.format_policies(policies))
    assert (
        got
        == want
        == (
            'permit (\n  principal,\n  action == Action::"edit",\n  resource\n)\nwhen { resource.owner == principal };\n'
        )
    )
    with pytest.raises(ValueError):
        compat_cedarpy.format_policies("permit(")


def test_json_translation_functions() -> None:
    want, got = both(lambda m: json.loads(m.policies_to_json_str(POLICIES + TEMPLATES)))
    assert got == want
    text = json.dumps(want)
    assert compat_cedarpy.policies_from_json_str(text) == real_cedarpy.policies_from_json_str(text)
    for bad in ("permit(",):
        with pytest.raises(ValueError):
            compat_cedarpy.policies_to_json_str(bad)
    with pytest.raises(ValueError):
        compat_cedarpy.policies_from_json_str("{")


def test_public_names_exist() -> None:
    for name in (
        "is_authorized",
        "is_authorized_batch",
        "validate_policies",
        "format_policies",
        "policies_to_json_str",
        "policies_from_json_str",
        "PolicySet",
        "Entities",
        "Schema",
        "Decision",
        "AuthzResult",
        "Diagnostics",
        "ValidationResult",
        "ValidationError",
        "is_authorized_partial",
        "PartialAuthzResult",
        "PartialDiagnostics",
    ):
        assert hasattr(compat_cedarpy, name), name
    assert [d.value for d in compat_cedarpy.Decision] == [d.value for d in real_cedarpy.Decision]
    # (is_authorized_partial is compared with cedarpy's in tests/partial)
