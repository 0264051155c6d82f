"""Level validation (RFC 76): Rust's own unit tests, run as data.

``data/rust_level_validation.json`` holds every case of ``mod levels_validation_tests`` in
cedar-policy/cedar ``cedar-policy-core/src/validator/level_validate.rs`` (4.12.0; extracted
mechanically, one entry per ``assert_*`` call, with the Rust test function's name). The three
Rust helpers are mirrored exactly:

* ``assert_requires_level(src, underlines, n)``: no error at level ``n``; at ``n - 1``, exactly
  ``len(underlines)`` errors "this policy requires level n, which exceeds the maximum allowed
  level (n - 1)", each underline the source of one of them;
* ``assert_fails_at_level(src, underlines, n, actual)``: the same at level ``n``;
* ``assert_derefs_entity_lit(src, underlines, n)``: "entity literals cannot be dereferenced at
  any level" errors at level ``n``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cedarlang import PolicySet, Schema
from cedarlang.validator import ValidationDiagnostic, Validator

DATA = json.loads((Path(__file__).parent / "data" / "rust_level_validation.json").read_text())
SCHEMA = Schema.from_json(DATA["schema"])
VALIDATOR = Validator(SCHEMA)
CASES: list[dict[str, Any]] = DATA["cases"]


def _errors(src: str, level: int) -> list[ValidationDiagnostic]:
    policy = next(iter(PolicySet.from_str(src).policies()))
    return VALIDATOR.validate_policy(policy, level=level).errors


def _underline(src: str, d: ValidationDiagnostic) -> str:
    assert d.span is not None, d
    return src[d.span.start : d.span.end]


def _expect(src: str, level: int, underlines: list[str], message: str) -> None:
    errors = _errors(src, level)
    shown = [(d.full_message, _underline(src, d)) for d in errors]
    assert len(errors) == len(underlines), shown
    for underline in underlines:
        assert (message, underline) in shown, shown


def _exceeded(level: int, actual: int) -> str:
    return (
        f"for policy `policy0`, this policy requires level {actual}, which exceeds the maximum "
        f"allowed level ({level})"
    )


def test_every_rust_test_function_is_ported() -> None:
    assert len(CASES) == 79
    assert len({c["test"] for c in CASES}) == 16


@pytest.mark.parametrize("case", CASES, ids=[f"{c['test']}-{i}" for i, c in enumerate(CASES)])
def test_rust_level_case(case: dict[str, Any]) -> None:
    src, underlines, level = case["policy"], case["underlines"], case["level"]
    if case["kind"] == "requires_level":
        assert [(d.full_message, _underline(src, d)) for d in _errors(src, level)] == []
        if level > 0:
            _expect(src, level - 1, underlines, _exceeded(level - 1, level))
    elif case["kind"] == "fails_at_level":
        _expect(src, level, underlines, _exceeded(level, case["actual_level"]))
    else:
        assert case["kind"] == "derefs_entity_literal"
        message = "for policy `policy0`, entity literals cannot be dereferenced at any level"
        _expect(src, level, underlines, message)


def test_without_level_no_level_errors() -> None:
    src = "permit(principal, action, resource) when { principal.user.user.user.bool };"
    assert _errors(src, 10) == []
    policy = next(iter(PolicySet.from_str(src).policies()))
    assert VALIDATOR.validate_policy(policy).errors == []


def test_level_errors_follow_type_errors_and_skip_failing_environments() -> None:
    # The environment fails to typecheck, so (like Rust) it is not level-checked.
    src = "permit(principal, action, resource) when { principal.user.nosuch };"
    kinds = [d.kind for d in _errors(src, 0)]
    assert kinds == ["UnsafeAttributeAccess"]


def test_validate_with_level_over_a_policy_set() -> None:
    pset = PolicySet.from_str(
        "permit(principal, action, resource) when { principal.user.bool };\n"
        "permit(principal, action, resource) when { principal.bool };"
    )
    assert VALIDATOR.validate_with_level(pset, 2).passed
    result = VALIDATOR.validate_with_level(pset, 1)
    assert [(d.policy_id, d.kind) for d in result.errors] == [("policy0", "EntityDerefLevelViolation")]
    assert VALIDATOR.validate(pset, level=1).errors == result.errors
    assert len(VALIDATOR.validate(pset, level=0).errors) == 2


def test_templates_are_level_checked() -> None:
    pset = PolicySet.from_str(
        "permit(principal == ?principal, action, resource) when { principal.user.bool };"
    )
    assert VALIDATOR.validate(pset, level=2).passed
    assert not VALIDATOR.validate(pset, level=1).passed


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_bad_level(bad: Any) -> None:
    with pytest.raises(ValueError, match="level"):
        VALIDATOR.validate(PolicySet(), level=bad)
