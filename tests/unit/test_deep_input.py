"""Deep input: everything the parser accepts goes through the JSON writer and reader, the
validator, the compiler and the evaluator without a RecursionError; deeper input fails
with a clean CedarError."""

from __future__ import annotations

import pytest

from cedarlang import Authorizer, Decision, Entities, ParseError, PolicySet, Request, Schema, Validator
from cedarlang._limits import MAX_NESTING
from cedarlang.est import PolicyJsonError, policy_set_from_json, policy_set_to_cedar, policy_set_to_json

N = 100_000
DEPTH = MAX_NESTING - 10  # explicit nesting the parser still accepts


def _nest(open_: str, close: str, inner: str, depth: int) -> str:
    return open_ * depth + inner + close * depth


CHAINS = {
    "attribute chain": ("context" + ".a" * N + " == 1", Decision.DENY),
    "&& chain": (" && ".join(["true"] * N), Decision.ALLOW),
    "+ chain": ("1" + " + 1" * N + f" == {N + 1}", Decision.ALLOW),
    "+/- chain": ("1" + " + 2 - 1" * (N // 2) + f" == {N // 2 + 1}", Decision.ALLOW),
    "nested if": ("if true then " * DEPTH + "true" + " else false" * DEPTH, Decision.ALLOW),
    "nested records": (
        _nest("{a: ", "}", "1", DEPTH) + " == " + _nest("{a: ", "}", "1", DEPTH),
        Decision.ALLOW,
    ),
    "nested sets": (_nest("[", "]", "1", DEPTH) + " == " + _nest("[", "]", "1", DEPTH), Decision.ALLOW),
}

SCHEMA = "entity User; action view appliesTo { principal: User, resource: User, context: {} };"


@pytest.mark.parametrize("name", list(CHAINS))
def test_deep_policy_round_trips_validates_and_authorizes(name: str) -> None:
    body, decision = CHAINS[name]
    pset = PolicySet.from_str(f"permit(principal, action, resource) when {{ {body} }};")
    data = policy_set_to_json(pset)
    back = policy_set_from_json(data)
    # (deep dicts cannot be compared with `==` without deep C recursion: compare the ASTs)
    parsed, read = pset.policies()[0].ast, back.policies()[0].ast
    assert parsed == read and hash(parsed.conditions[0].body) == hash(read.conditions[0].body)
    assert policy_set_to_cedar(back) == policy_set_to_cedar(pset)
    result = Validator(Schema.from_str(SCHEMA)).validate(back)
    # `context.a...` does not exist in the schema; the other policies are well typed
    assert bool(result.errors) == (name in ("attribute chain",))
    request = Request('User::"a"', 'Action::"view"', 'User::"b"')
    for policies in (pset, back):
        response = Authorizer().is_authorized(request, policies, Entities.from_json([]))
        assert response.decision is decision
        if name == "attribute chain":  # evaluated in a loop: `context` has no attribute `a`
            assert ["does not have the attribute `a`" in str(e) for e in response.errors] == [True]


def test_deep_json_equality_of_an_attribute_chain() -> None:
    pset = PolicySet.from_str("permit(principal, action, resource) when { context" + ".a" * N + " };")
    data = policy_set_to_json(pset)
    body = data["staticPolicies"]["policy0"]["conditions"][0]["body"]
    depth = 0
    while "." in body:
        body = body["."]["left"]
        depth += 1
    assert depth == N and body == {"Var": "context"}


@pytest.mark.parametrize(
    "body",
    [
        "if true then " * N + "true" + " else false" * N,
        _nest("{a: ", "}", "1", N),
        _nest("[", "]", "1", N),
        _nest("(", ")", "1", N),
    ],
    ids=["if", "record", "set", "parentheses"],
)
def test_nesting_beyond_the_parser_limit_is_a_parse_error(body: str) -> None:
    with pytest.raises(ParseError, match="nested too deeply"):
        PolicySet.from_str(f"permit(principal, action, resource) when {{ {body} }};")


def _policy_json(body: object) -> dict[str, object]:
    return {
        "staticPolicies": {
            "p": {
                "effect": "permit",
                "principal": {"op": "All"},
                "action": {"op": "All"},
                "resource": {"op": "All"},
                "conditions": [{"kind": "when", "body": body}],
            }
        }
    }


def _deep_json(depth: int) -> dict[str, object]:
    body: dict[str, object] = {"Value": True}
    for _ in range(depth):
        body = {"if-then-else": {"if": {"Value": True}, "then": body, "else": {"Value": False}}}
    return _policy_json(body)


def test_json_nesting_is_bounded_like_the_parser() -> None:
    assert len(policy_set_from_json(_deep_json(DEPTH)).policies()) == 1
    with pytest.raises(PolicyJsonError, match="nested too deeply"):
        policy_set_from_json(_deep_json(N))


def test_json_chains_count_nesting_where_text_needs_parentheses() -> None:
    # `((a && b).c && d).e ...`: each `&&` used as a receiver needs parentheses in text
    body: dict[str, object] = {"Var": "context"}
    for _ in range(N):
        body = {".": {"left": {"&&": {"left": body, "right": {"Value": True}}}, "attr": "a"}}
    with pytest.raises(PolicyJsonError, match="nested too deeply"):
        policy_set_from_json(_policy_json(body))


def test_json_text_too_deep_for_the_json_decoder_is_a_clean_error() -> None:
    text = '{"staticPolicies": {"p": ' + "[" * N + "]" * N + "}}"
    with pytest.raises(PolicyJsonError):
        policy_set_from_json(text)
