"""Random strings with the awkward characters, written every way Cedar allows, and
the checks that compare cedarlang with the Rust engine (cedarpy) on them.

Self-contained on purpose (no import from ``tests/differential``). Each case is one
random string ``s`` of combining marks (leading and inner), zero-width and bidi
controls, astral characters, DEL and other controls, quotes, backslashes, stars and
plain ASCII, and checks, on both engines:

* ``s`` as an entity id in a request uid string (``User::"..."``), written in
  Rust's normal form or in another form (raw, escaped, or with a bad escape), which
  Rust accepts only if it is exactly how its ``Display`` prints the uid;
* the same id as entity JSON (``{"__entity": {"type", "id"}}`` in the context, and
  the ``uid`` of an entity whose attribute a policy reads);
* ``s`` written with random escapes as an entity id, a string literal and a
  ``like`` pattern (random wildcards) in policy text, sometimes with a bad escape;
* the decision, the satisfied policies and whether there were errors (the
  message too, for a bad escape);
* the printed forms: the policies as JSON (``policies_to_json_str``), formatted
  (``format_policies``), and printed back from Rust's JSON
  (``policies_from_json_str``), which also shows how each engine displays the uid.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import cedarpy

from cedarlang.compat import cedarpy as ours
from cedarlang.lexical import escape_debug
from cedarlang.values import EntityUid

COMBINING = [
    "\u0301",  # combining acute (Mn)
    "\u0300",
    "\u20dd",  # enclosing circle (Me)
    "\u0903",  # Devanagari visarga (Mc: not an extender)
    "\u09be",  # Bengali vowel sign AA (Other_Grapheme_Extend)
    "\u034f",  # combining grapheme joiner (default-ignorable)
    "\ufe0f",  # variation selector 16
    "\U0001f3fb",  # emoji skin-tone modifier (an extender)
    "\U000e0020",  # tag space
    "\u1acf",  # assigned in a recent Unicode version
]
ZERO_WIDTH_AND_BIDI = [
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u00ad",
    "\u200e",
    "\u200f",
    "\u061c",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
ASTRAL = ["\U0001f600", "\U00020000", "\U0001d165", "\U000f0000", "\U0010ffff", "\U000e0001", "\U0001f1e6"]
CONTROLS = [
    "\x7f",
    "\x01",
    "\x1b",
    "\x85",
    "\x9f",
    "\0",
    "\t",
    "\n",
    "\r",
    "\x0b",
    "\u2028",
    "\u00a0",
    "\u3000",
]
SPECIAL = ['"', "'", "\\", "*", " "]
ASCII = "abcxyzABC019_-.:/@"
GROUPS: list[list[str]] = [COMBINING, ZERO_WIDTH_AND_BIDI, ASTRAL, CONTROLS, SPECIAL, list(ASCII)]

BAD_ESCAPES = [
    "\\q",
    "\\x80",
    "\\xg1",
    "\\u{110000}",
    "\\u{D800}",
    "\\u{}",
    "\\u{1234567}",
    "\\u12",
    "\\u{_1}",
]
BAD_ESCAPES_AT_END = ["\\", "\\u{12", "\\x", "\\x4"]  # `\\x4` and a hex digit would be valid
SHORT = {"\0": "\\0", "\t": "\\t", "\r": "\\r", "\n": "\\n", "\\": "\\\\", '"': '\\"', "'": "\\'"}


def random_char(rng: random.Random) -> str:
    if rng.random() < 0.15:
        while True:
            code = rng.randrange(0x110000)
            if not 0xD800 <= code <= 0xDFFF:
                return chr(code)
    return rng.choice(rng.choice(GROUPS))


def random_string(rng: random.Random) -> str:
    n = rng.choice([0, 1, 1, 2, 3, 4, 6, 10])
    chars = [random_char(rng) for _ in range(n)]
    if chars and rng.random() < 0.3:
        chars[0] = rng.choice(COMBINING)  # a leading extender
    return "".join(chars)


def escape_one(rng: random.Random, ch: str) -> str:
    """``ch`` inside a string literal: as is where the lexer allows it, or escaped."""
    if ch in ('"', "\\", "\r") or rng.random() < 0.3:
        r = rng.random()
        if ch in SHORT and r < 0.5:
            return SHORT[ch]
        if ord(ch) < 0x80 and r < 0.7:
            return f"\\x{ord(ch):02x}"
        digits = f"{ord(ch):x}"
        if rng.random() < 0.2 and len(digits) < 6:
            digits = "0" + digits
        if rng.random() < 0.1:
            digits = digits[0] + "_" + digits[1:]
        return f"\\u{{{digits}}}"
    return ch


def literal_body(rng: random.Random, s: str, *, bad: bool = False, pattern: bool = False) -> str:
    """``s`` as the body of a string literal (``pattern``: a ``like`` pattern with
    random wildcards, ``*`` in ``s`` written ``\\*``), optionally with one bad escape."""
    parts: list[str] = []
    for ch in s:
        if pattern and rng.random() < 0.15:
            parts.append("*")
        parts.append("\\*" if pattern and ch == "*" else escape_one(rng, ch))
    if pattern and rng.random() < 0.3:
        parts.append("*")
    if bad:
        if rng.random() < 0.2:
            parts.append(rng.choice(BAD_ESCAPES_AT_END))
        else:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(BAD_ESCAPES))
    return "".join(parts)


def uid_string(rng: random.Random, s: str) -> str:
    """A request's uid string for id ``s``: usually Rust's normal form, else another."""
    r = rng.random()
    if r < 0.45:
        body = escape_debug(s)
    elif r < 0.65:
        body = s  # raw: normal only if nothing in ``s`` needs escaping
    elif r < 0.9:
        body = literal_body(rng, s)
    else:
        body = literal_body(rng, s, bad=True)
    return f'User::"{body}"'


def _authorize(
    engine: Any, request: dict[str, Any], policies: str, entities: list[Any]
) -> tuple[str, list[str], bool, list[str]]:
    try:
        result = engine.is_authorized(request, policies, entities)
    except ValueError as err:
        return "raised", [], True, [str(err)]
    errors = list(result.diagnostics.errors)
    return result.decision.name, sorted(result.diagnostics.reasons), bool(errors), errors


def _call(fn: Callable[[str], str], arg: str) -> tuple[bool, str]:
    try:
        return True, fn(arg)
    except ValueError as err:
        return False, str(err)


def _escape_error(messages: list[str]) -> str | None:
    """The first "the input `...` is not a valid escape" message among ``messages``."""
    for message in messages:
        start = message.find("the input `")
        if start != -1:
            end = message.find("` is not a valid escape", start)
            if end != -1:
                return message[start : end + len("` is not a valid escape")]
    return None


def _tokens(text: str) -> str:
    """``text`` with each run of whitespace outside string literals made one space.

    The formatter's line breaks depend on the display width of the characters in
    string literals (Rust's ``unicode-width`` tables, not lexical rules); what is
    compared here is that every literal is kept exactly as written.
    """
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif ch.isspace():
            while i < n and text[i].isspace():
                i += 1
            out.append(" ")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def run_case(rng: random.Random, *, printing: bool = True) -> list[str]:
    """One random case; returns a description of each disagreement (empty: none)."""
    s = random_string(rng)
    bad = [rng.random() < 0.04 for _ in range(4)]
    principal = uid_string(rng, s)
    context = {"s": s, "p": {"__entity": {"type": "User", "id": s}}}
    request = {"principal": principal, "action": 'Action::"view"', "resource": 'Doc::"d"', "context": context}
    policies = "\n".join(
        [
            f'permit(principal == User::"{literal_body(rng, s, bad=bad[0])}", action, resource);',
            f'permit(principal, action, resource) when {{ context.s == "{literal_body(rng, s, bad=bad[1])}" }};',
            "permit(principal, action, resource) when "
            f'{{ context.s like "{literal_body(rng, s, bad=bad[2], pattern=True)}" }};',
            "permit(principal, action, resource) when { context.p == principal };",
            f'permit(principal, action, resource) when {{ context.p == User::"{literal_body(rng, s, bad=bad[3])}" }};',
            "permit(principal, action, resource) when { principal has tag && principal.tag == context.s };",
        ]
    )
    entities = [{"uid": {"type": "User", "id": s}, "attrs": {"tag": s}, "parents": []}]
    where = f"s={s!r} principal={principal!r}\npolicies:\n{policies}"
    problems: list[str] = []
    rust = _authorize(cedarpy, request, policies, entities)
    mine = _authorize(ours, request, policies, entities)
    if rust[:3] != mine[:3]:
        problems.append(f"authorization: rust {rust} ours {mine}\n{where}")
    elif rust[2] and _escape_error(rust[3]) != _escape_error(mine[3]):
        problems.append(f"escape error: rust {rust[3]} ours {mine[3]}\n{where}")
    if not printing:
        return problems
    rust_ok, rust_json = _call(cedarpy.policies_to_json_str, policies)
    my_ok, my_json = _call(ours.policies_to_json_str, policies)
    if rust_ok != my_ok or (rust_ok and json.loads(rust_json) != json.loads(my_json)):
        problems.append(f"policies_to_json_str: rust {rust_json!r}\nours {my_json!r}\n{where}")
    if rust_ok:
        rust_fmt = _call(cedarpy.format_policies, policies)
        my_fmt = _call(ours.format_policies, policies)
        if (rust_fmt[0], _tokens(rust_fmt[1])) != (my_fmt[0], _tokens(my_fmt[1])):
            problems.append(f"format_policies: rust {rust_fmt!r}\nours {my_fmt!r}\n{where}")
        rust_text = _call(cedarpy.policies_from_json_str, rust_json)
        my_text = _call(ours.policies_from_json_str, rust_json)
        if rust_text != my_text:
            problems.append(f"policies_from_json_str: rust {rust_text!r}\nours {my_text!r}\n{where}")
        shown = f"principal == {EntityUid('User', s)}"
        if rust_text[0] and shown not in rust_text[1]:
            problems.append(f"uid display: ours {shown!r} not in rust {rust_text[1]!r}\n{where}")
    return problems


def run(count: int, seed: int, *, printing_every: int = 1) -> tuple[int, list[str]]:
    """``count`` cases from ``seed``: (cases run, disagreements)."""
    rng = random.Random(seed)
    problems: list[str] = []
    for i in range(count):
        problems.extend(run_case(rng, printing=i % printing_every == 0))
    return count, problems
