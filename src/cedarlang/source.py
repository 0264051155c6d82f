"""Source text, spans and compiler-style diagnostics."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .errors import CedarError


class Source:
    """A named piece of text with a line index for offset → (line, column)."""

    __slots__ = ("_line_starts", "name", "text")

    def __init__(self, text: str, name: str = "<input>") -> None:
        self.text = text
        self.name = name
        self._line_starts: list[int] | None = None

    def line_starts(self) -> list[int]:
        """The offset at which each line begins (computed on first use)."""
        starts = self._line_starts
        if starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        return starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of ``offset``."""
        starts = self.line_starts()
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def line_text(self, line: int) -> str:
        start = self.line_starts()[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end == -1 else self.text[start:end]


class Span(NamedTuple):
    """A half-open character range ``[start, end)`` in a :class:`Source`."""

    start: int
    end: int


@dataclass(frozen=True)
class Diagnostic:
    """A message about a piece of source, with an optional help line."""

    message: str
    span: Span | None = None
    source: Source | None = field(default=None, repr=False, compare=False)
    help: str | None = None
    severity: str = "error"

    @property
    def line(self) -> int | None:
        if self.span is None or self.source is None:
            return None
        return self.source.line_col(self.span.start)[0]

    @property
    def column(self) -> int | None:
        if self.span is None or self.source is None:
            return None
        return self.source.line_col(self.span.start)[1]

    def headline(self) -> str:
        where = f"{self.line}:{self.column}: " if self.line is not None else ""
        return f"{where}{self.message}"

    def label(self) -> str:
        """What the headline starts with: the severity (subclasses add a kind)."""
        return self.severity

    def context(self) -> str | None:
        """Where the diagnostic belongs beyond its span (e.g. ``policy `p1```), if anywhere."""
        return None

    def render(self, *, color: bool = False) -> str:
        """The diagnostic as a compiler would print it: location, line, caret, help.

        The one renderer of diagnostics (parse, schema and validation errors, the CLI).
        """
        red, blue, bold, reset = ("\x1b[31m", "\x1b[34m", "\x1b[1m", "\x1b[0m") if color else ("",) * 4
        if self.severity == "warning":
            red = "\x1b[33m" if color else ""
        lines = [f"{red}{bold}{self.label()}{reset}{bold}: {self.message}{reset}"]
        context = self.context()
        if self.span is not None and self.source is not None:
            line, col = self.source.line_col(self.span.start)
            end_line, end_col = self.source.line_col(max(self.span.start, self.span.end - 1))
            text = self.source.line_text(line)
            width = (end_col - col + 1) if end_line == line else max(1, len(text) - col + 1)
            gutter = " " * len(str(line))
            where = f"{self.source.name}:{line}:{col}" + (f" ({context})" if context else "")
            lines.append(f"{gutter}{blue}-->{reset} {where}")
            lines.append(f"{gutter} {blue}|{reset}")
            lines.append(f"{blue}{line} |{reset} {text}")
            caret = " " * (col - 1) + "^" * max(1, width)
            lines.append(f"{gutter} {blue}|{reset} {red}{caret}{reset}")
        elif context:
            lines.append(f"  --> {context}")
        if self.help:
            lines.append(f"  = {bold}help{reset}: {self.help}")
        return "\n".join(lines)


TextInput = str | bytes | bytearray | memoryview
"""What the text-taking entry points accept: text, or its UTF-8 encoding."""


def decode_text(data: TextInput, what: str, error: Callable[[list[Diagnostic]], CedarError]) -> str:
    """``data`` as a ``str``: text as it is, bytes decoded as strict UTF-8 (Rust takes ``&str``).

    Invalid UTF-8 or a value that is not text at all raises ``error`` (e.g.
    :class:`~cedarlang.errors.ParseError`) with one diagnostic naming ``what``.
    """
    if isinstance(data, str):
        return data
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            return bytes(data).decode("utf-8")
        except UnicodeDecodeError as err:
            bad = bytes(data)[err.start : err.end]
            where = f"byte{'s' if len(bad) > 1 else ''} {bad.hex(' ')} at offset {err.start}"
            message = f"{what} is not valid UTF-8: {err.reason} ({where})"
            raise error([Diagnostic(message, help="encode the text as UTF-8")]) from None
    message = f"{what} must be text (str or UTF-8 bytes), not {type(data).__name__}"
    raise error([Diagnostic(message)])
