"""Permissive validation mode: Rust's own permissive-mode typechecker tests, run as data.

Every test of cedar-policy/cedar 4.12.0 (commit ba579ee7) that typechecks with
``ValidationMode::Permissive`` is ported below, citing its file (under
``cedar-policy-core/src/validator/typecheck/test/``) and function. Rust's helpers:

* ``assert_policy_typechecks_for_mode(.., Permissive)``: no error (and no warning check);
* ``assert_policy_typecheck_warns_for_mode``: no error, and the one warning Rust names;
* ``assert_policy_typecheck_fails_for_mode``: exactly the listed errors (message, underline,
  help);
* ``assert_typechecks_for_mode`` (expressions): the expression's type.

The strict-mode outcome of each policy is also checked against Rust itself
(``cedarpy.validate_policies``, which validates in strict mode): the mode must matter
where the tests say it does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import cedarpy
import pytest

from cedarlang import PolicySet, Schema, ast, parse_expression
from cedarlang.validator import Validator
from cedarlang.validator.schema_info import RequestEnv, SchemaInfo
from cedarlang.validator.typecheck import EMPTY, EnvChecker, PolicyCheck
from cedarlang.validator.types import RecordType
from cedarlang.values import EntityUid

# policy.rs `simple_schema_file()`
SIMPLE_SCHEMA = {
    "": {
        "entityTypes": {
            "User": {
                "memberOfTypes": ["Group"],
                "shape": {
                    "type": "Record",
                    "additionalAttributes": False,
                    "attributes": {
                        "name": {"type": "String", "required": True},
                        "age": {"type": "Long", "required": True},
                        "favorite": {"type": "Entity", "name": "Photo", "required": True},
                    },
                },
            },
            "Group": {
                "memberOfTypes": [],
                "shape": {
                    "type": "Record",
                    "additionalAttributes": False,
                    "attributes": {"name": {"type": "String", "required": True}},
                },
            },
            "Photo": {
                "memberOfTypes": ["Album"],
                "shape": {
                    "type": "Record",
                    "additionalAttributes": False,
                    "attributes": {
                        "file_type": {"type": "String", "required": True},
                        "owner": {"type": "Entity", "name": "User", "required": True},
                    },
                },
            },
            "Album": {
                "memberOfTypes": [],
                "shape": {"type": "Record", "additionalAttributes": False, "attributes": {}},
            },
        },
        "actions": {
            "view_photo": {
                "memberOf": [],
                "appliesTo": {"principalTypes": ["User", "Group"], "resourceTypes": ["Photo"]},
            },
            "delete_group": {
                "memberOf": [],
                "appliesTo": {"principalTypes": ["User"], "resourceTypes": ["Group"]},
            },
        },
    }
}

# tags.rs `schema_with_tags()`
TAGS_SCHEMA = """
    entity E tags String;
    entity F { foo: String, opt?: String } tags Set<String>;
    entity Blank;
    action A1 appliesTo { principal: [E], resource: [F], context: { bool: Bool } };
    action A2 appliesTo { principal: [F], resource: [E], context: { bool: Bool } };
    action A3 appliesTo { principal: [E, F], resource: [E, F], context: { bool: Bool } };
    action A4 appliesTo { principal: [E], resource: [Blank], context: { bool: Bool } };
