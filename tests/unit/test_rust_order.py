"""Which error Cedar reports when two could be: Rust's orders, not Python's hash order.

Rust evaluates a record literal's fields in key order (a ``BTreeMap``) and checks a set's
elements for ``in`` in its value order (a ``BTreeSet``); the error reported when two
fields, or two elements, are wrong depends on it. Both evaluators (compiled and reference)
must report the one Rust reports (checked here against cedarpy)."""

from __future__ import annotations

import cedarpy
import pytest

from cedarlang import Authorizer, Entities, PolicySet, Request

ENTITIES = [{"uid": {"type": "User", "id": "a"}, "attrs": {}, "parents": []}]
CASES = [
    "permit(principal, action, resource) when { {b: principal.x, a: context.nope}.a == 1 };",
    'permit(principal, action, resource) when { {z: 1 + "s", m: context.nope, a: principal.x} has a };',
    'permit(principal, action, resource) when { principal in [User::"a", 1, "s", true, Group::"g"] };',
    'permit(principal, action, resource) when { principal in ["zz", 3, false, [1], {a: 1}] };',
]


@pytest.mark.parametrize("policy", CASES)
@pytest.mark.parametrize("interpret", [False, True], ids=["compiled", "interpreted"])
def test_the_error_reported_is_rusts(policy: str, interpret: bool) -> None:
    principal, action, resource = 'User::"a"', 'Action::"v"', 'R::"r"'
    request = {"principal": principal, "action": action, "resource": resource, "context": {}}
    rust = cedarpy.is_authorized(request, policy, ENTITIES).diagnostics.errors
    ours = Authorizer(interpret=interpret).is_authorized(
        Request(principal, action, resource, {}),
        PolicySet.from_str(policy),
        Entities.from_json(ENTITIES),
    )
    assert [str(e) for e in ours.errors] == list(rust)
