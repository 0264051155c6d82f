"""Warnings about confusable text: BIDI control characters, mixed scripts, odd identifiers.

A port of Rust's ``validator/str_checks.rs``. Rust uses the ``unicode-security`` crate; here
the script of a character is approximated from its Unicode name (``CYRILLIC SMALL LETTER A``
is Cyrillic), which is enough to catch the classic ``say_һello`` spoof.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Final

from .. import ast
from ..ast import Expr
from ..schema._names import escape_debug
from ..source import Span
from ..values import EntityUid

__all__ = ["BIDI_CHARS", "check_ident", "check_string", "expr_texts"]

BIDI_CHARS: Final = frozenset("\u202a\u202b\u202d\u202e\u2066\u2067\u2068\u202c\u2069")

_SCRIPTS: Final = (
    "LATIN",
    "GREEK",
    "CYRILLIC",
    "ARMENIAN",
    "HEBREW",
    "ARABIC",
    "SYRIAC",
    "THAANA",
    "DEVANAGARI",
    "BENGALI",
    "GURMUKHI",
    "GUJARATI",
    "ORIYA",
    "TAMIL",
    "TELUGU",
    "KANNADA",
    "MALAYALAM",
    "SINHALA",
    "THAI",
    "LAO",
    "TIBETAN",
    "MYANMAR",
    "GEORGIAN",
    "HANGUL",
    "ETHIOPIC",
    "CHEROKEE",
    "KHMER",
    "MONGOLIAN",
    "HIRAGANA",
    "KATAKANA",
    "BOPOMOFO",
    "CJK",
    "RUNIC",
    "OGHAM",
    "COPTIC",
)
# Scripts that may be mixed with Han (Japanese, Korean, Chinese writing).
_HAN_COMPATIBLE: Final = {"CJK": {"HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"}}


def _script(ch: str) -> str | None:
    if ch.isascii():
        return "LATIN" if ch.isalpha() else None
    category = unicodedata.category(ch)
    if category[0] not in "LM":
        return None
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    first = name.split(" ", 1)[0]
    if first in _SCRIPTS:
        return first
    if first.startswith("CJK") or first in ("IDEOGRAPHIC",):
        return "CJK"
    if "HALFWIDTH" in name and "KATAKANA" in name:
        return "KATAKANA"
    return None


def is_single_script(text: str) -> bool:
    scripts = {s for s in map(_script, text) if s is not None}
    if len(scripts) <= 1:
        return True
    if "CJK" in scripts and scripts - {"CJK"} <= _HAN_COMPATIBLE["CJK"]:
        # Japanese (Han + kana) or Korean (Han + Hangul), but not both kana and Hangul
        return not ({"HANGUL"} <= scripts and scripts & {"HIRAGANA", "KATAKANA"})
    return scripts <= {"HIRAGANA", "KATAKANA"}


def _identifier_allowed(ch: str) -> bool:
    """An approximation of ``identifier_allowed`` (Unicode's General Security Profile)."""
    category = unicodedata.category(ch)
    if category in ("Cf", "Cc", "Co", "Cs", "Cn", "Zs", "Zl", "Zp", "So", "Sk", "Sm", "Sc"):
        return False
    return ("a" + ch).isidentifier() or ch in "-."


def check_string(text: str) -> tuple[str, str] | None:
    """``(kind, message)`` for a suspicious string literal or pattern, else ``None``."""
    if any(c in BIDI_CHARS for c in text):
        return "BidiCharsInString", f'string `"{text}"` contains BIDI control characters'
    if not is_single_script(text):
        return "MixedScriptString", f'string `"{text}"` contains mixed scripts'
    return None


def check_ident(text: str) -> tuple[str, str] | None:
    """``(kind, message)`` for a suspicious identifier (or entity id), else ``None``."""
    if any(c in BIDI_CHARS for c in text):
        return "BidiCharsInIdentifier", f"identifier `{text}` contains BIDI control characters"
    for c in text:
        if c != " " and not ("!" <= c <= "~") and not _identifier_allowed(c):
            return (
                "ConfusableIdentifier",
                f"identifier `{escape_debug(text)}` contains the character `{escape_debug(c)}` which is "
                "not a printable ASCII character and falls outside of the General Security Profile "
                "for Identifiers",
            )
    if not is_single_script(text):
        return "MixedScriptIdentifier", f"identifier `{text}` contains mixed scripts"
    return None


def pattern_text(pattern: tuple[str | None, ...]) -> str:
    return "".join("*" if p is None else p.replace("*", "\\*") for p in pattern)


def _uid_texts(uid: EntityUid, span: Span | None) -> Iterator[tuple[bool, str, Span | None]]:
    for part in uid.type.split("::"):
        yield False, part, span
    yield False, uid.id, span


def expr_texts(e: Expr) -> Iterator[tuple[bool, str, Span | None]]:
    """``(is_string, text, span)`` for every string, pattern and identifier in ``e``."""
    for node in ast.walk(e):
        span = node.span
        if isinstance(node, ast.Lit):
            if isinstance(node.value, str):
                yield True, node.value, span
            elif isinstance(node.value, EntityUid):
                yield from _uid_texts(node.value, span)
        elif isinstance(node, ast.ExtCall):
            yield False, node.name, span
        elif isinstance(node, (ast.GetAttr, ast.HasAttr)):
            yield False, node.attr, span
        elif isinstance(node, ast.Like):
            yield True, pattern_text(node.pattern), span
        elif isinstance(node, ast.RecordLit):
            for name, _ in node.fields:
                yield False, name, span