"""

SCHEMAS = {"simple": json.dumps(SIMPLE_SCHEMA), "tags": TAGS_SCHEMA}

IMPOSSIBLE = "policy is impossible: the policy expression evaluates to false for all valid requests"


@dataclass(frozen=True)
class Case:
    rust: str  # file::function
    schema: str
    policy: str
    #: "typechecks", "warns" (ImpossiblePolicy) or "fails"
    permissive: str
    #: (full message, underlined source, help) of each error, for "fails"
    errors: tuple[tuple[str, str, str | None], ...] = ()
    #: does strict mode (Rust, through cedarpy) accept the policy?
    strict_passes: bool = False
    tags: tuple[str, ...] = field(default=())


CASES = [
    Case(
        "policy.rs::policy_entity_type_principal_in_set",
        "simple",
        'permit(principal, action, resource) when { principal in [User::"admin", Group::"admin"] || true};',
        "typechecks",
    ),
    Case(
        "policy.rs::policy_in_action_impossible",
        "simple",
        'permit(principal, action, resource) when { principal in [Action::"view_photo", Photo::"bar"] };',
        "warns",
    ),
    Case(
        "policy.rs::policy_entity_top_has",
        "simple",
        'permit(principal, action, resource) when { (if principal.name == "foo" then principal else resource) has name || true };',
        "typechecks",
    ),
    Case(
        "policy.rs::entity_lub_access_attribute",
        "simple",
        'permit(principal, action, resource) when { (if 1 > 0 then User::"alice" else Group::"alice_friends").name like "foo"};',
        "typechecks",
    ),
    Case(
        "policy.rs::entity_lub_no_common_attributes_is_entity",
        "simple",
        'permit(principal, action, resource) when { principal in (if 1 > 0 then User::"alice" else Photo::"vacation.jpg")};',
        "typechecks",
    ),
    Case(
        "policy.rs::entity_lub_cant_access_attribute_not_shared",
        "simple",
        'permit(principal, action, resource == Group::"foo") when { (if 1 > 0 then User::"alice" else Photo::"vacation.jpg").name == "bob"};',
        "fails",
        (
            (
                "for policy `policy0`, attribute `name` on entity types `Photo`, `User` not found",
                '(if 1 > 0 then User::"alice" else Photo::"vacation.jpg").name',
                "there may be additional attributes that the validator is not able to reason about",
            ),
        ),
    ),
    Case(
        "policy.rs::entity_lub_no_common_attributes_might_have_declared_attribute",
        "simple",
        'permit(principal, action, resource) when { (if 1 > 0 then User::"alice" else Photo::"vacation.jpg") has age || true };',
        "typechecks",
    ),
    Case(
        "policy.rs::entity_lub_cant_have_undeclared_attribute",
        "simple",
        'permit(principal, action, resource) when { (if 1 > 0 then User::"alice" else Photo::"vacation.jpg") has foo};',
        "warns",
    ),
    Case(
        "policy.rs::is_entity_lub",
        "simple",
        'permit(principal, action, resource) when { (if principal.name == "foo" then principal else resource) is User };',
        "typechecks",
    ),
    Case(
        "policy.rs::is_entity_lub",
        "simple",
        'permit(principal, action, resource) when { (if principal.name == "foo" then principal else resource) is Album };',
        "warns",
    ),
    Case(
        "tags.rs::permissive_tags",
        "tags",
        'permit(principal, action == Action::"A1", resource) when {\n'
        '    (if context.bool then principal else Blank::"").hasTag("foo") &&\n'
        '    (if context.bool then principal else Blank::"").getTag("foo") == "bar"\n'
        "};",
        "typechecks",
    ),
    Case(
        "tags.rs::permissive_tags",
        "tags",
        'permit(principal, action == Action::"A1", resource) when {\n'
        '    (if context.bool then principal else resource).hasTag("foo") &&\n'
        '    (if context.bool then principal else resource).getTag("foo") == "bar"\n'
        "};",
        "fails",
        (
            (
                "the types String and Set<String> are not compatible",
                '(if context.bool then principal else resource).getTag("foo")',
                "for policy `policy0`, tag types for a `.getTag()` operation must have compatible types. "
                "Types must be exactly equal to be compatible",
            ),
        ),
    ),
]


def _validator(name: str) -> Validator:
    return Validator(Schema.from_str_or_json(SCHEMAS[name]))


def _underline(src: str, span: object) -> str:
    assert span is not None
    return src[span.start : span.end]  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rust}-{i}" for i, c in enumerate(CASES)])
def test_rust_permissive_case(case: Case) -> None:
    policy = next(iter(PolicySet.from_str(case.policy).policies()))
    result = _validator(case.schema).validate_policy(policy, mode="permissive")
    got = [(d.full_message, _underline(case.policy, d.span), d.help) for d in result.errors]
    if case.permissive == "fails":
        assert sorted(got) == sorted(case.errors)
    else:
        assert got == []
        warnings = [d.message for d in result.warnings]
        assert warnings == ([IMPOSSIBLE] if case.permissive == "warns" else [])
    rust_strict = cedarpy.validate_policies(case.policy, SCHEMAS[case.schema])
    ours_strict = _validator(case.schema).validate_policy(policy)
    assert ours_strict.passed == rust_strict.validation_passed == case.strict_passes


def test_permissive_tags_strict_errors() -> None:
    """tags.rs::permissive_tags: in strict mode, one error per `if` (Rust checks one)."""
    case = CASES[10]
    policy = next(iter(PolicySet.from_str(case.policy).policies()))
    errors = _validator("tags").validate_policy(policy).errors
    assert len(errors) == 2
    first = min(errors, key=lambda d: d.span.start if d.span else 0)
    assert first.full_message == "the types Blank and E are not compatible"
    assert _underline(case.policy, first.span) == 'if context.bool then principal else Blank::""'
    assert first.help == (
        "for policy `policy0`, both branches of a conditional must have compatible types. "
        "Different entity types are never compatible even when their attributes would be compatible"
    )


# -- expressions (expr.rs) -------------------------------------------------------------------

EXPR_SCHEMAS = {
    "empty": "",
    "typename": "entity typename;",
    "some_type": "entity some_type { long_set: Set<Long>, bool_set: Set<Bool> };",
}

#: (rust test, schema, expression, type in permissive mode, does strict mode typecheck it?)
EXPR_CASES = [
    ("slot_in_typechecks", "typename", 'typename::"id" in ?principal', "Bool", True),
    ("slot_in_typechecks", "typename", 'typename::"id" in ?resource', "Bool", True),
    ("slot_equals_typechecks", "typename", 'typename::"edi" == ?principal', "Bool", False),
    ("slot_equals_typechecks", "typename", 'typename::"edi" == ?resource', "Bool", False),
    ("set_eq_is_not_false", "some_type", 'some_type::"a".long_set == some_type::"b".bool_set', "Bool", False),
    (
        "record_lub_has_typechecks_permissive",
        "empty",
        "(if 1 > 0 then {a: 1} else {a: 2, b: 3}) has a",
        "True",
        False,
    ),
    (
        "record_lub_has_typechecks_permissive",
        "empty",
        "(if 1 > 0 then {a: 1, b: 2} else {a: 1, c: 2}) has a",
        "True",
        False,
    ),
    ("record_lub_has_typechecks_permissive", "empty", "(if 1 > 0 then {a: 1} else {}) has a", "Bool", False),
    (
        "record_lub_has_typechecks_permissive",
        "empty",
        "(if 1 > 0 then {a: 1, b: 2} else {a: 1, c: 2}) has b",
        "Bool",
        False,
    ),
    (
        "record_lub_has_typechecks_permissive",
        "empty",
        "(if 1 > 0 then (if 1 > 0 then {a: 1} else {}) else {}) has a",
        "Bool",
        False,
    ),
    ("record_lub_has_typechecks_permissive", "empty", "(if 1 > 0 then {a: 1} else {}) has c", "Bool", False),
    (
        "record_lub_has_typechecks_permissive",
        "empty",
        "(if 1 > 0 then {a: 1} else {b: 2}) has c",
        "Bool",
        False,
    ),
    (
        "record_lub_has_typechecks_permissive",
        "empty",
        "(if 1 > 0 then {a: 1} else {a : false}) has a",
        "Bool",
        False,
    ),
]


def _expr(text: str) -> ast.Expr:
    """The expression; ``?principal`` / ``?resource`` (which policy conditions cannot hold, so
    the parser rejects them here) become slots, as Rust's tests build them."""
    for slot in ("?principal", "?resource"):
        if text.endswith(slot):
            left = parse_expression(text[: -len(slot)] + "principal")
            assert isinstance(left, ast.Binary)
            return ast.Binary(left.op, left.left, ast.Slot(slot))
    return parse_expression(text)


