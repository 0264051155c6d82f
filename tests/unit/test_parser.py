"""Positive parser tests: the whole Cedar policy grammar parses, and means what Rust says.

Every construct is checked two ways:

* structurally, through the AST that :mod:`cedarlang.parser` builds, and
* behaviourally, by authorizing requests with :class:`cedarlang.Authorizer` and
  comparing the decision, the determining policies and the erroring policies
  with the Rust engine (``cedarpy``, cedar-policy 4.12) on the same text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import pytest

import cedarlang
from cedarlang import ast
from cedarlang.ast import BinaryOp, UnaryOp
from cedarlang.values import EntityUid

cedarpy = pytest.importorskip("cedarpy")

# --------------------------------------------------------------------------------------
# fixtures and oracle helpers
# --------------------------------------------------------------------------------------


def _uid(t: str, i: str) -> dict[str, str]:
    return {"type": t, "id": i}


ENTITIES: list[dict[str, Any]] = [
    {
        "uid": _uid("User", "alice"),
        "attrs": {
            "age": 30,
            "name": "Alice",
            "profile": {"address": {"zip": "12345"}, "nick": "al"},
            "roles": ["admin", "dev"],
            "if": "reserved words are fine as JSON attribute names",
        },
        "parents": [_uid("Group", "admins")],
        "tags": {"level": 3},
    },
    {"uid": _uid("User", "bob"), "attrs": {"age": 12}, "parents": [_uid("Group", "staff")]},
    {"uid": _uid("Group", "admins"), "attrs": {}, "parents": [_uid("Group", "staff")]},
    {"uid": _uid("Group", "staff"), "attrs": {}, "parents": []},
    {
        "uid": _uid("Photo", "p1"),
        "attrs": {"owner": {"__entity": _uid("User", "alice")}, "file": "a*b.jpg"},
        "parents": [_uid("Album", "vacation")],
    },
    {"uid": _uid("Album", "vacation"), "attrs": {}, "parents": []},
    {"uid": _uid("Action", "view"), "attrs": {}, "parents": [_uid("Action", "read")]},
    {"uid": _uid("Action", "read"), "attrs": {}, "parents": []},
    {"uid": _uid("Action", "write"), "attrs": {}, "parents": []},
    {"uid": _uid("NS::Inner::User", "bob"), "attrs": {}, "parents": [_uid("NS::Inner::Group", "g")]},
    {"uid": _uid("NS::Inner::Group", "g"), "attrs": {}, "parents": []},
    {"uid": _uid("NS::Action", "edit"), "attrs": {}, "parents": [_uid("NS::Action", "all")]},
    {"uid": _uid("NS::Action", "all"), "attrs": {}, "parents": []},
]

DEFAULT_REQUEST: dict[str, Any] = {
    "principal": 'User::"alice"',
    "action": 'Action::"view"',
    "resource": 'Photo::"p1"',
    "context": {"n": 5, "s": "hello", "flag": True, "nested": {"a": {"b": 1}}, "list": [1, 2, 3]},
}

_ERR_RE = re.compile(r"^error while evaluating policy `([^`]*)`")

Outcome = tuple[str, frozenset[str], frozenset[str]]
"""(decision, determining policy ids, erroring policy ids)"""


def _request(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    req = dict(DEFAULT_REQUEST)
    req.update(overrides or {})
    return req


def mine(
    policies: str | cedarlang.PolicySet,
    request: Mapping[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Outcome:
    req = _request(request)
    pset = policies if isinstance(policies, cedarlang.PolicySet) else cedarlang.PolicySet.from_str(policies)
    response = cedarlang.Authorizer().is_authorized(
        cedarlang.Request(req["principal"], req["action"], req["resource"], req["context"]),
        pset,
        cedarlang.Entities.from_json(ENTITIES if entities is None else entities),
    )
    decision = "Allow" if response.allowed else "Deny"
    return decision, frozenset(response.reasons), frozenset(e.policy_id for e in response.errors)


def rust(
    policies: Any, request: Mapping[str, Any] | None = None, entities: list[dict[str, Any]] | None = None
) -> Outcome:
    req = _request(request)
    result = cedarpy.is_authorized(req, policies, json.dumps(ENTITIES if entities is None else entities))
    errors = result.diagnostics.errors
    decision = result.decision.value
    assert decision in ("Allow", "Deny"), f"cedarpy could not decide: {decision} {errors}"
    erroring = set()
    for message in errors:
        m = _ERR_RE.match(message)
        assert m, f"unexpected cedarpy diagnostic: {message!r}"
        erroring.add(m.group(1))
    return decision, frozenset(result.diagnostics.reasons), frozenset(erroring)


def agree(
    policies: str, request: Mapping[str, Any] | None = None, entities: list[dict[str, Any]] | None = None
) -> Outcome:
    """Decide with both engines, assert they agree, return the outcome."""
    ours = mine(policies, request, entities)
    theirs = rust(policies, request, entities)
    assert ours == theirs, f"cedarlang {ours} != Rust {theirs} for:\n{policies}"
    return ours


def when(expr: str) -> str:
    return f"permit(principal, action, resource) when {{ {expr} }};"


def value_of(expr: str, request: Mapping[str, Any] | None = None) -> bool | str:
    """``True``/``False`` if ``expr`` evaluates to that boolean (both engines agree), else ``"error"``."""
    decision, _reasons, errors = agree(when(expr), request)
    if errors:
        return "error"
    return decision == "Allow"


def rust_accepts(text: str) -> None:
    cedarpy.PolicySet.from_str(text)  # raises ValueError on a parse error


def policy_of(pset: cedarlang.PolicySet, policy_id: str) -> cedarlang.Policy:
    policy = pset.policy(policy_id)
    assert policy is not None, f"no policy {policy_id}"
    return policy


def template_of(pset: cedarlang.PolicySet, template_id: str) -> cedarlang.Template:
    template = pset.template(template_id)
    assert template is not None, f"no template {template_id}"
    return template


def lit(v: Any) -> ast.Lit:
    return ast.Lit(v)


def var(name: str) -> ast.Var:
    return ast.Var(name)


def E(text: str) -> ast.Expr:
    return cedarlang.parse_expression(text)


# --------------------------------------------------------------------------------------
# policy sets, ids, effects
# --------------------------------------------------------------------------------------


def test_policy_ids_follow_text_order_and_templates_share_the_counter() -> None:
    text = """
        permit(principal, action, resource);
        forbid(principal == User::"bob", action, resource);
        permit(principal == ?principal, action, resource);
        @id("last") permit(principal, action, resource in ?resource);
        forbid(principal, action, resource) when { false };
    """
    pset = cedarlang.PolicySet.from_str(text)
    assert [p.id for p in pset.policies()] == ["policy0", "policy1", "policy4"]
    assert [t.id for t in pset.templates()] == ["policy2", "policy3"]
    assert policy_of(pset, "policy0").effect is cedarlang.Effect.PERMIT
    assert policy_of(pset, "policy1").effect is cedarlang.Effect.FORBID
    assert template_of(pset, "policy2").slots == ("?principal",)
    assert template_of(pset, "policy3").slots == ("?resource",)
    assert dict(template_of(pset, "policy3").annotations) == {"id": "last"}
    rust_accepts(text)
    handle = cedarpy.PolicySet.from_str(text)
    assert sorted(t["id"] for t in handle.templates()) == ["policy2", "policy3"]


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t ", "// nothing but a comment", "// one\n// two\n", "\n\n// x\n   // y"],
    ids=["empty", "whitespace", "comment-no-newline", "comments", "mixed"],
)
def test_empty_policy_sets(text: str) -> None:
    pset = cedarlang.PolicySet.from_str(text)
    assert len(pset) == 0 and pset.templates() == []
    assert agree(text) == ("Deny", frozenset(), frozenset())


def test_policy_text_is_kept() -> None:
    text = (
        '  @a("1")\npermit(principal, action, resource)\nwhen { true };  \n'
        "forbid(principal, action, resource);"
    )
    pset = cedarlang.PolicySet.from_str(text)
    assert str(policy_of(pset, "policy0")) == '@a("1")\npermit(principal, action, resource)\nwhen { true };'
    assert str(policy_of(pset, "policy1")) == "forbid(principal, action, resource);"


def test_forbid_overrides_permit() -> None:
    text = "permit(principal, action, resource);\nforbid(principal, action, resource) when { context.flag };"
    assert agree(text) == ("Deny", frozenset({"policy1"}), frozenset())
    assert agree(text, {"context": {"flag": False}}) == ("Allow", frozenset({"policy0"}), frozenset())


# --------------------------------------------------------------------------------------
# annotations
# --------------------------------------------------------------------------------------


def test_annotations_with_and_without_values_and_reserved_word_keys() -> None:
    text = """
        @id("p-1")
        @valueless
        @if("reserved words are fine as annotation keys")
        @true @false @in("in") @is("is") @has("has") @like("like") @then("t") @else("e")
        @permit("p") @forbid("f") @when("w") @unless("u")
        @principal("pr") @action("ac") @resource("re") @context("co")
        @__cedar("the reserved namespace too")
        @escaped("tab\\there \\u{1F600} \\x41 \\"q\\" \\\\")
        @_under_score9("x")
        permit(principal, action, resource);
    """
    pset = cedarlang.PolicySet.from_str(text)
    annotations = dict(policy_of(pset, "policy0").annotations)
    assert annotations == {
        "id": "p-1",
        "valueless": "",
        "if": "reserved words are fine as annotation keys",
        "true": "",
        "false": "",
        "in": "in",
        "is": "is",
        "has": "has",
        "like": "like",
        "then": "t",
        "else": "e",
        "permit": "p",
        "forbid": "f",
        "when": "w",
        "unless": "u",
        "principal": "pr",
        "action": "ac",
        "resource": "re",
        "context": "co",
        "__cedar": "the reserved namespace too",
        "escaped": 'tab\there \U0001f600 A "q" \\',
        "_under_score9": "x",
    }
    assert policy_of(pset, "policy0").annotation("valueless") == ""
    assert policy_of(pset, "policy0").annotation("missing") is None
    rust_accepts(text)
    assert agree(text) == ("Allow", frozenset({"policy0"}), frozenset())


def test_annotations_on_templates_and_spacing() -> None:
    text = '@ id ( "x" )\n@\nnote\npermit(principal == ?principal, action, resource);'
    pset = cedarlang.PolicySet.from_str(text)
    assert dict(template_of(pset, "policy0").annotations) == {"id": "x", "note": ""}
    rust_accepts(text)


# --------------------------------------------------------------------------------------
# the scope
# --------------------------------------------------------------------------------------

SCOPE_CASES: list[tuple[str, dict[str, Any], bool]] = [
    # principal
    ("principal, action, resource", {}, True),
    ('principal == User::"alice", action, resource', {}, True),
    ('principal == User::"bob", action, resource', {}, False),
    ('principal in Group::"admins", action, resource', {}, True),
    ('principal in Group::"staff", action, resource', {}, True),  # transitive
    ('principal in User::"alice", action, resource', {}, True),  # in is reflexive
    ('principal in Group::"staff", action, resource', {"principal": 'User::"carol"'}, False),
    ("principal is User, action, resource", {}, True),
    ("principal is Group, action, resource", {}, False),
    ('principal is User in Group::"staff", action, resource', {}, True),
    ('principal is Group in Group::"staff", action, resource', {}, False),
    ('principal is User in User::"alice", action, resource', {}, True),
    (
        'principal is NS::Inner::User in NS::Inner::Group::"g", action, resource',
        {"principal": 'NS::Inner::User::"bob"'},
        True,
    ),
    ('principal == NS::Inner::User::"bob", action, resource', {"principal": 'NS::Inner::User::"bob"'}, True),
    ('principal in (Group::"admins"), action, resource', {}, True),
    ('principal == ((User::"alice")), action, resource', {}, True),
    # action
    ('principal, action == Action::"view", resource', {}, True),
    ('principal, action == Action::"read", resource', {}, False),
    ('principal, action in Action::"read", resource', {}, True),
    ('principal, action in [Action::"write", Action::"read"], resource', {}, True),
    ('principal, action in [Action::"write"], resource', {}, False),
    ("principal, action in [], resource", {}, False),
    ('principal, action in [Action::"view",], resource', {}, True),
    ('principal, action == NS::Action::"edit", resource', {"action": 'NS::Action::"edit"'}, True),
    ('principal, action in [NS::Action::"all"], resource', {"action": 'NS::Action::"edit"'}, True),
    ('principal, action in NS::Action::"all", resource', {"action": 'NS::Action::"edit"'}, True),
    # resource
    ('principal, action, resource == Photo::"p1"', {}, True),
    ('principal, action, resource in Album::"vacation"', {}, True),
    ('principal, action, resource in Album::"other"', {}, False),
    ("principal, action, resource is Photo", {}, True),
    ('principal, action, resource is Photo in Album::"vacation"', {}, True),
    ('principal, action, resource is Album in Album::"vacation"', {}, False),
    # everything at once, odd spacing, trailing comma
    (
        'principal is User in Group::"admins" , action in [Action::"read"] , '
        'resource is Photo in Album::"vacation" ,',
        {},
        True,
    ),
    ('\n  principal\n  ==\n  User\n  ::\n  "alice"\n,\naction\n,\nresource\n', {}, True),
]


@pytest.mark.parametrize(
    ("scope", "request_overrides", "expected"),
    SCOPE_CASES,
    ids=[f"scope{i}" for i in range(len(SCOPE_CASES))],
)
def test_scope_forms(scope: str, request_overrides: dict[str, Any], expected: bool) -> None:
    text = f"permit({scope});"
    pset = cedarlang.PolicySet.from_str(text)
    assert len(pset) == 1
    decision, _reasons, errors = agree(text, request_overrides)
    assert errors == frozenset()
    assert (decision == "Allow") is expected


def test_scope_ast_shapes() -> None:
    text = """
        permit(principal, action, resource);
        permit(principal == User::"a", action == Action::"v", resource == Photo::"p");
        permit(principal in Group::"g", action in Action::"r", resource in Album::"a");
        permit(principal is User, action in [Action::"a", Action::"b"], resource is Photo);
        permit(principal is User in Group::"g", action, resource is NS::Photo in NS::Album::"x");
        permit(principal == ?principal, action, resource in ?resource);
        permit(principal is User in ?principal, action, resource == ?resource);
    """
    asts = [p.ast for p in cedarlang.PolicySet.from_str(text).policies()] + [
        t.ast for t in cedarlang.PolicySet.from_str(text).templates()
    ]
    SC, Op = ast.ScopeConstraint, ast.ScopeOp
    U = EntityUid
    expected = [
        (SC(), SC(), SC()),
        (SC(Op.EQ, U("User", "a")), SC(Op.EQ, U("Action", "v")), SC(Op.EQ, U("Photo", "p"))),
        (SC(Op.IN, U("Group", "g")), SC(Op.IN, U("Action", "r")), SC(Op.IN, U("Album", "a"))),
        (
            SC(Op.IS, None, "User"),
            SC(Op.IN, ast.EntityList((U("Action", "a"), U("Action", "b")))),
            SC(Op.IS, None, "Photo"),
        ),
        (SC(Op.IS_IN, U("Group", "g"), "User"), SC(), SC(Op.IS_IN, U("NS::Album", "x"), "NS::Photo")),
        (SC(Op.EQ, "?principal"), SC(), SC(Op.IN, "?resource")),
        (SC(Op.IS_IN, "?principal", "User"), SC(), SC(Op.EQ, "?resource")),
    ]
    assert [(a.principal, a.action, a.resource) for a in asts] == expected
    rust_accepts(text)


def test_reserved_looking_entity_types_are_fine_when_not_reserved() -> None:
    # `principal`, `permit`, `when`, ... are only keywords in context: as type names they are ordinary
    text = """
        permit(principal == principal::"x", action, resource);
        permit(principal, action, resource is permit) when { resource is when };
        permit(principal is context, action, resource) when { principal == context::"c" };
    """
    pset = cedarlang.PolicySet.from_str(text)
    assert len(pset) == 3
    rust_accepts(text)
    for req in ({"principal": 'principal::"x"'}, {"resource": 'permit::"r"'}, {"principal": 'context::"c"'}):
        agree(text, req)


# --------------------------------------------------------------------------------------
# templates
# --------------------------------------------------------------------------------------


def test_templates_parse_link_and_decide_like_rust() -> None:
    text = """
        permit(principal == ?principal, action == Action::"view", resource in ?resource)
        when { context.flag };
        forbid(principal in ?principal, action, resource) unless { context.n > 3 };
        permit(principal is User in ?principal, action, resource);
    """
    pset = cedarlang.PolicySet.from_str(text)
    assert [t.id for t in pset.templates()] == ["policy0", "policy1", "policy2"]
    assert pset.policies() == []
    assert template_of(pset, "policy0").slots == ("?principal", "?resource")
    assert template_of(pset, "policy1").slots == ("?principal",)

    handle = cedarpy.PolicySet.from_str(text)
    links = [
        ("policy0", "link0", {"?principal": 'User::"alice"', "?resource": 'Album::"vacation"'}),
        ("policy1", "link1", {"?principal": 'Group::"staff"'}),
        ("policy2", "link2", {"?principal": 'Group::"admins"'}),
    ]
    for template_id, new_id, values in links:
        pset.link(template_id, new_id, values)
        handle = handle.with_linked(template_id, new_id, values)
    for request in (
        {},
        {"context": {"flag": True, "n": 1}},
        {"principal": 'User::"bob"'},
        {"context": {"flag": False, "n": 9}},
    ):
        ours, theirs = mine(pset, request), rust(handle, request)
        assert ours == theirs


def test_link_many_links_all_or_nothing() -> None:
    text = """
        permit(principal == ?principal, action, resource in ?resource);
        forbid(principal in ?principal, action, resource);
    """
    pset = cedarlang.PolicySet.from_str(text)
    links = [
        {
            "template_id": "policy0",
            "new_id": "a",
            "values": {"?principal": 'User::"u"', "?resource": 'F::"f"'},
        },
        {"template_id": "policy1", "new_id": "b", "values": {"?principal": {"type": "G", "id": "g"}}},
    ]
    linked = pset.link_many(links)
    assert [p.id for p in linked] == ["a", "b"]
    assert {p.id for p in pset.policies()} == {"a", "b"}
    request = cedarlang.Request('User::"u"', 'Action::"x"', 'F::"f"')
    assert cedarlang.Authorizer().is_authorized(request, pset, cedarlang.Entities()).reasons == {"a"}

    bad_batches: list[list[dict[str, Any]]] = [
        [{"template_id": "policy1", "new_id": "c", "values": {"?principal": 'G::"h"'}}, links[0]],  # dup id
        [{"template_id": "policy1", "new_id": "d", "values": {"?principal": 'G::"h"'}}, {"new_id": "e"}],
        [{"template_id": "nope", "new_id": "f", "values": {}}],
        [{"template_id": "policy1", "new_id": "g", "values": {"?resource": 'F::"f"'}}],
    ]
    for batch in bad_batches:
        with pytest.raises(cedarlang.CedarError):
            pset.link_many(batch)
        assert {p.id for p in pset.policies()} == {"a", "b"}, batch
    assert cedarlang.Authorizer().is_authorized(request, pset, cedarlang.Entities()).reasons == {"a"}


def test_slot_in_scope_only_makes_a_template() -> None:
    text = "permit(principal, action, resource == ?resource);"
    pset = cedarlang.PolicySet.from_str(text)
    assert len(pset) == 0
    assert len(pset.templates()) == 1


# --------------------------------------------------------------------------------------
# when / unless
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ("when { true }", True),
        ("when { false }", False),
        ("unless { false }", True),
        ("unless { true }", False),
        ("when { true } when { true } unless { false }", True),
        ("when { true } unless { false } when { false }", False),
        ("unless { false } unless { false } unless { context.flag }", False),
        ('when { context.n == 5 } unless { context.s == "bye" }', True),
        ("when\n{\ncontext.flag\n}\nunless\n{\n!context.flag\n}", True),
        ("when{true}unless{false}", True),
    ],
)
def test_when_and_unless(conditions: str, expected: bool) -> None:
    text = f"permit(principal, action, resource) {conditions};"
    decision, _reasons, errors = agree(text)
    assert not errors
    assert (decision == "Allow") is expected
    policy = policy_of(cedarlang.PolicySet.from_str(text), "policy0")
    kinds = [c.is_when for c in policy.ast.conditions]
    assert kinds == [m == "when" for m in re.findall(r"\b(when|unless)\b", conditions)]


def test_error_in_condition_skips_the_policy_like_rust() -> None:
    text = (
        "permit(principal, action, resource) when { context.missing };\n"
        "permit(principal, action, resource) when { 1 + true == 2 };\n"
        "forbid(principal, action, resource) unless { context.n };\n"
        "permit(principal, action, resource) when { context.flag };"
    )
    assert agree(text) == ("Allow", frozenset({"policy3"}), frozenset({"policy0", "policy1", "policy2"}))


# --------------------------------------------------------------------------------------
# operators and precedence
# --------------------------------------------------------------------------------------

PRECEDENCE_CASES: list[tuple[str, bool | str]] = [
    # * over +, + over relations, relations over &&, && over ||
    ("1 + 2 * 3 == 7", True),
    ("2 * 3 + 1 == 7", True),
    ("(1 + 2) * 3 == 9", True),
    ("10 - 2 - 3 == 5", True),  # left associative
    ("10 - (2 - 3) == 11", True),
    ("2 * 3 * 4 == 24", True),
    ("1 + 2 < 4", True),
    ("true || false && false", True),
    ("(true || false) && false", False),
    ("false && true || true", True),
    ("!true || true", True),
    ("!(true || true)", False),
    ("!false && false", False),
    ("!!true", True),
    ("!!!!false", False),
    ("-2 * 3 == -6", True),
    ("- 2 - 3 == -5", True),
    ("-(2 - 3) == 1", True),
    ("--1 == 1", True),
    ("----7 == 7", True),
    ("-context.n == -5", True),
    ("2 - -3 == 5", True),
    ("3*-1 == -3", True),
    # if-then-else is the loosest: the else branch swallows `||`
    ("if true then false else true || true", False),
    ("if false then false else true || false", True),
    ("(if false then 1 else 2) + 1 == 3", True),
    ("if 1 < 2 then context.flag else false", True),
    ("if if true then false else true then false else true", True),
    ("if true then 1 else 2 == 1", "error"),  # the `then` value 1 is not a boolean
    # short circuit hides errors on the right
    ('false && (1 + "a" == 2)', False),
    ("true || context.missing", True),
    ("true && context.missing", "error"),
    ("if false then context.missing else true", True),
    # relations
    ("1 != 2", True),
    ("2 > 1 && 2 >= 2 && 1 < 2 && 1 <= 1", True),
    ('"a" == "a"', True),
    ("[1, 2] == [2, 1]", True),
    ("{a: 1, b: 2} == {b: 2, a: 1}", True),
    ('1 == "1"', False),
    ('1 < "2"', "error"),
    # member access binds tightest
    ("context.list.contains(2)", True),
    ("[1, 2, 3].containsAll([1, 3]) && [1].containsAny([3, 1])", True),
    ("[].isEmpty() && ![1].isEmpty()", True),
    ("context.nested.a.b + 1 == 2", True),
    ('context["nested"]["a"].b == 1', True),
    ('{"a b": {c: 7}}["a b"].c == 7', True),
    ("!context.flag == false", True),
    ('principal.hasTag("level") && principal.getTag("level") == 3', True),
    # in / is / has / like combine with && and ||
    ('principal in Group::"staff" && principal is User', True),
    ('principal is User in Group::"admins" || false', True),
    ('principal is Group in Group::"admins" || false', False),
    ('(principal in Group::"admins") == true', True),
    ('principal in [Group::"x", Group::"admins"]', True),
    ("context has n && context.n == 5", True),
    ("context has missing && context.missing == 5", False),
    ('resource.file like "a\\*b.*" && true', True),
    ("!(context has missing)", True),
    ("!context has missing", "error"),  # `!` applies to `context` first
    ("if context has n then context.n == 5 else false", True),
]


@pytest.mark.parametrize(("expr", "expected"), PRECEDENCE_CASES, ids=[c[0] for c in PRECEDENCE_CASES])
def test_operator_precedence_matches_rust(expr: str, expected: bool | str) -> None:
    assert value_of(expr) == expected


def test_precedence_ast_shapes() -> None:
    one, two, three = lit(1), lit(2), lit(3)
    assert E("1 + 2 * 3") == ast.Binary(BinaryOp.ADD, one, ast.Binary(BinaryOp.MUL, two, three))
    assert E("1 - 2 - 3") == ast.Binary(BinaryOp.SUB, ast.Binary(BinaryOp.SUB, one, two), three)
    assert E("true || false && true") == ast.Or(lit(True), ast.And(lit(False), lit(True)))
    assert E('a::"x" in b::"y" && 1 < 2') == ast.And(
        ast.Binary(BinaryOp.IN, lit(EntityUid("a", "x")), lit(EntityUid("b", "y"))),
        ast.Binary(BinaryOp.LT, one, two),
    )
    assert E("!principal.admin") == ast.Unary(UnaryOp.NOT, ast.GetAttr(var("principal"), "admin"))
    assert E("-context.n") == ast.Unary(UnaryOp.NEG, ast.GetAttr(var("context"), "n"))
    assert E("-1") == lit(-1)
    assert E("--1") == ast.Unary(UnaryOp.NEG, lit(-1))
    assert E("!!true") == ast.Unary(UnaryOp.NOT, ast.Unary(UnaryOp.NOT, lit(True)))
    assert E("if true then 1 else 2 + 3") == ast.If(lit(True), one, ast.Binary(BinaryOp.ADD, two, three))
    assert E("1 + 2 == 3") == ast.Binary(BinaryOp.EQ, ast.Binary(BinaryOp.ADD, one, two), three)
    assert E("1 != 2") == ast.Binary(BinaryOp.NE, one, two)
    assert E("1 >= 2") == ast.Binary(BinaryOp.GE, one, two)
    assert E("[].isEmpty()") == ast.Unary(UnaryOp.IS_EMPTY, ast.SetLit(()))
    assert E("[1].contains(2)") == ast.Binary(BinaryOp.CONTAINS, ast.SetLit((one,)), two)
    assert E('ip("1.2.3.4").isIpv4()') == ast.ExtCall("isIpv4", (ast.ExtCall("ip", (lit("1.2.3.4"),)),))
    assert E('{a: 1, "b c": [true]}') == ast.RecordLit((("a", one), ("b c", ast.SetLit((lit(True),)))))
    assert E('context["a"].b') == ast.GetAttr(ast.GetAttr(var("context"), "a"), "b")
    assert E("(((1)))") == one


# --------------------------------------------------------------------------------------
# has (extended), like, is, in
# --------------------------------------------------------------------------------------


def test_extended_has_desugars_and_short_circuits() -> None:
    p = var("principal")
    expected = ast.And(
        ast.And(ast.HasAttr(p, "profile"), ast.HasAttr(ast.GetAttr(p, "profile"), "address")),
        ast.HasAttr(ast.GetAttr(ast.GetAttr(p, "profile"), "address"), "zip"),
    )
    assert E("principal has profile.address.zip") == expected
    assert E('principal has "a b"') == ast.HasAttr(p, "a b")
    assert E("principal has principal") == ast.HasAttr(p, "principal")
    assert E("principal has permit.when") == ast.And(
        ast.HasAttr(p, "permit"), ast.HasAttr(ast.GetAttr(p, "permit"), "when")
    )


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("principal has profile.address.zip", True),
        ("principal has profile.address.street", False),
        ("principal has profile.nope.zip", False),  # short-circuits: no error on the missing `nope`
        ("principal has nope.address", False),
        ("principal has profile . address . zip", True),
        ('principal has "profile"', True),
        ("principal has age && principal.age >= 18", True),
        ("context has nested.a.b", True),
        ("context has nested.a.c", False),
        ("context has s.x", "error"),  # `context.s` is a string: `has` on it is a type error
        ("{a: {b: 1}} has a.b", True),
        ('principal has roles && principal.roles.contains("dev")', True),
    ],
)
def test_has_evaluation(expr: str, expected: bool | str) -> None:
    assert value_of(expr) == expected


LIKE_CASES: list[tuple[str, str, bool]] = [
    ("a*b.jpg", r"a\*b.jpg", True),  # escaped star is a literal star
    ("axb.jpg", r"a\*b.jpg", False),
    ("axb.jpg", "a*b.jpg", True),  # bare star is a wildcard
    ("a*b.jpg", "*", True),
    ("", "*", True),
    ("", "", True),
    ("abc", "", False),
    ("abc", "a**c", True),
    ("abc", "*b*", True),
    ("abc", "*d*", False),
    ("***", r"\*\*\*", True),
    ("**", r"\*\*\*", False),
    ("a\\b", r"a\\b", True),  # escaped backslash
    ("tab\there", r"tab\there", True),
    ("\U0001f600x", r"\u{1F600}*", True),
    ("A", r"\x41", True),
    ("\n", "*", True),
    ('say "hi"', r"say \"*\"", True),
]


@pytest.mark.parametrize(
    ("subject", "pattern", "expected"), LIKE_CASES, ids=[f"like{i}" for i in range(len(LIKE_CASES))]
)
def test_like_patterns_and_star_escapes(subject: str, pattern: str, expected: bool) -> None:
    expr = f'context.subject like "{pattern}"'
    assert value_of(expr, {"context": {"subject": subject}}) is expected


def test_like_pattern_ast() -> None:
    assert E(r'"x" like "a*b\*c"') == ast.Like(lit("x"), ("a", None, "b*c"))
    assert E(r'"x" like "**"') == ast.Like(lit("x"), (None, None))
    assert E(r'"x" like "\*"') == ast.Like(lit("x"), ("*",))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("principal is User", True),
        ("principal is Group", False),
        ('principal is User in Group::"staff"', True),
        ('principal is User in [Group::"staff"]', True),
        ('principal is User in User::"bob"', False),
        ('resource is Photo in Album::"vacation"', True),
        ("resource.owner is User", True),
        ('User::"x" is User', True),
        ('NS::Inner::User::"bob" is NS::Inner::User', True),
        ('NS::Inner::User::"bob" is User', False),
        ('NS::Inner::User::"bob" in NS::Inner::Group::"g"', True),
        ("1 is User", "error"),  # `is` needs an entity
        ("principal in principal", True),
        ("principal in [principal]", True),
        ("principal in []", False),
        ('principal in Group::"nobody"', False),
        ('User::"ghost" in Group::"staff"', False),
        ('action in Action::"read"', True),
        ('action in [Action::"write", Action::"read"]', True),
        ("1 in [1]", "error"),
    ],
)
def test_is_and_in(expr: str, expected: bool | str) -> None:
    assert value_of(expr) == expected


# --------------------------------------------------------------------------------------
# literals, trailing commas, namespaces
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr",
    [
        "[1, 2, 3,] == [1, 2, 3]",
        "{a: 1, b: 2,} == {a: 1, b: 2}",
        "[1,].contains(1,)",
        "[1].containsAll([1,],)",
        'ip("1.2.3.4",).isIpv4()',
        'decimal("1.5",).lessThan(decimal("2.5"),)',
        "[[],] == [[]]",
        '{"k": [1,],} == {k: [1]}',
    ],
)
def test_trailing_commas(expr: str) -> None:
    assert value_of(expr) is True


def test_trailing_comma_in_scope() -> None:
    text = 'permit(principal == User::"alice", action, resource,);'
    assert agree(text)[0] == "Allow"


def test_empty_collections() -> None:
    assert E("[]") == ast.SetLit(())
    assert E("{}") == ast.RecordLit(())
    assert value_of("[] == [] && {} == {} && [].isEmpty()") is True


@pytest.mark.parametrize(
    ("expr", "uid"),
    [
        ('User::"alice"', EntityUid("User", "alice")),
        ('A::B::C::"x"', EntityUid("A::B::C", "x")),
        ('A :: B :: "x"', EntityUid("A::B", "x")),
        ('NS::Action::"edit"', EntityUid("NS::Action", "edit")),
        ('User::""', EntityUid("User", "")),
        ('User::"with \\"quotes\\" and \\\\"', EntityUid("User", 'with "quotes" and \\')),
        ('_x9::Y_::"\\u{1F600}"', EntityUid("_x9::Y_", "\U0001f600")),
        ('User::"a b\\nc"', EntityUid("User", "a b\nc")),
    ],
)
def test_entity_literals_and_namespaces(expr: str, uid: EntityUid) -> None:
    assert E(expr) == lit(uid)
    assert value_of(f"{expr} == {expr}") is True


def test_namespaced_types_in_is_and_scope() -> None:
    text = (
        'permit(principal is NS::Inner::User, action in NS::Action::"all", resource) '
        "when { principal is NS::Inner::User };"
    )
    assert agree(text, {"principal": 'NS::Inner::User::"bob"', "action": 'NS::Action::"edit"'})[0] == "Allow"
    assert agree(text)[0] == "Deny"


def test_function_call_shapes() -> None:
    assert E('ip("10.0.0.1")') == ast.ExtCall("ip", (lit("10.0.0.1"),))
    assert E('decimal("1.0").lessThan(decimal("2.0"))') == ast.ExtCall(
        "lessThan", (ast.ExtCall("decimal", (lit("1.0"),)), ast.ExtCall("decimal", (lit("2.0"),)))
    )
    assert value_of('ip("10.0.0.1").isInRange(ip("10.0.0.0/8"))') is True
    assert value_of('datetime("2024-01-01").offset(duration("1d")) > datetime("2024-01-01")') is True


# --------------------------------------------------------------------------------------
# strings and escapes
# --------------------------------------------------------------------------------------

ESCAPES: list[tuple[str, str]] = [
    (r"\n", "\n"),
    (r"\r", "\r"),
    (r"\t", "\t"),
    (r"\0", "\0"),
    (r"\\", "\\"),
    (r"\'", "'"),
    (r"\"", '"'),
    (r"\x41", "A"),
    (r"\x00", "\0"),
    (r"\x7F", "\x7f"),
    (r"\x7f", "\x7f"),
    (r"\u{41}", "A"),
    (r"\u{1F600}", "\U0001f600"),
    (r"\u{1f600}", "\U0001f600"),
    (r"\u{0}", "\0"),
    (r"\u{000041}", "A"),
    (r"\u{10FFFF}", "\U0010ffff"),
    (r"\u{1_F600}", "\U0001f600"),
    (r"\u{D7FF}", "\ud7ff"),
    (r"\u{E000}", "\ue000"),
    ("plain", "plain"),
    ("ünïcödé ☃ 😀", "ünïcödé ☃ 😀"),
    ("a\tb", "a\tb"),  # raw tab
    ("a\nb", "a\nb"),  # raw newline inside a literal
    ("'single'", "'single'"),
    ("*", "*"),
    ("// not a comment", "// not a comment"),
    (r"\x41\u{42}C\n", "ABC\n"),
]


@pytest.mark.parametrize(("body", "value"), ESCAPES, ids=[repr(b) for b, _ in ESCAPES])
def test_string_escapes(body: str, value: str) -> None:
    assert E(f'"{body}"') == lit(value)
    # and Rust reads the literal the same way: compare it with the context value
    assert value_of(f'context.v == "{body}"', {"context": {"v": value}}) is True


def test_string_escapes_in_entity_ids_and_record_keys() -> None:
    assert E(r'User::"\x41\u{42}"') == lit(EntityUid("User", "AB"))
    assert E(r'{"\x41": 1}') == ast.RecordLit((("A", lit(1)),))
    assert E(r'context has "\u{41}"') == ast.HasAttr(var("context"), "A")
    assert E(r'context["\x41"]') == ast.GetAttr(var("context"), "A")
    assert value_of(r'context has "\u{6e}" && context["\x6e"] == 5') is True


def test_big_and_unusual_strings() -> None:
    big = "x" * 100_000
    assert E(f'"{big}"') == lit(big)
    assert value_of(f'context.v == "{big}"', {"context": {"v": big}}) is True


# --------------------------------------------------------------------------------------
# comments and whitespace
# --------------------------------------------------------------------------------------


def test_comments_everywhere() -> None:
    text = """// leading comment
