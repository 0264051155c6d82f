"""The Cedar policy formatter: the layout of Rust's ``cedar-policy-formatter``.

:func:`format_policies` reproduces ``cedar format`` / ``cedarpy.format_policies``
character for character. It works the way the Rust crate does:

1. the text is checked with the real parser (errors are :class:`ParseError`);
2. a concrete syntax tree with token spans is built (``has a.b``, ``e["x"]``,
   string escapes and ``is ... in`` stay as written);
3. every ``//`` comment is attached to a token: the comment lines before a token
   ("leading") and the comment after it on its line ("trailing"); each syntax node
   takes the comments of the tokens it prints, each comment once;
4. the tree becomes a Wadler-style document (text, line breaks that may become
   spaces, groups, nesting), rendered by the algorithm of Rust's ``pretty`` crate
   with the given line width (text width counted in terminal columns);
5. blank lines are dropped (outside strings and comments) and the policies are joined
   by one blank line, followed by the comments at the end of the file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Final

from ._limits import DEEP_FRAMES, recursion_headroom
from .errors import FormatError
from .lexer import EOF, IDENT, INT, SLOT, STR, Token, tokenize
from .parser import parse_policies
from .source import Source

__all__ = ["FormatError", "format_policies"]


# ---------------------------------------------------------------------------
# Documents (the `pretty` crate's RcDoc) and their renderer


def _char_width(ch: str) -> int:
    code = ord(ch)
    if code < 0x7F:
        return 1 if code >= 0x20 else 0
    if code < 0xA0:
        return 0
    if code == 0xAD:
        return 1
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf") or 0x1160 <= code <= 0x11FF or 0xD7B0 <= code <= 0xD7FF:
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(s: str) -> int:
    """Terminal columns of ``s`` (Rust ``unicode-width``: wide CJK 2, combining marks 0)."""
    if s.isascii():
        return sum(1 for ch in s if ch >= " " and ch != "\x7f")
    return sum(_char_width(ch) for ch in s)


class Doc:
    __slots__ = ()


class _Nil(Doc):
    __slots__ = ()


class _Text(Doc):
    __slots__ = ("text", "width")

    def __init__(self, text: str) -> None:
        self.text = text
        self.width = text_width(text)


class _Line(Doc):
    """A hard line break."""

    __slots__ = ()


class _FlatAlt(Doc):
    """``broken`` in break mode, ``flat`` in flat mode."""

    __slots__ = ("broken", "flat")

    def __init__(self, broken: Doc, flat: Doc) -> None:
        self.broken = broken
        self.flat = flat


class _Group(Doc):
    __slots__ = ("doc",)

    def __init__(self, doc: Doc) -> None:
        self.doc = doc


class _Nest(Doc):
    __slots__ = ("doc", "offset")

    def __init__(self, offset: int, doc: Doc) -> None:
        self.offset = offset
        self.doc = doc


class _Append(Doc):
    __slots__ = ("left", "right")

    def __init__(self, left: Doc, right: Doc) -> None:
        self.left = left
        self.right = right


NIL: Final = _Nil()
HARDLINE: Final = _Line()
SPACE: Final = _Text(" ")
LINE: Final = _FlatAlt(HARDLINE, SPACE)
"""A line break, or a space when its group fits on the line."""
LINE_: Final = _FlatAlt(HARDLINE, NIL)
"""A line break, or nothing when its group fits on the line."""


def text(s: str) -> Doc:
    return _Text(s) if s else NIL


def cat(*docs: Doc) -> Doc:
    result: Doc = NIL
    for d in docs:
        if d is NIL:
            continue
        result = d if result is NIL else _Append(result, d)
    return result


def group(d: Doc) -> Doc:
    return d if d is NIL else _Group(d)


def nest(d: Doc, offset: int) -> Doc:
    return d if d is NIL else _Nest(offset, d)


def intersperse(docs: list[Doc], sep: Doc) -> Doc:
    result: Doc = NIL
    for i, d in enumerate(docs):
        result = cat(result, sep, d) if i else d
    return result


_BREAK: Final = 0
_FLAT: Final = 1


def render(doc: Doc, width: int) -> str:
    """Lay out ``doc`` within ``width`` columns (the ``pretty`` crate's ``best``)."""
    out: list[str] = []
    pos = 0
    cmds: list[tuple[int, int, Doc]] = [(0, _BREAK, doc)]
    while cmds:
        ind, mode, d = cmds.pop()
        while True:
            t = type(d)
            if t is _Append:
                cmds.append((ind, mode, d.right))  # type: ignore[attr-defined]
                d = d.left  # type: ignore[attr-defined]
                continue
            if t is _Text:
                out.append(d.text)  # type: ignore[attr-defined]
                pos += d.width  # type: ignore[attr-defined]
            elif t is _FlatAlt:
                d = d.broken if mode == _BREAK else d.flat  # type: ignore[attr-defined]
                continue
            elif t is _Group:
                inner = d.doc  # type: ignore[attr-defined]
                if mode == _BREAK and _fits(inner, pos, width, cmds):
                    mode = _FLAT
                d = inner
                continue
            elif t is _Nest:
                ind += d.offset  # type: ignore[attr-defined]
                d = d.doc  # type: ignore[attr-defined]
                continue
            elif t is _Line:
                # the new line is indented for what follows it (Rust `pretty` 0.12)
                if cmds:
                    ind, mode, d = cmds.pop()
                    out.append("\n" + " " * ind)
                    pos = ind
                    continue
                out.append("\n" + " " * ind)
                pos = ind
            break
    return "".join(out)


def _fits(first: Doc, pos: int, width: int, rest: list[tuple[int, int, Doc]]) -> bool:
    """Whether ``first`` laid out flat, then the rest broken up to its next line break,
    stays within ``width``."""
    stack: list[Doc] = [first]
    mode = _FLAT
    index = len(rest)
    while True:
        if stack:
            d = stack.pop()
        elif index == 0:
            return True
        else:
            index -= 1
            mode = _BREAK
            d = rest[index][2]
        while True:
            t = type(d)
            if t is _Append:
                stack.append(d.right)  # type: ignore[attr-defined]
                d = d.left  # type: ignore[attr-defined]
                continue
            if t is _Text:
                pos += d.width  # type: ignore[attr-defined]
                if pos > width:
                    return False
            elif t is _FlatAlt:
                d = d.broken if mode == _BREAK else d.flat  # type: ignore[attr-defined]
                continue
            elif t is _Group or t is _Nest:
                d = d.doc  # type: ignore[attr-defined]
                continue
            elif t is _Line:
                return mode == _BREAK
            break


# ---------------------------------------------------------------------------
# Concrete syntax tree (spans are character offsets of the first and last token)


@dataclass
class Node:
    start: int
    end: int


@dataclass
class Ident(Node):
    name: str


@dataclass
class Literal(Node):
    text: str


@dataclass
class StrNode(Node):
    text: str  # as written, with quotes


@dataclass
class Name(Node):
    path: list[Ident]
    name: Ident


@dataclass
class Ref(Node):
    path: Name
    eid: StrNode


@dataclass
class SlotNode(Node):
    text: str


@dataclass
class Paren(Node):
    expr: Expr


@dataclass
class EList(Node):
    items: list[Expr]


@dataclass
class RecInit(Node):
    key: Expr
    value: Expr


@dataclass
class RInits(Node):
    items: list[RecInit]


Primary = Literal | Ref | Name | SlotNode | Paren | EList | RInits


@dataclass
class Field(Node):
    ident: Ident


@dataclass
class Call(Node):
    args: list[Expr]


@dataclass
class Index(Node):
    expr: Expr


Access = Field | Call | Index


@dataclass
class Member(Node):
    item: Primary
    access: list[Access]


@dataclass
class Unary(Node):
    op: str | None  # "!" or "-"
    count: int
    item: Member


@dataclass
class Mult(Node):
    initial: Unary
    extended: list[tuple[str, Unary]]


@dataclass
class Add(Node):
    initial: Mult
    extended: list[tuple[str, Mult]]


@dataclass
class Relation(Node):
    kind: str  # "common", "has", "like", "is"
    initial: Add
    op: str | None = None
    other: Add | None = None  # common: right operand; has: field; like: pattern; is: entity type
    in_entity: Add | None = None


@dataclass
class And(Node):
    initial: Relation
    extended: list[Relation]


@dataclass
class Or(Node):
    initial: And
    extended: list[And]


@dataclass
class If(Node):
    cond: Expr
    then: Expr
    else_: Expr


Expr = If | Or


@dataclass
class VariableDef(Node):
    variable: Ident
    entity_type: Add | None
    op: str | None
    rhs: Expr | None


@dataclass
class Cond(Node):
    cond: Ident
    expr: Expr


@dataclass
class Annotation(Node):
    key: Ident
    value: StrNode | None


@dataclass
class PolicyNode(Node):
    annotations: list[Annotation]
    effect: Ident
    variables: list[VariableDef]
    conds: list[Cond] = field(default_factory=list)


_RELOPS: Final = frozenset({"==", "!=", "<", "<=", ">", ">="})


class _CstParser:
    """Builds the concrete tree of text the real parser has already accepted."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def expect(self, kind: str) -> Token:
        tok = self.advance()
        if tok.kind != kind:
            raise FormatError(f"unexpected token `{tok.text}` at offset {tok.start}")
        return tok

    def at_word(self, word: str) -> bool:
        tok = self.tok
        return tok.kind == IDENT and tok.text == word

    @property
    def last_end(self) -> int:
        return self.tokens[self.pos - 1].end

    def policies(self) -> list[PolicyNode]:
        result = []
        while self.tok.kind != EOF:
            result.append(self.policy())
        return result

    def ident(self) -> Ident:
        tok = self.expect(IDENT)
        return Ident(tok.start, tok.end, tok.text)

    def string(self) -> StrNode:
        tok = self.expect(STR)
        return StrNode(tok.start, tok.end, tok.text)

    def policy(self) -> PolicyNode:
        start = self.tok.start
        annotations = []
        while self.tok.kind == "@":
            at = self.advance()
            key = self.ident()
            value = None
            if self.tok.kind == "(":
                self.advance()
                value = self.string()
                self.expect(")")
            annotations.append(Annotation(at.start, self.last_end, key, value))
        effect = self.ident()
        self.expect("(")
        variables = []
        while self.tok.kind != ")":
            variables.append(self.variable_def())
            if self.tok.kind == ",":
                self.advance()
        self.expect(")")
        conds = []
        while self.tok.kind == IDENT:
            kw = self.ident()
            self.expect("{")
            expr = self.expr()
            self.expect("}")
            conds.append(Cond(kw.start, self.last_end, kw, expr))
        self.expect(";")
        return PolicyNode(start, self.last_end, annotations, effect, variables, conds)

    def variable_def(self) -> VariableDef:
        variable = self.ident()
        entity_type = None
        if self.at_word("is"):
            self.advance()
            entity_type = self.add()
        op = rhs = None
        if self.tok.kind in _RELOPS or self.at_word("in"):
            op = self.advance().text
            rhs = self.expr()
        return VariableDef(variable.start, self.last_end, variable, entity_type, op, rhs)

    def expr(self) -> Expr:
        if self.at_word("if"):
            start = self.advance().start
            cond = self.expr()
            self.advance()  # then
            then = self.expr()
            self.advance()  # else
            else_ = self.expr()
            return If(start, self.last_end, cond, then, else_)
        return self.or_()

    def or_(self) -> Or:
        initial = self.and_()
        extended = []
        while self.tok.kind == "||":
            self.advance()
            extended.append(self.and_())
        return Or(initial.start, self.last_end, initial, extended)

    def and_(self) -> And:
        initial = self.relation()
        extended = []
        while self.tok.kind == "&&":
            self.advance()
            extended.append(self.relation())
        return And(initial.start, self.last_end, initial, extended)

    def relation(self) -> Relation:
        initial = self.add()
        start = initial.start
        tok = self.tok
        if tok.kind == IDENT and tok.text in ("has", "like"):
            self.advance()
            other = self.add()
            return Relation(start, self.last_end, tok.text, initial, tok.text, other)
        if tok.kind == IDENT and tok.text == "is":
            self.advance()
            entity_type = self.add()
            in_entity = None
            if self.at_word("in"):
                self.advance()
                in_entity = self.add()
            return Relation(start, self.last_end, "is", initial, "is", entity_type, in_entity)
        if tok.kind in _RELOPS or (tok.kind == IDENT and tok.text == "in"):
            self.advance()
            other = self.add()
            return Relation(start, self.last_end, "common", initial, tok.text, other)
        return Relation(start, self.last_end, "common", initial)

    def add(self) -> Add:
        initial = self.mult()
        extended = []
        while self.tok.kind in ("+", "-"):
            op = self.advance().kind
            extended.append((op, self.mult()))
        return Add(initial.start, self.last_end, initial, extended)

    def mult(self) -> Mult:
        initial = self.unary()
        extended = []
        while self.tok.kind == "*":
            op = self.advance().kind
            extended.append((op, self.unary()))
        return Mult(initial.start, self.last_end, initial, extended)

    def unary(self) -> Unary:
        start = self.tok.start
        kind = self.tok.kind
        if kind in ("!", "-"):
            count = 0
            while self.tok.kind == kind:
                self.advance()
                count += 1
            item = self.member()
            return Unary(start, self.last_end, kind, count, item)
        item = self.member()
        return Unary(start, self.last_end, None, 0, item)

    def member(self) -> Member:
        item = self.primary()
        access: list[Access] = []
        while True:
            kind = self.tok.kind
            if kind == ".":
                dot = self.advance()
                access.append(Field(dot.start, self.tok.end, self.ident()))
            elif kind == "(":
                open_tok = self.advance()
                args = self.comma_list(")")
                access.append(Call(open_tok.start, self.last_end, args))
            elif kind == "[":
                open_tok = self.advance()
                index = self.expr()
                self.expect("]")
                access.append(Index(open_tok.start, self.last_end, index))
            else:
                break
        return Member(item.start, self.last_end, item, access)

    def comma_list(self, close: str) -> list[Expr]:
        items = []
        while self.tok.kind != close:
            items.append(self.expr())
            if self.tok.kind == ",":
                self.advance()
        self.advance()
        return items

    def primary(self) -> Primary:
        tok = self.tok
        kind = tok.kind
        if kind in (INT, STR):
            self.advance()
            return Literal(tok.start, tok.end, str(int(tok.text)) if kind == INT else tok.text)
        if kind == SLOT:
            self.advance()
            return SlotNode(tok.start, tok.end, tok.text)
        if kind == IDENT:
            if tok.text in ("true", "false"):
                self.advance()
                return Literal(tok.start, tok.end, tok.text)
            first = self.ident()
            path: list[Ident] = []
            name = first
            while self.tok.kind == "::" and self.tokens[self.pos + 1].kind == IDENT:
                self.advance()
                path.append(name)
                name = self.ident()
            name_node = Name(first.start, name.end, path, name)
            if self.tok.kind == "::":
                self.advance()
                eid = self.string()
                return Ref(first.start, eid.end, name_node, eid)
            return name_node
        if kind == "(":
            self.advance()
            inner = self.expr()
            self.expect(")")
            return Paren(tok.start, self.last_end, inner)
        if kind == "[":
            self.advance()
            items = self.comma_list("]")
            return EList(tok.start, self.last_end, items)
        if kind == "{":
            self.advance()
            inits = []
            while self.tok.kind != "}":
                key = self.expr()
                self.expect(":")
                value = self.expr()
                inits.append(RecInit(key.start, value.end, key, value))
                if self.tok.kind == ",":
                    self.advance()
            self.advance()
            return RInits(tok.start, self.last_end, inits)
        raise FormatError(f"unexpected token `{tok.text}` at offset {tok.start}")


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


class _Tok:
    __slots__ = ("comment", "end", "start")

    def __init__(self, start: int, end: int, comment: _Comment) -> None:
        self.start = start
        self.end = end
        self.comment = comment


def _token_stream(src: str, tokens: list[Token]) -> tuple[list[_Tok], list[str]]:
    """Each token with the comment lines before it (after the line break that ends the
    previous token's line) and the comment after it on its own line; plus the comments
    after the last token's line."""
    if not tokens:
        return [], _comments_in(src)
    out = []
    leading = src[: tokens[0].start]
    for k, tok in enumerate(tokens):
        after = src[tok.end : tokens[k + 1].start] if k + 1 < len(tokens) else src[tok.end :]
        trailing, _, next_leading = after.partition("\n")
        found = _comments_in(trailing)
        out.append(_Tok(tok.start, tok.end, _Comment(_comments_in(leading), found[0] if found else "")))
        leading = next_leading
    return out, _comments_in(leading)


def _leading_doc(lines: list[str]) -> Doc:
    if not lines:
        return NIL
    return cat(HARDLINE, intersperse([text(c) for c in lines], HARDLINE), HARDLINE)


def _trailing_doc(comment: str, next_doc: Doc) -> Doc:
    return cat(SPACE, text(comment), HARDLINE) if comment else next_doc


def _with_comment(d: Doc, comment: _Comment, next_doc: Doc = NIL) -> Doc:
    return cat(_leading_doc(comment.leading), d, _trailing_doc(comment.trailing, next_doc))


# ---------------------------------------------------------------------------
# CST → document (the rules of the Rust crate's `pprint/doc.rs`)


class _Printer:
    def __init__(self, toks: list[_Tok], indent: int) -> None:
        self.toks = toks
        self.starts = {t.start: i for i, t in enumerate(toks)}
        self.ends = {t.end: i for i, t in enumerate(toks)}
        self.ind = indent

    # comment lookups: each takes (consumes) the comment of one token

    def _take(self, index: int) -> _Comment:
        tok = self.toks[index]
        comment = tok.comment
        tok.comment = _Comment()
        return comment

    def at_start(self, node: Node) -> _Comment:
        index = self.starts.get(node.start)
        if index is None:
            raise FormatError("no token at the start of a node")
        return self._take(index)

    def leading_at_start(self, node: Node) -> list[str]:
        index = self.starts.get(node.start)
        if index is None:
            raise FormatError("no token at the start of a node")
        tok = self.toks[index]
        leading = tok.comment.leading
        tok.comment = _Comment(None, tok.comment.trailing)
        return leading

    def after_end(self, node: Node) -> _Comment:
        lo, hi = 0, len(self.toks)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.toks[mid].start < node.end:
                lo = mid + 1
            else:
                hi = mid
        return self._take(lo if lo < len(self.toks) else 0)

    def at_end(self, node: Node) -> _Comment:
        index = self.ends.get(node.end)
        if index is None:
            raise FormatError("no token at the end of a node")
        return self._take(index)

    def in_range(self, start: int, end: int) -> list[_Comment]:
        out = []
        k = self.starts.get(start, len(self.toks))
        while k < len(self.toks) and self.toks[k].end <= end:
            out.append(self._take(k))
            k += 1
        return out

    # nodes

    def ident(self, n: Ident) -> Doc:
        return _with_comment(text(n.name), self.at_start(n))

    def variable_def(self, v: VariableDef) -> Doc:
        ind = self.ind
        start_comment = self.at_start(v)
        var_doc = text(v.variable.name)
        is_doc: Doc = NIL
        if v.entity_type is not None:
            c = self.after_end(v.variable)
            first = group(cat(LINE, _with_comment(text("is"), c)))
            et_doc = self.add(v.entity_type)
            c2 = self.at_start(v.entity_type)
            is_doc = group(nest(cat(first, cat(LINE, _with_comment(et_doc, c2))), ind))
        if v.op is None or v.rhs is None:
            return cat(_with_comment(var_doc, start_comment), is_doc)
        op_comment = self.after_end(v.entity_type if v.entity_type is not None else v.variable)
        head = group(
            cat(
                var_doc,
                _trailing_doc(start_comment.trailing, NIL),
                is_doc,
                LINE,
                _with_comment(text(v.op), op_comment),
            )
        )
        rhs_doc = self.expr(v.rhs)
        return cat(_leading_doc(start_comment.leading), group(cat(head, nest(cat(LINE, rhs_doc), ind))))

    def cond(self, c: Cond) -> Doc:
        ind = self.ind
        lb = self.after_end(c.cond)
        rb = self.at_end(c)
        cc = self.at_start(c.cond)
        rb_doc = _with_comment(text("}"), rb)
        cond_doc = self.ident(c.cond)
        expr_leading = self.leading_at_start(c.expr)
        expr_doc = self.expr(c.expr)
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

    def expr(self, e: Expr) -> Doc:
        if isinstance(e, If):
            ind = self.ind
            if_c = self.at_start(e)
            then_c = self.after_end(e.cond)
            else_c = self.after_end(e.then)

            def part(word: str, comment: _Comment, sub: Expr) -> Doc:
                return cat(_with_comment(text(word), comment), nest(cat(LINE, self.expr(sub)), ind))

            a = part("if", if_c, e.cond)
            b = part("then", then_c, e.then)
            d = part("else", else_c, e.else_)
            return group(cat(a, LINE, b, LINE, d))
        return self.or_(e)

    def or_(self, e: Or) -> Doc:
        items = [e.initial, *e.extended]
        d: Doc = NIL
        for item in items[:-1]:
            c = self.after_end(item)
            d = cat(d, self.and_(item), SPACE, _with_comment(text("||"), c, LINE))
        return cat(d, self.and_(items[-1]))

    def and_(self, e: And) -> Doc:
        items = [e.initial, *e.extended]
        d: Doc = NIL
        for item in items[:-1]:
            c = self.after_end(item)
            d = cat(d, self.relation(item), SPACE, _with_comment(text("&&"), c, LINE))
        return cat(d, self.relation(items[-1]))

    def relation(self, r: Relation) -> Doc:
        ind = self.ind
        if r.kind == "common":
            a = self.add(r.initial)
            if r.other is None or r.op is None:
                return a
            c = self.after_end(r.initial)
            b = self.add(r.other)
            return cat(a, SPACE, _with_comment(text(r.op), c), SPACE, b)
        if r.kind in ("has", "like"):
            assert r.other is not None
            a = self.add(r.initial)
            c = self.after_end(r.initial)
            b = self.add(r.other)
            return group(cat(a, LINE, _with_comment(text(r.kind), c), LINE, nest(b, ind)))
        assert r.other is not None
        a = self.add(r.initial)
        c = self.after_end(r.initial)
        t = self.add(r.other)
        doc_is = cat(a, SPACE, _with_comment(text("is"), c), SPACE, nest(t, ind))
        if r.in_entity is not None:
            c2 = self.after_end(r.other)
            x = self.add(r.in_entity)
            doc_is = cat(doc_is, LINE, _with_comment(text("in"), c2), SPACE, nest(x, ind))
        return group(doc_is)

    def add(self, a: Add) -> Doc:
        d = self.mult(a.initial)
        prev: Node = a.initial
        for op, m in a.extended:
            c = self.after_end(prev)
            d = cat(d, SPACE, _with_comment(text(op), c), LINE, self.mult(m))
            prev = m
        return group(d)

    def mult(self, m: Mult) -> Doc:
        d = self.unary(m.initial)
        prev: Node = m.initial
        for op, u in m.extended:
            c = self.after_end(prev)
            d = cat(d, SPACE, _with_comment(text(op), c), LINE, self.unary(u))
            prev = u
        return group(d)

    def unary(self, u: Unary) -> Doc:
        if u.op is None:
            return self.member(u.item)
        if u.count > 4:
            raise FormatError(f"too many `{u.op}` in a row")
        comments = self.in_range(u.start, u.item.start)
        if len(comments) != u.count:
            raise FormatError("unexpected tokens in a unary expression")
        ops = cat(*(_with_comment(text(u.op), c) for c in comments))
        return cat(ops, self.member(u.item))

    def member(self, m: Member) -> Doc:
        item = self.primary(m.item)
        access = [self.mem_access(a) for a in m.access]
        return group(cat(item, nest(intersperse(access, LINE_), self.ind)))

    def mem_access(self, a: Access) -> Doc:
        if isinstance(a, Field):
            c = self.at_start(a)
            return cat(_with_comment(text("."), c), self.ident(a.ident))
        if isinstance(a, Call):
            c = self.at_start(a)
            open_doc = _with_comment(text("("), c)
            body: Doc = NIL
            if a.args:
                body = cat(nest(cat(LINE_, self.comma_items(a.args)), self.ind), LINE_)
            c2 = self.at_end(a)
            return cat(open_doc, body, _with_comment(text(")"), c2))
        c = self.at_start(a)
        open_doc = _with_comment(text("["), c)
        d = self.expr(a.expr)
        c2 = self.at_end(a)
        return cat(open_doc, d, _with_comment(text("]"), c2))

    def comma_items(self, items: list[Expr]) -> Doc:
        d = self.expr(items[0])
        prev: Node = items[0]
        for item in items[1:]:
            c = self.after_end(prev)
            d = cat(d, _with_comment(text(","), c), LINE, self.expr(item))
            prev = item
        return d

    def name(self, n: Name) -> Doc:
        if not n.path:
            return self.ident(n.name)
        d = self.ident(n.path[0])
        prev = n.path[0]
        for p in n.path[1:]:
            c = self.after_end(prev)
            d = cat(d, _with_comment(text("::"), c), self.ident(p))
            prev = p
        c = self.after_end(n.path[-1])
        return cat(d, _with_comment(text("::"), c), self.ident(n.name))

    def string(self, s: StrNode) -> Doc:
        return _with_comment(text(s.text), self.at_start(s))

    def primary(self, p: Primary) -> Doc:
        if isinstance(p, Literal):
            return _with_comment(text(p.text), self.at_start(p))
        if isinstance(p, Ref):
            d = self.name(p.path)
            c = self.after_end(p.path)
            return cat(d, _with_comment(text("::"), c), self.string(p.eid))
        if isinstance(p, Name):
            return self.name(p)
        if isinstance(p, SlotNode):
            return _with_comment(text(p.text), self.at_start(p))
        if isinstance(p, Paren):
            c = self.at_start(p)
            open_doc = _with_comment(text("("), c)
            inner = self.expr(p.expr)
            c2 = self.at_end(p)
            return group(cat(open_doc, nest(inner, 1), _with_comment(text(")"), c2)))
        if isinstance(p, EList):
            inner = self.comma_items(p.items) if p.items else NIL
            c1 = self.at_start(p)
            c2 = self.at_end(p)
            return cat(_with_comment(text("["), c1), nest(inner, 1), _with_comment(text("]"), c2))
        inner = NIL
        if p.items:
            d = self.rec_init(p.items[0])
            prev: Node = p.items[0]
            for item in p.items[1:]:
                c = self.after_end(prev)
                d = cat(d, _with_comment(text(","), c), LINE, self.rec_init(item))
                prev = item
            inner = group(cat(nest(cat(LINE, d), self.ind), LINE))
        c1 = self.at_start(p)
        c2 = self.at_end(p)
        return cat(_with_comment(text("{"), c1), inner, _with_comment(text("}"), c2))

    def rec_init(self, r: RecInit) -> Doc:
        key = self.expr(r.key)
        value = self.expr(r.value)
        c = self.after_end(r.key)
        return cat(key, _with_comment(text(":"), c), SPACE, value)

    def annotation(self, a: Annotation) -> Doc:
        key = self.ident(a.key)
        at = _with_comment(text("@"), self.at_start(a))
        if a.value is None:
            return cat(at, key, HARDLINE)
        lp = _with_comment(text("("), self.after_end(a.key))
        value = self.string(a.value)
        rp = _with_comment(text(")"), self.at_end(a), HARDLINE)
        return cat(at, key, lp, value, rp)

    def policy(self, p: PolicyNode) -> Doc:
        ind = self.ind
        annotations = cat(*(self.annotation(a) for a in p.annotations))
        eff_leading = self.leading_at_start(p.effect)
        eff_doc = self.ident(p.effect)
        if len(p.variables) != 3:
            raise FormatError("a policy scope has three parts")
        principal, action, resource = (self.variable_def(v) for v in p.variables)
        c0 = self.after_end(p.variables[0])
        c1 = self.after_end(p.variables[1])
        if all(v.op is None and v.entity_type is None for v in p.variables):
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
        conds = [self.cond(c) for c in p.conds]
        lp = self.after_end(p.effect)
        head = cat(_leading_doc(eff_leading), group(cat(eff_doc, LINE, _with_comment(text("("), lp))))
        rp = self.after_end(p.variables[2])
        close = _with_comment(text(")"), rp, HARDLINE if conds else NIL)
        semi = self.at_end(p)
        return cat(
            annotations, head, vars_doc, close, intersperse(conds, HARDLINE), _with_comment(text(";"), semi)
        )


# ---------------------------------------------------------------------------
# Blank lines

_STRING_RE: Final = re.compile(r'"(?:\\[^\n]|[^"\\])*"')


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
    while index < len(s):
        comment = _COMMENT_RE.search(s, index)
        string = _STRING_RE.search(s, index)
        match = min((m for m in (comment, string) if m is not None), key=lambda m: m.start(), default=None)
        if match is None:
            out.append(_drop_blank_lines(s[index:]))
            break
        out.append(_drop_blank_lines(s[index : match.start()]))
        out.append(match.group())
        index = match.end()
    return "".join(out).strip(_WS)


# ---------------------------------------------------------------------------


def format_policies(text_: str, line_width: int = 80, indent_width: int = 2) -> str:
    """Format Cedar policies the way ``cedar format`` does (comments kept).

    Raises :class:`~cedarlang.ParseError` if the text is not valid Cedar.
    """
    parse_policies(text_)
    tokens = tokenize(Source(text_))
    toks, eof_comments = _token_stream(text_, tokens[:-1])
    with recursion_headroom(DEEP_FRAMES):
        tree = _CstParser(tokens).policies()
        printer = _Printer(toks, indent_width)
        parts = [_remove_empty_lines(render(printer.policy(p), line_width)) for p in tree]
    out = "\n\n".join(parts) + "\n"
    for comment in eof_comments:
        out += comment + "\n"
    return out