def _typecheck_expr(schema: str, text: str, strict: bool) -> tuple[bool, str, list[str]]:
    """Rust's ``Typechecker::typecheck_expr``: one expression, slots unlinked (any entity)."""
    info = SchemaInfo.build(Schema.from_str(EXPR_SCHEMAS[schema]))
    pc = PolicyCheck(info, "expr", None, None, strict)
    env = RequestEnv("P", EntityUid("Action", "a"), "R", RecordType({}))
    ok, ty, _ = EnvChecker(pc, env).check(EMPTY, _expr(text))
    return ok, repr(ty), [d.message for d in pc.errors]


@pytest.mark.parametrize("case", EXPR_CASES, ids=[f"expr.rs::{c[0]}-{i}" for i, c in enumerate(EXPR_CASES)])
def test_rust_permissive_expression(case: tuple[str, str, str, str, bool]) -> None:
    _, schema, text, expected, strict_ok = case
    assert _typecheck_expr(schema, text, strict=False) == (True, expected, [])
    ok, _, errors = _typecheck_expr(schema, text, strict=True)
    assert ok == strict_ok
    assert bool(errors) == (not strict_ok)


# -- the remaining strict-only rules --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "permissive_type", "strict_error"),
    [
        ("[]", "Set<Never>", "EmptySetForbidden"),
        ('[1].contains("a")', "Bool", "IncompatibleTypes"),
        ('[1].containsAny(["a"])', "Bool", "IncompatibleTypes"),
        ('decimal(if true then "1.0" else "2.0")', "decimal", "NonLitExtConstructor"),
    ],
)
def test_strict_only_rules(text: str, permissive_type: str, strict_error: str) -> None:
    """typecheck.rs: the `mode.is_strict()` branches (empty sets, `contains*` operand types,
    non-literal extension constructor arguments)."""
    assert _typecheck_expr("empty", text, strict=False) == (True, permissive_type, [])
    info = SchemaInfo.build(Schema.from_str(""))
    pc = PolicyCheck(info, "expr", None, None, True)
    env = RequestEnv("P", EntityUid("Action", "a"), "R", RecordType({}))
    EnvChecker(pc, env).check(EMPTY, parse_expression(text))
    assert [d.kind for d in pc.errors] == [strict_error]