@id("x") // after an annotation
permit // after the effect
( // after the paren
  principal // after principal
  == // after ==
  User::"alice" // after the uid
  , action // after action
  , resource // after resource
) // after the scope
when // after when
{ // after the brace
  context.s == "// not a comment" // after an expression
  && context.n == 5
} // after the clause
; // after the semicolon
// trailing comment without newline"""
    pset = cedarlang.PolicySet.from_str(text)
    assert len(pset) == 1
    assert agree(text, {"context": {"s": "// not a comment", "n": 5}})[0] == "Allow"


def test_comment_directly_followed_by_code_on_next_line_and_crlf() -> None:
    text = "permit(principal, action, resource)//c\r\nwhen { true }//c\r;"
    assert agree(text)[0] == "Allow"


@pytest.mark.parametrize(
    "ws",
    [
        " ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "\x0b",
        "\x0c",
        "\u0085",
        "\u00a0",
        "\u1680",
        "\u2000",
        "\u2003",
        "\u200a",
        "\u2028",
        "\u2029",
        "\u202f",
        "\u205f",
        "\u3000",
    ],
    ids=lambda w: f"U+{ord(w[0]):04X}",
)
def test_unicode_whitespace_separates_tokens(ws: str) -> None:
    # Rust's lexer skips `\s*`: every Unicode White_Space character
    text = f"permit(principal,{ws}action,{ws}resource){ws}when{ws}{{{ws}1{ws}+{ws}1{ws}=={ws}2{ws}}};"
    assert agree(text)[0] == "Allow"


