"""Cedar's lexical rules, written once: identifiers, reserved words, action types,
and how string literals are escaped and unescaped.

Both syntaxes (policies and Cedar-syntax schemas), the JSON formats and every
printer use this module. The rules follow Rust cedar-policy 4.x:

* identifiers: ``[_a-zA-Z][_a-zA-Z0-9]*`` (``cedar-policy-core`` ``parser/grammar.lalrpop``);
* reserved words: the grammar's keywords ``true false if then else in like has is``
  are never an identifier (``Id``). ``__cedar`` is a plain identifier to the lexer,
  but a policy rejects it in every name, attribute and type position ("The name
  `__cedar` contains `__cedar`, which is reserved"), while a schema may *use* the
  ``__cedar`` namespace (``__cedar::String``) but not declare anything in it;
* an action entity type is ``Action`` or ``NS::Action`` (``EntityType::is_action``);
* printing a string: Rust's ``str::escape_debug`` (Cedar's ``Display`` of string
  literals, entity ids, annotations), and ``char::escape_debug`` for each character
  of a ``like`` pattern (``ast/pattern.rs``);
* reading a string: ``rustc_literal_escaper::unescape_str`` as wrapped by
  ``parser/unescape.rs`` (``to_unescaped_string`` and, for patterns, ``to_pattern``).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Final

from ._escape_table import BOUNDS, KINDS
from .errors import UnescapeError as UnescapeError

# ---------------------------------------------------------------------------
# Identifiers and names

IDENT_PATTERN: Final = r"[_a-zA-Z][_a-zA-Z0-9]*"
"""A Cedar identifier (reserved words included)."""
NAME_PATTERN: Final = rf"{IDENT_PATTERN}(?:::{IDENT_PATTERN})*"
"""A possibly namespaced name, ``A::B::C``, written plainly (no spaces or comments)."""
IDENT_RE: Final = re.compile(IDENT_PATTERN)
"""Use with ``fullmatch``."""
NAME_RE: Final = re.compile(NAME_PATTERN)
"""Use with ``fullmatch``."""

RESERVED_WORDS: Final = frozenset({"true", "false", "if", "then", "else", "in", "like", "has", "is"})
"""The grammar's keywords: never an identifier in a policy or a schema."""
CEDAR_NAMESPACE: Final = "__cedar"
"""The namespace reserved for Cedar's own names (``__cedar::String``)."""
RESERVED_IDENTS: Final = RESERVED_WORDS | {CEDAR_NAMESPACE}
"""Identifiers a policy (or a JSON entity type name) rejects anywhere: the keywords and ``__cedar``."""


def is_ident(text: str) -> bool:
    """Does ``text`` match the identifier regex (reserved words included)?"""
    return IDENT_RE.fullmatch(text) is not None


def is_valid_id(text: str) -> bool:
    """An ``Id`` of the grammar: an identifier that is not a keyword."""
    return IDENT_RE.fullmatch(text) is not None and text not in RESERVED_WORDS


def reserved_part(name: str) -> str | None:
    """The first (in sort order) ``::``-separated part of ``name`` a policy reserves, if any."""
    reserved = RESERVED_IDENTS.intersection(name.split("::"))
    return min(reserved) if reserved else None


def is_entity_type_name(name: str) -> bool:
    """A well-formed entity type name, ``A`` or ``A::B``, with no reserved part."""
    return NAME_RE.fullmatch(name) is not None and RESERVED_IDENTS.isdisjoint(name.split("::"))


def is_action_type(name: str) -> bool:
    """Rust's ``EntityType::is_action``: the type's basename is ``Action``."""
    return name == "Action" or name.endswith("::Action")


# ---------------------------------------------------------------------------
# Printing strings (Rust's escape_debug)

_SHORT_ESCAPES: Final = {
    "\0": "\\0",
    "\t": "\\t",
    "\r": "\\r",
    "\n": "\\n",
    "\\": "\\\\",
    '"': '\\"',
    "'": "\\'",
}
_EXTEND: Final = 1
_NOT_PRINTABLE: Final = 2


def _kind(code: int) -> int:
    """0: printable; 1: grapheme extender (printable); 2: not printable (see ``_escape_table``)."""
    return KINDS[bisect_right(BOUNDS, code) - 1]


