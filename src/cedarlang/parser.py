"""Recursive-descent parser: Cedar policy text → :mod:`cedarlang.ast`.

The grammar follows Rust Cedar's ``grammar.lalrpop`` and the checks of its
``cst_to_ast`` lowering (scope shapes, reserved identifiers, literal ranges,
known functions and methods), reporting errors with source spans and help.
Chains of ``&&``, ``||``, ``+``, ``*`` are parsed with loops; explicit nesting
(parentheses, brackets, unary operators, ``if``) is limited to
:data:`MAX_NESTING` levels so that hostile input fails cleanly.
"""

from __future__ import annotations

import bisect
import functools
import operator
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final, NoReturn, TypeVar

from . import ast
from ._limits import DEEP_FRAMES, MAX_NESTING, recursion_headroom
from .ast import BinaryOp, Expr, UnaryOp
from .errors import ParseError
from .extensions import FUNCTIONS
from .lexer import EOF, HEAD, IDENT, INT, SCOPE_RE, SLOT, STR, Token, tokenize
from .lexical import (
    NAME_PATTERN,
    RESERVED_IDENTS,
    STAR,
    UnescapeError,
    is_action_type,
    quote,
    unescape,
    unescape_pattern,
)
from .source import Diagnostic, Source, Span, TextInput, decode_text
from .values import I64_MAX, EntityUid

MAX_HAS_PATH: Final = 100
"""How many names ``e has a.b.c`` may test at once."""

RESERVED: Final = RESERVED_IDENTS
"""Identifiers a policy rejects in every name, attribute and type position."""

VARIABLES: Final = frozenset({"principal", "action", "resource", "context"})
BUILTIN_METHODS: Final[dict[str, tuple[BinaryOp | UnaryOp, int]]] = {
    "contains": (BinaryOp.CONTAINS, 1),
    "containsAll": (BinaryOp.CONTAINS_ALL, 1),
    "containsAny": (BinaryOp.CONTAINS_ANY, 1),
    "getTag": (BinaryOp.GET_TAG, 1),
    "hasTag": (BinaryOp.HAS_TAG, 1),
    "isEmpty": (UnaryOp.IS_EMPTY, 0),
}
_ATOMS: Final = frozenset({IDENT, STR, INT, SLOT})
_TERMINATORS: Final = frozenset({",", ")", "]", "}", ";"})
"""Tokens no operator level consumes: after an atom, they end the expression."""
_CONTINUES_OPERAND: Final = frozenset({"+", "-", "*", "/", "%", "[", "(", "."})
_RELOPS: Final = {
    "==": BinaryOp.EQ,
    "!=": BinaryOp.NE,
    "<": BinaryOp.LT,
    "<=": BinaryOp.LE,
    ">": BinaryOp.GT,
    ">=": BinaryOp.GE,
}

T = TypeVar("T")

_UID_PARTS: Final = re.compile(rf'({NAME_PATTERN})::"([^"\\\r]*)"')
_token_start = operator.attrgetter("start")
_span: Final = functools.partial(tuple.__new__, Span)
"""``_span((start, end))``: a :class:`Span` from a pair, built without a Python call."""


class _Abort(Exception):
    """Internal: stop parsing the current policy (a diagnostic was recorded)."""


class _NotPlain(Exception):
    """Internal: a HEAD token needs the token-by-token parser; parse again without heads."""


Scope = tuple[ast.ScopeConstraint, ast.ScopeConstraint, ast.ScopeConstraint]
Annotations = tuple[dict[str, str], frozenset[str]]
"""A policy's annotations and the keys of those written without a value."""