@pytest.mark.parametrize(
    "ch", ["\u200b", "\u180e", "\ufeff", "\u2060", "\x1f", "\x00"], ids=lambda c: f"U+{ord(c):04X}"
)
def test_other_invisible_characters_are_not_whitespace(ch: str) -> None:
    text = f"permit(principal,{ch}action, resource);"
    with pytest.raises(cedarlang.ParseError) as info:
        cedarlang.PolicySet.from_str(text)
    assert (info.value.line, info.value.column) == (1, 18)
    with pytest.raises(ValueError):
        rust_accepts(text)


# --------------------------------------------------------------------------------------
# integers
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("0", 0),
        ("007", 7),
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775807", -(2**63) + 1),
        ("-9223372036854775808", -(2**63)),
        ("- 9223372036854775808", -(2**63)),
        ("-\n9223372036854775808", -(2**63)),
    ],
)
def test_integer_literal_boundaries(expr: str, value: int) -> None:
    assert E(expr) == lit(value)
    assert value_of(f"{expr} == context.v", {"context": {"v": value}}) is True


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("-9223372036854775808 < -9223372036854775807", True),
        ("-9223372036854775808 == -9223372036854775807 - 1", True),
        ("9223372036854775807 + 1 > 0", "error"),  # overflow at run time
        ("-9223372036854775808 - 1 < 0", "error"),
        ("--9223372036854775808 > 0", "error"),  # negating i64::MIN overflows
        ("-(-9223372036854775807) == 9223372036854775807", True),
        ("9223372036854775807 * 2 > 0", "error"),
        ("-9223372036854775808 * -1 > 0", "error"),
        ("3037000499 * 3037000499 == 9223372030926249001", True),
    ],
)
def test_integer_arithmetic_at_the_limits(expr: str, expected: bool | str) -> None:
    assert value_of(expr) == expected


