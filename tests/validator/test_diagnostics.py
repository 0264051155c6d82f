"""Unit tests per diagnostic kind, and snapshots of rendered messages (source line + caret)."""

from __future__ import annotations

import textwrap

import cedarpy
import pytest

from cedarlang import PolicySet, Schema, ValidationResult, Validator
from cedarlang.validator import ERROR_KINDS, WARNING_KINDS

SCHEMA_TEXT = """
entity Group;
entity User in [Group] {
    name: String,
    age?: Long,
    manager?: User,
    address: { city: String, zip?: String },
    roles: Set<String>,
} tags String;
entity Document {
    owner: User,
    readers: Set<User>,
    classification?: String,
    labels?: Set<String>,
};
entity Folder in [Folder];
entity Color enum ["red", "green"];
action view, edit appliesTo {
    principal: User,
    resource: Document,
    context: { mfa?: Bool, ip: ipaddr, when: datetime },
};
action manage appliesTo { principal: User, resource: [Folder] };
action all;
action read in ["all"] appliesTo { principal: User, resource: Document };
"""

SCHEMA = Schema.from_str(SCHEMA_TEXT)
VALIDATOR = Validator(SCHEMA)


def validate(text: str) -> ValidationResult:
    return VALIDATOR.validate(PolicySet.from_str(textwrap.dedent(text).strip() + "\n", name="policy.cedar"))


def when(cond: str, scope: str = "principal, action, resource") -> ValidationResult:
    return validate(f"permit({scope}) when {{ {cond} }};")


def kinds(result: ValidationResult) -> set[str]:
    return {e.kind for e in result.errors}


def rust_passes(text: str) -> bool:
    return bool(cedarpy.validate_policies(text, SCHEMA_TEXT).validation_passed)


# ----------------------------------------------------------------------------------------------
# Snapshots


def test_snapshot_typo_attribute() -> None:
    result = validate(
        """
        permit(principal, action == Action::"view", resource)
        when { principal in resource.Readers };
        """
    )
    assert result.render() == textwrap.dedent(
        """\
        error[UnsafeAttributeAccess]: attribute `Readers` on entity type `Document` not found
         --> policy.cedar:2:21 (policy `policy0`)
          |
        2 | when { principal in resource.Readers };
          |                     ^^^^^^^^^^^^^^^^
          = help: did you mean `readers`?"""
    )
    assert result.errors[0].full_message == (
        "for policy `policy0`, attribute `Readers` on entity type `Document` not found"
    )


def test_snapshot_unknown_action() -> None:
    result = validate('permit(principal, action == Action::"veiw", resource);')
    assert [e.kind for e in result.errors] == ["InvalidActionApplication", "UnrecognizedActionId"]
    assert result.errors[1].render() == textwrap.dedent(
        """\
        error[UnrecognizedActionId]: unrecognized action `Action::"veiw"`
         --> policy.cedar:1:29 (policy `policy0`)
          |
        1 | permit(principal, action == Action::"veiw", resource);
          |                             ^^^^^^^^^^^^^^
          = help: did you mean `Action::"view"`?"""
    )
    assert result.errors[0].render() == textwrap.dedent(
        """\
        error[InvalidActionApplication]: unable to find an applicable action given the policy scope constraints
         --> policy.cedar:1:1 (policy `policy0`)
          |
        1 | permit(principal, action == Action::"veiw", resource);
          | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"""
    )
    assert [w.kind for w in result.warnings] == ["ImpossiblePolicy"]


def test_snapshot_optional_attribute_without_has() -> None:
    result = validate(
        """
        forbid(principal, action == Action::"edit", resource)
        unless {
            resource.classification == "public"
        };
        """
    )
    assert result.render() == textwrap.dedent(
        """\
        error[UnsafeOptionalAttributeAccess]: unable to guarantee safety of access to optional attribute `classification` on entity type `Document`
         --> policy.cedar:3:5 (policy `policy0`)
          |
        3 |     resource.classification == "public"
          |     ^^^^^^^^^^^^^^^^^^^^^^^
          = help: try testing for the attribute's presence with `e has classification && ..`"""
    )


def test_snapshot_optional_context_attribute() -> None:
    result = validate('permit(principal, action == Action::"view", resource) when { context.mfa };')
    assert result.render() == textwrap.dedent(
        """\
        error[UnsafeOptionalAttributeAccess]: unable to guarantee safety of access to optional attribute `mfa` in context for Action::"view"
         --> policy.cedar:1:62 (policy `policy0`)
          |
        1 | permit(principal, action == Action::"view", resource) when { context.mfa };
          |                                                              ^^^^^^^^^^^
          = help: try testing for the attribute's presence with `context has mfa && ..`"""
    )


