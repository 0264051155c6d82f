"""Tokenizer for Cedar policy text (also used for expressions and entity uids)."""

from __future__ import annotations

import re
from typing import Final

from .errors import ParseError
from .lexical import IDENT_PATTERN, NAME_PATTERN
from .source import Diagnostic, Source, Span

IDENT: Final = "IDENT"
INT: Final = "INT"
STR: Final = "STR"
SLOT: Final = "SLOT"
EOF: Final = "EOF"
HEAD: Final = "HEAD"
"""A policy's effect and plainly written scope as one token (``tokenize(heads=True)``)."""

_SKIP = r"(?>(?:[ \t\r\n\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0085]+|//[^\n\r]*)*)"
# One match per token: whitespace and comments before it are skipped in the same match.
_TOKEN_RE: Final = re.compile(
    _SKIP
    + rf"""(?:
    (?P<IDENT>{IDENT_PATTERN})
  | (?P<INT>[0-9]+)
  | (?P<STR>"(?:[^"\\]|\\[^\n])*")
  | (?P<SLOT>\?{IDENT_PATTERN})
  | (?P<punct>::|==|!=|<=|>=|&&|\|\||[@.,;:(){{}}\[\]<>+\-*/%!=])
    )""",
    re.VERBOSE,
)
_SKIP_RE: Final = re.compile(_SKIP)
# The common scope forms written plainly (no comments, no unusual whitespace, no
# escapes in ids). The parser reads such a scope with one match of SCOPE_RE and
# leaves anything else, including every error, to its token-by-token path.
_W = r"[ \t\r\n]"
_UID_TEXT = NAME_PATTERN + r'::"[^"\\\r]*"'
_B = r"(?![_a-zA-Z0-9])"


def _scope_pattern(named: bool) -> str:
    def group(name: str, body: str) -> str:
        return f"(?P<{name}>{body})" if named else f"(?:{body})"

    def var_pattern(var: str) -> str:
        target = rf"(?:{_UID_TEXT}|\?{var}{_B})"
        return (
            group(var, var)
            + rf"{_B}(?:{_W}*"
            + group(var + "_op", f"==|in{_B}")
            + rf"{_W}*"
            + group(var + "_rhs", target)
            + rf"|{_W}+is{_W}+"
            + group(var + "_type", NAME_PATTERN)
            + rf"(?![_a-zA-Z0-9:])(?:{_W}+in{_B}{_W}*"
            + group(var + "_in", target)
            + ")?)?"
        )

    action_rhs = rf"{_UID_TEXT}|\[{_W}*{_UID_TEXT}(?:{_W}*,{_W}*{_UID_TEXT})*{_W}*,?{_W}*\]"
    return (
        rf"\({_W}*{var_pattern('principal')}{_W}*,{_W}*"
        + group("action", "action")
        + rf"{_B}(?:{_W}*"
        + group("action_op", f"==|in{_B}")
        + rf"{_W}*"
        + group("action_rhs", action_rhs)
        + rf")?{_W}*,{_W}*{var_pattern('resource')}{_W}*(?:,{_W}*)?\)"
    )


SCOPE_RE: Final = re.compile(_scope_pattern(named=True))
"""A plainly written scope, from its `(` to its `)`, with a named group for each part."""

_TRIVIA_GROUP = (
    r"((?:[ \t\r\n\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0085]++|//[^\n\r]*+)*+)"
)
# `{IDENT_PATTERN}+` is the identifier pattern with a possessive `*+`
_TOKEN_ALTERNATIVES = rf"""
    {IDENT_PATTERN}+
  | [0-9]++
  | "[^"\\]*+(?:\\[^\n][^"\\]*+)*+"
  | \?{IDENT_PATTERN}+
  | ::|==|!=|<=|>=|&&|\|\||[@.,;:(){{}}\[\]<>+\-*/%!=]
"""
# The same tokens for `findall`: every match is (trivia, token, stray character); a
# stray character (one no token starts with) ends the fast path, and `\Z` lets the
# final trivia match, so the matches cover the text without gaps.
_SCAN_RE: Final = re.compile(
    _TRIVIA_GROUP + "(?:(" + _TOKEN_ALTERNATIVES + r")|\Z|(.))", re.VERBOSE | re.DOTALL
)
# ... and with a whole plain policy head (`permit (principal, ...)`) as one token
_SCAN_HEADS_RE: Final = re.compile(
    _TRIVIA_GROUP
    + "(?:((?:permit|forbid)"
    + _W
    + "*"
    + _scope_pattern(named=False).replace(" ", r"\ ")
    + "|"
    + _TOKEN_ALTERNATIVES
    + r")|\Z|(.))",
    re.VERBOSE | re.DOTALL,
)
_KIND_BY_FIRST_CHAR: Final = {
    **dict.fromkeys("_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", IDENT),
    **dict.fromkeys("0123456789", INT),
    '"': STR,
    "?": SLOT,
}