class _LaterEscapes(dict[int, str]):
    """``str.translate`` table: each character as ``escape_debug`` prints it after the
    first one, computed on first use (and cached, up to a bound)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        out = _SHORT_ESCAPES.get(ch) or (f"\\u{{{code:x}}}" if _kind(code) == _NOT_PRINTABLE else ch)
        if len(self) < 100_000:
            self[code] = out
        return out


_LATER: Final = _LaterEscapes()
_PLAIN: Final = re.compile(r"[ !#-&(-\[\]-~]*")
"""Printable ASCII other than quotes and backslash: printed as is."""
_FIRST_EXTENDER: Final = BOUNDS[KINDS.index(_EXTEND)]
"""The first grapheme extender: a quick test for the (usual) strings that start below it."""


def escape_debug(text: str) -> str:
    """Rust's ``str::escape_debug``: how Cedar prints a string between double quotes.

    ``\\0 \\t \\r \\n \\\\ \\" \\'`` get their short escapes; a character that is not
    printable (Rust's ``is_printable``: control, format, unassigned, private use,
    separators other than the space, default-ignorable) becomes ``\\u{hex}``, and so
    does a grapheme extender (a combining mark, say) but only as the *first*
    character: after another character it is printed as is.
    """
    if _PLAIN.fullmatch(text):
        return text
    first = ord(text[0])
    if first >= _FIRST_EXTENDER and _kind(first) == _EXTEND:
        return f"\\u{{{first:x}}}" + text[1:].translate(_LATER)
    return text.translate(_LATER)


def escape_char_debug(ch: str) -> str:
    """Rust's ``char::escape_debug``: a grapheme extender is escaped wherever it is
    (Cedar prints each character of a ``like`` pattern this way)."""
    short = _SHORT_ESCAPES.get(ch)
    if short is not None:
        return short
    return f"\\u{{{ord(ch):x}}}" if _kind(ord(ch)) else ch


def quote(text: str) -> str:
    """``text`` as a Cedar string literal, as Rust prints it."""
    return f'"{escape_debug(text)}"'


# ---------------------------------------------------------------------------
# Reading strings (rustc_literal_escaper::unescape_str, as Cedar uses it)


STAR: Final = object()
"""Marker for an unescaped ``*`` (a wildcard) in a ``like`` pattern."""

_SIMPLE_UNESCAPES: Final = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "0": "\0", "'": "'", '"': '"'}
_HEX: Final = frozenset("0123456789abcdefABCDEF")


def unescape(body: str) -> str:
    """Decode a string literal's body (without the quotes); :class:`UnescapeError` on a
    bad escape (the first one, as Rust reports it first)."""
    if "\\" not in body and "\r" not in body:
        return body
    pieces = _unescape(body, pattern=False)
    return "".join(p for p in pieces if isinstance(p, str))


def unescape_pattern(body: str) -> list[str | object]:
    """Decode a ``like`` pattern's body: string pieces and :data:`STAR` wildcards.

    Only ``*`` written as is, or as ``\\x2a`` / ``\\u{2a}``, is a wildcard; ``\\*`` is a
    literal star (Rust's ``to_pattern``, which accepts the ``\\*`` escape that
    ``unescape_str`` reports as invalid).
    """
    if "\\" not in body and "\r" not in body and "*" not in body:
        return [body]
    return _unescape(body, pattern=True)


def _unescape(body: str, *, pattern: bool) -> list[str | object]:
    pieces: list[str | object] = []
    buf: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch == "*" and pattern:
            if buf:
                pieces.append("".join(buf))
                buf = []
            pieces.append(STAR)
            i += 1
            continue
        if ch == "\r":
            raise UnescapeError("BareCarriageReturn", body, i, i + 1)
        if ch != "\\":
            buf.append(ch)
            i += 1
            continue
        start = i
        if i + 1 >= n:
            raise UnescapeError("LoneSlash", body, start, n)
        esc = body[i + 1]
        if esc == "\n":
            # a line continuation: skip the newline and the ASCII whitespace after it
            i += 2
            while i < n and body[i] in " \t\n\r":
                i += 1
            continue
        simple = _SIMPLE_UNESCAPES.get(esc)
        if simple is not None:
            buf.append(simple)
            i += 2
            continue
        if esc == "x":
            i, decoded = _hex_escape(body, start)
        elif esc == "u":
            i, decoded = _unicode_escape(body, start)
        elif esc == "*" and pattern:
            buf.append("*")
            i += 2
            continue
        else:
            raise UnescapeError("InvalidEscape", body, start, start + 2)
        if decoded == "*" and pattern:
            # Rust turns every decoded `*` into a wildcard; only `\*` is a literal star
            if buf:
                pieces.append("".join(buf))
                buf = []
            pieces.append(STAR)
        else:
            buf.append(decoded)
    if buf or not pattern:
        pieces.append("".join(buf))
    return pieces


def _hex_escape(body: str, start: int) -> tuple[int, str]:
    """``\\xHH`` at ``start``: (the index after it, the character)."""
    pos = start + 2
    for _ in range(2):
        if pos >= len(body):
            raise UnescapeError("TooShortHexEscape", body, start, pos)
        if body[pos] not in _HEX:
            raise UnescapeError("InvalidCharInHexEscape", body, start, pos + 1)
        pos += 1
    code = int(body[start + 2 : pos], 16)
    if code > 0x7F:
        raise UnescapeError("OutOfRangeHexEscape", body, start, pos)
    return pos, chr(code)


def _unicode_escape(body: str, start: int) -> tuple[int, str]:
    """``\\u{H..H}`` at ``start`` (1 to 6 hex digits, ``_`` allowed after the first):
    (the index after it, the character)."""
    n = len(body)
    pos = start + 2
    if pos >= n or body[pos] != "{":
        raise UnescapeError("NoBraceInUnicodeEscape", body, start, min(pos + 1, n))
    pos += 1
    if pos >= n:
        raise UnescapeError("UnclosedUnicodeEscape", body, start, pos)
    first = body[pos]
    pos += 1
    if first == "_":
        raise UnescapeError("LeadingUnderscoreUnicodeEscape", body, start, pos)
    if first == "}":
        raise UnescapeError("EmptyUnicodeEscape", body, start, pos)
    if first not in _HEX:
        raise UnescapeError("InvalidCharInUnicodeEscape", body, start, pos)
    digits = [first]
    while True:
        if pos >= n:
            raise UnescapeError("UnclosedUnicodeEscape", body, start, pos)
        ch = body[pos]
        pos += 1
        if ch == "_":
            continue
        if ch == "}":
            break
        if ch not in _HEX:
            raise UnescapeError("InvalidCharInUnicodeEscape", body, start, pos)
        digits.append(ch)
    if len(digits) > 6:
        raise UnescapeError("OverlongUnicodeEscape", body, start, pos)
    code = int("".join(digits), 16)
    if code > 0x10FFFF:
        raise UnescapeError("OutOfRangeUnicodeEscape", body, start, pos)
    if 0xD800 <= code <= 0xDFFF:
        raise UnescapeError("LoneSurrogateUnicodeEscape", body, start, pos)
    return pos, chr(code)
