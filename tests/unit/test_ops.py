"""Operators on both evaluation paths: ``like`` patterns and decimal comparisons.

From https://docs.cedarpolicy.com/policies/syntax-operators.html:

* ``like``: "The pattern string can include one or more asterisks (`*`) as wildcard
  characters that match 0 or more of any character.  To match a literal asterisk
  character, use the escaped `\\*` sequence in the pattern string."
* ``.lessThan()``: "evaluates to `true` if the left operand is numerically less than
  the right operand" (and ``.lessThanOrEqual()``: "less than or equal to").
"""

from __future__ import annotations

import pytest

from ._both_paths import PATHS, holds

LIKE = [
    # (string, pattern as written in the policy, matches?)
    ("a*b", r"a\*b", True),  # `\*` matches a literal star...
    ("axb", r"a\*b", False),  # ...and nothing else
    ("ab", r"a\*b", False),
    ("a*", r"a\*", True),
    ("abc", r"a\*", False),
    ("*", r"\*", True),
    ("", r"\*", False),
    ("x", r"\*", False),
    ("a*bc", r"a\**", True),  # a literal star, then a wildcard
    ("axbc", r"a\**", False),
    ("xx*yy", r"*\**", True),  # a star anywhere
    ("xxyy", r"*\**", False),
    ("abc", "a*", True),  # the unescaped star is a wildcard
    ("", "*", True),
    ("a*b", "a*b", True),
    ("ab", "a*b", True),
]


@PATHS
@pytest.mark.parametrize(("text", "pattern", "expected"), LIKE)
def test_like_escaped_star_is_a_literal_star(
    interpret: bool, text: str, pattern: str, expected: bool
) -> None:
    assert holds(f'"{text}" like "{pattern}"', interpret) is expected


DECIMALS = [
    # (left, right, lessThan, lessThanOrEqual)
    ("1.5", "1.5", False, True),
    ("1.5000", "1.5", False, True),  # equal values written differently
    ("-0.25", "-0.25", False, True),
    ("1.4999", "1.5", True, True),
    ("1.5", "1.4999", False, False),
    ("-1.0", "1.0", True, True),
    ("0.0", "-0.0", False, True),
]


@PATHS
@pytest.mark.parametrize(("left", "right", "lt", "le"), DECIMALS)
def test_decimal_less_than_is_strict(interpret: bool, left: str, right: str, lt: bool, le: bool) -> None:
    assert holds(f'decimal("{left}").lessThan(decimal("{right}"))', interpret) is lt
    assert holds(f'decimal("{left}").lessThanOrEqual(decimal("{right}"))', interpret) is le
    # greaterThan / greaterThanOrEqual are the mirror images
    assert holds(f'decimal("{right}").greaterThan(decimal("{left}"))', interpret) is lt
    assert holds(f'decimal("{right}").greaterThanOrEqual(decimal("{left}"))', interpret) is le


@PATHS
def test_decimal_less_than_on_attribute_values(interpret: bool) -> None:
    entities = [
        {
            "uid": {"type": "User", "id": "alice"},
            "attrs": {"limit": {"__extn": {"fn": "decimal", "arg": "2.50"}}},
            "parents": [],
        }
    ]
    assert not holds('principal.limit.lessThan(decimal("2.5"))', interpret, entities)
    assert holds('principal.limit.lessThanOrEqual(decimal("2.5"))', interpret, entities)
    assert holds('principal.limit.lessThan(decimal("2.5001"))', interpret, entities)
