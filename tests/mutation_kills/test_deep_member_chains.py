"""Receiver chains of any length (``r.a.a.a``, ``x.contains(1).contains(1)``, ...) are
evaluated by a loop in the reference interpreter, so the first error of the chain is
reported, not a recursion limit. Each chain errs at its second step; Rust evaluates
receivers first too (its own recursion limit is far smaller, so cedarpy is not asked)."""

from __future__ import annotations

import pytest

import cedarlang

DEPTH = 20_000
# (innermost receiver, step, kind of the error at the second step)
CHAINS = [
    ("context", ".a", "RecordAttrDoesNotExist"),
    ("[]", ".isEmpty()", "TypeError"),
    ("[1]", ".contains(1)", "TypeError"),
    ("[1]", ".containsAll([1])", "TypeError"),
    ('principal.hasTag("t")', '.hasTag("t")', "TypeError"),
    ('ip("10.0.0.1")', ".isLoopback()", "TypeError"),
]


@pytest.mark.parametrize(("inner", "step", "kind"), CHAINS, ids=[step for _, step, _ in CHAINS])
def test_a_long_chain_reports_its_first_error(inner: str, step: str, kind: str) -> None:
    policies = cedarlang.PolicySet.from_str(
        f"permit(principal, action, resource) when {{ {inner}{step * DEPTH} }};"
    )
    entities = cedarlang.Entities.from_json(
        [{"uid": {"type": "User", "id": "u"}, "attrs": {}, "parents": []}]
    )
    request = cedarlang.Request('User::"u"', 'Action::"a"', 'Doc::"d"', {})
    for authorizer in (cedarlang.Authorizer(interpret=True), cedarlang.Authorizer()):
        response = authorizer.is_authorized(request, policies, entities)
        assert response.decision is cedarlang.Decision.DENY
        assert [(e.policy_id, e.kind) for e in response.errors] == [("policy0", kind)]


@pytest.mark.parametrize("call", ["ip()", "decimal()", "datetime()"])
def test_a_call_without_arguments_is_an_arity_error(call: str) -> None:
    policies = cedarlang.PolicySet.from_str(f"permit(principal, action, resource) when {{ {call} }};")
    request = cedarlang.Request('User::"u"', 'Action::"a"', 'Doc::"d"', {})
    for authorizer in (cedarlang.Authorizer(interpret=True), cedarlang.Authorizer()):
        response = authorizer.is_authorized(request, policies, cedarlang.Entities.from_json([]))
        assert [(e.policy_id, e.kind) for e in response.errors] == [("policy0", "WrongNumArguments")]
