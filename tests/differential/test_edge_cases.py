"""Hand-picked edge cases, each compared against cedarpy (the Rust engine).

These complement the generated cases in ``test_vs_cedarpy.py`` with inputs the
generator reaches rarely or not at all: lexer/parser corners, extension-literal
corners, JSON *text* oddities (duplicate keys, ``-0``, lone surrogates), request
uid and template-link value forms, and nesting depth.  Every case only asserts
"same answer as Rust"; nothing here encodes an expected value by hand.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from .harness import check_all, describe
from .strategies import Case, LinkSpec

REQUEST = {"principal": 'User::"alice"', "action": 'Action::"view"', "resource": 'Photo::"p1"', "context": {}}
ENTITIES = [
    {
        "uid": {"type": "User", "id": "alice"},
        "attrs": {
            "n": 1,
            "s": "hello world",
            "rec": {"a": {"b": 1}},
            "owner": {"__entity": {"type": "User", "id": "bob"}},
        },
        "parents": [{"type": "Group", "id": "g1"}],
        "tags": {"t1": 1},
    },
    {"uid": {"type": "Group", "id": "g1"}, "attrs": {}, "parents": [{"type": "Group", "id": "g2"}]},
    {"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "all"}]},
]


def _assert_same(case: Case) -> None:
    _, _, mms = check_all(case)
    if mms:
        pytest.fail("\n\n".join(describe(case, m) for m in mms), pytrace=False)


def _expr_case(expr: str) -> Case:
    return Case(
        [],
        [],
        ENTITIES,
        [dict(REQUEST)],
        raw_policies=f"permit(principal, action, resource) when {{ {expr} }};",
    )


# -- expressions: permit(principal, action, resource) when { EXPR }; ---------------------

EXPRESSIONS = [
    # like-patterns and string escapes
    r'"a" like "\u{2a}"',
    r'"a" like "\x2a"',
    r'"ab" like "a\x2ab"',
    r'"" like "*\u{2a}"',
    r'"*" like "\*"',
    r'"a" like "\*"',
    r'"\\a" like "\u{5c}*"',
    r'"a\nb" like "a*b"',
    r'"é" like "e*"',
    r'"\*" == "*"',
    r'"\x41" == "A"',
    r'"\x80" == "A"',
    r'"\u{0}" == "\0"',
    r'"\u{d800}" == "a"',
    r'"\u{110000}" == "a"',
    r'"\u{}" == ""',
    r'"\u{00000041}" == "A"',
    '"\\\'" == "\'"',
    r'"\q" == "q"',
    # reserved words and names
    "context.if == 1",
    "context.then == 1",
    "context.true == 1",
    "context.in == 1",
    "context.like == 1",
    "context.__cedar == 1",
    "context.principal == 1",
    "principal has if",
    'principal has "if"',
    "principal has principal",
    "principal has a.if",
    "{if: 1} == {}",
    "{__cedar: 1} == {}",
    'if::"a" == principal',
    'NS::if::"a" == principal',
    'principal::"a" == principal',
    '__cedar::"a" == principal',
    "principal is __cedar::A",
    'NS::ip("1.2.3.4") == principal',
    'isIpv4(ip("1.2.3.4"))',
    "foo(1)",
    # integers
    "-9223372036854775808 == -9223372036854775808",
    "- 9223372036854775808 == 1",
    "-(9223372036854775808) == 1",
    "9223372036854775807 + 1 == 0",
    "-9223372036854775808 * -1 == 0",
    "-(-9223372036854775808) == 0",
    "3037000500 * 3037000500 == 0",
    "01 == 1",
    "----1 == 1",
    "-----1 == 1",
    "!!!!!true",
    "1 < 2 < 3",
    "1 / 2 == 0",
    # records, sets, has
    "{a: 1, a: 2} == {}",
    '{"a b": 1}["a b"] == 1',
    "{a: {b: 1}} has a.b",
    "{a: 1} has a.b",
    "principal has rec.a.b",
    "principal has rec.a.c",
    "[1, true] == [true, 1]",
    "[1].contains(1, 2)",
    "principal in [principal, 1]",
    "principal in 1",
    'User::"nobody" has x',
    'User::"nobody".hasTag("x")',
    'User::"nobody".getTag("x")',
    'principal.getTag("t1") == 1',
    "principal.hasTag()",
    # extension corners
    'ip("::ffff:127.0.0.1").isLoopback()',
    'ip("01.2.3.4").isIpv4()',
    'ip("1.2.3.4/08").isIpv4()',
    'ip("1.2.3.4/24") == ip("1.2.3.0/24")',
    'ip("1.2.3.4").isInRange(ip("::ffff:0:0/96"))',
    'ip("fe80::1%1").isIpv6()',
    'decimal("922337203685477.5808") == decimal("0.0")',
    'decimal("-922337203685477.5808").lessThan(decimal("0.0"))',
    'decimal("1.23456") == decimal("0.0")',
    'decimal("1.0") < decimal("2.0")',
    'datetime("2023-02-29") == datetime("2023-03-01")',
    'datetime("2024-01-01T00:00:00+2400") == datetime("2024-01-01")',
    'datetime("2024-01-01T00:00:00.1Z") == datetime("2024-01-01")',
    'datetime("1969-12-31T23:59:59Z").toDate() == datetime("1969-12-31")',
    'datetime("1970-01-01").offset(duration("-1ms")).toTime() == duration("23h59m59s999ms")',
    'datetime("2024-01-01").offset(duration("106751991167d")) > datetime("2024-01-01")',
    'duration("-1500ms").toSeconds() == -1',
    'duration("1m1h").toHours() == 1',
    'duration("9223372036854775808ms").toDays() == 0',
    'duration("-9223372036854775808ms").toMilliseconds() < 0',
    'ip("1.2.3.4", "x").isIpv4()',
    # short-circuit and error order
    'if true then 1 else 1 + "a" == 1',
    "true || 1",
    "false && 1",
    "1 || true",
    # nesting (kept well below the depth where the Rust parser overflows its stack)
    "-(" * 300 + "1" + ")" * 300 + " == 1",
    "if true then " * 700 + "true" + " else false" * 700,
    " && ".join(["true"] * 1000),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=lambda e: e[:60])
def test_expression(expr: str) -> None:
    _assert_same(_expr_case(expr))


# -- whole policy texts ------------------------------------------------------------------------

POLICIES = [
    '@id("a") @id("b") permit(principal, action, resource);',
    '@if("a") permit(principal, action, resource);',
    '@a("\\q") permit(principal, action, resource);',
    "@a(1) permit(principal, action, resource);",
    "permit(principal, action, resource)",
    "permit(principal, action, resource);;",
    "permit(principal, action, resource) when { true } unless { false } when { true };",
    "permit(principal, action, resource) when { };",
    "permit(principal, action);",
    "permit(principal, action, resource, context);",
    "PERMIT(principal, action, resource);",
    'permit(principal in [User::"alice"], action, resource);',
    "permit(principal, action in [], resource);",
    'permit(principal, action == User::"alice", resource);',
    'permit(principal, action in [Action::"view", NS::Action::"view"], resource);',
    "permit(principal, action is Action, resource);",
    'permit(principal is User == User::"alice", action, resource);',
    "permit(principal is if, action, resource);",
    "permit(principal == ?resource, action, resource);",
    "permit(principal, action, resource) when { ?principal == principal };",
    "/* block */ permit(principal, action, resource);",
    "permit(principal, action, resource) when { true } // comment",
    'permit(principal, action, resource) when { principal == User :: "alice" };',
    "permit(principal, action, resource) when { 1\u000b==\u000b1 };",
    "permit(principal, action, resource) when { 1\u00a0==\u00a01 };",
    "permit(principal, action, resource) when { 1\u200b==1 };",
    "permit(principal, action, resource) when { context.\u00fc == 1 };",
]


@pytest.mark.parametrize("text", POLICIES, ids=lambda t: t[:60])
def test_policy_text(text: str) -> None:
    _assert_same(Case([], [], ENTITIES, [dict(REQUEST)], raw_policies=text))


# -- template links ---------------------------------------------------------------------------

TEMPLATE = (
    "permit(principal == ?principal, action, resource);\npermit(principal, action, resource) when { false };"
)
LINK_VALUES: list[tuple[str, dict[str, Any], int]] = [
    ("ok", {"?principal": 'User::"alice"'}, 0),
    ("dict", {"?principal": {"type": "User", "id": "alice"}}, 0),
    ("dict extra key", {"?principal": {"type": "User", "id": "alice", "x": 1}}, 0),
    ("unnormalized", {"?principal": 'User :: "alice"'}, 0),
    ("escape", {"?principal": 'User::"\\u{61}lice"'}, 0),
    ("reserved type", {"?principal": 'if::"a"'}, 0),
    ("no ? in slot", {"principal": 'User::"alice"'}, 0),
    ("extra slot", {"?principal": 'User::"alice"', "?resource": 'Photo::"p1"'}, 0),
    ("missing slot", {}, 0),
    ("static policy", {}, 1),
    ("no such template", {"?principal": 'User::"alice"'}, 7),
]


@pytest.mark.parametrize("name,values,index", LINK_VALUES, ids=[x[0] for x in LINK_VALUES])
def test_link(name: str, values: dict[str, Any], index: int) -> None:
    case = Case([], [LinkSpec(index, "link0", values)], ENTITIES, [dict(REQUEST)], raw_policies=TEMPLATE)
    _assert_same(case)


def test_link_id_clash() -> None:
    case = Case(
        [],
        [LinkSpec(0, "policy1", {"?principal": 'User::"alice"'})],
        ENTITIES,
        [dict(REQUEST)],
        raw_policies=TEMPLATE,
    )
    _assert_same(case)


# -- entity JSON text ---------------------------------------------------------------------------

_E = '{"uid": {"type": "A", "id": "a"}, "attrs": %s, "parents": []}'
ENTITY_TEXTS = [
    "[" + _E % '{"x": "\\ud800"}' + "]",
    "[" + _E % '{"x": -0}' + "]",
    "[" + _E % '{"x": 1.0}' + "]",
    "[" + _E % '{"x": 9223372036854775808}' + "]",
    "[" + _E % '{"x": NaN}' + "]",
    "[" + _E % '{"x": 1, "x": 2}' + "]",
    "[" + _E % '{"x": {"k": 1, "k": 2}}' + "]",
    "[" + _E % '{"x": {"__entity": {"type": "A", "id": "b"}, "__entity": {"type": "A", "id": "c"}}}' + "]",
    '[{"uid": {"type": "A", "id": "a"}, "uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": []}]',
    '[{"uid": {"type": "A", "id": "a"}, "parents": []}]',
    '[{"uid": {"type": "A", "id": "a"}, "attrs": {}}]',
    '[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": [], "extra": 1}]',
    '[{"uid": {"type": "A", "id": "a", "x": 1}, "attrs": {}, "parents": []}]',
    '[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": [{"type": "A", "id": "b", "x": 1}]}]',
    '[{"uid": {"__entity": {"type": "A", "id": "a"}, "x": 1}, "attrs": {}, "parents": []}]',
    '[{"uid": {"type": "if", "id": "a"}, "attrs": {}, "parents": []}]',
    '[{"uid": {"type": "NS::true", "id": "a"}, "attrs": {}, "parents": []}]',
    '[{"uid": {"type": "principal", "id": "a"}, "attrs": {}, "parents": []}]',
    '[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": [{"type": "then", "id": "x"}]}]',
    '[{"uid": {"type": "Action", "id": "a"}, "attrs": {}, "parents": [{"type": "User", "id": "b"}]}]',
    '[{"uid": {"type": "Action", "id": "a"}, "attrs": {}, "parents": [{"type": "MyAction", "id": "b"}]}]',
    '[{"uid": {"type": "NS::Action", "id": "a"}, "attrs": {}, "parents": [{"type": "Action", "id": "b"}]}]',
    '[{"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": [{"type": "A", "id": "a"}]}]',
    "[" + _E % '{"x": {"__entity": {"type": "A"}}}' + "]",
    "[" + _E % '{"x": {"__entity": {"type": "A", "id": "b", "y": 1}}}' + "]",
    "[" + _E % '{"x": {"__entity": {"type": "else", "id": "b"}}}' + "]",
    "[" + _E % '{"x": {"__extn": {"fn": "ip", "arg": "1.2.3.4"}, "y": 1}}' + "]",
    "[" + _E % '{"x": {"__extn": {"fn": "ip", "arg": "1.2.3.4", "args": []}}}' + "]",
    "[" + _E % '{"x": {"__extn": {"fn": "ip"}}}' + "]",
    "["
    + _E
    % '{"x": {"__extn": {"fn": "offset", "args": [{"__extn": {"fn": "datetime", "arg": "2024-01-01"}}, {"__extn": {"fn": "duration", "arg": "1h"}}]}}}'
    + "]",
    "[" + _E % '{"x": {"__extn": {"fn": "offset", "args": ["2024-01-01", "1h"]}}}' + "]",
    "[" + _E % '{"x": {"__extn": {"fn": "isIpv4", "arg": "1.2.3.4"}}}' + "]",
    "[" + _E % '{"x": {"__expr": "1"}}' + "]",
    "[" + _E % '{"x": {"type": "A", "id": "b"}}' + "]",
]


@pytest.mark.parametrize("text", ENTITY_TEXTS, ids=lambda t: t[:70])
def test_entities_json(text: str) -> None:
    policies = 'permit(principal, action, resource) when { A::"a".x == A::"a".x };'
    _assert_same(Case([], [], [], [dict(REQUEST)], raw_policies=policies, raw_entities=text))


# -- request uids and contexts --------------------------------------------------------------------

REQUEST_VARIANTS: list[dict[str, Any]] = [
    {"principal": 'User :: "alice"'},
    {"principal": ' User::"alice"'},
    {"principal": 'User::"a\nb"'},
    {"principal": 'User::"\\u{61}"'},
    {"principal": 'if::"a"'},
    {"principal": "User"},
    {"principal": {"type": "if", "id": "a"}},
    {"principal": {"type": "User", "id": "alice", "extra": 1}},
    {"action": {"type": "Action", "id": "view", "extra": 1}},
    {"context": '{"a": -0}'},
    {"context": '{"a": "\\udc00"}'},
    {"context": '{"a": 1, "a": 2}'},
    {"context": '{"a": {"b": 1, "b": 2}}'},
    {"context": "[1]"},
    {"context": {"x": {"__entity": {"type": "User"}}}},
    {"context": {"x": {"__entity": {}}}},
    {"context": {"x": {"__entity": {"type": "User", "id": "a", "x": 1}}}},
    {"context": {"x": {"__entity": {"type": "User", "id": "a"}, "x": 1}}},
    {"context": {"x": {"__entity": 'User::"a"'}}},
    {"context": {"x": {"__entity": {"type": "if", "id": "a"}}}},
    {"context": {"x": {"__extn": {"fn": "datetime", "arg": "2024-01-01"}, "extra": 1}}},
    {"context": {"x": {"__extn": {"fn": "ip", "arg": "1.2.3.4", "args": []}}}},
    {"context": {"x": {"__extn": {"fn": "ip", "arg": "1.2.3.4", "x": 1}}}},
    {"context": {"x": {"__extn": 'ip("1.2.3.4")'}}},
    {"context": {"x": {"__extn": {"fn": "decimal", "arg": 1}}}},
]


@pytest.mark.parametrize("variant", REQUEST_VARIANTS, ids=lambda v: json.dumps(v, ensure_ascii=True)[:70])
def test_request(variant: dict[str, Any]) -> None:
    policies = "permit(principal, action, resource) when { context has x && context.x == context.x };\n"
    policies += "permit(principal, action, resource) when { context has x && context.x.isIpv4() };"
    _assert_same(Case([], [], ENTITIES, [{**REQUEST, **variant}], raw_policies=policies))


# -- schemas --------------------------------------------------------------------------------

TRANSITIVE_SCHEMA = {
    "": {
        "entityTypes": {"User": {"memberOfTypes": ["Team"]}, "Team": {"memberOfTypes": ["Org"]}, "Org": {}},
        "actions": {"view": {"appliesTo": {"principalTypes": ["User"], "resourceTypes": ["Org"]}}},
    }
}


# Rust checks every ancestor's type against `allowed_parent_types()`, "transitively
# closed, so it's actually `allowed_ancestor_types()`" (cedar-policy-core/src/entities/
# conformance.rs, validate_entity_ancestors): User in Team in Org, so a User may have an
# Org parent.
def test_schema_transitive_parent_type() -> None:
    entities = [
        {"uid": {"type": "User", "id": "alice"}, "attrs": {}, "parents": [{"type": "Org", "id": "o"}]}
    ]
    request = {
        "principal": 'User::"alice"',
        "action": 'Action::"view"',
        "resource": 'Org::"o"',
        "context": {},
    }
    policies = 'permit(principal in Org::"o", action, resource);'
    _assert_same(Case([], [], entities, [request], raw_policies=policies, schema=TRANSITIVE_SCHEMA))