def test_snapshot_unknown_entity_type() -> None:
    result = validate('permit(principal in Gruop::"admins", action, resource);')
    [err] = [e for e in result.errors if e.kind == "UnrecognizedEntityType"]
    assert err.render() == textwrap.dedent(
        """\
        error[UnrecognizedEntityType]: unrecognized entity type `Gruop`
         --> policy.cedar:1:21 (policy `policy0`)
          |
        1 | permit(principal in Gruop::"admins", action, resource);
          |                     ^^^^^
          = help: did you mean `Group`?"""
    )


def test_render_with_color_has_escape_codes() -> None:
    result = when("principal.age > 1")
    assert "\x1b[31m" in result.errors[0].render(color=True)


# ----------------------------------------------------------------------------------------------
# One test per diagnostic kind (and the Rust message where it is deterministic)

KIND_CASES = [
    ("UnrecognizedEntityType", 'permit(principal == Usr::"a", action, resource);'),
    ("UnrecognizedEntityType", "permit(principal, action, resource) when { principal is Admin };"),
    ("UnrecognizedActionId", 'permit(principal, action in [Action::"vew"], resource);'),
    ("InvalidActionApplication", 'permit(principal, action == Action::"manage", resource is Document);'),
    ("InvalidActionApplication", 'permit(principal == Group::"g", action == Action::"view", resource);'),
    ("UnexpectedType", "permit(principal, action, resource) when { principal.name + 1 > 0 };"),
    ("UnexpectedType", "permit(principal, action, resource) when { 1 };"),
    ("IncompatibleTypes", 'permit(principal, action, resource) when { [1, "a"].contains(1) };'),
    ("IncompatibleTypes", "permit(principal, action, resource) when { principal == 1 };"),
    (
        "IncompatibleTypes",
        'permit(principal, action, resource) when { (if principal.age > 1 then 1 else "a") == 1 };',
    ),
    ("UnsafeAttributeAccess", 'permit(principal, action, resource) when { principal.nmae == "" };'),
    (
        "UnsafeOptionalAttributeAccess",
        'permit(principal, action, resource) when { principal.manager.name == "" };',
    ),
    ("UnsafeTagAccess", 'permit(principal, action, resource) when { principal.getTag("t") == "" };'),
    ("WrongNumberArguments", 'permit(principal, action, resource) when { ip("1.1.1.1").isInRange() };'),
    (
        "FunctionArgumentValidation",
        'permit(principal, action, resource) when { decimal("1.23456") == decimal("1.0") };',
    ),
    ("EmptySetForbidden", "permit(principal, action, resource) when { principal.roles.containsAny([]) };"),
    ("NonLitExtConstructor", "permit(principal, action, resource) when { ip(principal.name).isIpv4() };"),
    ("InvalidEnumEntity", 'permit(principal, action, resource) when { Color::"blue" == Color::"red" };'),
]


@pytest.mark.parametrize(("kind", "text"), KIND_CASES)
def test_error_kind(kind: str, text: str) -> None:
    result = validate(text)
    assert kind in kinds(result), result.render()
    assert not result.passed
    assert not rust_passes(text)
    assert kind in ERROR_KINDS
    for e in result.errors:
        assert e.policy_id == "policy0"
        assert e.span is not None and e.source is not None
        assert e.render().startswith(f"error[{e.kind}]")


def test_messages_equal_rust_messages() -> None:
    """Deterministic messages are exactly Rust's (as cedarpy reports them)."""
    for _, text in KIND_CASES:
        ours = {e.full_message for e in validate(text).errors}
        theirs = {e.error for e in cedarpy.validate_policies(text, SCHEMA_TEXT).errors}
        assert ours == theirs, text


def test_no_tags_allowed() -> None:
    """`.getTag()` with a known tag on a type without tags (unreachable from policy text in
    strict mode, where `hasTag` on such a type is `False` and short-circuits)."""
    from cedarlang import ast
    from cedarlang.validator.schema_info import RequestEnv
    from cedarlang.validator.typecheck import EnvChecker, PolicyCheck

    info = VALIDATOR.info
    env = next(e for e in info.envs if e.resource == "Document")
    pc = PolicyCheck(info, "p", None, None)
    checker = EnvChecker(pc, RequestEnv(env.principal, env.action, env.resource, env.context))
    target, tag = ast.Var("resource"), ast.Lit("t")
    ok, ty, _ = checker.check(
        frozenset({checker.tag_cap(target, tag)}), ast.Binary(ast.BinaryOp.GET_TAG, target, tag)
    )
    assert not ok and ty is None
    [err] = pc.errors
    assert err.kind == "NoTagsAllowed"
    assert err.message == (
        "`.getTag()` is not allowed on entities of type `Document` because no `tags` were declared on "
        "the entity type in the schema"
    )


def test_invalid_action_application_help() -> None:
    result = validate('permit(principal == Group::"g", action == Action::"view", resource);')
    [err] = result.errors
    assert err.help == "try replacing `==` with `in` in the principal clause"


