"""Residuals: what typed partial evaluation leaves of a policy condition.

A port of Rust's ``cedar-policy-core/src/tpe/residual.rs``. A residual is

* :class:`Concrete` -- a value;
* :class:`ErrorResidual` -- an expression that certainly errors (printed ``error()``, as
  Rust's ``ERROR_NAME`` extension call);
* :class:`Partial` -- an operator (:class:`Kind`) applied to residual operands.

The operators are those of Rust's AST: ``a != b`` is ``!(a == b)``, ``a > b`` is
``!(a <= b)`` and ``a >= b`` is ``!(a < b)`` (``expr_builder.rs``: ``noteq``,
``greater``, ``greatereq``), so residuals print exactly as Rust prints them.

:func:`from_condition` builds the residual of a typechecked condition the way Rust's
typechecker shapes its typed expression: ``a && b`` whose left operand has type ``False``
is just ``a``; ``a || b`` with a ``True`` left operand is just ``a``; ``if c then a else
b`` with a ``True`` (``False``) condition has the then (else) branch in both places
(``validator/typecheck.rs``, ``ExprKind::If`` / ``And`` / ``Or``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any, Final, assert_never

from .. import ast, est
from .._limits import recursion_headroom
from ..ast import BinaryOp, Expr, UnaryOp
from ..validator.types import FALSE, TRUE, Type
from ..values import CedarSet, EntityUid, Record, Value, to_cedar

__all__ = [
    "Concrete",
    "ErrorResidual",
    "Kind",
    "Partial",
    "Residual",
    "can_error",
    "from_condition",
    "literal_uids",
    "residual_text",
    "to_expr",
    "value_to_expr",
]


class Kind(StrEnum):
    VAR = "var"
    IF = "if"
    AND = "and"
    OR = "or"
    UNARY = "unary"
    BINARY = "binary"
    EXT = "ext"
    GET_ATTR = "getAttr"
    HAS_ATTR = "hasAttr"
    LIKE = "like"
    IS = "is"
    SET = "set"
    RECORD = "record"


class Residual:
    """Base of the three residual forms."""

    __slots__ = ()


class Concrete(Residual):
    __slots__ = ("value",)

    def __init__(self, value: Value) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Concrete({to_cedar(self.value)})"


class ErrorResidual(Residual):
    __slots__ = ()

    def __repr__(self) -> str:
        return "ErrorResidual()"


ERROR: Final = ErrorResidual()
TRUE_R: Final = Concrete(True)
FALSE_R: Final = Concrete(False)


class Partial(Residual):
    """``kind`` applied to ``args``; ``data`` is the operator's own datum: the variable
    name, ``UnaryOp``, ``BinaryOp``, function name, attribute, pattern, entity type or (for
    records) the tuple of keys in the order of ``args``."""

    __slots__ = ("args", "data", "kind")

    def __init__(self, kind: Kind, args: tuple[Residual, ...], data: Any = None) -> None:
        self.kind = kind
        self.args = args
        self.data = data

    def __repr__(self) -> str:
        return f"Partial({self.kind}, {self.args!r}, {self.data!r})"


# -- typed condition -> residual ----------------------------------------------------------


def from_condition(expr: Expr, types: Mapping[int, Type | None], slots: Mapping[str, EntityUid]) -> Residual:
    """The residual of a condition typechecked in one request environment (``types`` maps
    ``id(node)`` to the node's type); slots become their linked uids (Rust's
    ``Residual::try_from_typed_expr``)."""
    return _from(expr, types, slots)


def _from(e: Expr, types: Mapping[int, Type | None], slots: Mapping[str, EntityUid]) -> Residual:
    def go(x: Expr) -> Residual:
        return _from(x, types, slots)

    match e:
        case ast.Lit():
            return Concrete(e.value)
        case ast.Var():
            return Partial(Kind.VAR, (), e.name)
        case ast.Slot():
            return Concrete(slots[e.name])
        case ast.And():
            if types.get(id(e.left)) == FALSE:
                return go(e.left)
            return Partial(Kind.AND, (go(e.left), go(e.right)))
        case ast.Or():
            if types.get(id(e.left)) == TRUE:
                return go(e.left)
            return Partial(Kind.OR, (go(e.left), go(e.right)))
        case ast.If():
            cond_type = types.get(id(e.cond))
            if cond_type == TRUE:
                then = go(e.then)
                return Partial(Kind.IF, (go(e.cond), then, then))
            if cond_type == FALSE:
                other = go(e.else_)
                return Partial(Kind.IF, (go(e.cond), other, other))
            return Partial(Kind.IF, (go(e.cond), go(e.then), go(e.else_)))
        case ast.Unary():
            return Partial(Kind.UNARY, (go(e.arg),), e.op)
        case ast.Binary():
            left, right = go(e.left), go(e.right)
            op = e.op
            if op is BinaryOp.NE:
                return Partial(Kind.UNARY, (Partial(Kind.BINARY, (left, right), BinaryOp.EQ),), UnaryOp.NOT)
            if op is BinaryOp.GT:
                return Partial(Kind.UNARY, (Partial(Kind.BINARY, (left, right), BinaryOp.LE),), UnaryOp.NOT)
            if op is BinaryOp.GE:
                return Partial(Kind.UNARY, (Partial(Kind.BINARY, (left, right), BinaryOp.LT),), UnaryOp.NOT)
            return Partial(Kind.BINARY, (left, right), op)
        case ast.GetAttr():
            return Partial(Kind.GET_ATTR, (go(e.expr),), e.attr)
        case ast.HasAttr():
            return Partial(Kind.HAS_ATTR, (go(e.expr),), e.attr)
        case ast.Like():
            return Partial(Kind.LIKE, (go(e.expr),), e.pattern)
        case ast.Is():
            return Partial(Kind.IS, (go(e.expr),), e.entity_type)
        case ast.SetLit():
            return Partial(Kind.SET, tuple(go(item) for item in e.items))
        case ast.RecordLit():
            return Partial(Kind.RECORD, tuple(go(v) for _, v in e.fields), tuple(k for k, _ in e.fields))
        case ast.ExtCall():
            return Partial(Kind.EXT, tuple(go(a) for a in e.args), e.name)
        case _:
            assert_never(e)


# -- queries ------------------------------------------------------------------------------


def walk(r: Residual) -> Iterator[Residual]:
    stack = [r]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Partial):
            stack.extend(node.args)


def depth(r: Residual) -> int:
    """How deeply the residual nests (iterative)."""
    deepest = 0
    stack: list[tuple[Residual, int]] = [(r, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(node, Partial):
            stack.extend((a, d + 1) for a in node.args)
    return deepest


def _value_uids(value: Value, out: set[EntityUid]) -> None:
    t = type(value)
    if t is EntityUid:
        out.add(value)
    elif t is CedarSet:
        for item in value:
            _value_uids(item, out)
    elif t is Record:
        for item in value.values():
            _value_uids(item, out)


def literal_uids(r: Residual) -> set[EntityUid]:
    """Every entity uid a residual mentions (Rust's ``all_literal_uids``)."""
    out: set[EntityUid] = set()
    for node in walk(r):
        if isinstance(node, Concrete):
            _value_uids(node.value, out)
    return out


_ALWAYS_ERRING_BINARY: Final = frozenset({BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL, BinaryOp.GET_TAG})


def can_error(r: Residual) -> bool:
    """Rust's ``can_error_assuming_well_formed``: arithmetic, ``getTag``, attribute access
    and extension calls may error; anything else only if an operand may."""
    for node in walk(r):
        if isinstance(node, ErrorResidual):
            return True
        if isinstance(node, Partial):
            kind = node.kind
            if kind in (Kind.EXT, Kind.GET_ATTR):
                return True
            if kind is Kind.BINARY and node.data in _ALWAYS_ERRING_BINARY:
                return True
            if kind is Kind.UNARY and node.data is UnaryOp.NEG:
                return True
    return False


# -- residual -> expression / text --------------------------------------------------------


def value_to_expr(value: Value) -> Expr:
    """A value as an expression (Rust's ``From<Value> for Expr``)."""
    t = type(value)
    if t is bool or t is int or t is str or t is EntityUid:
        return ast.Lit(value)
    if t is CedarSet:
        return ast.SetLit(tuple(value_to_expr(v) for v in sorted(value, key=to_cedar)))
    if t is Record:
        return ast.RecordLit(tuple((k, value_to_expr(value[k])) for k in sorted(value)))
    return _extension_expr(value.to_json())


def _extension_expr(data: dict[str, Any]) -> Expr:
    call = data["__extn"]
    if "arg" in call:
        return ast.ExtCall(call["fn"], (ast.Lit(call["arg"]),))
    return ast.ExtCall(call["fn"], tuple(_extension_expr(a) for a in call["args"]))


ERROR_FUNCTION: Final = "error"
"""The name of the call an error residual prints as (Rust's ``ERROR_NAME``)."""


def to_expr(r: Residual) -> Expr:
    """A residual as an expression (Rust's ``From<Residual> for Expr``)."""
    with recursion_headroom(max(20_000, depth(r) * 4 + 1000)):
        return _to_expr(r)


def _to_expr(r: Residual) -> Expr:
    if isinstance(r, Concrete):
        return value_to_expr(r.value)
    if isinstance(r, ErrorResidual):
        return ast.ExtCall(ERROR_FUNCTION, ())
    assert isinstance(r, Partial)
    args = [_to_expr(a) for a in r.args]
    match r.kind:
        case Kind.VAR:
            return ast.Var(r.data)
        case Kind.IF:
            return ast.If(args[0], args[1], args[2])
        case Kind.AND:
            return ast.And(args[0], args[1])
        case Kind.OR:
            return ast.Or(args[0], args[1])
        case Kind.UNARY:
            return ast.Unary(r.data, args[0])
        case Kind.BINARY:
            return ast.Binary(r.data, args[0], args[1])
        case Kind.EXT:
            return ast.ExtCall(r.data, tuple(args))
        case Kind.GET_ATTR:
            return ast.GetAttr(args[0], r.data)
        case Kind.HAS_ATTR:
            return ast.HasAttr(args[0], r.data)
        case Kind.LIKE:
            return ast.Like(args[0], r.data)
        case Kind.IS:
            return ast.Is(args[0], r.data)
        case Kind.SET:
            return ast.SetLit(tuple(args))
        case Kind.RECORD:
            return ast.RecordLit(tuple(zip(r.data, args, strict=True)))
    raise AssertionError(r.kind)


def expr_text(expr: Expr) -> str:
    """An expression as Rust 4.12 prints it (attribute accesses and method calls bare)."""
    return est.expr_text(expr, bare_members=True)


def residual_text(r: Residual) -> str:
    """A residual as Cedar text, as Rust prints it."""
    return expr_text(to_expr(r))
