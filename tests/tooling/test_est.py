"""The JSON policy format (EST): cedarlang against cedarpy (Rust) on every conformance policy."""

from __future__ import annotations

import json
from pathlib import Path

import cedarpy
import pytest

from cedarlang import ParseError, PolicySet
from cedarlang._limits import DEEP_FRAMES, recursion_headroom
from cedarlang.est import (
    PolicyJsonError,
    est_policy_to_cedar,
    expr_from_json,
    expr_to_json,
    policy_from_json,
    policy_set_from_json,
    policy_set_to_cedar,
    policy_set_to_json,
    policy_to_cedar,
    policy_to_json,
)
from cedarlang.parser import parse_expression
from cedarlang.policy import Policy, Template

from .._shared import REPO_ROOT as REPO
from .conftest import chunks, needs_conformance, policy_files

FILES = policy_files()
CHUNK = 800


@needs_conformance
def test_all_policy_files_found() -> None:
    assert len(FILES) == 7809 + 22


@needs_conformance
@pytest.mark.parametrize("chunk", chunks(FILES, CHUNK), ids=lambda c: c[0].stem[:8])
def test_est_matches_rust_on_conformance_policies(chunk: list[Path]) -> None:
    mismatched = []
    for path in chunk:
        text = path.read_text(encoding="utf-8")
        want = json.loads(cedarpy.policies_to_json_str(text))
        got = policy_set_to_json(PolicySet.from_str(text))
        if got != want:
            mismatched.append(f"to_json {path.name}")
            continue
        # JSON -> Cedar -> JSON round-trips, and prints the way Rust prints it
        back = policy_set_from_json(want)
        if policy_set_to_json(back) != want:
            mismatched.append(f"round trip {path.name}")
        reparsed = PolicySet.from_str(policy_set_to_cedar(back))
        if policy_set_to_json(reparsed) != want:
            mismatched.append(f"cedar round trip {path.name}")
        if policy_set_to_cedar(back, templates=False, linked=True) != cedarpy.policies_from_json_str(
            json.dumps(want)
        ):
            mismatched.append(f"display {path.name}")
        # Rust accepts what we write
        cedarpy.policies_from_json_str(json.dumps(got))
    assert not mismatched, mismatched[:10]


TINYTODO = [p for p in (REPO / "tinytodo").glob("*.cedar")]