def test_mode_argument() -> None:
    validator = _validator("simple")
    pset = PolicySet.from_str(CASES[0].policy)
    assert not validator.validate(pset).passed
    assert not validator.validate(pset, mode="strict").passed
    assert validator.validate(pset, mode="permissive").passed
    with pytest.raises(ValueError, match="validation mode"):
        validator.validate(pset, mode="partial")  # type: ignore[arg-type]


# -- strict-valid implies permissive-valid (Rust's `assert_policy_typechecks` checks both) ----


def test_strictly_valid_corpus_policies_are_permissively_valid() -> None:
    from .test_conformance_validation import conformance_files, conformance_root, resolve

    if not (conformance_root() / "tests").is_dir():
        pytest.skip("conformance data not available")
    validators: dict[str, Validator] = {}
    checked = 0
    failures = []
    for path in conformance_files()[::4]:
        spec = json.loads(path.read_text(encoding="utf-8"))
        if not spec["shouldValidate"]:
            continue
        schema_text = resolve(path, spec["schema"]).read_text(encoding="utf-8")
        policies = PolicySet.from_str(resolve(path, spec["policies"]).read_text(encoding="utf-8"))
        validator = validators.get(schema_text)
        if validator is None:
            validator = validators[schema_text] = Validator(Schema.from_str(schema_text))
        result = validator.validate(policies, mode="permissive")
        checked += 1
        if not result.passed:
            failures.append(f"{path.name}: {[e.full_message for e in result.errors]}")
    assert checked >= 500
    assert not failures, failures[:5]
