"""The policy abstract syntax tree.

Expressions are small immutable node classes. ``!=``, ``>`` and ``>=`` keep their
own operators (their evaluation order and errors match Rust's desugaring). Every
node has a ``span`` (excluded from equality) pointing into the policy source.

:data:`Expr` is the closed union of the node classes: code that walks expressions
uses ``match`` with a final ``case _: assert_never(e)``, so mypy reports any walk
that misses a node kind.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, TypeAlias

from .source import Source, Span
from .values import EntityUid


class Node:
    """Base class of expression nodes (annotate with the union :data:`Expr`)."""

    __slots__ = ("span",)
    span: Span | None

    def children(self) -> tuple[Expr, ...]:
        return ()

    _labels: ClassVar[tuple[str, ...]] = ()
    """The slots holding the node's own data (not operands, not the span)."""

    def label(self) -> object:
        """The node's own data: equal nodes have equal types, labels and operands."""
        return tuple(getattr(self, s) for s in self._labels)

    def __eq__(self, other: object) -> bool:
        # iterative, so any depth the parser accepts compares without deep recursion
        pairs: list[tuple[Node, object]] = [(self, other)]
        while pairs:
            a, b = pairs.pop()
            if type(a) is not type(b):
                return False
            assert isinstance(b, Node)
            a_children, b_children = a.children(), b.children()
            if a.label() != b.label() or len(a_children) != len(b_children):
                return False
            pairs += zip(a_children, b_children, strict=True)
        return True

    def __hash__(self) -> int:
        stack: list[Node] = [self]
        parts: list[object] = []
        while stack:
            node = stack.pop()
            parts.append((type(node).__name__, node.label()))
            stack += node.children()
        return hash(tuple(parts))

    def __repr__(self) -> str:
        args = ", ".join(repr(getattr(self, s)) for s in self.__slots__ if s != "span")
        return f"{type(self).__name__}({args})"


class Lit(Node):
    """A literal value: bool, long, string or entity uid."""

    __slots__ = ("value",)

    def __init__(self, value: bool | int | str | EntityUid, span: Span | None = None) -> None:
        self.value = value
        self.span = span

    def label(self) -> object:
        return (type(self.value), self.value)

    def __eq__(self, other: object) -> bool:
        return type(other) is Lit and type(self.value) is type(other.value) and self.value == other.value

    def __hash__(self) -> int:
        return hash((type(self.value), self.value))


class IntLiteralTooLarge(Node):
    """Parser-internal: digits beyond i64, valid only as the operand of a unary ``-``."""

    __slots__ = ("magnitude",)
    _labels = ("magnitude",)

    def __init__(self, magnitude: int, span: Span | None = None) -> None:
        self.magnitude = magnitude
        self.span = span


class Var(Node):
    """``principal``, ``action``, ``resource`` or ``context``."""

    __slots__ = ("name",)
    _labels = ("name",)

    def __init__(self, name: str, span: Span | None = None) -> None:
        self.name = name
        self.span = span


class Slot(Node):
    """A template slot: ``?principal`` or ``?resource``."""

    __slots__ = ("name",)
    _labels = ("name",)

    def __init__(self, name: str, span: Span | None = None) -> None:
        self.name = name
        self.span = span


class If(Node):
    __slots__ = ("cond", "else_", "then")

    def __init__(self, cond: Expr, then: Expr, else_: Expr, span: Span | None = None) -> None:
        self.cond = cond
        self.then = then
        self.else_ = else_
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return (self.cond, self.then, self.else_)


class And(Node):
    __slots__ = ("left", "right")

    def __init__(self, left: Expr, right: Expr, span: Span | None = None) -> None:
        self.left = left
        self.right = right
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


class Or(Node):
    __slots__ = ("left", "right")

    def __init__(self, left: Expr, right: Expr, span: Span | None = None) -> None:
        self.left = left
        self.right = right
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


class UnaryOp(StrEnum):
    NOT = "!"
    NEG = "neg"
    IS_EMPTY = "isEmpty"


