"""The Cedar ``decimal`` extension: fixed-point numbers with four fractional digits.

Mirrors ``cedar-policy-core/src/extensions/decimal.rs``: a literal must match
``-?\\d+\\.\\d+`` exactly (no ``+``, no whitespace, at least one digit on each
side of the point), have at most four fractional digits, and fit in an ``i64``
once scaled by ``10^4``. Leading zeros are fine. The sign is taken from the
text, so ``decimal("-0.5")`` is negative.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Final

from ..errors import ExtensionError
from ..values import I64_MAX, I64_MIN
from ._value import ExtensionValue

EXTENSION_NAME: Final = "decimal"
NUM_DIGITS: Final = 4
_SCALE: Final = 10**NUM_DIGITS
_POW10: Final = (1, 10, 100, 1000, 10000)

# Rust's `regex` makes `\d` Unicode-aware, like Python's `re` on `str`.
_DECIMAL_RE: Final = re.compile(r"(-?\d+)\.(\d+)")


def _error(message: str, help: str | None = None) -> ExtensionError:
    return ExtensionError(message, help, extension_name=EXTENSION_NAME)


def _overflow() -> ExtensionError:
    return _error("overflow when converting to decimal")


def _parse_i64(digits: str) -> int:
    """Rust's ``i64::from_str`` on a string already known to be ``-?\\d+``."""
    if not digits.isascii():  # non-ASCII digits: `i64::from_str` fails
        raise _overflow()
    magnitude = digits.lstrip("-").lstrip("0")
    if len(magnitude) > 19:  # beyond i64 (and int()'s digit limit)
        raise _overflow()
    value = int(magnitude or "0")
    if digits.startswith("-"):
        value = -value
    if value < I64_MIN or value > I64_MAX:
        raise _overflow()
    return value


def parse_decimal(text: str) -> int:
    """The scaled ``i64`` a ``decimal`` literal denotes; raises :class:`ExtensionError`."""
    match = _DECIMAL_RE.fullmatch(text)
    if match is None:
        raise _error(f"`{text}` is not a well-formed decimal value")
    left_text, right_text = match.group(1), match.group(2)
    left = _parse_i64(left_text) * _SCALE
    if left < I64_MIN or left > I64_MAX:
        raise _overflow()
    length = len(right_text.encode("utf-8", "surrogatepass"))  # Rust's `str::len` counts bytes
    if length > NUM_DIGITS:
        raise _error(
            f"too many digits after the decimal in `{text}`",
            f"at most {NUM_DIGITS} digits are supported",
        )
    right = _parse_i64(right_text) * _POW10[NUM_DIGITS - length]
    value = left - right if left_text.startswith("-") else left + right
    if value < I64_MIN or value > I64_MAX:
        raise _overflow()
    return value


def canonical_text(value: int) -> str:
    """``value / 10^4`` written with exactly four fractional digits."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), _SCALE)
    return f"{sign}{whole}.{frac:04d}"


class Decimal(ExtensionValue):
    """A Cedar ``decimal`` value, stored as an ``i64`` scaled by ``10^4``.

    ``src`` is the constructor argument the value was built from; like Rust,
    it is what :meth:`to_cedar` and :meth:`to_json` write back out.
    """

    __slots__ = "value"

    cedar_type: ClassVar[str] = "decimal"
    constructor: ClassVar[str] = "decimal"

    value: int

    def __init__(self, value: int, src: str | None = None) -> None:
        if value < I64_MIN or value > I64_MAX:
            raise _overflow()
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "_src", src)

    @classmethod
    def parse(cls, text: str) -> Decimal:
        """``decimal(text)``; raises :class:`ExtensionError` for a bad literal."""
        return cls(parse_decimal(text), text)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Decimal, (self.value, self._src))

    def __eq__(self, other: object) -> bool:
        return type(other) is Decimal and self.value == other.value

    def __hash__(self) -> int:
        return hash((Decimal, self.value))

    def canonical(self) -> str:
        """The value with exactly four fractional digits, e.g. ``"1.2300"``."""
        return canonical_text(self.value)

    # Cedar methods --------------------------------------------------------

    def less_than(self, other: Decimal) -> bool:
        return self.value < other.value

    def less_than_or_equal(self, other: Decimal) -> bool:
        return self.value <= other.value

    def greater_than(self, other: Decimal) -> bool:
        return self.value > other.value

    def greater_than_or_equal(self, other: Decimal) -> bool:
        return self.value >= other.value


def decimal(text: str) -> Decimal:
    """The Cedar function ``decimal(String)``."""
    return Decimal.parse(text)