class Parser:
    """Parses one source text; use the module-level functions instead."""

    def __init__(self, source: Source, *, heads: bool = False, tokens: list[Token] | None = None) -> None:
        self.source = source
        self.tokens = tokenize(source, heads=heads) if tokens is None else tokens
        """The tokens of ``source``, ending with ``EOF`` (``tokens``: already tokenized)."""
        self.pos = 0
        self.tok: Token = self.tokens[0]
        """The current token (kept in step with ``pos`` by :meth:`advance`)."""
        self.nesting = 0
        self.in_condition = False
        self.diagnostics: list[Diagnostic] = []

    # -- token helpers ---------------------------------------------------

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tok
        if tok.kind != EOF:
            pos = self.pos + 1
            self.pos = pos
            self.tok = self.tokens[pos]
        return tok

    def at(self, kind: str, text: str | None = None) -> bool:
        tok = self.tok
        return tok.kind == kind and (text is None or tok.text == text)

    def at_word(self, word: str) -> bool:
        tok = self.tok
        return tok.kind == IDENT and tok.text == word

    def expect(self, kind: str, what: str | None = None) -> Token:
        if self.tok.kind != kind:
            self.unexpected(what or f"`{kind}`")
        return self.advance()

    def fail(self, message: str, span: Span | None, help: str | None = None) -> NoReturn:
        self.diagnostics.append(Diagnostic(message, span, self.source, help))
        raise _Abort

    def unexpected(self, expected: str) -> NoReturn:
        tok = self.tok
        found = "end of input" if tok.kind == EOF else f"`{tok.text}`"
        self.fail(f"unexpected token {found}", tok.span, help=f"expected {expected}")

    def span_from(self, start: int) -> Span:
        end = self.tokens[self.pos - 1].end if self.pos > 0 else self.tok.end
        return _span((start, end if end > start else start))

    @contextmanager
    def nested(self, tok: Token) -> Iterator[None]:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            self.fail(
                f"expression is nested too deeply (more than {MAX_NESTING} levels)",
                tok.span,
                help="simplify the expression or split it into several conditions",
            )
        try:
            yield
        finally:
            self.nesting -= 1

    # -- policies ----------------------------------------------------------

    def parse_policies(self) -> list[ast.PolicyAst]:
        policies: list[ast.PolicyAst] = []
        while not self.at(EOF):
            try:
                policies.append(self.parse_policy())
            except _Abort:
                self.skip_past_semicolon()
        if self.diagnostics:
            raise ParseError(self.diagnostics)
        return policies

    def skip_past_semicolon(self) -> None:
        depth = 0
        while not self.at(EOF):
            tok = self.advance()
            if tok.kind in "([{":
                depth += 1
            elif tok.kind in ")]}":
                depth = max(0, depth - 1)
            elif tok.kind == ";" and depth == 0:
                return

    def parse_policy(self) -> ast.PolicyAst:
        start = self.tok.start
        annotations = self.parse_annotations()
        effect_tok = self.tok
        if effect_tok.kind == HEAD:
            self.advance()
            effect, (principal, action, resource) = self.plain_head(effect_tok)
            return self.finish_policy(start, annotations, effect, principal, action, resource)
        if effect_tok.kind != IDENT:
            self.unexpected("`permit` or `forbid`")
        self.advance()
        if effect_tok.text not in ("permit", "forbid"):
            self.fail(
                f"invalid policy effect `{effect_tok.text}`",
                effect_tok.span,
                help="a policy starts with `permit` or `forbid`",
            )
        effect = ast.Effect.PERMIT if effect_tok.text == "permit" else ast.Effect.FORBID
        principal, action, resource = self.parse_scope()
        return self.finish_policy(start, annotations, effect, principal, action, resource)

    def finish_policy(
        self,
        start: int,
        annotations: Annotations,
        effect: ast.Effect,
        principal: ast.ScopeConstraint,
        action: ast.ScopeConstraint,
        resource: ast.ScopeConstraint,
    ) -> ast.PolicyAst:
        """The conditions and the closing `;` after a policy's scope."""
        conditions = []
        while self.at(IDENT):
            conditions.append(self.parse_condition())
        if not self.at(";"):
            self.unexpected("`when`, `unless` or `;`")
        self.advance()
        return ast.PolicyAst(
            effect,
            principal,
            action,
            resource,
            tuple(conditions),
            annotations[0],
            self.span_from(start),
            self.source,
            annotations[1],
        )

    def parse_annotations(self) -> Annotations:
        """The annotations before a policy, and the keys of those written without a value."""
        annotations: dict[str, str] = {}
        valueless: set[str] = set()
        while self.at("@"):
            self.advance()
            key_tok = self.tok
            if key_tok.kind != IDENT:
                self.unexpected("an annotation name")
            self.advance()
            value = ""
            if self.at("("):
                self.advance()
                value = self.string_literal(self.expect(STR, "a string literal"))
                self.expect(")", "`)`")
            else:
                valueless.add(key_tok.text)
            if key_tok.text in annotations:
                self.fail(
                    f"duplicate annotation: @{key_tok.text}",
                    key_tok.span,
                    help="each annotation key may appear once per policy",
                )
            annotations[key_tok.text] = value
        return annotations, frozenset(valueless)

    def parse_scope(self) -> Scope:
        if self.tok.kind == "(":
            plain = self.plain_scope()
            if plain is not None:
                return plain
        # Like Rust (cst_to_ast.rs, `extract_scope`), a missing scope variable is reported
        # at the end of the last element present, or of the effect when there is none.
        last_end = self.tokens[self.pos - 1].end
        self.expect("(", "`(`")
        constraints: list[ast.ScopeConstraint] = []
        names = ("principal", "action", "resource")
        while self.tok.kind != ")":
            if len(constraints) == 3:
                self.fail(
                    "this policy has an extra element in the scope",
                    self.tok.span,
                    help="a scope has exactly three parts: `principal`, `action`, `resource`",
                )
            constraints.append(self.parse_scope_var(names[len(constraints)]))
            last_end = self.tokens[self.pos - 1].end
            kind = self.tok.kind
            if kind == ",":
                self.advance()
            elif kind != ")":
                self.unexpected("`,` or `)`")
        self.advance()
        if len(constraints) < 3:
            missing = names[len(constraints)]
            self.fail(
                f"this policy is missing the `{missing}` variable in the scope", Span(last_end, last_end)
            )
        return constraints[0], constraints[1], constraints[2]

    def plain_head(self, head: Token) -> tuple[ast.Effect, Scope]:
        """The effect and scope of a :data:`HEAD` token (raises :class:`_NotPlain` when
        the scope would need the token-by-token parser after all)."""
        effect = ast.Effect.PERMIT if head.text[0] == "p" else ast.Effect.FORBID
        m = SCOPE_RE.match(self.source.text, head.start + head.text.index("("))
        assert m is not None, "a HEAD token always holds a plain scope"
        try:
            return effect, _plain_scope(m)
        except ValueError:
            raise _NotPlain from None

    def plain_scope(self) -> Scope | None:
        """The scope via :data:`SCOPE_RE`, or ``None`` (nothing consumed) when it is not
        written in the plain form or would need a diagnostic: the token-by-token parser
        then handles it. Builds exactly what that parser builds."""
        m = SCOPE_RE.match(self.source.text, self.tok.start)
        if m is None:
            return None
        try:
            scope = _plain_scope(m)
        except ValueError:
            return None
        pos = bisect.bisect_left(self.tokens, m.end(), lo=self.pos, key=_token_start)
        self.pos = pos
        self.tok = self.tokens[pos]
        return scope

    def parse_scope_var(self, expected: str) -> ast.ScopeConstraint:
        var_tok = self.tok
        if var_tok.kind != IDENT:
            self.unexpected(f"`{expected}`")
        self.advance()
        if var_tok.text != expected:
            self.fail(
                f"expected `{expected}` in the scope, found `{var_tok.text}`",
                var_tok.span,
                help="the scope lists `principal`, `action` and `resource`, in that order",
            )
        tok = self.tok
        kind = tok.kind
        if kind == ":":
            self.fail(
                "type constraints using `:` are not supported",
                tok.span,
                help=f"try using `is` instead: `{expected} is <type>`",
            )
        entity_type = None
        if kind == IDENT and tok.text == "is":
            is_tok = self.advance()
            if expected == "action":
                self.fail(
                    "`is` is not allowed in the action scope",
                    is_tok.span,
                    help="`is` works on `principal` and `resource`",
                )
            entity_type = self.parse_type_name()
            tok = self.tok
            kind = tok.kind
        if kind in _RELOPS or kind == "=" or (kind == IDENT and tok.text == "in"):
            op_tok = self.advance()
            if kind == "=":
                self.fail("`=` is not a valid operator", op_tok.span, help="did you mean `==`?")
            if op_tok.text not in ("in", "=="):
                self.fail(
                    f"`{op_tok.text}` is not allowed in the policy scope",
                    op_tok.span,
                    help="the scope allows `==`, `in`, `is` and `is ... in`",
                )
            if op_tok.text == "==" and entity_type is not None:
                self.fail(
                    "`is` and `==` cannot be combined in the scope",
                    op_tok.span,
                    help=f"try `{expected} is <type> in <entity>` or `{expected} == <entity>`",
                )
            rhs_start = self.tok.start
            rhs = self.parse_expr()
            rhs_span = self.span_from(rhs_start)
            return self.scope_constraint(expected, op_tok.text, rhs, entity_type, rhs_span)
        if entity_type is not None:
            return ast.ScopeConstraint(ast.ScopeOp.IS, None, entity_type, var_tok.span)
        return ast.ScopeConstraint(ast.ScopeOp.ALL, span=var_tok.span)

    def scope_constraint(
        self, var: str, op: str, rhs: Expr, entity_type: str | None, span: Span
    ) -> ast.ScopeConstraint:
        if var == "action":
            if isinstance(rhs, ast.Lit) and isinstance(rhs.value, EntityUid):
                self.check_action_uid(rhs.value, span)
                scope_op = ast.ScopeOp.EQ if op == "==" else ast.ScopeOp.IN
                return ast.ScopeConstraint(scope_op, rhs.value, span=span)
            if op == "in" and isinstance(rhs, ast.SetLit):
                uids = []
                for item in rhs.items:
                    if not (isinstance(item, ast.Lit) and isinstance(item.value, EntityUid)):
                        self.fail("expected an action entity literal in the action scope", item.span)
                    self.check_action_uid(item.value, item.span)
                    uids.append(item.value)
                return ast.ScopeConstraint(ast.ScopeOp.IN, ast.EntityList(uids), span=span)
            self.fail(
                "the action scope must be an action entity or a list of action entities",
                span,
                help='for example `action == Action::"view"` or `action in [Action::"a", Action::"b"]`',
            )
        if isinstance(rhs, ast.Slot):
            if rhs.name != "?" + var:
                self.fail(
                    f"expected the `?{var}` slot, found `{rhs.name}`",
                    span,
                    help=f"`{var}` may only be constrained by the `?{var}` slot",
                )
            target: EntityUid | str = rhs.name
        elif isinstance(rhs, ast.Lit) and isinstance(rhs.value, EntityUid):
            target = rhs.value
        elif isinstance(rhs, ast.Is) or (isinstance(rhs, ast.And) and isinstance(rhs.left, ast.Is)):
            self.fail(
                "`is` must come before `in` in the policy scope",
                span,
                help=f"write `{var} is <type> in <entity>`",
            )
        else:
            self.fail(
                f"the right-hand side of `{op}` in the {var} scope must be an entity literal or a slot",
                span,
                help=f'for example `{var} {op} User::"alice"`',
            )
        if op == "==":
            return ast.ScopeConstraint(ast.ScopeOp.EQ, target, span=span)
        if entity_type is not None:
            return ast.ScopeConstraint(ast.ScopeOp.IS_IN, target, entity_type, span=span)
        return ast.ScopeConstraint(ast.ScopeOp.IN, target, span=span)

    def check_action_uid(self, uid: EntityUid, span: Span | None) -> None:
        if not is_action_type(uid.type):
            self.fail(
                f"expected an entity uid with type `Action` but got `{uid}`",
                span,
                help="action entities must have type `Action`, optionally in a namespace",
            )

    def parse_condition(self) -> ast.Condition:
        kw = self.advance()
        if kw.text not in ("when", "unless"):
            if kw.text in ("permit", "forbid") or self.at("("):
                self.fail(
                    f"unexpected `{kw.text}`: expected `when`, `unless` or `;`",
                    kw.span,
                    help="did you forget the `;` at the end of the previous policy?",
                )
            self.fail(
                f"`{kw.text}` is not a valid condition",
                kw.span,
                help="conditions start with `when` or `unless`",
            )
        self.expect("{", "`{`")
        if self.at("}"):
            self.fail(f"`{kw.text}` condition cannot be empty", Span(kw.start, self.tok.end))
        self.in_condition = True
        try:
            body = self.parse_expr()
        finally:
            self.in_condition = False
        self.expect("}", "`}`")
        return ast.Condition(kw.text == "when", body, self.span_from(kw.start))

    # -- expressions -------------------------------------------------------

    def parse_expr(self) -> Expr:
        tok = self.tok
        if tok.kind == IDENT and tok.text == "if":
            start = self.tok
            with self.nested(start):
                self.advance()
                cond = self.parse_expr()
                self.expect_word("then")
                then = self.parse_expr()
                self.expect_word("else")
                else_ = self.parse_expr()
            return ast.If(cond, then, else_, self.span_from(start.start))
        if tok.kind in _ATOMS:
            atom = self.parse_lone_atom(tok)
            if atom is not None:
                return atom
        return self.parse_or()

    def parse_lone_atom(self, tok: Token) -> Expr | None:
        """Fast path for an expression that is a single literal, variable, slot or
        ``Type::"id"`` directly followed by `,`, `)`, `]`, `}` or `;` — most scope
        targets and list items. Returns ``None`` (consuming nothing) otherwise; the
        result is exactly what the full precedence chain would build."""
        tokens = self.tokens
        after = tokens[self.pos + 1]
        if after.kind in _TERMINATORS:
            return self.check_int(self.parse_primary())
        if after.kind != "::" or tok.kind != IDENT or tok.text in RESERVED:
            return None
        id_tok = tokens[self.pos + 2]
        if id_tok.kind != STR or tokens[self.pos + 3].kind not in _TERMINATORS:
            return None
        eid = id_tok.text[1:-1]
        if "\\" in eid or "\r" in eid:
            return None  # escapes: the full path decodes and checks them
        self.pos += 3
        self.tok = tokens[self.pos]
        return ast.Lit(EntityUid(tok.text, eid), Span(tok.start, id_tok.end))

    def expect_word(self, word: str) -> None:
        if not self.at_word(word):
            self.unexpected(f"`{word}`")
        self.advance()

    def parse_or(self) -> Expr:
        start = self.tok.start
        left = self.parse_and()
        while self.tok.kind == "||":
            self.advance()
            left = ast.Or(left, self.parse_and(), self.span_from(start))
        return left

    def parse_and(self) -> Expr:
        start = self.tok.start
        left = self.parse_relation()
        while self.tok.kind == "&&":
            self.advance()
            left = ast.And(left, self.parse_relation(), self.span_from(start))
        return left

    def parse_relation(self) -> Expr:
        start = self.tok.start
        left = self.parse_add()
        tok = self.tok
        if tok.kind == IDENT:
            if tok.text == "has":
                self.advance()
                return self.parse_has(left, start)
            if tok.text == "like":
                self.advance()
                return self.parse_like(left, start)
            if tok.text == "is":
                self.advance()
                type_tok = self.tok
                entity_type = self.parse_type_name()
                if self.at("::") and self.peek().kind == STR:
                    self.fail(
                        "expected an entity type after `is`, found an entity",
                        type_tok.span,
                        help=f"write the type alone: `is {entity_type}`",
                    )
                result: Expr = ast.Is(left, entity_type, self.span_from(start))
                if self.at_word("in"):
                    self.advance()
                    target = self.parse_add()
                    in_expr = ast.Binary(BinaryOp.IN, left, target, self.span_from(start))
                    result = ast.And(result, in_expr, self.span_from(start))
                return result
        op = self.relop()
        if op is None:
            return left
        self.advance()
        right = self.parse_add()
        if self.relop() is not None:
            self.fail(
                "multiple relational operators (>, ==, in, etc.) must be used with parentheses "
                "to make ordering explicit",
                self.tok.span,
            )
        return ast.Binary(op, left, right, self.span_from(start))

    def relop(self) -> BinaryOp | None:
        tok = self.tok
        if tok.kind in _RELOPS:
            return _RELOPS[tok.kind]
        if tok.kind == IDENT and tok.text == "in":
            return BinaryOp.IN
        if tok.kind == "=":
            self.fail("`=` is not a valid operator", tok.span, help="did you mean `==`?")
        return None

    def parse_has(self, target: Expr, start: int) -> Expr:
        tok = self.tok
        if tok.kind == STR:
            self.advance()
            return ast.HasAttr(target, self.string_literal(tok), self.span_from(start))
        if tok.kind != IDENT:
            self.unexpected("an attribute name")
        path = [self.attribute_ident(self.advance())]
        while self.at(".") and self.peek().kind == IDENT:
            self.advance()
            path.append(self.attribute_ident(self.advance()))
            if len(path) > MAX_HAS_PATH:
                self.fail(
                    f"the attribute path after `has` is too long (more than {MAX_HAS_PATH} names)",
                    self.tok.span,
                )
        if self.tok.kind in _CONTINUES_OPERAND:
            self.fail(
                "the right-hand side of `has` must be an attribute name or a string literal",
                tok.span,
                help='for example `e has name`, `e has a.b` or `e has "my attr"`',
            )
        return ast.has_path(target, path, self.span_from(start))

    def attribute_ident(self, tok: Token) -> str:
        if tok.text in RESERVED:
            self.fail(f"this identifier is reserved and cannot be used: {tok.text}", tok.span)
        return tok.text

    def parse_like(self, target: Expr, start: int) -> Expr:
        tok = self.tok
        if tok.kind != STR:
            self.fail(
                "right hand side of a `like` expression must be a pattern literal",
                tok.span,
                help='for example `name like "*.txt"`',
            )
        self.advance()
        if self.tok.kind in _CONTINUES_OPERAND:
            self.fail(
                "right hand side of a `like` expression must be a pattern literal",
                tok.span,
                help='for example `name like "*.txt"`',
            )
        try:
            pieces = unescape_pattern(tok.text[1:-1])
        except UnescapeError as err:
            self.fail(f"invalid pattern literal: {err}", tok.span)
        pattern = tuple(None if p is STAR else p for p in pieces)
        return ast.Like(target, pattern, self.span_from(start))  # type: ignore[arg-type]

    def parse_type_name(self) -> str:
        tok = self.tok
        if tok.kind != IDENT:
            self.unexpected("an entity type name")
        parts = [self.name_ident(self.advance())]
        while self.at("::") and self.peek().kind == IDENT:
            self.advance()
            parts.append(self.name_ident(self.advance()))
        return "::".join(parts)

    def name_ident(self, tok: Token) -> str:
        if tok.text in RESERVED:
            self.fail(f"this identifier is reserved and cannot be used: {tok.text}", tok.span)
        return tok.text

    def parse_add(self) -> Expr:
        start = self.tok.start
        left = self.parse_mult()
        while self.tok.kind in ("+", "-"):
            op = BinaryOp.ADD if self.advance().kind == "+" else BinaryOp.SUB
            left = ast.Binary(op, left, self.parse_mult(), self.span_from(start))
        return left

    def parse_mult(self) -> Expr:
        tok = self.tok
        start = tok.start
        if tok.kind == "!" or tok.kind == "-":
            left = self.parse_unary()
        else:  # parse_unary's common case, inlined
            item = self.parse_member()
            left = self.check_int(item) if isinstance(item, ast.IntLiteralTooLarge) else item
        while self.tok.kind in ("*", "/", "%"):
            op_tok = self.advance()
            if op_tok.kind != "*":
                name = "division" if op_tok.kind == "/" else "remainder"
                self.fail(f"{name} is not supported", op_tok.span, help="Cedar has `+`, `-` and `*` only")
            left = ast.Binary(BinaryOp.MUL, left, self.parse_unary(), self.span_from(start))
        return left

    def parse_unary(self) -> Expr:
        tok = self.tok
        if tok.kind not in ("!", "-"):
            return self.check_int(self.parse_member())
        start = tok.start
        count = 0
        while self.tok.kind == tok.kind:
            self.advance()
            count += 1
        if count > 4:
            self.fail(
                f"too many occurrences of `{tok.kind}`",
                Span(start, self.tok.start),
                help="at most four in a row are allowed; use parentheses",
            )
        with self.nested(tok):
            item_start = self.pos
            item = self.parse_member()
        span = self.span_from(start)
        if tok.kind == "!":
            item = self.check_int(item)
            for _ in range(count):
                item = ast.Unary(UnaryOp.NOT, item, span)
            return item
        literal_tok = self.tokens[item_start]
        if (
            literal_tok.kind == INT
            and self.pos == item_start + 1
            and isinstance(item, ast.IntLiteralTooLarge)
        ):
            # `-9223372036854775808` is in range even though its digits alone are not
            value = -item.magnitude
            if value < -(I64_MAX + 1):
                self.fail(f"integer literal `{item.magnitude}` is too large", literal_tok.span)
            item = ast.Lit(value, span)
            count -= 1
        elif (
            literal_tok.kind == INT
            and self.pos == item_start + 1
            and isinstance(item, ast.Lit)
            and isinstance(item.value, int)
        ):
            item = ast.Lit(-item.value, span)
            count -= 1
        operand = self.check_int(item)
        for _ in range(count):
            operand = ast.Unary(UnaryOp.NEG, operand, span)
        return operand

    def check_int(self, item: Expr | ast.IntLiteralTooLarge) -> Expr:
        if isinstance(item, ast.IntLiteralTooLarge):
            self.fail(f"integer literal `{item.magnitude}` is too large", item.span)
        return item

    def parse_member(self) -> Expr | ast.IntLiteralTooLarge:
        start = self.tok.start
        item = self.parse_primary()
        if isinstance(item, ast.IntLiteralTooLarge) and self.tok.kind not in (".", "["):
            return item
        item = self.check_int(item)
        while True:
            kind = self.tok.kind
            if kind == ".":
                self.advance()
                name_tok = self.tok
                if name_tok.kind != IDENT:
                    self.unexpected("an attribute or method name")
                self.advance()
                self.name_ident(name_tok)
                if self.at("("):
                    item = self.parse_method_call(item, name_tok, start)
                else:
                    item = ast.GetAttr(item, name_tok.text, self.span_from(start))
            elif kind == "[":
                with self.nested(self.advance()):
                    index_start = self.tok.start
                    index = self.parse_expr()
                    if not (isinstance(index, ast.Lit) and type(index.value) is str):
                        written = self.source.text[index_start : self.tok.start].strip()
                        self.fail(
                            f"invalid string literal: {written}",
                            self.span_from(index_start),
                            help='attribute indexing needs a string literal, like `e["name"]`',
                        )
                    self.expect("]", "`]`")
                item = ast.GetAttr(item, index.value, self.span_from(start))
            elif kind == "(":
                self.fail("this expression cannot be called like a function", self.tok.span)
            else:
                return item

    def parse_call_args(self) -> tuple[Expr, ...]:
        open_tok = self.expect("(", "`(`")
        with self.nested(open_tok):
            args = self.comma_list(")", self.parse_expr)
        return tuple(args)

    def comma_list(self, close: str, item: Callable[[], T]) -> list[T]:
        items: list[T] = []
        while not self.at(close):
            items.append(item())
            if self.at(","):
                self.advance()
            elif not self.at(close):
                self.unexpected(f"`,` or `{close}`")
        self.advance()
        return items

    def parse_method_call(self, receiver: Expr, name_tok: Token, start: int) -> Expr:
        name = name_tok.text
        args = self.parse_call_args()
        span = self.span_from(start)
        if name in BUILTIN_METHODS:
            op, arity = BUILTIN_METHODS[name]
            if len(args) != arity:
                plural = "argument" if arity == 1 else "arguments"
                self.fail(
                    f"call to `{name}` requires exactly {arity} {plural}, but got {len(args)} "
                    f"argument{'s' if len(args) != 1 else ''}",
                    span,
                )
            if isinstance(op, UnaryOp):
                return ast.Unary(op, receiver, span)
            return ast.Binary(op, receiver, args[0], span)
        function = FUNCTIONS.get(name)
        if function is None:
            self.fail(f"`{name}` is not a valid method", name_tok.span)
        if not function.is_method:
            self.fail(
                f"`{name}` is a function, not a method", name_tok.span, help=f"call it as `{name}(...)`"
            )
        return ast.ExtCall(name, (receiver, *args), span)

    def parse_primary(self) -> Expr | ast.IntLiteralTooLarge:
        tok = self.tok
        kind = tok.kind
        if kind == INT:
            self.advance()
            digits = tok.text.lstrip("0") or "0"
            if len(digits) > 19:
                self.fail(
                    f"integer literal `{_abbreviate(tok.text)}` is too large",
                    tok.span,
                    help=f"Cedar integers range from {-(I64_MAX + 1)} to {I64_MAX}",
                )
            value = int(digits)
            if value > I64_MAX:
                return ast.IntLiteralTooLarge(value, tok.span)
            return ast.Lit(value, tok.span)
        if kind == STR:
            self.advance()
            return ast.Lit(self.string_literal(tok), tok.span)
        if kind == IDENT:
            return self.parse_name_expr()
        if kind == SLOT:
            self.advance()
            if tok.text not in ("?principal", "?resource"):
                self.fail(
                    f"`{tok.text}` is not a valid template slot",
                    tok.span,
                    help="the slots are `?principal` and `?resource`",
                )
            if self.in_condition:
                self.fail(
                    f"found template slot {tok.text} in a `when` or `unless` clause",
                    tok.span,
                    help="slots are currently unsupported in `when` and `unless` clauses",
                )
            return ast.Slot(tok.text, tok.span)
        if kind == "(":
            with self.nested(self.advance()):
                inner = self.parse_expr()
                self.expect(")", "`)`")
            return inner
        if kind == "[":
            with self.nested(self.advance()):
                items = self.comma_list("]", self.parse_expr)
            return ast.SetLit(tuple(items), self.span_from(tok.start))
        if kind == "{":
            with self.nested(self.advance()):
                fields = self.comma_list("}", self.parse_record_field)
            seen: set[str] = set()
            for key, _value in fields:
                if key in seen:
                    self.fail(f"duplicate key `{key}` in record literal", self.span_from(tok.start))
                seen.add(key)
            return ast.RecordLit(tuple(fields), self.span_from(tok.start))
        self.unexpected("an expression")

    def parse_record_field(self) -> tuple[str, Expr]:
        tok = self.tok
        if tok.kind == STR:
            key = self.string_literal(self.advance())
        elif tok.kind == IDENT:
            key = self.attribute_ident(self.advance())
        else:
            self.unexpected("a record key (an identifier or a string)")
        self.expect(":", "`:`")
        return key, self.parse_expr()

    def parse_name_expr(self) -> Expr:
        start_tok = self.advance()
        following = self.tok.kind
        if following != "::":  # the common case: a lone variable or boolean
            word = start_tok.text
            if word in VARIABLES and following != "(":
                return ast.Var(word, start_tok.span)
            if word == "true" or word == "false":
                return ast.Lit(word == "true", start_tok.span)
        parts = [start_tok]
        while self.at("::") and self.peek().kind == IDENT:
            self.advance()
            parts.append(self.advance())
        words = [p.text for p in parts]
        if len(parts) == 1 and words[0] in ("true", "false"):
            return ast.Lit(words[0] == "true", start_tok.span)
        if self.at("::"):
            return self.parse_entity_ref(parts)
        name = "::".join(words)
        if self.at("("):
            return self.parse_function_call(name, start_tok)
        if len(parts) == 1 and name in VARIABLES:
            return ast.Var(name, start_tok.span)
        for part in parts:
            self.name_ident(part)
        if len(parts) > 1 and words[-1] in VARIABLES:
            self.fail(
                f"invalid variable: {name}",
                self.span_from(start_tok.start),
                help="variables cannot be namespaced",
            )
        self.fail(
            f"unexpected identifier `{name}`",
            self.span_from(start_tok.start),
            help="expected a variable (`principal`, `action`, `resource`, `context`), "
            'a literal, or an entity like `User::"alice"`',
        )

    def parse_entity_ref(self, parts: list[Token]) -> Expr:
        start = parts[0].start
        self.advance()  # '::'
        for part in parts:
            self.name_ident(part)
        if self.at("{"):
            self.fail(
                "entity record literals are not supported",
                self.tok.span,
                help='refer to an entity by its uid, like `User::"alice"`',
            )
        id_tok = self.expect(STR, "an entity id string")
        uid = EntityUid("::".join(p.text for p in parts), self.string_literal(id_tok))
        return ast.Lit(uid, self.span_from(start))

    def parse_function_call(self, name: str, name_tok: Token) -> Expr:
        function = FUNCTIONS.get(name)
        if function is None:
            if name in BUILTIN_METHODS:
                self.fail(
                    f"`{name}` is a method, not a function", name_tok.span, help=f"call it as `e.{name}(...)`"
                )
            self.fail(f"`{name}` is not a valid function", self.span_from(name_tok.start))
        if function.is_method:
            self.fail(
                f"`{name}` is a method, not a function", name_tok.span, help=f"call it as `e.{name}(...)`"
            )
        args = self.parse_call_args()
        return ast.ExtCall(name, args, self.span_from(name_tok.start))

    def string_literal(self, tok: Token) -> str:
        try:
            return unescape(tok.text[1:-1])
        except UnescapeError as err:
            self.fail(f"invalid string literal: {err}", tok.span)