class BinaryOp(StrEnum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    ADD = "+"
    SUB = "-"
    MUL = "*"
    IN = "in"
    CONTAINS = "contains"
    CONTAINS_ALL = "containsAll"
    CONTAINS_ANY = "containsAny"
    GET_TAG = "getTag"
    HAS_TAG = "hasTag"


class Unary(Node):
    __slots__ = ("arg", "op")
    _labels = ("op",)

    def __init__(self, op: UnaryOp, arg: Expr, span: Span | None = None) -> None:
        self.op = op
        self.arg = arg
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return (self.arg,)


class Binary(Node):
    __slots__ = ("left", "op", "right")
    _labels = ("op",)

    def __init__(self, op: BinaryOp, left: Expr, right: Expr, span: Span | None = None) -> None:
        self.op = op
        self.left = left
        self.right = right
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


class GetAttr(Node):
    """``e.attr`` or ``e["attr"]``."""

    __slots__ = ("attr", "expr")
    _labels = ("attr",)

    def __init__(self, expr: Expr, attr: str, span: Span | None = None) -> None:
        self.expr = expr
        self.attr = attr
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return (self.expr,)


class HasAttr(Node):
    """``e has attr`` (the extended form ``e has a.b`` is desugared by the parser)."""

    __slots__ = ("attr", "expr")
    _labels = ("attr",)

    def __init__(self, expr: Expr, attr: str, span: Span | None = None) -> None:
        self.expr = expr
        self.attr = attr
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return (self.expr,)


class Like(Node):
    """``e like "pat"``; the pattern is a tuple of literal strings and ``None`` for ``*``."""

    __slots__ = ("expr", "pattern")
    _labels = ("pattern",)

    def __init__(self, expr: Expr, pattern: tuple[str | None, ...], span: Span | None = None) -> None:
        self.expr = expr
        self.pattern = pattern
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return (self.expr,)


class Is(Node):
    """``e is T`` (``e is T in E`` is ``e is T && e in E``)."""

    __slots__ = ("entity_type", "expr")
    _labels = ("entity_type",)

    def __init__(self, expr: Expr, entity_type: str, span: Span | None = None) -> None:
        self.expr = expr
        self.entity_type = entity_type
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return (self.expr,)


class SetLit(Node):
    __slots__ = ("items",)

    def __init__(self, items: tuple[Expr, ...], span: Span | None = None) -> None:
        self.items = items
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return self.items


class RecordLit(Node):
    __slots__ = ("fields",)

    def __init__(self, fields: tuple[tuple[str, Expr], ...], span: Span | None = None) -> None:
        self.fields = fields
        self.span = span

    def label(self) -> object:
        return tuple(key for key, _ in self.fields)

    def children(self) -> tuple[Expr, ...]:
        return tuple(e for _, e in self.fields)


class ExtCall(Node):
    """An extension function call; for methods the receiver is ``args[0]``."""

    __slots__ = ("args", "name")
    _labels = ("name",)

    def __init__(self, name: str, args: tuple[Expr, ...], span: Span | None = None) -> None:
        self.name = name
        self.args = args
        self.span = span

    def children(self) -> tuple[Expr, ...]:
        return self.args


Expr: TypeAlias = (
    Lit
    | Var
    | Slot
    | If
    | And
    | Or
    | Unary
    | Binary
    | GetAttr
    | HasAttr
    | Like
    | Is
    | SetLit
    | RecordLit
    | ExtCall
)
"""An expression: one of the node classes (``IntLiteralTooLarge`` never leaves the parser)."""


def chain_operands(expr: And | Or) -> list[Expr]:
    """The operands of a left-nested ``&&`` (or ``||``) chain, in evaluation order, found by
    a loop (a long chain is a deep tree)."""
    kind = type(expr)
    operands: list[Expr] = []
    node: Expr = expr
    while isinstance(node, (And, Or)) and type(node) is kind:
        operands.append(node.right)
        node = node.left
    operands.append(node)
    operands.reverse()
    return operands


def has_path(target: Expr, path: list[str] | tuple[str, ...], span: Span | None = None) -> Expr:
    """``e has a.b.c`` as Rust desugars it: ``e has a && e.a has b && e.a.b has c``."""
    result: Expr = HasAttr(target, path[0], span)
    prefix = target
    for prev, attr in itertools.pairwise(path):
        prefix = GetAttr(prefix, prev, span)
        result = And(result, HasAttr(prefix, attr, span), span)
    return result


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of ``expr``, parents before children (iterative, any depth)."""
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children()))


# ---------------------------------------------------------------------------
# Policies


class Effect(StrEnum):
    """A policy's effect: ``PERMIT`` or ``FORBID``."""

    PERMIT = "permit"
    FORBID = "forbid"


class ScopeOp(StrEnum):
    ALL = "All"
    EQ = "=="
    IN = "in"
    IS = "is"
    IS_IN = "is in"


class EntityList(tuple[EntityUid, ...]):
    """The entities of ``action in [A, B, ...]`` in a scope (distinct from a single uid,
    which is itself a tuple)."""

    __slots__ = ()


@dataclass(eq=True, unsafe_hash=True, slots=True)
class ScopeConstraint:
    """A constraint on ``principal``, ``action`` or ``resource`` in a policy's scope.

    ``entity`` is an :class:`EntityUid`, a slot name (``"?principal"``), or for
    ``action in [...]`` a tuple of uids.
    """

    op: ScopeOp = ScopeOp.ALL
    entity: EntityUid | str | EntityList | None = None
    entity_type: str | None = None
    span: Span | None = field(default=None, compare=False)


@dataclass(eq=True, unsafe_hash=True, slots=True)
class Condition:
    """A ``when`` (``is_when=True``) or ``unless`` clause."""

    is_when: bool
    body: Expr
    span: Span | None = field(default=None, compare=False)


@dataclass(eq=True, unsafe_hash=True, slots=True)
class PolicyAst:
    """A parsed policy or template (``slots`` is non-empty for templates).

    ``annotations`` maps each key to its value; an annotation written without a value
    (``@key``, ``null`` in JSON) has the value ``""`` and its key is in ``valueless``.
    """

    effect: Effect
    principal: ScopeConstraint
    action: ScopeConstraint
    resource: ScopeConstraint
    conditions: tuple[Condition, ...]
    annotations: Mapping[str, str]
    span: Span | None = field(default=None, compare=False)
    source: Source | None = field(default=None, compare=False, repr=False)
    valueless: frozenset[str] = frozenset()

    @property
    def slots(self) -> tuple[str, ...]:
        found = []
        for c in (self.principal, self.resource):
            if isinstance(c.entity, str):
                found.append(c.entity)
        return tuple(found)

    @property
    def text(self) -> str | None:
        """The policy's original source text, if it was parsed from text."""
        if self.source is None or self.span is None:
            return None
        return self.source.text[self.span.start : self.span.end]


# ---------------------------------------------------------------------------
# A policy's condition as expressions (Rust's `Template::condition()`)


def scope_expr(var: str, constraint: ScopeConstraint, slots: Mapping[str, EntityUid]) -> Expr | None:
    """The boolean expression of one scope constraint (``None`` for an unconstrained one)."""
    op = constraint.op
    if op is ScopeOp.ALL:
        return None
    span = constraint.span
    variable = Var(var, span)
    if op is ScopeOp.IS:
        assert constraint.entity_type is not None
        return Is(variable, constraint.entity_type, span)
    target = constraint.entity
    if isinstance(target, EntityList):
        rhs: Expr = SetLit(tuple(Lit(uid, span) for uid in target), span)
    elif isinstance(target, str):
        rhs = Lit(slots[target], span) if target in slots else Slot(target, span)
    else:
        assert target is not None
        rhs = Lit(target, span)
    if op is ScopeOp.EQ:
        return Binary(BinaryOp.EQ, variable, rhs, span)
    in_expr = Binary(BinaryOp.IN, variable, rhs, span)
    if op is ScopeOp.IS_IN:
        assert constraint.entity_type is not None
        return And(Is(variable, constraint.entity_type, span), in_expr, span)
    return in_expr


def condition_parts(policy_ast: PolicyAst, slots: Mapping[str, EntityUid]) -> tuple[Expr, ...]:
    parts: list[Expr] = []
    for var, constraint in (
        ("principal", policy_ast.principal),
        ("action", policy_ast.action),
        ("resource", policy_ast.resource),
    ):
        expr = scope_expr(var, constraint, slots)
        if expr is not None:
            parts.append(expr)
    for cond in policy_ast.conditions:
        if cond.is_when:
            parts.append(cond.body)
        else:
            parts.append(Unary(UnaryOp.NOT, cond.body, cond.span))
    return tuple(parts)
