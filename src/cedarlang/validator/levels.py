"""Level-based validation (RFC 76): a port of Rust's ``validator/level_validate.rs``.

A policy *valid at level N* never dereferences an entity (reads its attributes or tags,
or asks ``in`` about its ancestors) that is more than ``N - 1`` attribute/tag hops away
from ``principal``, ``action``, ``resource`` or ``context``: the request variables (and
entities stored directly in ``context``) are level 0, an entity read from an attribute or
tag of a level-``k`` entity is level ``k + 1``, and dereferencing a level-``k`` entity
requires level ``k + 1``. Entity *literals* may never be dereferenced (except the
request's own action). So an application that loads the entities within ``N`` hops of the
request (:func:`cedarlang.validator.slicing.slice_entities`) gets the same decisions as one
that loads every entity.

Errors point where Rust points: every attribute access and method call of one member
chain (``principal.a.b.hasTag("t")``) carries the span of the whole chain, as in Rust's
parser.

The check runs, like Rust's, on each request environment where the policy typechecks
(or is typed ``False``), over the parts of the condition the typechecker looked at: an
operand skipped by short-circuiting (``false && e``, ``true || e``, the dead branch of
``if true ...``) is never evaluated, so it needs no level.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from .. import ast
from ..ast import BinaryOp, Expr, UnaryOp
from ..source import Span
from ..values import EntityUid
from .diagnostics import ValidationDiagnostic, make
from .typecheck import PolicyCheck
from .types import EntityType, RecordType, Type

__all__ = ["LevelChecker", "member_chain_spans"]

_DEREF_BINARY = (BinaryOp.HAS_TAG, BinaryOp.GET_TAG, BinaryOp.IN)
_METHOD_BINARY = frozenset(
    (BinaryOp.HAS_TAG, BinaryOp.GET_TAG, BinaryOp.CONTAINS, BinaryOp.CONTAINS_ALL, BinaryOp.CONTAINS_ANY)
)


def _receiver(e: Expr) -> Expr | None:
    """The receiver of an attribute access or method call (``None`` for other nodes)."""
    if isinstance(e, ast.GetAttr):
        return e.expr
    if isinstance(e, ast.Binary) and e.op in _METHOD_BINARY:
        return e.left
    if isinstance(e, ast.Unary) and e.op is UnaryOp.IS_EMPTY:
        return e.arg
    if isinstance(e, ast.ExtCall) and e.args:
        return e.args[0]
    return None


def member_chain_spans(root: Expr) -> dict[int, Span]:
    """``id(node) -> span`` for the accesses inside a longer member chain: Rust gives every
    access of ``a.b.c`` the span of the whole chain (our parser gives ``a.b`` its own).

    A receiver belongs to its access's chain when both start at the same offset (a
    parenthesized receiver, ``(a.b).c``, starts after the ``(`` and is a chain of its own).
    """
    out: dict[int, Span] = {}
    stack: list[Expr] = [root]
    while stack:
        e = stack.pop()
        receiver = _receiver(e)
        if (
            receiver is not None
            and e.span is not None
            and receiver.span is not None
            and receiver.span.start == e.span.start
            and _receiver(receiver) is not None
        ):
            out[id(receiver)] = out.get(id(e), e.span)
        stack.extend(e.children())
    return out


class LevelChecker:
    """Collects ``EntityDerefLevelViolation`` errors of one policy over its environments."""

    def __init__(self, pc: PolicyCheck, max_level: int) -> None:
        self.pc = pc
        self.max_level = max_level
        self.errors: dict[ValidationDiagnostic, None] = {}
        self._types: dict[int, Type | None] = {}
        self._action: EntityUid | None = None
        self._spans: dict[int, Span] = {}
        self._spans_of: Expr | None = None

    def check_env(self, cond: Expr, action: EntityUid, types: dict[int, Type | None]) -> None:
        """Level-check ``cond`` in one environment; ``types`` maps ``id(node)`` to the type the
        typechecker gave each node it visited (nodes it skipped are absent)."""
        if self._spans_of is not cond:
            self._spans = member_chain_spans(cond)
            self._spans_of = cond
        self._types = types
        self._action = action
        self.check_expr(cond)

    # -- diagnostics ------------------------------------------------------------------------

    def _add(self, kind: str, message: str, e: Expr) -> None:
        pc = self.pc
        span = self._spans.get(id(e), e.span) or pc.fallback_span
        d = make(kind, pc.policy_id, message, span, pc.source)
        self.errors.setdefault(d, None)

    def _literal_target(self, e: Expr) -> None:
        self._add("EntityDerefLevelViolation", "entity literals cannot be dereferenced at any level", e)

    def _invariant(self, e: Expr) -> None:
        self._add("InternalInvariantViolation", "internal invariant violated", e)

    def _exceeded(self, e: Expr, target_level: int) -> None:
        if target_level >= self.max_level:
            self._add(
                "EntityDerefLevelViolation",
                f"this policy requires level {target_level + 1}, which exceeds the maximum allowed "
                f"level ({self.max_level})",
                e,
            )

    # -- the walk ---------------------------------------------------------------------------

    def _visited(self, e: Expr) -> bool:
        return id(e) in self._types

    def _type(self, e: Expr) -> Type | None:
        return self._types.get(id(e))

    def _check_all(self, exprs: Iterable[Expr]) -> None:
        for e in exprs:
            if self._visited(e):
                self.check_expr(e)

    def check_expr(self, e: Expr) -> None:
        """Rust's ``check_expr_level``."""
        match e:
            case ast.Lit() | ast.Var() | ast.Slot():
                return
            case ast.If():
                self._check_all((e.cond, e.then, e.else_))
            case ast.And() | ast.Or():
                self._check_all((e.left, e.right))
            case ast.Unary():
                self._check_all((e.arg,))
            case ast.Binary():
                if e.op in _DEREF_BINARY:
                    self._exceeded(e, self.target_level(e.left, []))
                    self._check_all((e.right,))
                else:
                    self._check_all((e.left, e.right))
            case ast.ExtCall():
                self._check_all(e.args)
            case ast.GetAttr() | ast.HasAttr():
                target_type = self._type(e.expr)
                if isinstance(target_type, EntityType):
                    self._exceeded(e, self.target_level(e.expr, []))
                elif isinstance(target_type, RecordType):
                    self.check_expr(e.expr)
                else:
                    self._invariant(e)
            case ast.Like() | ast.Is():
                self._check_all((e.expr,))
            case ast.SetLit():
                self._check_all(e.items)
            case ast.RecordLit():
                self._check_all(v for _, v in e.fields)
            case _:
                assert_never(e)

    def target_level(self, e: Expr, access_path: list[str]) -> int:
        """Rust's ``check_entity_deref_target_level``: the level of the entity ``e`` denotes
        (``access_path`` lists record attributes still to be read from ``e``, innermost last)."""
        match e:
            case ast.Var():
                return 0
            case ast.Slot():
                self._literal_target(e)
                return 0
            case ast.Lit():
                if isinstance(e.value, EntityUid):
                    if e.value != self._action:
                        self._literal_target(e)
                    return 0
            case ast.If():
                self._check_all((e.cond,))
                levels = [
                    self.target_level(branch, list(access_path))
                    for branch in (e.then, e.else_)
                    if self._visited(branch)
                ]
                return max(levels, default=0)
            case ast.GetAttr():
                target_type = self._type(e.expr)
                if isinstance(target_type, EntityType):
                    return self.target_level(e.expr, access_path) + 1
                if isinstance(target_type, RecordType):
                    return self.target_level(e.expr, [*access_path, e.attr])
                self._invariant(e)
                return 0
            case ast.Binary() if e.op is BinaryOp.GET_TAG:
                level = self.target_level(e.left, access_path)
                self._check_all((e.right,))
                return level + 1
            case ast.RecordLit():
                if access_path:
                    rest, attr = access_path[:-1], access_path[-1]
                    accessed = next((v for k, v in e.fields if k == attr), None)
                    if accessed is not None:
                        self._check_all(v for k, v in e.fields if k != attr)
                        return self.target_level(accessed, rest)
                self._invariant(e)
                return 0
            case _:
                pass
        self._invariant(e)
        return 0
