"""Each run-time error carries Rust's error kind and message.

The kinds are the variant names of ``EvaluationErrorKind`` in
cedar-policy-core/src/evaluator/err.rs (Cedar 4.x), and the messages its
``#[error(...)]`` formats; cedarpy confirms the messages (see :mod:`.exact`).
"""

from __future__ import annotations

import sys

import pytest

import cedarlang
from cedarlang import ops
from cedarlang.ast import (
    Binary,
    BinaryOp,
    Condition,
    Effect,
    Expr,
    Lit,
    PolicyAst,
    ScopeConstraint,
    Slot,
    Unary,
    UnaryOp,
    Var,
)
from cedarlang.evaluator import Interpreter
from cedarlang.parser import parse_expression
from cedarlang.values import EntityUid, Record

from .exact import DEFAULT_ENTITIES, DEFAULT_REQUEST, assert_same_as_rust, when

CASES = [
    ('1 + "a" == 2', "TypeError"),
    ("!1", "TypeError"),
    ("9223372036854775807 + 1 == 0", "IntegerOverflow"),
    ("-9223372036854775807 - 2 == 0", "IntegerOverflow"),
    ("9223372036854775807 * 2 == 0", "IntegerOverflow"),
    ("-(-9223372036854775807 - 1) == 0", "IntegerOverflow"),
    ('User::"nobody".n == 1', "EntityDoesNotExist"),
    ('User::"nobody".getTag("t") == 1', "EntityDoesNotExist"),
    ("principal.missing == 1", "EntityAttrDoesNotExist"),
    ("{a: 1}.b == 1", "RecordAttrDoesNotExist"),
    ('principal.getTag("v") == 1', "EntityTagDoesNotExist"),
    ('ip("1.1.1.1", "x").isLoopback()', "WrongNumArguments"),
    ('ip("nope").isLoopback()', "FailedExtensionFunctionExecution"),
    ('decimal("1.23456") == decimal("1.0")', "FailedExtensionFunctionExecution"),
    ('datetime("x") < datetime("2024-01-01")', "FailedExtensionFunctionExecution"),
    ('"a" < 1', "TypeError"),
    ("principal in 1", "TypeError"),
]


@pytest.mark.parametrize(("expr", "kind"), CASES)
def test_error_kind(expr: str, kind: str) -> None:
    assert_same_as_rust(when(expr))  # the message is Rust's
    policies = cedarlang.PolicySet.from_str(when(expr))
    entities = cedarlang.Entities.from_json(DEFAULT_ENTITIES)
    request = cedarlang.Request(
        DEFAULT_REQUEST["principal"], DEFAULT_REQUEST["action"], DEFAULT_REQUEST["resource"]
    )
    for authorizer in (cedarlang.Authorizer(), cedarlang.Authorizer(interpret=True)):
        response = authorizer.is_authorized(request, policies, entities)
        assert [(e.policy_id, e.kind) for e in response.errors] == [("policy0", kind)]


HELP = [
    ('"a" < "b"', "Only types long, datetime, duration support comparison"),
    (
        "1 in [principal]",
        "`in` is for checking the entity hierarchy; use `.contains()` to test set membership",
    ),
    ("1 in {a: 1}", "`in` is for checking the entity hierarchy; use `has` to test if a record has a key"),
    ('1 in User::"alice"', None),
]


@pytest.mark.parametrize(("expr", "help"), HELP)
def test_type_error_advice(expr: str, help: str | None) -> None:
    """Rust's ``TypeError`` advice (cedar-policy-core/src/evaluator.rs), set by :mod:`cedarlang.ops`."""
    assert_same_as_rust(when(expr))
    alice = EntityUid("User", "alice")
    interpreter = Interpreter(alice, alice, alice, Record(), cedarlang.Entities.from_json(DEFAULT_ENTITIES))
    with pytest.raises(cedarlang.EvaluationError) as err:
        interpreter.evaluate(parse_expression(expr))
    assert (err.value.kind, err.value.help) == ("TypeError", help)


def test_unknown_extension_function() -> None:
    """Rust: ``ExtensionFunctionLookupError::FuncDoesNotExist`` (the parser rejects such calls,
    so only a direct call reaches it)."""
    with pytest.raises(cedarlang.EvaluationError) as err:
        ops.call_extension("nope", ["1"])
    assert err.value.kind == "FailedExtensionFunctionLookup"
    assert err.value.message == "extension function `nope` does not exist"


def test_unlinked_slot_in_the_interpreter() -> None:
    """Rust: ``EvaluationErrorKind::UnlinkedSlot``, "template slot `?principal` was not linked"."""
    alice = EntityUid("User", "alice")
    interpreter = Interpreter(alice, alice, alice, Record(), cedarlang.Entities.from_json([]))
    with pytest.raises(cedarlang.EvaluationError) as err:
        interpreter.evaluate(Slot("?principal"))
    assert err.value.kind == "UnlinkedSlot"
    assert err.value.message == "template slot `?principal` was not linked"
    linked = Interpreter(
        alice, alice, alice, Record(), cedarlang.Entities.from_json([]), {"?principal": alice}
    )
    assert linked.evaluate(Slot("?principal")) == alice


def test_recursion_limit_in_the_interpreter() -> None:
    """Rust: ``EvaluationErrorKind::RecursionLimit``, "recursion limit reached". The reference
    interpreter recurses on the tree, so a tree deeper than Python's recursion limit hits it."""
    expr: Expr = Lit(True)
    for _ in range(sys.getrecursionlimit() + 100):
        expr = Unary(UnaryOp.NOT, expr)
    alice = EntityUid("User", "alice")
    interpreter = Interpreter(alice, alice, alice, Record(), cedarlang.Entities.from_json([]))
    with pytest.raises(cedarlang.EvaluationError) as err:
        interpreter.evaluate(expr)
    assert err.value.kind == "RecursionLimit"
    assert err.value.message == "recursion limit reached"
    assert interpreter.evaluate(Unary(UnaryOp.NOT, Lit(True))) is False


def test_unlinked_slot_in_a_condition_built_as_a_tree() -> None:
    """The parser refuses slots in conditions, but a policy built from a tree can hold one;
    both evaluators then raise Rust's ``UnlinkedSlot`` error for it."""
    condition = Condition(True, Binary(BinaryOp.EQ, Var("principal"), Slot("?principal")))
    unconstrained = ScopeConstraint()
    tree = PolicyAst(Effect.PERMIT, unconstrained, unconstrained, unconstrained, (condition,), {})
    policy = cedarlang.Policy(tree, "tree")
    request = cedarlang.Request('User::"alice"', 'Action::"view"', 'Photo::"p1"')
    for authorizer in (cedarlang.Authorizer(), cedarlang.Authorizer(interpret=True)):
        response = authorizer.is_authorized(request, [policy], cedarlang.Entities.from_json([]))
        assert response.decision is cedarlang.Decision.DENY
        assert [(e.policy_id, e.kind, e.message) for e in response.errors] == [
            ("tree", "UnlinkedSlot", "template slot `?principal` was not linked")
        ]