def _plain_uid(text: str) -> EntityUid:
    m = _UID_PARTS.fullmatch(text)
    assert m is not None
    type_name = m.group(1)
    if not RESERVED.isdisjoint(type_name.split("::")):
        raise ValueError(type_name)
    return EntityUid(type_name, m.group(2))


def _plain_target(m: re.Match[str], group: str) -> EntityUid | str:
    text = m.group(group)
    return text if text[0] == "?" else _plain_uid(text)


_GROUPS: Final = {
    var: (var, var + "_op", var + "_rhs", var + "_type", var + "_in") for var in ("principal", "resource")
}


def _plain_scope_var(m: re.Match[str], var: str) -> ast.ScopeConstraint:
    """One principal/resource constraint of a :data:`SCOPE_RE` match (ValueError: not plain)."""
    var_group, op_group, rhs_group, type_group, in_group = _GROUPS[var]
    op, entity_type = m.group(op_group, type_group)
    if op is not None:
        target = _plain_target(m, rhs_group)
        scope_op = ast.ScopeOp.EQ if op == "==" else ast.ScopeOp.IN
        return ast.ScopeConstraint(scope_op, target, None, _span(m.span(rhs_group)))
    if entity_type is None:
        return ast.ScopeConstraint(ast.ScopeOp.ALL, None, None, _span(m.span(var_group)))
    if not RESERVED.isdisjoint(entity_type.split("::")):
        raise ValueError(entity_type)
    if m.group(in_group) is None:
        return ast.ScopeConstraint(ast.ScopeOp.IS, None, entity_type, _span(m.span(var_group)))
    target = _plain_target(m, in_group)
    return ast.ScopeConstraint(ast.ScopeOp.IS_IN, target, entity_type, _span(m.span(in_group)))


