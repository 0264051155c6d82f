"""Regenerate ``src/cedarlang/_escape_table.py`` from the Rust engine (cedarpy).

Which characters Rust's ``str::escape_debug`` writes as ``\\u{..}`` depends on the
Unicode tables of the Rust standard library that built cedar-policy
(``core::unicode::printable`` and ``Grapheme_Extend``), which are newer than
Python's ``unicodedata`` and also treat default-ignorable code points as not
printable. This script asks the Rust engine how it prints every code point, once
alone (the first character of a string: grapheme extenders are escaped too) and
once after ``a`` (not first: only non-printable characters are escaped), and
writes the answer as a table of ranges.

Usage (a test-only tool; cedarpy is never a runtime dependency)::

    PYTHONPATH=src python -m tests.lexical.gen_escape_table
"""

from __future__ import annotations

import json
from pathlib import Path

import cedarpy

OUT = Path(__file__).resolve().parents[2] / "src" / "cedarlang" / "_escape_table.py"
SIMPLE = {0x00: 2, 0x09: 2, 0x0A: 2, 0x0D: 2, 0x22: 0, 0x27: 0, 0x5C: 0}
"""The characters with a short escape, and what their table entry is (unused by
escape_debug, which checks the short escapes first): controls never print."""
CHUNK = 20_000


def rust_display(strings: list[str]) -> list[str]:
    """Each string as Rust prints it inside a policy (without the quotes)."""
    body = {"Set": [{"Value": s} for s in strings]}
    policy = {
        "effect": "permit",
        "principal": {"op": "All"},
        "action": {"op": "All"},
        "resource": {"op": "All"},
        "conditions": [{"kind": "when", "body": body}],
    }
    text = cedarpy.policies_from_json_str(
        json.dumps({"staticPolicies": {"p": policy}, "templates": {}, "templateLinks": []})
    )
    inner = text[text.index('{ ["') + 4 : text.rindex('"] }')]
    parts = inner.split('", "')  # a `"` inside a string is always printed as `\"`
    assert len(parts) == len(strings)
    return parts


def classify() -> list[int]:
    """Per code point: 0 printed as is, 1 escaped only as a string's first
    character (grapheme extender), 2 always escaped (not printable)."""
    kinds = [2] * 0x110000  # surrogates: not characters, never printable
    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for i in range(0, len(points), CHUNK):
        chunk = points[i : i + CHUNK]
        shown = rust_display([chr(c) for c in chunk] + ["a" + chr(c) for c in chunk])
        for c, first, later in zip(chunk, shown[: len(chunk)], shown[len(chunk) :], strict=True):
            if c in SIMPLE:
                kinds[c] = SIMPLE[c]
            elif later != "a" + chr(c):
                kinds[c] = 2
            else:
                kinds[c] = 0 if first == chr(c) else 1
    return kinds


def render(kinds: list[int]) -> str:
    bounds: list[int] = []
    values: list[int] = []
    for code, kind in enumerate(kinds):
        if not values or values[-1] != kind:
            bounds.append(code)
            values.append(kind)
    lines = [
        '"""How Rust\'s ``escape_debug`` treats each code point (generated; do not edit).',
        "",
        "Written by ``tests/lexical/gen_escape_table.py`` from the Rust engine's output.",
        "``KINDS[i]`` applies to the code points from ``BOUNDS[i]`` up to ``BOUNDS[i + 1]``:",
        "0 printed as is, 1 grapheme extender (escaped as a string's first character),",
        "2 not printable (always escaped). Read it with :func:`cedarlang.lexical.escape_debug`.",
        '"""',
        "",
        "from typing import Final",
        "",
        "# fmt: off",
        "BOUNDS: Final = (",
    ]
    for i in range(0, len(bounds), 10):
        lines.append("    " + " ".join(f"0x{b:X}," for b in bounds[i : i + 10]))
    lines.append(")")
    lines.append("KINDS: Final = bytes((")
    for i in range(0, len(values), 35):
        lines.append("    " + " ".join(f"{v}," for v in values[i : i + 35]))
    lines.append("))")
    lines.append("# fmt: on")
    return "\n".join(lines) + "\n"


def main() -> None:
    OUT.write_text(render(classify()), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