# --------------------------------------------------------------------------------------
# public parse functions
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "uid"),
    [
        ('User::"alice"', EntityUid("User", "alice")),
        ('A::B::User::"x\\ny"', EntityUid("A::B::User", "x\ny")),
        ('Action::""', EntityUid("Action", "")),
        ('principal::"p"', EntityUid("principal", "p")),
    ],
)
def test_parse_entity_uid(text: str, uid: EntityUid) -> None:
    assert cedarlang.parse_entity_uid(text) == uid


@pytest.mark.parametrize(
    "text",
    [
        "",
        "User",
        'User::"a" == 1',
        '"alice"',
        "principal",
        'User::"a" User::"b"',
        '::"a"',
        'User::"a',
        'if::"x"',
        'User::{a: "b"}',
        "1",
        '[User::"a"]',
        'User::"\\q"',
        '__cedar::"x"',
        'A::__cedar::"x"',
    ],
)
def test_parse_entity_uid_rejects(text: str) -> None:
    with pytest.raises(cedarlang.CedarError):
        cedarlang.parse_entity_uid(text)


NORMALIZATION_CASES: list[tuple[str, bool]] = [
    # Rust's `EntityUid::from_str` takes only the normalized form: exactly what `Display`
    # prints (no whitespace or comments, the id escaped like Rust's `escape_debug`)
    ('User::"a"', True),
    ('A::B::"x"', True),
    ('User::""', True),
    ('User::"a\\nb"', True),
    ('User::"\\0"', True),
    ('User::"\\t"', True),
    ('User::"\\""', True),
    ('User::"\\\'"', True),
    ('User::"\u00e9"', True),
    ('User::"\U0001f600"', True),
    ('User::"\\u{a0}"', True),  # Rust's escape_debug escapes U+00A0
    ('User::"\u00a0"', False),
    (' User::"a"', False),
    ('User::"a" ', False),
    ('User::"a"\n', False),
    ('A :: B::"x"', False),
    ('User::"a" // comment', False),
    ('(User::"a")', False),
    ('User::"\\x41"', False),
    ('User::"\\u{1F600}"', False),
    ('User::"\\u{e9}"', False),
    ('User::"\t"', False),
    ('User::"\'"', False),
]