def _plain_action(m: re.Match[str]) -> ast.ScopeConstraint:
    """The action constraint of a :data:`SCOPE_RE` match (ValueError: not plain)."""
    op = m.group("action_op")
    if op is None:
        return ast.ScopeConstraint(ast.ScopeOp.ALL, None, None, _span(m.span("action")))
    text = m.group("action_rhs")
    span = _span(m.span("action_rhs"))
    if text[0] == "[":
        if op == "==":
            raise ValueError(text)
        uids = [_plain_action_uid(item.group(0)) for item in _UID_PARTS.finditer(text)]
        return ast.ScopeConstraint(ast.ScopeOp.IN, ast.EntityList(uids), span=span)
    uid = _plain_action_uid(text)
    return ast.ScopeConstraint(ast.ScopeOp.EQ if op == "==" else ast.ScopeOp.IN, uid, span=span)


def _plain_action_uid(text: str) -> EntityUid:
    uid = _plain_uid(text)
    if not is_action_type(uid.type):
        raise ValueError(text)
    return uid


def _plain_scope(m: re.Match[str]) -> Scope:
    """The three constraints of a :data:`SCOPE_RE` match (ValueError: not plain)."""
    return _plain_scope_var(m, "principal"), _plain_action(m), _plain_scope_var(m, "resource")


