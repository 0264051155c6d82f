"""The reference tree-walking interpreter (the oracle for the compiled evaluator)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import assert_never

from . import ast, ops
from .ast import BinaryOp, Expr, UnaryOp
from .errors import EvaluationError
from .extensions import FUNCTIONS
from .values import CedarSet, EntityUid, Record, Value

BINARY_OPS: dict[BinaryOp, Callable[[Value, Value], Value]] = {
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
UNARY_OPS: dict[UnaryOp, Callable[[Value], Value]] = {
    UnaryOp.NOT: ops.not_,
    UnaryOp.NEG: ops.neg,
    UnaryOp.IS_EMPTY: ops.is_empty,
}


_ARITHMETIC = frozenset({BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL})
METHOD_OPS = frozenset(
    {BinaryOp.CONTAINS, BinaryOp.CONTAINS_ALL, BinaryOp.CONTAINS_ANY, BinaryOp.GET_TAG, BinaryOp.HAS_TAG}
)

Member = ast.GetAttr | ast.HasAttr | ast.Like | ast.Is | ast.Unary | ast.Binary | ast.ExtCall
"""A node whose receiver is evaluated first: ``r.a``, ``r has a``, ``r like p``, ``r is T``,
``r.isEmpty()``, ``r.contains(x)`` (and the other method operators), ``r.ext(...)``."""
MEMBER_TYPES = (ast.GetAttr, ast.HasAttr, ast.Like, ast.Is, ast.Unary, ast.Binary, ast.ExtCall)


def is_member(e: Member) -> bool:
    match e:
        case ast.Unary():
            return e.op is UnaryOp.IS_EMPTY
        case ast.Binary():
            return e.op in METHOD_OPS
        case ast.ExtCall():
            function = FUNCTIONS.get(e.name)
            return bool(e.args) and function is not None and function.is_method
        case _:
            return True


def receiver_of(e: Member) -> Expr:
    match e:
        case ast.GetAttr() | ast.HasAttr() | ast.Like() | ast.Is():
            return e.expr
        case ast.Unary():
            return e.arg
        case ast.Binary():
            return e.left
        case ast.ExtCall():
            return e.args[0]
        case _:
            assert_never(e)


def _field_key(field: tuple[str, Expr]) -> str:
    return field[0]


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
                if expr.op is UnaryOp.IS_EMPTY:
                    return self._member_chain(expr)
                return UNARY_OPS[expr.op](self._eval(expr.arg))
            case ast.Binary():
                if expr.op in METHOD_OPS:
                    return self._member_chain(expr)
                if expr.op in _ARITHMETIC:
                    return self._arithmetic(expr)
                return self._binary(expr.op, self._eval(expr.left), self._eval(expr.right))
            case ast.GetAttr() | ast.HasAttr() | ast.Like() | ast.Is():
                return self._member_chain(expr)
            case ast.SetLit():
                return CedarSet([self._eval(item) for item in expr.items])
            case ast.RecordLit():
                # key order, as Rust's BTreeMap (which error is reported when two fields fail)
                return Record((key, self._eval(value)) for key, value in sorted(expr.fields, key=_field_key))
            case ast.ExtCall():
                if is_member(expr):
                    return self._member_chain(expr)
                return ops.call_extension(expr.name, [self._eval(arg) for arg in expr.args])
            case _:
                assert_never(expr)

    def _member_chain(self, e: Member) -> Value:
        """``r.a.b.contains(x).c ...``: the innermost receiver, then each step outward in a
        loop (receivers first, as in the recursive order), so long chains need no recursion."""
        spine: list[Member] = [e]
        node = receiver_of(e)
        while isinstance(node, MEMBER_TYPES) and is_member(node):
            spine.append(node)
            node = receiver_of(node)
        value = self._eval(node)
        for step in reversed(spine):
            value = self._member_step(step, value)
        return value

    def _member_step(self, e: Member, receiver: Value) -> Value:
        match e:
            case ast.GetAttr():
                return ops.get_attr(self.entities, receiver, e.attr)
            case ast.HasAttr():
                return ops.has_attr(self.entities, receiver, e.attr)
            case ast.Like():
                return ops.like(receiver, e.pattern)
            case ast.Is():
                return ops.is_type(receiver, e.entity_type)
            case ast.Unary():
                return UNARY_OPS[e.op](receiver)
            case ast.Binary():
                return self._binary(e.op, receiver, self._eval(e.right))
            case ast.ExtCall():
                return ops.call_extension(e.name, [receiver, *(self._eval(arg) for arg in e.args[1:])])
            case _:
                assert_never(e)

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
        return all(ops.expect_bool(self._eval(operand)) for operand in ast.chain_operands(e))

    def _or(self, e: ast.Or) -> Value:
        return any(ops.expect_bool(self._eval(operand)) for operand in ast.chain_operands(e))

    def _binary(self, op: BinaryOp, left: Value, right: Value) -> Value:
        if op is BinaryOp.IN:
            return ops.in_(self.entities, left, right)
        if op is BinaryOp.GET_TAG:
            return ops.get_tag(self.entities, left, right)
        if op is BinaryOp.HAS_TAG:
            return ops.has_tag(self.entities, left, right)
        return BINARY_OPS[op](left, right)

    def _arithmetic(self, e: ast.Binary) -> Value:
        # `a + b - c * d ...` chains are folded in a loop, left to right
        spine: list[ast.Binary] = []
        node: Expr = e
        while type(node) is ast.Binary and node.op in _ARITHMETIC:
            spine.append(node)
            node = node.left
        value = self._eval(node)
        for step in reversed(spine):
            value = BINARY_OPS[step.op](value, self._eval(step.right))
        return value