@pytest.mark.parametrize("path", TINYTODO, ids=lambda p: p.name)
def test_tinytodo_policies(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert policy_set_to_json(PolicySet.from_str(text)) == json.loads(cedarpy.policies_to_json_str(text))


CASES = [
    '@id("x") @foo\npermit(principal is User in Group::"g", action in [Action::"a", Action::"b"], resource)'
    ' when { principal has a.b && context.x like "a*b\\*" && principal is User in Group::"x" }'
    ' unless { resource["x y"] has "q z" };',
    "permit(principal == ?principal, action, resource is Photo in ?resource);",
    'forbid(principal, action in [Action::"one"], resource) when { --1 == -(1) && -(-1) == 1 && '
    "9223372036854775807 > -9223372036854775808 };",
    'permit(principal, action, resource) when { {b: 1, a: "x\\n\\u{1F600}"} == {} && [] == [] && '
    'ip("1.2.3.4").isIpv4() && decimal("1.0") > decimal("0.5") && (if true then 1 else 2) == 1 && '
    'principal.getTag("a").hasTag("b") && principal.x.isEmpty() && [1].containsAll([1]) };',
    '@a @b("") @c("x\\"y")\nforbid(principal, action == NS::Action::"x", resource == NS::R::"r");',
]


@pytest.mark.parametrize("text", CASES)
def test_cases_match_rust(text: str) -> None:
    want = json.loads(cedarpy.policies_to_json_str(text))
    pset = PolicySet.from_str(text)
    assert policy_set_to_json(pset) == want
    back = policy_set_from_json(json.dumps(want))
    assert policy_set_to_json(back) == want
    assert policy_set_to_cedar(back, templates=False, linked=True) == cedarpy.policies_from_json_str(
        json.dumps(want)
    )


def test_bare_annotation_is_null_and_valued_empty_is_empty_string() -> None:
    data = policy_set_to_json(PolicySet.from_str('@a @b("") permit(principal, action, resource);'))
    assert data["staticPolicies"]["policy0"]["annotations"] == {"a": None, "b": ""}
    text = policy_set_to_cedar(policy_set_from_json(data))
    assert text.splitlines()[:2] == ["@a", '@b("")']


def test_single_action_in_list_is_written_as_entity() -> None:
    data = policy_to_json(Policy.from_str('permit(principal, action in [Action::"a"], resource);'))
    assert data["action"] == {"op": "in", "entity": {"type": "Action", "id": "a"}}


def test_is_in_needs_the_shared_operand() -> None:
    joined = expr_to_json(parse_expression('principal is User in Group::"g"'))
    assert set(joined) == {"is"} and "in" in joined["is"]
    separate = expr_to_json(parse_expression('principal is User && principal in Group::"g"'))
    assert set(separate) == {"&&"}


def test_expression_round_trip() -> None:
    expr = parse_expression('context.a like "x*" && [1, {k: "v"}].contains(2) || !(-3 < 4)')
    assert expr_to_json(expr_from_json(expr_to_json(expr))) == expr_to_json(expr)


def test_policy_from_json_makes_policies_and_templates() -> None:
    static = policy_from_json(policy_to_json(Policy.from_str("permit(principal, action, resource);")), "p")
    assert isinstance(static, Policy) and static.id == "p"
    template = policy_from_json(
        {
            "effect": "permit",
            "principal": {"op": "in", "slot": "?principal"},
            "action": {"op": "all"},
            "resource": {"op": "All"},
            "conditions": [],
        },
        "t",
    )
    assert isinstance(template, Template) and template.slots == ("?principal",)
    assert policy_to_cedar(template) == "permit(principal in ?principal, action, resource);"


def test_policy_set_with_links() -> None:
    pset = PolicySet.from_str(
        "permit(principal == ?principal, action, resource in ?resource);\n"
        "forbid(principal, action, resource);"
    )
    pset.link("policy0", "link1", {"?principal": 'User::"a"', "?resource": 'Folder::"f"'})
    data = policy_set_to_json(pset)
    assert list(data) == ["templates", "staticPolicies", "templateLinks"]
    assert data["templateLinks"] == [
        {
            "templateId": "policy0",
            "newId": "link1",
            "values": {"?principal": {"type": "User", "id": "a"}, "?resource": {"type": "Folder", "id": "f"}},
        }
    ]
    back = policy_set_from_json(data)
    assert policy_set_to_json(back) == data
    linked = back.policy("link1")
    assert linked is not None and linked.template_id == "policy0"
    assert policy_to_json(linked)["principal"] == {"op": "==", "entity": {"type": "User", "id": "a"}}
    assert policy_set_to_cedar(back, templates=False, linked=True) == cedarpy.policies_from_json_str(
        json.dumps(data)
    )


@pytest.mark.parametrize(
    "data",
    [
        {"staticPolicies": {}, "links": []},
        {
            "staticPolicies": {
                "p": {
                    "effect": "allow",
                    "principal": {"op": "All"},
                    "action": {"op": "All"},
                    "resource": {"op": "All"},
                    "conditions": [],
                }
            }
        },
        {
            "staticPolicies": {
                "p": {
                    "effect": "permit",
                    "principal": {"op": "=="},
                    "action": {"op": "All"},
                    "resource": {"op": "All"},
                    "conditions": [],
                }
            }
        },
        {
            "staticPolicies": {
                "p": {
                    "effect": "permit",
                    "principal": {"op": "All"},
                    "action": {"op": "All"},
                    "resource": {"op": "All"},
                    "conditions": [{"kind": "when", "body": {"nope": {}}}],
                }
            }
        },
        {
            "staticPolicies": {
                "p": {
                    "effect": "permit",
                    "principal": {"op": "==", "slot": "?principal"},
                    "action": {"op": "All"},
                    "resource": {"op": "All"},
                    "conditions": [],
                }
            }
        },
        {"templateLinks": [{"templateId": "missing", "newId": "x", "values": {}}]},
        "not json",
    ],
)
def test_bad_json_is_rejected(data: object) -> None:
    with pytest.raises(PolicyJsonError):
        policy_set_from_json(data if isinstance(data, str) else json.dumps(data))


def test_cedar_text_of_a_policy_reparses() -> None:
    text = 'permit(principal, action, resource) when { context["a b"].c has "if" && "x" like "*\\*" };'
    policy = Policy.from_str(text)
    again = Policy.from_str(policy_to_cedar(policy))
    assert policy_to_json(again) == policy_to_json(policy)
    assert est_policy_to_cedar(policy_to_json(policy)) == policy_to_cedar(policy)


def test_parse_error_surfaces() -> None:
    with pytest.raises(ParseError):
        PolicySet.from_str("permit(")


def test_long_chains_and_deep_nesting() -> None:
    chain = " && ".join(["context.a"] * 3000) + " || 1 + 2 - 3 * 4 > 0"
    nested = "[" * 450 + "1" + "]" * 450 + " == " + "(" * 300 + "-1" + ")" * 300
    for body in (chain, nested):
        pset = PolicySet.from_str(f"permit(principal, action, resource) when {{ {body} }};")
        data = policy_set_to_json(pset)
        back = policy_set_to_json(policy_set_from_json(data))
        with recursion_headroom(DEEP_FRAMES):  # comparing nested dicts recurses too
            assert back == data


def _policy(body: object = None, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "effect": "permit",
        "principal": {"op": "All"},
        "action": {"op": "All"},
        "resource": {"op": "All"},
        "conditions": [] if body is None else [{"kind": "when", "body": body}],
    }
    data.update(fields)
    return data


_PRINCIPAL = {"Var": "principal"}
EDGE_CASES = {
    "slot in a condition": _policy({"==": {"left": _PRINCIPAL, "right": {"Slot": "?principal"}}}),
    "method without receiver": _policy({"isIpv4": []}),
    "function with two arguments": _policy({"ip": [{"Value": "1.1.1.1"}, {"Value": "x"}]}),
    "unknown function": _policy({"foo": [{"Value": 1}]}),
    "value record and set": _policy({"==": {"left": {"Value": {"b": 1, "a": [2]}}, "right": {"Value": 1}}}),
    "value extension escape": _policy({"Value": {"__extn": {"fn": "ip", "arg": "1.1.1.1"}}}),
    "malformed escape is a record": _policy({"Value": {"__extn": {"fn": "ip"}}}),
    "entity escape beside a field is a record": _policy(
        {"Value": {"__entity": {"type": "A", "id": "b"}, "x": 1}}
    ),
    "expr escape": _policy({"Value": {"__expr": "1"}}),
    "null": _policy({"Value": None}),
    "float": _policy({"Value": 1.5}),
    "integer out of range": _policy({"Value": 2**63}),
    "unknown variable": _policy({"Var": "foo"}),
    "attribute not a string": _policy({".": {"left": {"Var": "context"}, "attr": 1}}),
    "reserved attribute": _policy({".": {"left": {"Var": "context"}, "attr": "if"}}),
    "reserved entity type": _policy({"is": {"left": _PRINCIPAL, "entity_type": "if"}}),
    "invalid entity type": _policy({"is": {"left": _PRINCIPAL, "entity_type": "A B"}}),
    "reserved uid type": _policy({"Value": {"__entity": {"type": "in", "id": "x"}}}),
    "extra operator field": _policy({"!": {"arg": {"Value": True}, "x": 1}}),
    "two operators": _policy({"!": {"arg": {"Value": True}}, "Var": "principal"}),
    "empty operator": _policy({}),
    "bad pattern": _policy({"like": {"left": {"Value": "a"}, "pattern": ["Star"]}}),
    "multi-character literal pattern": _policy(
        {"like": {"left": {"Value": "a"}, "pattern": [{"Literal": "ab"}, "Wildcard", "Wildcard"]}}
    ),
    "extended has": _policy({"has": {"left": {"Var": "context"}, "attr": ["a", "b"]}}),
    "method-style operator as a call": _policy({"contains": [{"Value": [1]}, {"Value": 1}]}),
    "reserved annotation key": _policy(annotations={"if": "x"}),
    "invalid annotation key": _policy(annotations={"a b": "x"}),
    "annotation not a string": _policy(annotations={"a": 1}),
    "annotations null": _policy(annotations=None),
    "action is": _policy(action={"op": "is", "entity_type": "Action"}),
    "action of another type": _policy(action={"op": "==", "entity": {"type": "User", "id": "a"}}),
    "action slot": _policy(action={"op": "==", "slot": "?principal"}),
    "wrong slot": _policy(principal={"op": "==", "slot": "?resource"}),
    "principal in a list": _policy(principal={"op": "in", "entities": [{"type": "User", "id": "a"}]}),
    "action == a list": _policy(action={"op": "==", "entities": [{"type": "Action", "id": "a"}]}),
    "action in an empty list": _policy(action={"op": "in", "entities": []}),
    "lower-case all": _policy(principal={"op": "all"}),
    "extra scope field": _policy(principal={"op": "All", "entity": {"type": "User", "id": "a"}}),
    "bad condition kind": _policy(conditions=[{"kind": "if", "body": {"Value": True}}]),
    "extra condition field": _policy(conditions=[{"kind": "when", "body": {"Value": True}, "x": 1}]),
    "no conditions": {k: v for k, v in _policy().items() if k != "conditions"},
    "extra policy field": _policy(foo=1),
    "bad effect": _policy(effect="allow"),
    "is in a list": _policy(principal={"op": "is", "entity_type": "User", "in": {"entities": []}}),
    "negated minimum": _policy({"neg": {"arg": {"Value": -(2**63)}}}),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
def test_json_acceptance_matches_rust(name: str) -> None:
    text = json.dumps({"staticPolicies": {"p": EDGE_CASES[name]}, "templates": {}, "templateLinks": []})
    try:
        want = cedarpy.policies_from_json_str(text)
    except Exception:  # cedarpy raises a bare ValueError with a generic message
        with pytest.raises(PolicyJsonError):
            policy_set_from_json(text)
        return
    got = policy_set_from_json(text)
    assert want and policy_set_to_cedar(got)
    # Rust reads what we write
    cedarpy.policies_from_json_str(json.dumps(policy_set_to_json(got)))


def test_duplicate_json_keys_are_rejected_like_rust() -> None:
    text = (
        '{"staticPolicies": {"p": {"effect": "permit", "principal": {"op": "All"}, "action": {"op": "All"},'
        ' "resource": {"op": "All"}, "conditions": [{"kind": "when", "body":'
        ' {"Record": {"a": {"Value": 1}, "a": {"Value": 2}}}}]}}}'
    )
    with pytest.raises(ValueError):
        cedarpy.policies_from_json_str(text[:-1] + ', "templates": {}, "templateLinks": []}')
    with pytest.raises(PolicyJsonError, match="duplicate key `a`"):
        policy_set_from_json(text)


def test_the_ast_records_valueless_annotations() -> None:
    parsed = Policy.from_str('@a @b("") permit(principal, action, resource);').ast
    assert parsed.annotations == {"a": "", "b": ""} and parsed.valueless == {"a"}
    read = policy_from_json(policy_to_json(parsed))
    assert read.ast.valueless == {"a"} and read.ast == parsed
