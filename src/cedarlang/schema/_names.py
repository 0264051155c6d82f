"""Name rules shared by both schema formats (the lexical rules themselves are in :mod:`cedarlang.lexical`)."""

from __future__ import annotations

import re
from typing import Final

# re-exported for the schema and validator modules that import them from here
from ..lexical import CEDAR_NAMESPACE as CEDAR_NAMESPACE
from ..lexical import IDENT_PATTERN, RESERVED_WORDS, is_valid_id
from ..lexical import escape_debug as escape_debug
from ..lexical import is_ident as is_ident

#: Basenames a common type may not have (JSON schema keywords).
RESERVED_COMMON_TYPE_NAMES: Final = frozenset(
    {"Bool", "Boolean", "Entity", "Extension", "Long", "Record", "Set", "String"}
)

#: Primitive type names usable without ``__cedar::`` (Cedar syntax names).
PRIMITIVE_NAMES: Final = ("Bool", "Long", "String")


_NAME_TOKEN_RE: Final = re.compile(rf"\s+|{IDENT_PATTERN}|::|.", re.S)


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
            if tok in RESERVED_WORDS:
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
    return not (is_valid_id(attr) and attr != CEDAR_NAMESPACE)
