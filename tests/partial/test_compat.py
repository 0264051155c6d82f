"""``cedarlang.compat.cedarpy.is_authorized_partial`` next to cedarpy's: the result classes'
surface, handles, schemas, correlation ids and rejected input."""

from __future__ import annotations

import json
from typing import Any

import cedarpy as real
import pytest

import cedarlang.compat.cedarpy as compat

POLICIES = """
@id("owner")
permit(principal, action == Action::"view", resource) when { resource.owner == principal };
forbid(principal, action, resource) when { context.blocked };
permit(principal == User::"bob", action, resource);
"""
ENTITIES: list[dict[str, Any]] = [
    {"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": []},
    {
        "uid": {"type": "Photo", "id": "p"},
        "attrs": {"owner": {"__entity": {"type": "User", "id": "alice"}}},
        "parents": [],
    },
]
SCHEMA = """entity User; entity Photo { owner: User };
action view appliesTo { principal: User, resource: Photo, context: { blocked: Bool } };"""

REQUESTS: list[dict[str, Any]] = [
    {"action": 'Action::"view"', "resource": 'Photo::"p"', "correlation_id": "c1"},
    {
        "principal": 'User::"alice"',
        "action": 'Action::"view"',
        "resource": 'Photo::"p"',
        "context": {"blocked": False},
    },
    {"principal": None, "action": 'Action::"view"', "resource": 'Photo::"p"', "context": {"blocked": True}},
    {"principal": 'User::"bob"', "context": None},
    {"principal": "User::bob"},  # not a uid
    {"action": 'Action::"edit"'},  # not in the schema
]


def _normalised(result: Any) -> dict[str, Any]:
    resp = dict(result._authz_resp)
    resp.pop("metrics", None)
    diagnostics = dict(resp.get("diagnostics", {}))
    for key, value in diagnostics.items():
        if isinstance(value, list):
            diagnostics[key] = sorted(value)
    resp["diagnostics"] = diagnostics
    return resp


@pytest.mark.parametrize("schema", [None, SCHEMA], ids=["no schema", "schema"])
@pytest.mark.parametrize("index", range(len(REQUESTS)))
def test_same_answers_as_cedarpy(index: int, schema: str | None) -> None:
    request = REQUESTS[index]
    want = real.is_authorized_partial(request, POLICIES, ENTITIES, schema)
    got = compat.is_authorized_partial(request, POLICIES, ENTITIES, schema)
    a, b = _normalised(want), _normalised(got)
    if a["decision"] == "NoDecision":  # rejected input: the same outcome, cedarlang's wording
        assert b["decision"] == "NoDecision" and b["diagnostics"]["errors"] and "residuals" not in b
        return
    assert b == a
    assert got.decision.value == want.decision.value and got.allowed == want.allowed
    assert got.correlation_id == want.correlation_id
    assert got.residuals == want.residuals
    assert set(got.metrics) == set(want.metrics)
    for name in ("reasons", "errors", "id_annotations_by_reason"):
        assert sorted(getattr(got.diagnostics, name)) == sorted(getattr(want.diagnostics, name))
    for name in ("may_be_determining", "must_be_determining", "nontrivial_residuals", "unknown_entities"):
        assert sorted(getattr(got.diagnostics, name)) == sorted(getattr(want.diagnostics, name))
    assert got["decision"] == got.decision


def test_handles_and_json_text_are_accepted() -> None:
    request = REQUESTS[0]
    want = real.is_authorized_partial(
        request, real.PolicySet.from_str(POLICIES), real.Entities.from_json_str(json.dumps(ENTITIES))
    )
    got = compat.is_authorized_partial(
        request, compat.PolicySet.from_str(POLICIES), compat.Entities.from_json_str(json.dumps(ENTITIES))
    )
    assert _normalised(got) == _normalised(want)
    assert got.metrics["policies_pre_parsed"] == 1 and got.metrics["entities_pre_parsed"] == 1
    text = compat.is_authorized_partial(
        request, POLICIES, json.dumps(ENTITIES), compat.Schema.from_str(SCHEMA)
    )
    assert text.decision is compat.Decision.NoDecision and text.residuals


def test_result_classes() -> None:
    result = compat.is_authorized_partial(REQUESTS[0], POLICIES, ENTITIES)
    assert isinstance(result, compat.PartialAuthzResult)
    assert isinstance(result.diagnostics, compat.PartialDiagnostics)
    assert result.decision is compat.Decision.NoDecision and not result.allowed
    assert sorted(result.residuals) == ["policy0", "policy1", "policy2"]
    assert result.diagnostics.id_annotations_by_reason == {"policy0": "owner"}
    bad = compat.is_authorized_partial(REQUESTS[0], "permit(", ENTITIES)
    assert bad.decision is compat.Decision.NoDecision and bad.residuals == {} and bad.diagnostics.errors
