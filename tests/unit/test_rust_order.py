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


@pytest.mark.parametrize("order", ["extension-first", "uid-first"])
def test_a_bad_uid_in_the_context_wins_over_a_bad_extension_value(order: str) -> None:
    """Rust parses every escape of the context before it builds extension values: with
    both a malformed ``decimal`` and an invalid ``__entity``, the uid is what it reports,
    whatever the keys' order (found by the differential fuzzer)."""
    from cedarlang import RequestError

    dec = {"__extn": {"fn": "decimal", "arg": "1.2.3"}}
    bad = {"__entity": {"type": "if", "id": "a"}}
    context = {"dec": dec, "bad": bad} if order == "extension-first" else {"bad": bad, "dec": dec}
    request = {"principal": 'User::"a"', "action": 'Action::"v"', "resource": 'R::"r"', "context": context}
    rust = cedarpy.is_authorized(request, "forbid(principal, action, resource);", [])
    assert "failed to parse escape `__entity`" in rust.diagnostics.errors[0]
    with pytest.raises(RequestError, match="reserved name `if`"):
        Request('User::"a"', 'Action::"v"', 'R::"r"', context)
    # Alone, the bad extension value is the error.
    with pytest.raises(RequestError, match="not a well-formed decimal"):
        Request('User::"a"', 'Action::"v"', 'R::"r"', {"dec": dec})
