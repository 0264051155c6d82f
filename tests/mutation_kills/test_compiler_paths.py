"""Compiler code paths that the conformance corpus reaches rarely, checked against cedarpy.

Conditions nested deeper than the compiler's limit run in the reference
interpreter (every request variable and the entity store must reach it);
calls on literals are evaluated once at compile time, unless they fail;
scope constraints of every shape, slots included, compile to direct checks.
"""

from __future__ import annotations

import pytest

from .exact import DEFAULT_REQUEST, assert_same_as_rust, when


def nested_if(depth: int, inner: str) -> str:
    return "if true then " * depth + f"({inner})" + " else false" * depth


USES_EVERYTHING = (
    'principal.n == 7 && action in Action::"read" && resource.owner == principal '
    '&& context.num == 3 && resource in Album::"trip"'
)


@pytest.mark.parametrize("depth", [1, 100])
@pytest.mark.parametrize("effect", ["permit", "forbid"])
def test_deep_conditions_see_the_whole_request(depth: int, effect: str) -> None:
    text = f"{effect}(principal, action, resource) when {{ {nested_if(depth, USES_EVERYTHING)} }};"
    if effect == "forbid":
        text += "\npermit(principal, action, resource);"
    decision, reasons, errors = assert_same_as_rust(text)
    assert decision == ("allow" if effect == "permit" else "deny")
    assert reasons == frozenset({"policy0"}) and errors == ()


@pytest.mark.parametrize(
    "inner",
    [
        "principal.missing == 1",
        "context.num == 4",
        '"a" + 1 == 2',
        'principal in Group::"other"',
    ],
)
@pytest.mark.parametrize("depth", [1, 100])
def test_deep_conditions_fail_and_err_like_rust(depth: int, inner: str) -> None:
    assert_same_as_rust(when(nested_if(depth, inner)))
    assert_same_as_rust(
        f"permit(principal, action, resource) when {{ true }} unless {{ {nested_if(depth, inner)} }};"
    )


@pytest.mark.parametrize(
    "expr",
    [
        'ip("10.0.0.1").isInRange(ip("10.0.0.0/8"))',
        'ip("10.0.0.1") == ip("10.0.0.1")',
        'decimal("1.23") == decimal("1.230")',
        'decimal("1.5").lessThanOrEqual(decimal("1.5"))',
        'datetime("2024-01-01T00:00:00Z").toDate() == datetime("2024-01-01")',
        'duration("1h") == duration("60m")',
        '[ip("10.0.0.1"), decimal("1.0")].contains(ip("10.0.0.1"))',
        '{a: ip("10.0.0.1")}.a.isIpv4()',
        '[1, "a", true, User::"alice"].contains(User::"alice")',
        '[1, "a", true, principal].contains(User::"alice")',
        "[principal.n, context.num].containsAll([7, 3])",
        "[] == []",
        '{a: 1, b: "x"} == {b: "x", a: 1}',
        "{a: principal.n} == {a: 7}",
        'principal == User::"alice" && User::"alice" == principal',
        'resource == User::"alice"',
        "principal == resource.owner",
        "principal == 1",
    ],
)
def test_literal_folding_and_collections(expr: str) -> None:
    assert_same_as_rust(when(expr))


# Calls on literals that fail are left to run time, where they err with Rust's message.
FAILING_CALLS = [
    'ip("300.0.0.1") == ip("1.1.1.1")',
    'decimal("1.23456") == decimal("1.0")',
    'datetime("2024-13-01") == datetime("2024-01-01")',
    'duration("1x") == duration("1h")',
]


@pytest.mark.parametrize("expr", FAILING_CALLS)
def test_failing_literal_calls_err_at_run_time(expr: str) -> None:
    assert_same_as_rust(when(expr))


SCOPES = [
    "principal, action, resource",
    'principal == User::"alice", action, resource',
    'principal == User::"bob", action, resource',
    'principal in Group::"all", action, resource',
    'principal in Group::"other", action, resource',
    'principal in User::"alice", action, resource',
    "principal is User, action, resource",
    "principal is Group, action, resource",
    'principal is User in Group::"staff", action, resource',
    'principal is User in Group::"other", action, resource',
    'principal is Group in Group::"all", action, resource',
    'principal, action == Action::"view", resource',
    'principal, action == Action::"read", resource',
    'principal, action in Action::"read", resource',
    'principal, action in [Action::"read", Action::"edit"], resource',
    'principal, action in [Action::"edit"], resource',
    'principal, action in [Action::"view"], resource',
    'principal, action, resource == Photo::"p1"',
    'principal, action, resource in Album::"trip"',
    'principal, action, resource in Album::"other"',
    "principal, action, resource is Photo",
    'principal, action, resource is Photo in Album::"trip"',
    'principal, action, resource is Album in Album::"trip"',
]


@pytest.mark.parametrize("scope", SCOPES)
def test_scope_constraints(scope: str) -> None:
    assert_same_as_rust(f"permit({scope});")
    assert_same_as_rust(f"forbid({scope});\npermit(principal, action, resource);")


# Attribute reads and `has` on a request variable, a uid literal or the context compile to
# plain lookups; a missing entity or attribute makes them fall back to the checked code,
# which decides or errs as Rust does (every path of `assert_same_as_rust`).
INLINE_READS = [
    "principal.n == 7",
    "principal.missing == 7",
    "resource.owner == principal",
    "principal == resource.owner",
    "resource.owner.n == 7",
    'User::"alice".n == 7',
    'User::"nobody".n == 7',
    'User::"nobody" has n',
    'User::"alice" has n && User::"alice".n == 7',
    "principal has missing || principal.n == 7",
    "principal has n && principal.missing == 1",
    "action has x",
    "action.x == 1",
    "context has num && context.num == 3",
    "context.missing == 3",
    "context has missing",
    "context.flag",
    "principal.s",
    'principal in resource.owner && resource.owner in Group::"staff"',
    "principal in principal.rec",
    "principal in principal.set",
    'Group::"staff" in principal',
    "principal.rec.a == 1 && principal.rec has a && !(principal.rec has b)",
]


@pytest.mark.parametrize("expr", INLINE_READS)
def test_inline_reads_fall_back_exactly(expr: str) -> None:
    assert_same_as_rust(when(expr))
    assert_same_as_rust(f"permit(principal, action, resource) unless {{ {expr} }};")


def test_inline_reads_on_a_missing_principal() -> None:
    request = {**DEFAULT_REQUEST, "principal": 'User::"ghost"'}
    for expr in (
        "principal.n == 7",
        "principal has n",
        "resource.owner == principal",
        "principal in resource.owner",
    ):
        assert_same_as_rust(when(expr), request=request)
