"""The concrete syntax tree of policy text, recorded by the parser itself.

:func:`parse_concrete` runs the one policy :class:`~cedarlang.parser.Parser` (its
token-by-token path: the plain-scope and lone-atom fast paths are turned off, which
builds the same AST) and records, for the grammar rules it goes through, a
:class:`Node` with the range of tokens the rule read. The tree follows the levels of
Rust Cedar's CST (``grammar.lalrpop``): a policy's scope variables and conditions,
``if``, ``||``, ``&&``, relations, ``+``/``-``, ``*``, unary operators, member
accesses and primaries. Tokens that no rule of their own reads (operators, keywords,
names, the attribute path after ``has``) are found between a node's children. A level
that only passes on the node below it (``a`` is an ``||`` chain of one ``&&`` chain of
one relation ...) is left out: that node stands for it.

It is used by the formatter, which needs what the AST leaves out: comments,
parentheses, ``has a.b``, string escapes and ``is ... in`` as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from . import ast
from ._limits import DEEP_FRAMES, recursion_headroom
from .ast import Expr
from .lexer import Token
from .parser import Parser, Scope
from .source import Source

__all__ = [
    "ADD",
    "AND",
    "CALL",
    "COND",
    "IF",
    "MEMBER",
    "MULT",
    "OR",
    "POLICY",
    "PRIMARY",
    "RELATION",
    "UNARY",
    "VAR",
    "ConcreteTree",
    "Node",
    "parse_concrete",
]

POLICY: Final = "policy"
"""Annotations, effect, scope and conditions; children: three ``VAR`` and the ``COND``."""
VAR: Final = "var"
"""``principal``/``action``/``resource`` with ``is`` and ``==``/``in``; child: the right side."""
COND: Final = "cond"
"""``when { ... }`` or ``unless { ... }``; child: the expression."""
IF: Final = "if"
"""``if a then b else c``; children: the three expressions."""
OR: Final = "or"
"""One or more ``AND`` separated by ``||``."""
AND: Final = "and"
"""One or more ``RELATION`` separated by ``&&``."""
RELATION: Final = "relation"
"""An ``ADD``, optionally followed by a comparison or ``in`` and an ``ADD``, ``has`` and
an attribute (tokens), ``like`` and a pattern (a token), or ``is`` and a type name
(tokens) with an optional ``in`` and an ``ADD``."""
ADD: Final = "add"
"""One or more ``MULT`` separated by ``+`` or ``-``."""
MULT: Final = "mult"
"""One or more ``UNARY`` or ``MEMBER`` separated by ``*``."""
UNARY: Final = "unary"
"""Zero or more ``!`` or ``-`` tokens and a ``MEMBER``."""
MEMBER: Final = "member"
"""A ``PRIMARY`` and its accesses: ``.name`` (tokens), ``.name`` with a ``CALL``, or
``[`` an expression ``]``."""
PRIMARY: Final = "primary"
"""A literal, variable, slot, entity, name (tokens), a function call (name tokens and a
``CALL``), ``(`` expression ``)``, a set (the items) or a record (keys are tokens,
the values are the children)."""
CALL: Final = "call"
"""``(`` arguments ``)``; children: the arguments."""


class Node:
    """One grammar rule applied: its kind, its tokens ``first`` to ``last`` (exclusive,
    indexes into :attr:`ConcreteTree.tokens`) and the nodes of the rules it used."""

    __slots__ = ("children", "first", "kind", "last")

    def __init__(self, kind: str, first: int, last: int, children: list[Node]) -> None:
        self.kind = kind
        self.first = first
        self.last = last
        self.children = children

    def __repr__(self) -> str:
        return f"Node({self.kind}, {self.first}, {self.last}, {self.children!r})"


@dataclass(frozen=True, slots=True)
class ConcreteTree:
    """Policy text parsed: its tokens (ending with ``EOF``), the white space and comments
    before each token (for ``EOF``: the end of the text), a ``POLICY`` node and the AST
    of each policy."""

    source: Source
    tokens: list[Token]
    trivia: list[str]
    policies: list[Node]
    asts: list[ast.PolicyAst]


class _RecordingParser(Parser):
    """The parser, recording a :class:`Node` each time one of the rules above finishes.

    A finished rule takes as its children the nodes finished since it started (the
    nodes on the stack that start at or after its first token), so the recording
    follows the parser's own recursion and costs nothing when it is not used.
    """

    def __init__(self, source: Source, tokens: list[Token]) -> None:
        super().__init__(source, tokens=tokens)
        self.stack: list[Node] = []

    def reduce(self, kind: str, first: int) -> None:
        stack = self.stack
        k = len(stack)
        while k and stack[k - 1].first >= first:
            k -= 1
        children = stack[k:]
        del stack[k:]
        stack.append(Node(kind, first, self.pos, children))

    def reduce_level(self, kind: str, first: int) -> None:
        """:meth:`reduce`, unless the rule only passed on the node of the rule it used
        (``a`` as an ``||`` chain of one): then that node stands for it."""
        top = self.stack[-1]
        if top.first != first or top.last != self.pos:
            self.reduce(kind, first)

    # fast paths off: the token-by-token path builds the same AST

    def plain_scope(self) -> Scope | None:
        return None

    def parse_lone_atom(self, tok: Token) -> Expr | None:
        return None

    # recorded rules

    def parse_policy(self) -> ast.PolicyAst:
        first = self.pos
        result = super().parse_policy()
        self.reduce(POLICY, first)
        return result

    def parse_scope_var(self, expected: str) -> ast.ScopeConstraint:
        first = self.pos
        result = super().parse_scope_var(expected)
        self.reduce(VAR, first)
        return result

    def parse_condition(self) -> ast.Condition:
        first = self.pos
        result = super().parse_condition()
        self.reduce(COND, first)
        return result

    def parse_expr(self) -> Expr:
        first = self.pos
        is_if = self.at_word("if")
        result = super().parse_expr()
        if is_if:
            self.reduce(IF, first)
        return result

    def parse_or(self) -> Expr:
        first = self.pos
        result = super().parse_or()
        self.reduce_level(OR, first)
        return result

    def parse_and(self) -> Expr:
        first = self.pos
        result = super().parse_and()
        self.reduce_level(AND, first)
        return result

    def parse_relation(self) -> Expr:
        first = self.pos
        result = super().parse_relation()
        self.reduce_level(RELATION, first)
        return result

    def parse_add(self) -> Expr:
        first = self.pos
        result = super().parse_add()
        self.reduce_level(ADD, first)
        return result

    def parse_mult(self) -> Expr:
        first = self.pos
        result = super().parse_mult()
        self.reduce_level(MULT, first)
        return result

    def parse_unary(self) -> Expr:
        first = self.pos
        result = super().parse_unary()
        self.reduce_level(UNARY, first)
        return result

    def parse_member(self) -> Expr | ast.IntLiteralTooLarge:
        first = self.pos
        result = super().parse_member()
        self.reduce_level(MEMBER, first)
        return result

    def parse_primary(self) -> Expr | ast.IntLiteralTooLarge:
        first = self.pos
        result = super().parse_primary()
        self.reduce(PRIMARY, first)
        return result

    def parse_call_args(self) -> tuple[Expr, ...]:
        first = self.pos
        result = super().parse_call_args()
        self.reduce(CALL, first)
        return result


CONCRETE_FRAMES: Final = 2 * DEEP_FRAMES
"""Recording doubles the parser's Python frames per grammar level (each rule calls the
parser's own)."""


def parse_concrete(source: Source, tokens: list[Token], trivia: list[str]) -> ConcreteTree:
    """Parse a policy file, keeping its tokens, comments and concrete tree (``tokens`` and
    ``trivia`` are :func:`~cedarlang.lexer.tokenize_with_trivia` of ``source``).

    Raises :class:`~cedarlang.ParseError` exactly as
    :func:`~cedarlang.parser.parse_policies` does.
    """
    with recursion_headroom(CONCRETE_FRAMES):
        parser = _RecordingParser(source, tokens)
        asts = parser.parse_policies()
    policies = parser.stack
    if len(policies) != len(asts) or any(node.kind != POLICY for node in policies):
        raise AssertionError("the recorded tree has one node per policy")
    return ConcreteTree(source, tokens, trivia, policies, asts)
