"""Resource limits shared by the parser and the evaluators."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

MAX_NESTING: Final = 2000
"""How deeply parentheses, brackets, ``if`` and unary operators may nest in policy text."""

MAX_FORMAT_TOKENS: Final = 50_000
"""How many tokens one policy may have for the formatter (the parser has no such limit).
Rust's formatter (cedarpy 4.12.2) overflows its stack on a ``&&`` chain of 100,000 tokens
or a ``.a`` chain of 140,000."""

DEEP_FRAMES: Final = MAX_NESTING * 16 + 2000
"""Python frames a recursive walk over the deepest accepted policy may need."""


@contextmanager
def recursion_headroom(frames: int) -> Iterator[None]:
    """Temporarily allow at least ``frames`` Python frames (for deep but bounded input).

    CPython ≥ 3.11 runs Python-to-Python calls without growing the C stack, so a
    higher limit is safe; the limit is restored afterwards.
    """
    old = sys.getrecursionlimit()
    if old >= frames:
        yield
        return
    sys.setrecursionlimit(frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while many long-lived objects are built.

    Loading entities or thousands of policies creates many long-lived objects and no
    cycles; without the pause CPython runs full collections over the growing heap
    again and again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