def test_impossible_policy_warning() -> None:
    result = validate('permit(principal, action == Action::"view", resource) when { principal is Group };')
    assert result.passed
    assert [w.kind for w in result.warnings] == ["ImpossiblePolicy"]
    assert "ImpossiblePolicy" in WARNING_KINDS
    assert result.warnings[0].severity == "warning"
    assert result.warnings[0].render().startswith("warning[ImpossiblePolicy]")


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("BidiCharsInString", 'permit(principal, action, resource) when { principal.name == "a\u202eb" };'),
        (
            "MixedScriptString",
            'permit(principal, action, resource) when { principal.name == "say_\u04bbello" };',
        ),
        ("MixedScriptIdentifier", 'permit(principal == User::"say_\u04bbello", action, resource);'),
        ("ConfusableIdentifier", 'permit(principal == User::"is\u200badmin", action, resource);'),
    ],
)
def test_confusable_warnings(kind: str, text: str) -> None:
    result = validate(text)
    assert result.passed
    assert kind in {w.kind for w in result.warnings}


# ----------------------------------------------------------------------------------------------
# Typing rules


@pytest.mark.parametrize(
    ("cond", "passes"),
    [
        # `has` guards through `&&`, `if`, `||` and separate `when` clauses
        ("principal has age && principal.age > 1", True),
        ("if principal has age then principal.age > 1 else false", True),
        ("!(principal has age) || principal.age > 1", False),
        ("(principal has age || principal has age) && principal.age > 1", True),
        ('principal has address.zip && principal.address.zip == "1"', True),
        ('principal.address has zip && principal.address.zip == "1"', True),
        ("principal has manager && principal.manager has age && principal.manager.age > 1", True),
        # singleton booleans short-circuit
        ("false && principal.nope", True),
        ("true || principal.nope", True),
        ("if false then principal.nope else true", True),
        ("(1 == 2) && 1", True),
        ("(1 == 1) && 1", False),
        # `==` on disjoint entity types is `False`, not an error (since 4.8)
        ('User::"a" == Document::"b"', True),
        ('(User::"a" == Document::"b") && 1', True),
        ('(User::"a" != Document::"b") || 1', True),
        ("principal.name == 1", False),
        ('1 == "a"', True),
        # `in` / `is` on entity types
        ("(resource in principal) && 1", True),
        ("(principal in principal) && 1", False),
        ("(principal is Group) && 1", True),
        ("(action is Action) && 1", False),
        ('action in Action::"all"', True),
        # sets, records, extensions
        ("[principal, principal.manager].contains(principal)", False),
        ('principal.roles.contains("admin")', True),
        ('[1].contains("a")', False),
        ('context.ip.isInRange(ip("10.0.0.0/8"))', True),
        ('context.when < datetime("2024-01-01")', True),
        ('decimal("1.0") < decimal("2.0")', False),
        ('principal.hasTag("t") && principal.getTag("t") like "a*"', True),
        ('resource.hasTag("t") && resource.getTag("t") == ""', True),
        ("{a: 1} == {a: 2}", True),
        ("{a: 1} == {b: 2}", False),
        ('context == {ip: ip("1.1.1.1"), when: datetime("2024-01-01")}', False),
    ],
)
def test_typing_rule(cond: str, passes: bool) -> None:
    text = f'permit(principal, action in [Action::"view", Action::"edit"], resource) when {{ {cond} }};'
    if "context" not in cond:
        text = f"permit(principal, action, resource) when {{ {cond} }};"
    result = validate(text)
    assert result.passed == passes, result.render()
    assert rust_passes(text) == passes


# ----------------------------------------------------------------------------------------------
# Templates and linked policies


def test_template_checked_for_all_slot_types() -> None:
    ok = validate(
        'permit(principal in ?principal, action == Action::"view", resource) when { principal.name == "" };'
    )
    assert ok.passed
    bad = validate(
        'permit(principal == ?principal, action == Action::"view", resource == ?resource) '
        "when { resource.owner.age > 1 };"
    )
    assert kinds(bad) == {"UnsafeOptionalAttributeAccess"}


def test_linked_policy_validated_through_template_and_slots() -> None:
    pset = PolicySet.from_str('permit(principal == ?principal, action == Action::"view", resource);')
    pset.link("policy0", "link-ok", {"?principal": 'User::"alice"'})
    pset.link("policy0", "link-unknown", {"?principal": 'Usr::"alice"'})
    pset.link("policy0", "link-wrong", {"?principal": 'Group::"g"'})
    result = VALIDATOR.validate(pset)
    by_policy = {(e.policy_id, e.kind) for e in result.errors}
    assert by_policy == {
        ("link-unknown", "UnrecognizedEntityType"),
        ("link-unknown", "InvalidActionApplication"),
        ("link-wrong", "InvalidActionApplication"),
    }


def test_result_helpers() -> None:
    result = validate(
        """
        permit(principal, action, resource) when { principal.age > 1 };
        permit(principal, action, resource);
        """
    )
    assert not result
    assert result.policy_ids_with_errors() == {"policy0"}
    assert result.errors_for("policy1") == []
    assert "UnsafeOptionalAttributeAccess" in repr(result.errors[0])