def _abbreviate(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}...{text[-10:]}"


def _run(source: Source, action: Callable[[Parser], T], *, heads: bool = False) -> T:
    """Run ``action`` on a parser of ``source``, turning its diagnostics into a ParseError.

    With ``heads=True`` plain policy heads are single tokens (the fast path); if
    that parse fails for any reason, the text is parsed again without them, so
    errors and unusual scopes always come from the token-by-token parser.
    """
    with recursion_headroom(DEEP_FRAMES):
        parser = Parser(source, heads=heads)
        try:
            return action(parser)
        except (_Abort, _NotPlain, ParseError):
            if heads:
                return _run(source, action)
            if parser.diagnostics:
                raise ParseError(parser.diagnostics) from None
            raise


def parse_policies(text: TextInput, name: str = "<policies>") -> list[ast.PolicyAst]:
    """Parse a policy file (text or UTF-8 bytes): zero or more policies and templates."""
    if type(text) is not str:
        text = decode_text(text, "policy text", ParseError)
    return _run(Source(text, name), Parser.parse_policies, heads=True)


def parse_expression(text: TextInput, name: str = "<expression>") -> Expr:
    """Parse a single Cedar expression (no slots) from text or UTF-8 bytes."""
    if type(text) is not str:
        text = decode_text(text, "expression", ParseError)

    def run(p: Parser) -> Expr:
        p.in_condition = True
        expr = p.parse_expr()
        if not p.at(EOF):
            p.unexpected("end of input")
        return expr

    return _run(Source(text, name), run)


