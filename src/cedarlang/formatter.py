"""The Cedar policy formatter: the layout of Rust's ``cedar-policy-formatter``.

:func:`format_policies` reproduces ``cedar format`` / ``cedarpy.format_policies``
character for character. It works the way the Rust crate does:

1. the text is parsed once, by the policy parser, keeping its tokens, the comments
   between them and the concrete tree of each policy (:mod:`cedarlang.cst`); so
   ``has a.b``, ``e["x"]``, parentheses, string escapes and ``is ... in`` stay as
   written, and syntax errors are the parser's :class:`ParseError`;
2. every ``//`` comment is attached to a token: the comment lines before a token
   ("leading") and the comment after it on its line ("trailing"); each syntax node
   takes the comments of the tokens it prints, each comment once;
3. the tree becomes a document of :mod:`cedarlang.pretty` (text, line breaks that may
   become spaces, groups, nesting), rendered with the given line width;
4. blank lines are dropped (outside strings and comments) and the policies are joined
   by one blank line, followed by the comments at the end of the file;
5. the result is parsed again and must give the same policies (ASTs equal but for
   source positions), as ``policies_str_to_pretty`` checks: otherwise a
   :class:`FormatError` is raised rather than a changed policy returned.

The concrete tree is walked by loops where it is long (chains of ``&&``, ``.a``,
``+``, list items) and by recursion only where the parser itself nests, which
:data:`~cedarlang._limits.MAX_NESTING` bounds; documents are rendered and policies
compared without recursion. A policy of more than
:data:`~cedarlang._limits.MAX_FORMAT_TOKENS` tokens is a :class:`FormatError` (Rust's
formatter overflows its stack on such policies).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Final

from . import ast
from ._limits import DEEP_FRAMES, MAX_FORMAT_TOKENS, recursion_headroom
from .cst import (
    ADD,
    AND,
    CALL,
    COND,
    IF,
    MEMBER,
    MULT,
    OR,
    RELATION,
    UNARY,
    VAR,
    ConcreteTree,
    Node,
    parse_concrete,
)
from .errors import DiagnosticError, FormatError, ParseError
from .lexer import IDENT, INT, Token, tokenize_with_trivia
from .parser import parse_policies
from .pretty import HARDLINE, LINE, LINE_, NIL, SPACE, Doc, Text, cat, group, intersperse, nest, render, text
from .source import Diagnostic, Source, Span, decode_text

__all__ = ["FormatError", "format_policies"]


# ---------------------------------------------------------------------------
# Comments attached to tokens

_COMMENT_RE: Final = re.compile(r"//[^\n\r]*")


def _comments_in(gap: str) -> list[str]:
    return [m.group().rstrip() for m in _COMMENT_RE.finditer(gap)]


class _Comment:
    __slots__ = ("leading", "trailing")

    def __init__(self, leading: list[str] | None = None, trailing: str = "") -> None:
        self.leading: list[str] = leading or []
        self.trailing = trailing


_NO_COMMENT: Final = _Comment()


class _Comments:
    """The comments of each token: the comment lines before it (after the line break
    that ends the previous token's line) and the comment after it on its own line; and
    the comments after the last token's line. Only tokens with comments are stored."""

    def __init__(self, trivia: Sequence[str]) -> None:
        self.by_token: dict[int, _Comment] = {}
        self.at_end: list[str] = []
        eof = len(trivia) - 1
        for k in [k for k, gap in enumerate(trivia) if "//" in gap]:
            gap = trivia[k]
            if k == 0:
                lead = gap
            else:
                trail, _, lead = gap.partition("\n")
                found = _COMMENT_RE.search(trail)
                if found is not None:
                    self.by_token.setdefault(k - 1, _Comment()).trailing = found.group().rstrip()
            lines = _comments_in(lead)
            if k == eof:
                self.at_end = lines
            elif lines:
                self.by_token.setdefault(k, _Comment()).leading = lines

    def take(self, index: int) -> _Comment:
        """The comments of token ``index`` (each comment is taken once)."""
        return self.by_token.pop(index, _NO_COMMENT)

    def take_leading(self, index: int) -> list[str]:
        """The comment lines before token ``index`` (its trailing comment stays)."""
        comment = self.by_token.get(index)
        if comment is None:
            return []
        if comment.trailing:
            self.by_token[index] = _Comment(None, comment.trailing)
        else:
            del self.by_token[index]
        return comment.leading


def _leading_doc(lines: list[str]) -> Doc:
    if not lines:
        return NIL
    return cat(HARDLINE, intersperse([text(c) for c in lines], HARDLINE), HARDLINE)


def _trailing_doc(comment: str, next_doc: Doc) -> Doc:
    return cat(SPACE, text(comment), HARDLINE) if comment else next_doc


def _with_comment(d: Doc, comment: _Comment, next_doc: Doc = NIL) -> Doc:
    if comment is _NO_COMMENT:
        return cat(d, next_doc)
    return cat(_leading_doc(comment.leading), d, _trailing_doc(comment.trailing, next_doc))


# ---------------------------------------------------------------------------
# Concrete tree → document (the rules of the Rust crate's `pprint/doc.rs`)


class _Printer:
    """Builds the document of each policy; the order in which comments are taken
    follows the Rust crate (a token's comment printed once, by the first to take it)."""

    def __init__(self, tree: ConcreteTree, indent: int) -> None:
        self.tokens: list[Token] = tree.tokens
        self.comments = _Comments(tree.trivia)
        self.ind = indent

    def token(self, index: int, next_doc: Doc = NIL) -> Doc:
        """Token ``index`` as written, with its comments, then ``next_doc`` unless a
        trailing comment ends the line."""
        return _with_comment(Text(self.tokens[index].text), self.comments.take(index), next_doc)

    # policies

    def policy(self, p: Node) -> Doc:
        ind = self.ind
        tokens = self.tokens
        annotations: list[Doc] = []
        i = p.first
        while tokens[i].kind == "@":
            has_value = tokens[i + 2].kind == "("
            annotations.append(self.annotation(i, has_value))
            i += 5 if has_value else 2
        effect = i
        eff_leading = self.comments.take_leading(effect)
        eff_doc = self.token(effect)
        variables = [v for v in p.children if v.kind == VAR]
        v0, v1, v2 = variables
        principal, action, resource = (self.variable_def(v) for v in variables)
        c0 = self.comments.take(v0.last)
        c1 = self.comments.take(v1.last)
        if all(v.last == v.first + 1 for v in variables):
            vars_doc = group(
                nest(
                    cat(
                        principal,
                        _with_comment(text(","), c0, SPACE),
                        action,
                        _with_comment(text(","), c1, SPACE),
                        resource,
                    ),
                    ind,
                )
            )
        else:
            body = cat(
                principal,
                _with_comment(text(","), c0, HARDLINE),
                action,
                _with_comment(text(","), c1, HARDLINE),
                resource,
            )
            vars_doc = cat(nest(cat(HARDLINE, body), ind), HARDLINE)
        conds = [self.cond(c) for c in p.children if c.kind == COND]
        lp = self.comments.take(effect + 1)
        head = cat(_leading_doc(eff_leading), group(cat(eff_doc, LINE, _with_comment(text("("), lp))))
        rp = self.comments.take(v2.last)
        close = _with_comment(text(")"), rp, HARDLINE if conds else NIL)
        semi = self.comments.take(p.last - 1)
        return cat(
            *annotations,
            head,
            vars_doc,
            close,
            intersperse(conds, HARDLINE),
            _with_comment(text(";"), semi),
        )

    def annotation(self, at: int, has_value: bool) -> Doc:
        """``@key`` or ``@key("value")`` starting at token ``at``."""
        key = self.token(at + 1)
        at_doc = _with_comment(text("@"), self.comments.take(at))
        if not has_value:
            return cat(at_doc, key, HARDLINE)
        lp = self.token(at + 2)
        value = self.token(at + 3)
        rp = self.token(at + 4, HARDLINE)
        return cat(at_doc, key, lp, value, rp)

    def variable_def(self, v: Node) -> Doc:
        ind = self.ind
        tokens = self.tokens
        rhs = v.children[0] if v.children else None
        op = rhs.first - 1 if rhs is not None else v.last
        start_comment = self.comments.take(v.first)
        var_doc = text(tokens[v.first].text)
        is_doc: Doc = NIL
        if op > v.first + 1:  # `is` and a type name
            first = group(cat(LINE, _with_comment(text("is"), self.comments.take(v.first + 1))))
            et_doc = group(self.name(v.first + 2, op))
            c2 = self.comments.take(v.first + 2)
            is_doc = group(nest(cat(first, cat(LINE, _with_comment(et_doc, c2))), ind))
        if rhs is None:
            return cat(_with_comment(var_doc, start_comment), is_doc)
        op_comment = self.comments.take(op)
        head = group(
            cat(
                var_doc,
                _trailing_doc(start_comment.trailing, NIL),
                is_doc,
                LINE,
                _with_comment(text(tokens[op].text), op_comment),
            )
        )
        rhs_doc = self.expr(rhs)
        return cat(_leading_doc(start_comment.leading), group(cat(head, nest(cat(LINE, rhs_doc), ind))))

    def cond(self, c: Node) -> Doc:
        ind = self.ind
        (body,) = c.children
        lb = self.comments.take(c.first + 1)
        rb = self.comments.take(c.last - 1)
        cc = self.comments.take(c.first)
        rb_doc = _with_comment(text("}"), rb)
        cond_doc = self.token(c.first)
        expr_leading = self.comments.take_leading(body.first)
        expr_doc = self.expr(body)
        inner = group(
            cat(
                nest(cat(_trailing_doc(lb.trailing, LINE), _leading_doc(expr_leading), group(expr_doc)), ind),
                LINE,
                rb_doc,
            )
        )
        return cat(
            _leading_doc(cc.leading),
            group(
                cat(
                    cond_doc,
                    _trailing_doc(cc.trailing, LINE),
                    _leading_doc(lb.leading),
                    text("{"),
                    inner,
                )
            ),
        )

    # expressions

    # Each method takes a node of its level or of a level below it (the tree leaves
    # out a level that only passes on one node): `a` is printed as an `||` chain of
    # one, a one-item `&&` chain, ..., a member with no accesses.

    def expr(self, e: Node) -> Doc:
        kind = e.kind
        if kind == IF:
            ind = self.ind
            cond, then, else_ = e.children
            if_c = self.comments.take(e.first)
            then_c = self.comments.take(cond.last)
            else_c = self.comments.take(then.last)

            def part(word: str, comment: _Comment, sub: Node) -> Doc:
                return cat(_with_comment(text(word), comment), nest(cat(LINE, self.expr(sub)), ind))

            a = part("if", if_c, cond)
            b = part("then", then_c, then)
            d = part("else", else_c, else_)
            return group(cat(a, LINE, b, LINE, d))
        if kind != OR:
            return self.and_(e)
        return self._chain(e.children, "||", self.and_)

    def and_(self, e: Node) -> Doc:
        if e.kind != AND:
            return self.relation(e)
        return self._chain(e.children, "&&", self.relation)

    def _chain(self, items: list[Node], op: str, operand: Callable[[Node], Doc]) -> Doc:
        """``a || b || c`` or ``a && b && c``: an operator ends each line it breaks."""
        parts: list[Doc] = []
        for item in items[:-1]:
            c = self.comments.take(item.last)
            parts += (operand(item), SPACE, _with_comment(text(op), c, LINE))
        parts.append(operand(items[-1]))
        return cat(*parts)

    def relation(self, r: Node) -> Doc:
        if r.kind != RELATION:
            return self.add(r)
        ind = self.ind
        left = r.children[0]
        op = left.last
        a = self.add(left)
        op_tok = self.tokens[op]
        c = self.comments.take(op)
        word = op_tok.text
        if op_tok.kind == IDENT and word in ("has", "like"):
            b = self.attribute(op + 1, r.last)
            return group(cat(a, LINE, _with_comment(text(word), c), LINE, nest(b, ind)))
        if op_tok.kind == IDENT and word == "is":
            target = r.children[1] if len(r.children) > 1 else None
            type_end = target.first - 1 if target is not None else r.last
            type_doc = nest(group(self.name(op + 1, type_end)), ind)
            doc_is = cat(a, SPACE, _with_comment(text("is"), c), SPACE, type_doc)
            if target is not None:
                c2 = self.comments.take(type_end)
                x = self.add(target)
                doc_is = cat(doc_is, LINE, _with_comment(text("in"), c2), SPACE, nest(x, ind))
            return group(doc_is)
        b = self.add(r.children[1])
        return cat(a, SPACE, _with_comment(text(word), c), SPACE, b)

    def attribute(self, first: int, last: int) -> Doc:
        """What follows ``has`` (``a``, ``a.b``, ``"a"``) or ``like`` (a pattern), laid out
        as the member expression Rust's grammar reads there."""
        if last == first + 1:
            return group(self.token(first))
        item = self.token(first)
        accesses = [cat(self.token(k), self.token(k + 1)) for k in range(first + 1, last, 2)]
        return group(cat(item, nest(intersperse(accesses, LINE_), self.ind)))

    def add(self, a: Node) -> Doc:
        """``MULT`` operands separated by ``+`` or ``-``."""
        if a.kind != ADD:
            return self.mult(a)
        return group(self._operands(a.children, self.mult))

    def mult(self, m: Node) -> Doc:
        """``UNARY`` operands separated by ``*``."""
        if m.kind != MULT:
            return group(self.unary(m))
        return group(self._operands(m.children, self.unary))

    def _operands(self, items: list[Node], operand: Callable[[Node], Doc]) -> Doc:
        parts = [operand(items[0])]
        prev = items[0]
        for item in items[1:]:
            c = self.comments.take(prev.last)
            parts += (SPACE, _with_comment(text(self.tokens[prev.last].text), c), LINE, operand(item))
            prev = item
        return cat(*parts)

    def unary(self, u: Node) -> Doc:
        if u.kind != UNARY:
            return self.member(u)
        (item,) = u.children
        ops = cat(*(self.token(k) for k in range(u.first, item.first)))
        return cat(ops, self.member(item))

    def member(self, m: Node) -> Doc:
        """A ``MEMBER`` or ``PRIMARY`` node."""
        tokens = self.tokens
        if m.kind == MEMBER:
            primary, *nodes = m.children
        else:
            primary, nodes = m, []
        call = primary.children[0] if primary.children and primary.children[0].kind == CALL else None
        accesses: list[Doc] = []
        if call is not None:  # a function call: the name, and the arguments as an access
            item = self.name(primary.first, call.first)
            accesses.append(self.call(call))
        else:
            item = self.primary(primary)
        k = primary.last
        index = 0
        while k < m.last:
            if tokens[k].kind == ".":
                accesses.append(cat(self.token(k), self.token(k + 1)))
                k += 2
            elif tokens[k].kind == "(":
                node = nodes[index]
                index += 1
                accesses.append(self.call(node))
                k = node.last
            else:  # `[` expression `]`
                node = nodes[index]
                index += 1
                open_doc = self.token(k)
                d = self.expr(node)
                accesses.append(cat(open_doc, d, self.token(node.last)))
                k = node.last + 1
        if not accesses:
            return group(item)
        return group(cat(item, nest(intersperse(accesses, LINE_), self.ind)))

    def call(self, call: Node) -> Doc:
        """A ``CALL`` node: ``(`` arguments ``)``."""
        open_doc = self.token(call.first)
        body: Doc = NIL
        if call.children:
            body = cat(nest(cat(LINE_, self.comma_items(call.children)), self.ind), LINE_)
        return cat(open_doc, body, self.token(call.last - 1))

    def comma_items(self, items: list[Node]) -> Doc:
        d = self.expr(items[0])
        prev = items[0]
        for item in items[1:]:
            c = self.comments.take(prev.last)
            d = cat(d, _with_comment(text(","), c), LINE, self.expr(item))
            prev = item
        return d

    def name(self, first: int, last: int) -> Doc:
        """The tokens of a name (``a`` or ``a::b::c``), each with its comments."""
        return cat(*(self.token(k) for k in range(first, last)))

    def primary(self, p: Node) -> Doc:
        tokens = self.tokens
        tok = tokens[p.first]
        kind = tok.kind
        if kind == INT:
            return _with_comment(text(str(int(tok.text))), self.comments.take(p.first))
        if kind == "(":
            open_doc = self.token(p.first)
            inner = self.expr(p.children[0])
            return group(cat(open_doc, nest(inner, 1), self.token(p.last - 1)))
        if kind == "[":
            inner = self.comma_items(p.children) if p.children else NIL
            return cat(self.token(p.first), nest(inner, 1), self.token(p.last - 1))
        if kind == "{":
            return self.record(p)
        # a literal, slot, variable, name or entity (`a::b::"id"`)
        return self.name(p.first, p.last)

    def record(self, p: Node) -> Doc:
        inner = NIL
        if p.children:
            d = NIL
            key = p.first + 1
            for n, value in enumerate(p.children):
                if n:
                    d = cat(d, _with_comment(text(","), self.comments.take(key - 1)), LINE)
                key_doc = group(self.token(key))
                value_doc = self.expr(value)
                d = cat(d, key_doc, _with_comment(text(":"), self.comments.take(key + 1)), SPACE, value_doc)
                key = value.last + 1
            inner = group(cat(nest(cat(LINE, d), self.ind), LINE))
        return cat(self.token(p.first), inner, self.token(p.last - 1))


# ---------------------------------------------------------------------------
# Blank lines

_STRING_OR_COMMENT_RE: Final = re.compile(r'"(?:\\[^\n]|[^"\\])*"|//[^\n\r]*')


_WS: Final = (
    "".join(
        map(
            chr,
            (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029),
        )
    )
    + "\u202f\u205f\u3000"
)
"""Rust's ``char::is_whitespace`` characters."""


def _drop_blank_lines(s: str) -> str:
    out = "\n" if s.startswith("\n") else ""
    pieces = s.split("\n")
    kept = [p + "\n" for p in pieces[:-1] if p.strip(_WS)]
    if pieces[-1]:
        kept.append(pieces[-1])
    return out + "".join(kept)


def _remove_empty_lines(s: str) -> str:
    """Blank lines dropped outside strings and comments; white space trimmed at both ends."""
    out = []
    index = 0
    for match in _STRING_OR_COMMENT_RE.finditer(s):
        out.append(_drop_blank_lines(s[index : match.start()]))
        out.append(match.group())
        index = match.end()
    out.append(_drop_blank_lines(s[index:]))
    return "".join(out).strip(_WS)


# ---------------------------------------------------------------------------
# The soundness check of Rust's `policies_str_to_pretty`: the output must parse to the
# same policies (annotations, effect, scope, conditions; source positions aside)


def _policy_change(before: ast.PolicyAst, after: ast.PolicyAst) -> str | None:
    if (before.annotations, before.valueless) != (after.annotations, after.valueless):
        return "formatting changed the annotations of this policy"
    if (before.effect, before.principal, before.action, before.resource) != (
        after.effect,
        after.principal,
        after.action,
        after.resource,
    ):
        return "formatting changed the effect or scope of this policy"
    # AST equality ignores spans and is iterative, so a long `&&` chain compares fine
    if before.conditions != after.conditions:
        return "formatting changed the conditions of this policy"
    return None


_BUG_HELP: Final = "this is a bug in the formatter: the text was left unformatted; please report it"


def check_same_policies(tree: ConcreteTree, formatted: str) -> None:
    """Raise :class:`FormatError` unless ``formatted`` parses to the policies of ``tree``."""
    source = tree.source
    try:
        after = parse_policies(formatted, "<formatted policies>")
    except DiagnosticError as err:
        raise FormatError(
            [Diagnostic(f"formatting produced invalid policies: {err}", None, source, _BUG_HELP)]
        ) from None
    if len(after) != len(tree.asts):
        message = f"formatting changed the number of policies from {len(tree.asts)} to {len(after)}"
        raise FormatError([Diagnostic(message, None, source, _BUG_HELP)])
    for before, changed in zip(tree.asts, after, strict=True):
        change = _policy_change(before, changed)
        if change is not None:
            raise FormatError([Diagnostic(change, before.span, source, _BUG_HELP)])


# ---------------------------------------------------------------------------


def _check_size(source: Source, tokens: list[Token]) -> None:
    """Raise :class:`FormatError` for a policy of more than :data:`MAX_FORMAT_TOKENS`
    tokens (in valid text each policy ends with the only `;` in it)."""
    first = 0
    ends = [k + 1 for k, tok in enumerate(tokens) if tok.kind == ";"]
    for end in [*ends, len(tokens) - 1]:
        if end - first > MAX_FORMAT_TOKENS:
            raise FormatError(
                [
                    Diagnostic(
                        f"this policy is too long to format (more than {MAX_FORMAT_TOKENS} tokens)",
                        Span(tokens[first].start, tokens[end - 1].end),
                        source,
                        "split it into several policies, or its condition into several `when` clauses",
                    )
                ]
            )
        first = end


def format_policies(text_: str | bytes, line_width: int = 80, indent_width: int = 2) -> str:
    """Format Cedar policies the way ``cedar format`` does (comments kept).

    Raises :class:`~cedarlang.ParseError` if the text is not valid Cedar, and
    :class:`FormatError` for a policy too long to format or a result that would not
    mean the same policies.
    """
    source = Source(decode_text(text_, "policy text", ParseError), "<policies>")
    tokens, trivia = tokenize_with_trivia(source)
    _check_size(source, tokens)
    tree = parse_concrete(source, tokens, trivia)
    printer = _Printer(tree, indent_width)
    with recursion_headroom(DEEP_FRAMES):
        parts = [_remove_empty_lines(render(printer.policy(p), line_width)) for p in tree.policies]
    out = "\n\n".join(parts) + "\n"
    for comment in printer.comments.at_end:
        out += comment + "\n"
    check_same_policies(tree, out)
    return out
