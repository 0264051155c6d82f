"""Resource limits shared by the parser and the evaluators."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


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