_UID_FORM: Final = re.compile(rf'({NAME_PATTERN})::"(.*)"', re.DOTALL)


@functools.lru_cache(maxsize=4096)
def parse_entity_uid(text: str | bytes) -> EntityUid:
    """Parse ``Type::"id"`` (``Type`` may be namespaced) into an :class:`EntityUid`.

    As in Rust, only the normalized form is accepted: no whitespace or comments,
    and the id written exactly as Cedar prints it. ``text`` may be UTF-8 bytes.
    """
    if type(text) is not str:
        text = decode_text(text, "entity uid", ParseError)
    form = _UID_FORM.fullmatch(text)
    if form is not None:
        type_name, body = form.group(1), form.group(2)
        reserved = RESERVED.intersection(type_name.split("::"))
        if not reserved:
            try:
                eid = unescape(body)
            except UnescapeError:
                eid = None
            if eid is not None and quote(eid) == f'"{body}"':
                return EntityUid(type_name, eid)
    return _parse_entity_uid(text)


_UID_SHAPE: Final = {IDENT: ("::",), "::": (IDENT, STR), STR: (EOF,)}
"""``Type::"id"`` token by token: what may follow each token."""


def _uid_shape_error(tokens: list[Token]) -> Token | None:
    """The first of ``tokens`` that does not fit ``Type::"id"`` (``None``: they all fit)."""
    allowed: tuple[str, ...] = (IDENT,)
    for tok in tokens:
        if tok.kind not in allowed:
            return tok
        if tok.kind == EOF:
            return None
        allowed = _UID_SHAPE[tok.kind]
    return None


def _parse_entity_uid(text: str) -> EntityUid:
    """The full parser, for a good error message about a uid that is not normalized."""

    def run(p: Parser) -> EntityUid:
        # as in Rust, a syntax error comes before a bad escape in the id: check the tokens first
        bad = _uid_shape_error(p.tokens)
        if bad is not None:
            what = "end of input" if bad.kind == EOF else f"token `{bad.text}`"
            p.fail(
                f"invalid entity uid `{text}`: unexpected {what}", bad.span, help='write it as `Type::"id"`'
            )
        expr = p.parse_primary()
        if not (isinstance(expr, ast.Lit) and isinstance(expr.value, EntityUid)) or not p.at(EOF):
            p.fail(
                f"invalid entity uid `{text}`", Span(0, len(text)), help='write an entity uid as `Type::"id"`'
            )
        p.fail(
            f"entity uid `{text}` is not in normalized form",
            Span(0, len(text)),
            help=f"write it as `{expr.value}` (no spaces, comments or unneeded escapes)",
        )

    return _run(Source(text, "<entity uid>"), run)
