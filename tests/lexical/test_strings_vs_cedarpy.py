"""Strings, entity ids and their escapes: cedarlang against the Rust engine (cedarpy).

The random cases are described in :mod:`tests.lexical.harness`; the long run is
``tests/lexical/run_long.py``. The other tests pin each of Rust's escaping rules
and check the escape table (``cedarlang._escape_table``) against Rust itself.
"""

from __future__ import annotations

import json
import random

import pytest

from cedarlang import Request, lexical
from cedarlang._escape_table import BOUNDS
from cedarlang.compat import cedarpy as ours
from cedarlang.errors import ParseError
from cedarlang.parser import parse_entity_uid
from cedarlang.values import EntityUid

cedarpy = pytest.importorskip("cedarpy")

from .gen_escape_table import rust_display  # noqa: E402
from .harness import run  # noqa: E402

CASES = 3000
SEED = 20261130


def test_random_strings_agree_with_rust() -> None:
    count, problems = run(CASES, SEED, printing_every=3)
    assert count == CASES
    assert not problems, f"{len(problems)} mismatches; first:\n{problems[0]}"


def _sample_code_points() -> list[int]:
    """Every boundary of the escape table (and its neighbours) and random code points."""
    rng = random.Random(7)
    points = {c + d for c in BOUNDS for d in (-1, 0, 1)} | {rng.randrange(0x110000) for _ in range(3000)}
    return sorted(c for c in points if 0 <= c < 0x110000 and not 0xD800 <= c <= 0xDFFF)


def _rust_pattern_display(chars: list[str]) -> list[str]:
    """Each character as Rust prints it inside a `like` pattern (``char::escape_debug``)."""
    conditions = [{"like": {"left": {"Var": "principal"}, "pattern": [{"Literal": ch}]}} for ch in chars]
    policy = {
        "effect": "permit",
        "principal": {"op": "All"},
        "action": {"op": "All"},
        "resource": {"op": "All"},
        "conditions": [{"kind": "when", "body": {"Set": conditions}}],
    }
    text = cedarpy.policies_from_json_str(
        json.dumps({"staticPolicies": {"p": policy}, "templates": {}, "templateLinks": []})
    )
    parts = text.split('principal like "')[1:]
    return [part[: part.index('"')] if not part.startswith('\\"') else '\\"' for part in parts]


def test_escape_table_matches_rust() -> None:
    points = _sample_code_points()
    alone = [chr(c) for c in points]
    inner = ["a" + chr(c) for c in points]
    shown = rust_display(alone + inner)
    ours_alone = [lexical.escape_debug(s) for s in alone]
    ours_inner = [lexical.escape_debug(s) for s in inner]
    assert [
        (hex(c), o) for c, o, r in zip(points, ours_alone, shown[: len(points)], strict=True) if o != r
    ] == []
    assert [
        (hex(c), o) for c, o, r in zip(points, ours_inner, shown[len(points) :], strict=True) if o != r
    ] == []
    sample = [ch for ch in alone if ch != "*"][::7]
    assert [lexical.escape_char_debug(ch) for ch in sample] == _rust_pattern_display(sample)


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("\0\t\r\n\\\"'", "\\0\\t\\r\\n\\\\\\\"\\'"),  # the short escapes
        ("\x7f\x01\x1b", "\\u{7f}\\u{1}\\u{1b}"),  # DEL and controls
        ("a\u0301", "a\u0301"),  # an inner combining mark prints as is
        ("\u0301a", "\\u{301}a"),  # ... a leading one is escaped
        ("\u0301\u0301", "\\u{301}\u0301"),
        ("\u200b\u202e\u2066", "\\u{200b}\\u{202e}\\u{2066}"),  # zero-width and bidi: format chars
        ("a\u034f\ufe0f", "a\\u{34f}\\u{fe0f}"),  # default-ignorable marks are never printable
        ("\U0001f600\U0001d165", "\U0001f600\U0001d165"),  # astral, with an inner astral extender
        ("\U0001d165", "\\u{1d165}"),  # ... which is escaped as the first character
        ("\U0001f3fb", "\U0001f3fb"),  # an emoji modifier is not a grapheme extender
        ("\u00a0 \u3000", "\\u{a0} \\u{3000}"),  # separators other than the space
        ("\U000f0000\U000e0001", "\\u{f0000}\\u{e0001}"),  # private use, tag
    ],
)
def test_escape_debug_rules(text: str, printed: str) -> None:
    assert lexical.escape_debug(text) == printed
    assert rust_display([text]) == [printed]


def test_combining_mark_uid_is_accepted_and_printed_like_rust() -> None:
    text = 'User::"a\u0301"'
    uid = parse_entity_uid(text)
    assert uid == EntityUid("User", "a\u0301")
    assert str(uid) == text
    assert Request(text, 'Action::"view"', 'Doc::"d"').principal == uid
    request = {"principal": text, "action": 'Action::"view"', "resource": 'Doc::"d"', "context": {}}
    for engine in (cedarpy, ours):
        assert engine.is_authorized(request, "permit(principal, action, resource);", []).allowed
    # a leading combining mark must be written escaped, as Rust prints it
    assert parse_entity_uid('User::"\\u{301}a"') == EntityUid("User", "\u0301a")
    with pytest.raises(ParseError, match="normalized"):
        parse_entity_uid('User::"\u0301a"')


@pytest.mark.parametrize(
    ("body", "kind", "shown"),
    [
        ("a\\qb", "InvalidEscape", "\\q"),
        ("\\x80", "OutOfRangeHexEscape", "\\x80"),
        ("\\xg1", "InvalidCharInHexEscape", "\\xg"),
        ("\\x4", "TooShortHexEscape", "\\x4"),
        ("\\u{110000}", "OutOfRangeUnicodeEscape", "\\u{110000}"),
        ("\\u{D800}", "LoneSurrogateUnicodeEscape", "\\u{D800}"),
        ("\\u{}", "EmptyUnicodeEscape", "\\u{}"),
        ("\\u{_1}", "LeadingUnderscoreUnicodeEscape", "\\u{_"),
        ("\\u{1234567}", "OverlongUnicodeEscape", "\\u{1234567}"),
        ("\\u{12", "UnclosedUnicodeEscape", "\\u{12"),
        ("\\u{1x}", "InvalidCharInUnicodeEscape", "\\u{1x"),
        ("\\u12", "NoBraceInUnicodeEscape", "\\u1"),
        ("ab\\", "LoneSlash", "\\"),
        ("\\*", "InvalidEscape", "\\*"),
    ],
)
def test_unescape_errors_like_rust(body: str, kind: str, shown: str) -> None:
    with pytest.raises(lexical.UnescapeError) as caught:
        lexical.unescape(body)
    assert caught.value.kind == kind
    assert caught.value.text == shown
    if kind == "LoneSlash":
        return  # unreachable in policy text: the lexer reads the final `\"` as an escaped quote
    policy = f'permit(principal, action, resource) when {{ context.s == "{body}" }};'
    with pytest.raises(ValueError, match="is not a valid escape") as rust_error:
        cedarpy.policies_to_json_str(policy)
    assert str(caught.value) in str(rust_error.value)


def test_unescape_pattern_stars() -> None:
    star = lexical.STAR
    assert lexical.unescape_pattern("a*b") == ["a", star, "b"]
    assert lexical.unescape_pattern("a\\*b") == ["a*b"]
    # a star written as a hex or unicode escape is a wildcard, as in Rust
    assert lexical.unescape_pattern("\\x2a\\u{2a}") == [star, star]
    assert lexical.unescape("\\x2a\\u{2a}") == "**"
