"""How residuals are simplified: the cases of Rust's ``tpe/evaluator.rs`` ``interpret`` and
the typechecker's shaping of the typed expression (``validator/typecheck.rs``), one by one."""

from __future__ import annotations

import pytest

from cedarlang import PolicySet, Schema
from cedarlang.tpe import PartialEntities, PartialEntityUid, PartialRequest, tpe

SCHEMA = Schema.from_str(
    """
    entity Team in [Team];
    entity User in [Team] = { n: Long, name: String, boss?: User } tags Long;
    entity Doc = { owner: User, readers: Set<User>, size: Long };
    action view appliesTo { principal: [User], resource: [Doc], context: { ip: ipaddr, n: Long } };
    """
)

ENTITIES = [
    {"uid": {"type": "User", "id": "alice"}, "attrs": {"n": 1, "name": "A"}, "parents": [], "tags": {"t": 5}},
    {"uid": {"type": "User", "id": "bob"}},  # everything unknown
    {"uid": {"type": "Team", "id": "eng"}, "parents": []},
]


def residual(condition: str, principal: str | None = None, context: bool = False) -> str:
    """The residual of ``permit (principal, action, resource) when { condition }`` for a
    request on an unknown ``Doc``, by ``principal`` (unknown id if ``None``)."""
    request = PartialRequest(
        PartialEntityUid("User", principal),
        'Action::"view"',
        PartialEntityUid("Doc"),
        {"ip": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}, "n": 3} if context else None,
        SCHEMA,
    )
    policies = PolicySet.from_str(f"permit (principal, action, resource) when {{ {condition} }};")
    response = tpe(policies, request, PartialEntities.from_json(ENTITIES, SCHEMA), SCHEMA)
    text = str(response.policies()[0])
    return text.removeprefix("permit(principal, action, resource) when { ").removesuffix(" };")


CASES = [
    # && and ||: a concrete left operand decides or disappears
    ("false && resource.size > 1", None, False, "false"),
    ("true && resource.size > 1", None, False, "!(resource.size <= 1)"),
    ("resource.size > 1 || true", None, False, "(!(resource.size <= 1)) || true"),  # may error: kept
    ("principal is User || resource.size > 1", None, False, "true"),
    # <error-free residual> && false is false; a residual that may error keeps the `&& false`
    ("(principal == resource.owner) && context.n == 4", None, True, "(principal == resource.owner) && false"),
    ('(principal in Team::"eng") && context.n == 4', None, True, "false"),
    ('(principal in Team::"eng") || context.n == 3', None, True, "true"),
    ("resource.size == 1 && context.n == 3", None, True, "resource.size == 1"),
    # the typechecker: a left operand of type False / True short-circuits before evaluation
    ("principal is Doc && resource.size > 1", None, False, "false"),
    # `if` whose condition has type True (a required attribute of a record): then twice
    (
        "(if context has n then context.n else 0) > 1",
        None,
        False,
        "!((if (context has n) then context.n else context.n) <= 1)",
    ),
    ("(if context has n then context.n else 0) > 1", None, True, "true"),
    # variables
    ('principal == User::"alice"', "alice", False, "true"),
    ('principal == User::"alice"', None, False, 'principal == User::"alice"'),
    ("context.n == 3", None, False, "context.n == 3"),
    ("context.ip.isLoopback()", None, True, "false"),
    # `in` with known, unknown and absent ancestors
    ('principal in Team::"eng"', "alice", False, "false"),
    ('principal in Team::"eng"', "bob", False, 'User::"bob" in Team::"eng"'),
    ('principal in Team::"eng"', "carol", False, 'User::"carol" in Team::"eng"'),
    ('principal in [User::"alice"]', "alice", False, "true"),
    ('principal in [Team::"eng"]', "alice", False, "false"),
    ('principal in [Team::"eng"]', "bob", False, 'User::"bob" in [Team::"eng"]'),
    # attributes and tags: known, unknown, missing (an error)
    ("principal.n == 1", "alice", False, "true"),
    ("principal.n == 1", "bob", False, 'User::"bob".n == 1'),
    ("principal has boss", "alice", False, "false"),
    ('principal.hasTag("t") && principal.getTag("t") == 5', "alice", False, "true"),
    ('principal.hasTag("t")', "bob", False, 'User::"bob".hasTag("t")'),
    ('principal.hasTag("u") && principal.getTag("u") == 5', "alice", False, "false"),
    # errors propagate
    ("principal.n + 9223372036854775807 > 0", "alice", False, "error()"),
    ("resource.size > 0 && (9223372036854775807 + 1 > 0)", None, False, "(!(resource.size <= 0)) && error()"),
    # sets, records and extension calls become values once their parts are known
    (
        '[principal.n, 2].contains(1) && {a: context.n}.a == 3 && ip("10.0.0.1") == context.ip',
        "alice",
        True,
        "true",
    ),
    ("resource.readers.contains(principal)", "alice", False, 'resource.readers.contains(User::"alice")'),
    ('resource.owner.name like "A*"', None, False, 'resource.owner.name like "A*"'),
]


@pytest.mark.parametrize(("condition", "principal", "context", "expected"), CASES)
def test_simplification(condition: str, principal: str | None, context: bool, expected: str) -> None:
    assert residual(condition, principal, context) == expected


def test_long_and_chain_does_not_exhaust_the_stack() -> None:
    # a 20,000-term `&&` chain is a 20,000-deep tree: typechecked, evaluated and printed
    condition = " && ".join(["resource.size == 1"] * 20_000)
    text = residual(condition)
    assert text.count("resource.size == 1") == 20_000
