"""The reference tree-walking interpreter (the oracle for the compiled evaluator)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import assert_never

from . import ast, ops
from .ast import BinaryOp, Expr, UnaryOp
from .errors import EvaluationError
from .values import CedarSet, EntityUid, Record, Value

_BINARY: dict[BinaryOp, Callable[[Value, Value], Value]] = {
    BinaryOp.EQ: ops.eq,
    BinaryOp.NE: ops.ne,
    BinaryOp.LT: ops.lt,
    BinaryOp.LE: ops.le,
    BinaryOp.GT: ops.gt,
    BinaryOp.GE: ops.ge,
    BinaryOp.ADD: ops.add,
    BinaryOp.SUB: ops.sub,
    BinaryOp.MUL: ops.mul,
    BinaryOp.CONTAINS: ops.contains,
    BinaryOp.CONTAINS_ALL: ops.contains_all,
    BinaryOp.CONTAINS_ANY: ops.contains_any,
}
_UNARY: dict[UnaryOp, Callable[[Value], Value]] = {
    UnaryOp.NOT: ops.not_,
    UnaryOp.NEG: ops.neg,
    UnaryOp.IS_EMPTY: ops.is_empty,
}


_ARITHMETIC = frozenset({BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL})


def _left_spine(expr: ast.And | ast.Or) -> list[Expr]:
    """The operands of a left-nested ``&&`` (or ``||``) chain, in evaluation order."""
    kind = type(expr)
    operands: list[Expr] = []
    node: Expr = expr
    while isinstance(node, (ast.And, ast.Or)) and type(node) is kind:
        operands.append(node.right)
        node = node.left
    operands.append(node)
    operands.reverse()
    return operands


class Interpreter:
    """Evaluates expressions against one request and an entity store."""

    def __init__(
        self,
        principal: EntityUid,
        action: EntityUid,
        resource: EntityUid,
        context: Record,
        entities: ops.EntityStore,
        slots: Mapping[str, EntityUid] | None = None,
    ) -> None:
        self.vars: dict[str, Value] = {
            "principal": principal,
            "action": action,
            "resource": resource,
            "context": context,
        }
        self.entities = entities
        self.slots = slots or {}

    def evaluate(self, expr: Expr) -> Value:
        try:
            return self._eval(expr)
        except RecursionError:
            raise EvaluationError("RecursionLimit", "recursion limit reached") from None

    def _eval(self, expr: Expr) -> Value:
        match expr:
            case ast.Lit():
                return expr.value
            case ast.Var():
                return self.vars[expr.name]
            case ast.Slot():
                return self._slot(expr)
            case ast.If():
                return self._if(expr)
            case ast.And():
                return self._and(expr)
            case ast.Or():
                return self._or(expr)
            case ast.Unary():
                return self._unary(expr)
            case ast.Binary():
                return self._binary(expr)
            case ast.GetAttr():
                return self._get_attr(expr)
            case ast.HasAttr():
                return self._has_attr(expr)
            case ast.Like():
                return self._like(expr)
            case ast.Is():
                return self._is(expr)
            case ast.SetLit():
                return self._set(expr)
            case ast.RecordLit():
                return self._record(expr)
            case ast.ExtCall():
                return self._call(expr)
            case _:
                assert_never(expr)

    def _slot(self, e: ast.Slot) -> Value:
        try:
            return self.slots[e.name]
        except KeyError:
            raise EvaluationError("UnlinkedSlot", f"template slot `{e.name}` was not linked") from None

    def _if(self, e: ast.If) -> Value:
        if ops.expect_bool(self._eval(e.cond)):
            return self._eval(e.then)
        return self._eval(e.else_)

    def _and(self, e: ast.And) -> Value:
        # a left-nested chain `a && b && c` is evaluated in a loop, not recursively
        return all(ops.expect_bool(self._eval(operand)) for operand in _left_spine(e))

    def _or(self, e: ast.Or) -> Value:
        return any(ops.expect_bool(self._eval(operand)) for operand in _left_spine(e))

    def _unary(self, e: ast.Unary) -> Value:
        return _UNARY[e.op](self._eval(e.arg))

    def _binary(self, e: ast.Binary) -> Value:
        op = e.op
        if op in _ARITHMETIC:
            return self._arithmetic(e)
        left = self._eval(e.left)
        right = self._eval(e.right)
        if op is BinaryOp.IN:
            return ops.in_(self.entities, left, right)
        if op is BinaryOp.GET_TAG:
            return ops.get_tag(self.entities, left, right)
        if op is BinaryOp.HAS_TAG:
            return ops.has_tag(self.entities, left, right)
        return _BINARY[op](left, right)

    def _arithmetic(self, e: ast.Binary) -> Value:
        # `a + b - c * d ...` chains are folded in a loop, left to right
        spine: list[ast.Binary] = []
        node: Expr = e
        while type(node) is ast.Binary and node.op in _ARITHMETIC:
            spine.append(node)
            node = node.left
        value = self._eval(node)
        for step in reversed(spine):
            value = _BINARY[step.op](value, self._eval(step.right))
        return value

    def _get_attr(self, e: ast.GetAttr) -> Value:
        return ops.get_attr(self.entities, self._eval(e.expr), e.attr)

    def _has_attr(self, e: ast.HasAttr) -> Value:
        return ops.has_attr(self.entities, self._eval(e.expr), e.attr)

    def _like(self, e: ast.Like) -> Value:
        return ops.like(self._eval(e.expr), e.pattern)

    def _is(self, e: ast.Is) -> Value:
        return ops.is_type(self._eval(e.expr), e.entity_type)

    def _set(self, e: ast.SetLit) -> Value:
        return CedarSet([self._eval(item) for item in e.items])

    def _record(self, e: ast.RecordLit) -> Value:
        return Record((key, self._eval(value)) for key, value in e.fields)

    def _call(self, e: ast.ExtCall) -> Value:
        return ops.call_extension(e.name, [self._eval(arg) for arg in e.args])