class Token:
    """One token: its kind (``IDENT``, ``INT``, ``STR``, ``SLOT``, ``EOF`` or the punctuation
    itself), its text and its character range in the source."""

    __slots__ = ("end", "kind", "start", "text")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.kind = kind
        self.text = text
        self.start = start
        self.end = end

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.text!r}, {self.start})"


def tokenize(source: Source, *, heads: bool = False) -> list[Token]:
    """Split ``source`` into tokens, ending with an ``EOF`` token.

    With ``heads=True`` a policy's effect and plainly written scope come as one
    :data:`HEAD` token (text ending in `)`), which the policy parser reads with
    :data:`SCOPE_RE`; the tokens are otherwise the same.
    """
    tokens: list[Token] = []
    append = tokens.append
    kind_of = _KIND_BY_FIRST_CHAR.get
    pos = 0
    for trivia, text, stray in (_SCAN_HEADS_RE if heads else _SCAN_RE).findall(source.text):
        if not text:
            if stray:
                return _tokenize_reporting(source)
            break
        start = pos + len(trivia)
        pos = start + len(text)
        kind = kind_of(text[0], text)
        if kind is IDENT and text[-1] == ")":
            kind = HEAD
        append(Token(kind, text, start, pos))
    # like Rust's parser, report "end of input" just after the last real token
    append(Token(EOF, "", pos, pos))
    return tokens


def tokenize_with_trivia(source: Source) -> tuple[list[Token], list[str]]:
    """The tokens of :func:`tokenize` (ending with ``EOF``) and, for each of them, the
    white space and ``//`` comments written just before it (for ``EOF``: after the
    last token). Joining each trivia with its token's text gives back the source.

    Raises :class:`ParseError` at a character no token starts with.
    """
    tokens = tokenize(source)
    text = source.text
    trivia: list[str] = []
    end = 0
    for tok in tokens[:-1]:
        trivia.append(text[end : tok.start])
        end = tok.end
    trivia.append(text[end:])  # before EOF: everything after the last token
    return tokens, trivia


def _tokenize_reporting(source: Source) -> list[Token]:
    """Token by token, raising a ParseError at the first character no token starts with."""
    text = source.text
    tokens: list[Token] = []
    pos = 0
    size = len(text)
    match = _TOKEN_RE.match
    while pos < size:
        m = match(text, pos)
        if m is None:
            skipped = _SKIP_RE.match(text, pos)
            end = skipped.end() if skipped else pos
            if end >= size:
                break
            raise ParseError([_bad_char(source, end)])
        kind = m.lastgroup
        start, end = m.span(kind)  # type: ignore[arg-type]
        tok_text = m.group(kind)  # type: ignore[arg-type]
        tokens.append(Token(tok_text if kind == "punct" else kind, tok_text, start, end))  # type: ignore[arg-type]
        pos = end
    last = tokens[-1].end if tokens else 0
    tokens.append(Token(EOF, "", last, last))
    return tokens


def _bad_char(source: Source, pos: int) -> Diagnostic:
    ch = source.text[pos]
    if ch == '"':
        return Diagnostic(
            "unterminated string literal",
            Span(pos, len(source.text)),
            source,
            help='add a closing `"`',
        )
    if ch == "?":
        return Diagnostic(
            "expected a slot name after `?`",
            Span(pos, pos + 1),
            source,
            help="the slots are `?principal` and `?resource`",
        )
    return Diagnostic(f"unexpected character `{ch}`", Span(pos, pos + 1), source)