@pytest.mark.parametrize(
    ("text", "normalized"), NORMALIZATION_CASES, ids=[repr(t) for t, _ in NORMALIZATION_CASES]
)
def test_entity_uid_strings_must_be_normalized_like_rust(text: str, normalized: bool) -> None:
    request = {"principal": text, "action": 'Action::"view"', "resource": 'Photo::"p1"', "context": {}}
    result = cedarpy.is_authorized(request, "permit(principal, action, resource);", "[]")
    assert (result.decision.value == "Allow") is normalized, result.diagnostics.errors
    if normalized:
        uid = cedarlang.parse_entity_uid(text)
        assert str(uid) == text
        assert cedarlang.Request(text, 'Action::"view"', 'Photo::"p1"').principal == uid
    else:
        with pytest.raises(cedarlang.CedarError):
            cedarlang.parse_entity_uid(text)
        with pytest.raises(cedarlang.CedarError):
            cedarlang.Request(text, 'Action::"view"', 'Photo::"p1"')


def test_parse_expression_rejects_slots_and_trailing_tokens() -> None:
    for text in ("?principal", "1 1", "true;", "", "permit(principal, action, resource);"):
        with pytest.raises(cedarlang.ParseError):
            cedarlang.parse_expression(text)


def test_parse_expression_variables() -> None:
    for name in ("principal", "action", "resource", "context"):
        assert E(name) == var(name)
        assert E(f"  {name}  // comment") == var(name)


def test_parsing_is_deterministic_and_reentrant() -> None:
    text = 'permit(principal in Group::"g", action, resource) when { context.n > 1 };'
    first = policy_of(cedarlang.PolicySet.from_str(text), "policy0").ast
    for _ in range(3):
        assert policy_of(cedarlang.PolicySet.from_str(text), "policy0").ast == first
