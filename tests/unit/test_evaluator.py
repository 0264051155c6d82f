"""Errors inside ``unless`` (and ``when``) skip the policy and are reported, on both
evaluation paths.

https://docs.cedarpolicy.com/auth/authorization.html: "If all of the `when`
conditions evaluate to `true`, and all of the `unless` conditions evaluate to
`false`, then policy *y* satisfies the request [...]. If evaluating any condition
expression yields `error` then policy evaluation halts at that point (any remaining
conditions are skipped), and `error` is returned as the final result." -- "**skip on
error**: if a policy's evaluation returns `error`, the policy does not factor into the
authorization response" -- "if the evaluation of any policies resulted in `error`,
then the IDs of the erroneous policies are included in the diagnostics".
"""

from __future__ import annotations

import pytest

import cedarlang

from ._both_paths import PATHS, authorize

ENTITIES = [{"uid": {"type": "User", "id": "alice"}, "attrs": {"level": 3}, "parents": []}]

MISSING = [
    # (condition body, Cedar error kind)
    ("principal.nope == 1", "EntityAttrDoesNotExist"),
    ('principal["no pe"]', "EntityAttrDoesNotExist"),
    ("context.nope", "RecordAttrDoesNotExist"),
    ("context.rec.nope > 1", "RecordAttrDoesNotExist"),
    ("principal.level > 1 && resource.nope", "EntityDoesNotExist"),
]


def errors_of(rsp: cedarlang.Response) -> list[tuple[str, str]]:
    return sorted((e.policy_id, e.kind) for e in rsp.errors)


@PATHS
@pytest.mark.parametrize(("body", "kind"), MISSING)
def test_a_missing_attribute_in_unless_is_an_error_not_false(interpret: bool, body: str, kind: str) -> None:
    # if the error were swallowed as `false`, the unless would pass and the permit allow
    rsp = authorize(
        f"permit(principal, action, resource) unless {{ {body} }};", ENTITIES, interpret, context={"rec": {}}
    )
    assert rsp.decision is cedarlang.Decision.DENY
    assert rsp.reasons == frozenset()
    assert errors_of(rsp) == [("policy0", kind)]


@PATHS
@pytest.mark.parametrize(("body", "kind"), MISSING)
def test_an_erroring_forbid_unless_does_not_deny_but_is_reported(
    interpret: bool, body: str, kind: str
) -> None:
    policies = (
        f"permit(principal, action, resource);\nforbid(principal, action, resource) unless {{ {body} }};"
    )
    rsp = authorize(policies, ENTITIES, interpret, context={"rec": {}})
    assert rsp.decision is cedarlang.Decision.ALLOW
    assert rsp.reasons == {"policy0"}
    assert errors_of(rsp) == [("policy1", kind)]


@PATHS
def test_a_later_unless_is_not_evaluated_after_a_false_when(interpret: bool) -> None:
    policies = "permit(principal, action, resource) when { false } unless { principal.nope };"
    rsp = authorize(policies, ENTITIES, interpret)
    assert not rsp.allowed
    assert rsp.errors == ()


@PATHS
def test_an_unless_error_stops_the_policy_before_later_conditions(interpret: bool) -> None:
    policies = "forbid(principal, action, resource) unless { principal.nope } when { true };\n" + (
        "permit(principal, action, resource) when { principal.level == 3 };"
    )
    rsp = authorize(policies, ENTITIES, interpret)
    assert rsp.decision is cedarlang.Decision.ALLOW
    assert errors_of(rsp) == [("policy0", "EntityAttrDoesNotExist")]
