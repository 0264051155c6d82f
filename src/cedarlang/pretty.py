"""Wadler-style pretty-printing documents, laid out like Rust's ``pretty`` crate (0.12).

A :class:`Doc` is text, a hard line break, a choice between two layouts
(:class:`FlatAlt`: the first when its group is broken, the second when it fits on the
line), a group, a nested (indented) document, or two documents one after the other.
:func:`render` lays a document out within a line width with the crate's ``best``
algorithm: a group is printed flat when it, and what follows it up to the next
possible line break, fits on the line. Both :func:`render` and its look-ahead are
loops over an explicit stack, so documents of any size and depth are laid out without
recursion.

Text widths are terminal columns (Rust's ``unicode-width``): wide CJK characters
count 2, combining marks and control characters 0.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Final

__all__ = [
    "HARDLINE",
    "LINE",
    "LINE_",
    "NIL",
    "SPACE",
    "Doc",
    "cat",
    "group",
    "intersperse",
    "nest",
    "render",
    "text",
    "text_width",
]


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
        if s.isprintable():
            return len(s)
        return sum(1 for ch in s if ch >= " " and ch != "\x7f")
    return sum(_char_width(ch) for ch in s)


class Doc:
    """A document (build them with the functions of this module)."""

    __slots__ = ()


class Nil(Doc):
    """The empty document."""

    __slots__ = ()


class Text(Doc):
    """Text without line breaks."""

    __slots__ = ("text", "width")

    def __init__(self, text: str) -> None:
        self.text = text
        self.width = text_width(text)


class HardLine(Doc):
    """A line break, whatever the layout; the new line is indented by the enclosing nests."""

    __slots__ = ()


class FlatAlt(Doc):
    """``broken`` when the enclosing group is broken, ``flat`` when it is laid out flat."""

    __slots__ = ("broken", "flat")

    def __init__(self, broken: Doc, flat: Doc) -> None:
        self.broken = broken
        self.flat = flat


class Group(Doc):
    """``doc`` laid out flat if that fits on the line, else broken."""

    __slots__ = ("doc",)

    def __init__(self, doc: Doc) -> None:
        self.doc = doc


class Nest(Doc):
    """``doc`` with its line breaks indented ``offset`` more columns."""

    __slots__ = ("doc", "offset")

    def __init__(self, offset: int, doc: Doc) -> None:
        self.offset = offset
        self.doc = doc


class Append(Doc):
    """``left`` then ``right``."""

    __slots__ = ("left", "right")

    def __init__(self, left: Doc, right: Doc) -> None:
        self.left = left
        self.right = right


NIL: Final[Doc] = Nil()
HARDLINE: Final = HardLine()
SPACE: Final = Text(" ")
LINE: Final = FlatAlt(HARDLINE, SPACE)
"""A line break, or a space when its group fits on the line."""
LINE_: Final = FlatAlt(HARDLINE, NIL)
"""A line break, or nothing when its group fits on the line."""


def text(s: str) -> Doc:
    """The text ``s`` (which has no line breaks); :data:`NIL` if it is empty."""
    return Text(s) if s else NIL


def cat(*docs: Doc) -> Doc:
    """The documents one after the other."""
    result: Doc = NIL
    for d in docs:
        if d is NIL:
            continue
        result = d if result is NIL else Append(result, d)
    return result


def group(d: Doc) -> Doc:
    """``d`` laid out flat when it fits, else broken (a group of a group is that group)."""
    return d if d is NIL or type(d) is Group else Group(d)


def nest(d: Doc, offset: int) -> Doc:
    """``d`` with the lines it breaks indented ``offset`` more columns."""
    return d if d is NIL else Nest(offset, d)


def intersperse(docs: Iterable[Doc], sep: Doc) -> Doc:
    """The documents with ``sep`` between each two."""
    result: Doc = NIL
    first = True
    for d in docs:
        result = d if first else cat(result, sep, d)
        first = False
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
            if isinstance(d, Append):
                cmds.append((ind, mode, d.right))
                d = d.left
                continue
            if isinstance(d, Text):
                out.append(d.text)
                pos += d.width
            elif isinstance(d, FlatAlt):
                d = d.broken if mode == _BREAK else d.flat
                continue
            elif isinstance(d, Group):
                inner = d.doc
                if mode == _BREAK and _fits(inner, pos, width, cmds):
                    mode = _FLAT
                d = inner
                continue
            elif isinstance(d, Nest):
                ind += d.offset
                d = d.doc
                continue
            elif isinstance(d, HardLine):
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
            if isinstance(d, Append):
                stack.append(d.right)
                d = d.left
                continue
            if isinstance(d, Text):
                pos += d.width
                if pos > width:
                    return False
            elif isinstance(d, FlatAlt):
                d = d.broken if mode == _BREAK else d.flat
                continue
            elif isinstance(d, (Group, Nest)):
                d = d.doc
                continue
            elif isinstance(d, HardLine):
                return mode == _BREAK
            break
