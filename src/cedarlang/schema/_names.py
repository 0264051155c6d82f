"""Identifier / name rules shared by both schema formats, and Rust-compatible string escaping."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from ..errors import UnescapeError as UnescapeError

#: Words the Cedar policy grammar reserves; they are not valid identifiers (``Id``).
RESERVED_IDS: Final = frozenset({"true", "false", "if", "then", "else", "in", "like", "has", "is"})

#: The reserved namespace; no declared name may contain it.
CEDAR_NAMESPACE: Final = "__cedar"

#: Basenames a common type may not have (JSON schema keywords).
RESERVED_COMMON_TYPE_NAMES: Final = frozenset(
    {"Bool", "Boolean", "Entity", "Extension", "Long", "Record", "Set", "String"}
)

#: Primitive type names usable without ``__cedar::`` (Cedar syntax names).
PRIMITIVE_NAMES: Final = ("Bool", "Long", "String")

#: Extension types known to Cedar 4.12 (all extensions enabled).
EXTENSION_TYPES: Final = ("ipaddr", "decimal", "datetime", "duration")

IDENT_RE: Final = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*\Z")
_NAME_TOKEN_RE: Final = re.compile(r"\s+|[_a-zA-Z][_a-zA-Z0-9]*|::|.", re.S)


def is_ident(text: str) -> bool:
    """Does ``text`` match the identifier regex (ignoring reserved words)?"""
    return IDENT_RE.match(text) is not None


def is_valid_id(text: str) -> bool:
    """An ``Id``: an identifier that is not a reserved word."""
    return IDENT_RE.match(text) is not None and text not in RESERVED_IDS


def name_error(text: str, *, single: bool = False, kind: str = "internal name") -> str | None:
    """Why ``text`` is not a normalized (possibly namespaced) name, or ``None`` if it is one.

    ``single`` requires a single identifier (no ``::``). The messages follow the Rust parser's;
    ``kind`` names the thing in the "needs to be normalized" message.
    """
    parts = text.split("::")
    if all(is_valid_id(p) for p in parts) and (not single or len(parts) == 1):
        return None
    significant = [t for t in _NAME_TOKEN_RE.findall(text) if not t.isspace()]
    expect_ident = True
    for index, tok in enumerate(significant):
        if expect_ident:
            if not is_ident(tok):
                return f"unexpected token `{tok}`"
            if tok in RESERVED_IDS:
                if index == 0 and len(significant) == 1 and not single:
                    return "unexpected end of input"
                return f"this identifier is reserved and cannot be used: {tok}"
            expect_ident = False
        else:
            if tok != "::" or single:
                return f"unexpected token `{tok}`"
            expect_ident = True
    if expect_ident:
        return "unexpected end of input"
    return f"`{kind}` needs to be normalized (e.g., whitespace removed): {text}"


def contains_reserved(name: str) -> bool:
    """Does any ``::``-separated component of ``name`` equal ``__cedar``?"""
    return CEDAR_NAMESPACE in name.split("::")


def qualify(name: str, namespace: str | None) -> str:
    """Prefix ``namespace`` to ``name`` (``name`` is a basename or already qualified)."""
    return f"{namespace}::{name}" if namespace else name


def name_sort_key(name: str) -> tuple[str, tuple[str, ...]]:
    """Rust's ``InternalName`` ordering: basename first, then the namespace path."""
    parts = name.split("::")
    return parts[-1], tuple(parts[:-1])


def needs_quotes(attr: str) -> bool:
    """Must an attribute name be written as a string literal in Cedar schema syntax?"""
    return not (IDENT_RE.match(attr) and attr not in RESERVED_IDS and attr != CEDAR_NAMESPACE)


_NONPRINTABLE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})


def _is_grapheme_extend(ch: str) -> bool:
    cp = ord(ch)
    if unicodedata.category(ch) in ("Mn", "Me"):
        return True
    return cp in (0x200C, 0xFF9E, 0xFF9F) or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F


def _is_printable(ch: str) -> bool:
    if ch == " ":
        return True
    return unicodedata.category(ch) not in _NONPRINTABLE_CATEGORIES


_SIMPLE_ESCAPES: Final = {
    "\0": "\\0",
    "\t": "\\t",
    "\r": "\\r",
    "\n": "\\n",
    "\\": "\\\\",
    '"': '\\"',
    "'": "\\'",
}


def escape_debug(text: str) -> str:
    """Rust's ``str::escape_debug``: how Cedar prints strings between double quotes."""
    if text.isascii() and text.isprintable() and '"' not in text and "'" not in text and ("\\" not in text):
        return text
    out: list[str] = []
    for i, ch in enumerate(text):
        simple = _SIMPLE_ESCAPES.get(ch)
        if simple is not None:
            out.append(simple)
        elif (i == 0 and _is_grapheme_extend(ch)) or not _is_printable(ch):
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return "".join(out)


def quote(text: str) -> str:
    """``text`` as a Cedar string literal."""
    return f'"{escape_debug(text)}"'


def _hex_value(text: str) -> int | None:
    try:
        return int(text, 16)
    except ValueError:
        return None


def unescape(body: str) -> str:
    """Decode the body of a Cedar string literal (Rust ``unescape_str`` rules)."""
    if "\\" not in body and "\r" not in body:
        return body
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch == "\r":
            raise UnescapeError("bare carriage return")
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= n:
            raise UnescapeError("lone slash")
        esc = body[i + 1]
        i += 2
        if esc == "n":
            out.append("\n")
        elif esc == "r":
            out.append("\r")
        elif esc == "t":
            out.append("\t")
        elif esc == "\\":
            out.append("\\")
        elif esc == "0":
            out.append("\0")
        elif esc == "'":
            out.append("'")
        elif esc == '"':
            out.append('"')
        elif esc == "x":
            digits = body[i : i + 2]
            if len(digits) < 2:
                raise UnescapeError("too short hex escape")
            value = _hex_value(digits)
            if value is None or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise UnescapeError("invalid char in hex escape")
            if value > 0x7F:
                raise UnescapeError("out of range hex escape")
            out.append(chr(value))
            i += 2
        elif esc == "u":
            if i >= n or body[i] != "{":
                raise UnescapeError("no brace in unicode escape")
            i += 1
            if i < n and body[i] == "_":
                raise UnescapeError("leading underscore in unicode escape")
            digits = ""
            count = 0
            while True:
                if i >= n:
                    raise UnescapeError("unclosed unicode escape")
                c = body[i]
                i += 1
                if c == "}":
                    break
                if c == "_":
                    continue
                if c not in "0123456789abcdefABCDEF":
                    raise UnescapeError("invalid char in unicode escape")
                count += 1
                digits += c
            if count == 0:
                raise UnescapeError("empty unicode escape")
            if count > 6:
                raise UnescapeError("overlong unicode escape")
            value = int(digits, 16)
            if 0xD800 <= value <= 0xDFFF:
                raise UnescapeError("lone surrogate unicode escape")
            if value > 0x10FFFF:
                raise UnescapeError("out of range unicode escape")
            out.append(chr(value))
        elif esc == "\n":
            # line continuation: skip following ASCII whitespace
            while i < n and body[i] in " \t\n\r":
                i += 1
        else:
            raise UnescapeError(f"invalid escape `\\{esc}`")
    return "".join(out)
