"""The Cedar ``datetime`` extension: ``datetime`` and ``duration`` values.

Mirrors ``cedar-policy-core/src/extensions/datetime.rs``.

``datetime(s)`` accepts ``YYYY-MM-DD`` optionally followed by ``Thh:mm:ss``,
an optional ``.SSS`` and then ``Z`` or ``(+|-)hhmm``. Years are 0000-9999 of the
proleptic Gregorian calendar; hours < 24, minutes < 60, seconds < 60 (no leap
seconds); offsets are below 24 hours and 60 minutes. The value is the number of
milliseconds since the Unix epoch (UTC), an ``i64``.

``duration(s)`` accepts an optional ``-`` and then quantity-unit pairs in the
order ``d h m s ms``, each at most once, at least one of them. The value is
the number of milliseconds, an ``i64``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Final

from ..errors import ExtensionError
from ..lexical import quote as quote_string
from ..values import I64_MAX, I64_MIN
from ._value import ExtensionValue

DATETIME_EXTENSION_NAME: Final = "datetime"
DURATION_CONSTRUCTOR_NAME: Final = "duration"

UNIX_EPOCH_STR: Final = "1970-01-01"
DAY_IN_MILLISECONDS: Final = 1000 * 3600 * 24

_U64_MAX: Final = 2**64 - 1

_DURATION_RE: Final = re.compile(r"-?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?")
_DATE_RE: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_HMS_RE: Final = re.compile(r"T([0-9]{2}):([0-9]{2}):([0-9]{2})")
_MS_AND_OFFSET_RE: Final = re.compile(r"(\.([0-9]{3}))?(Z|((\+|-)([0-9]{2})([0-9]{2})))")

_DURATION_HELP: Final = (
    "A valid duration string is a concatenated sequence of quantity-unit pairs "
    "with an optional `-` at the beginning"
)
_DURATION_OVERFLOW_HELP: Final = "A duration in milliseconds must be representable by a signed 64 bit integer"


def _error(function: str, message: str, help: str | None = None) -> ExtensionError:
    return ExtensionError(message, help, extension_name=function)


def _in_i64(value: int) -> bool:
    return I64_MIN <= value <= I64_MAX


def _trunc_div(a: int, b: int) -> int:
    """Rust's integer ``/``: rounds toward zero."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


# --- duration ------------------------------------------------------------------------


def parse_duration(text: str) -> int:
    """Milliseconds denoted by a ``duration`` literal; raises :class:`ExtensionError`."""

    def invalid() -> ExtensionError:
        return _error(DURATION_CONSTRUCTOR_NAME, "invalid duration pattern", _DURATION_HELP)

    def overflow() -> ExtensionError:
        return _error(
            DURATION_CONSTRUCTOR_NAME,
            "Duration overflows internal representation",
            _DURATION_OVERFLOW_HELP,
        )

    if text in ("", "-"):
        raise invalid()
    match = _DURATION_RE.fullmatch(text)
    if match is None:
        raise invalid()

    def number(idx: int) -> int:
        digits = match.group(idx)
        if digits is None:
            return 0
        digits = digits.lstrip("0")
        if len(digits) > 20:  # beyond u64 (and int()'s digit limit)
            raise overflow()
        value = int(digits or "0")
        if value > _U64_MAX:  # Rust parses each quantity as a `u64`
            raise overflow()
        return value

    days, hours, minutes, seconds, millis = (number(i) for i in (2, 4, 6, 8, 10))
    negative = text.startswith("-")
    ms = -millis if negative else millis
    if not _in_i64(ms):
        raise overflow()
    for quantity, unit in (
        (seconds, 1000),
        (minutes, 1000 * 60),
        (hours, 1000 * 60 * 60),
        (days, DAY_IN_MILLISECONDS),
    ):
        if quantity > I64_MAX:
            raise overflow()
        product = quantity * unit
        if product > I64_MAX:
            raise overflow()
        ms = ms - product if negative else ms + product
        if not _in_i64(ms):
            raise overflow()
    return ms


class Duration(ExtensionValue):
    """A Cedar ``duration`` value: a signed number of milliseconds (an ``i64``).

    ``src`` is the constructor argument the value was built from, if any; like
    Rust, it is what :meth:`to_cedar` and :meth:`to_json` write back out. A
    computed duration is written ``duration("<ms>ms")``.
    """

    __slots__ = ("ms",)

    cedar_type: ClassVar[str] = "duration"
    constructor: ClassVar[str] = "duration"

    ms: int

    def __init__(self, ms: int, src: str | None = None) -> None:
        if not _in_i64(ms):
            raise _error(DURATION_CONSTRUCTOR_NAME, "Duration overflows internal representation")
        object.__setattr__(self, "ms", ms)
        object.__setattr__(self, "_src", src)

    @classmethod
    def parse(cls, text: str) -> Duration:
        """``duration(text)``; raises :class:`ExtensionError` for a bad literal."""
        return cls(parse_duration(text), text)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Duration, (self.ms, self._src))

    def __eq__(self, other: object) -> bool:
        return type(other) is Duration and self.ms == other.ms

    def __hash__(self) -> int:
        return hash((Duration, self.ms))

    def __lt__(self, other: Duration) -> bool:
        if type(other) is not Duration:
            return NotImplemented
        return self.ms < other.ms

    def __le__(self, other: Duration) -> bool:
        if type(other) is not Duration:
            return NotImplemented
        return self.ms <= other.ms

    def __gt__(self, other: Duration) -> bool:
        if type(other) is not Duration:
            return NotImplemented
        return self.ms > other.ms

    def __ge__(self, other: Duration) -> bool:
        if type(other) is not Duration:
            return NotImplemented
        return self.ms >= other.ms

    def canonical(self) -> str:
        """Rust's ``Display`` for durations: ``"<ms>ms"``."""
        return f"{self.ms}ms"

    # Cedar methods (Rust's `/` truncates toward zero) -----------------------

    def to_milliseconds(self) -> int:
        return self.ms

    def to_seconds(self) -> int:
        return _trunc_div(self.ms, 1000)

    def to_minutes(self) -> int:
        return _trunc_div(self.to_seconds(), 60)

    def to_hours(self) -> int:
        return _trunc_div(self.to_minutes(), 60)

    def to_days(self) -> int:
        return _trunc_div(self.to_hours(), 24)


# --- datetime ------------------------------------------------------------------------


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


_DAYS_IN_MONTH: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _valid_date(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    limit = 29 if month == 2 and _is_leap(year) else _DAYS_IN_MONTH[month - 1]
    return day <= limit


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar."""
    y = year - (1 if month <= 2 else 0)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def parse_datetime(text: str) -> int:
    """Epoch milliseconds denoted by a ``datetime`` literal; raises :class:`ExtensionError`.

    The checks run in Rust's order: syntax left to right, then the date, the
    time and the offset.
    """
    name = DATETIME_EXTENSION_NAME
    date_match = _DATE_RE.match(text)
    if date_match is None:
        raise _error(name, "invalid date pattern", "A valid datetime string should start with YYYY-MM-DD")
    date_str = date_match.group(0)
    year, month, day = (int(g) for g in date_match.groups())

    def check_date() -> int:
        if not _valid_date(year, month, day):
            raise _error(name, f"invalid date: {date_str}")
        return _days_from_civil(year, month, day) * DAY_IN_MILLISECONDS

    if len(date_str) == len(text):
        return check_date()

    rest = text[len(date_str) :]
    hms_match = _HMS_RE.match(rest)
    if hms_match is None:
        raise _error(
            name,
            "invalid hour/minute/second pattern",
            "A valid datetime string should have HH:MM:SS after the date",
        )
    hms_str = hms_match.group(0)
    hour, minute, second = (int(g) for g in hms_match.groups())

    rest = rest[len(hms_str) :]
    tail = _MS_AND_OFFSET_RE.fullmatch(rest)
    if tail is None:
        raise _error(
            name,
            "invalid millisecond and/or offset pattern",
            "A valid datetime should end with Z|.SSSZ|(+|-)hhmm|.SSS(+|-)hhmm",
        )
    millis = int(tail.group(2)) if tail.group(1) is not None else 0

    epoch = check_date()
    if not (hour < 24 and minute < 60 and second < 60):
        raise _error(name, f"invalid hour/minute/second: {hms_str[1:]}")
    epoch += ((hour * 60 + minute) * 60 + second) * 1000 + millis

    if tail.group(4) is not None:
        positive = tail.group(5) == "+"
        off_h, off_m = int(tail.group(6)), int(tail.group(7))
        if not (off_h < 24 and off_m < 60):
            raise _error(
                name,
                f"invalid offset range: {off_h}{off_m}",
                "A valid offset hour range should be [0,24) and minute range should be [0, 60)",
            )
        offset_ms = (off_h * 3600 + off_m * 60) * 1000
        # local time = UTC + offset, so UTC = local time - offset
        epoch += -offset_ms if positive else offset_ms
    return epoch


class Datetime:
    """A Cedar ``datetime`` value: milliseconds since the Unix epoch (an ``i64``).

    ``src`` is the constructor argument the value was built from, if any; like
    Rust, it is what :meth:`to_cedar` and :meth:`to_json` write back out. A
    computed datetime is written in Rust's canonical form
    ``offset(datetime("1970-01-01"), duration("<ms>ms"))``.
    """

    __slots__ = ("_src", "epoch")

    cedar_type: ClassVar[str] = "datetime"

    epoch: int
    _src: str | None

    def __init__(self, epoch: int, src: str | None = None) -> None:
        if not _in_i64(epoch):
            raise _error(DATETIME_EXTENSION_NAME, "datetime overflows internal representation")
        object.__setattr__(self, "epoch", epoch)
        object.__setattr__(self, "_src", src)

    @classmethod
    def parse(cls, text: str) -> Datetime:
        """``datetime(text)``; raises :class:`ExtensionError` for a bad literal."""
        return cls(parse_datetime(text), text)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Datetime is immutable")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Datetime, (self.epoch, self._src))

    def __eq__(self, other: object) -> bool:
        return type(other) is Datetime and self.epoch == other.epoch

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash((Datetime, self.epoch))

    def __lt__(self, other: Datetime) -> bool:
        if type(other) is not Datetime:
            return NotImplemented
        return self.epoch < other.epoch

    def __le__(self, other: Datetime) -> bool:
        if type(other) is not Datetime:
            return NotImplemented
        return self.epoch <= other.epoch

    def __gt__(self, other: Datetime) -> bool:
        if type(other) is not Datetime:
            return NotImplemented
        return self.epoch > other.epoch

    def __ge__(self, other: Datetime) -> bool:
        if type(other) is not Datetime:
            return NotImplemented
        return self.epoch >= other.epoch

    def __repr__(self) -> str:
        if self._src is not None:
            return f"Datetime({self._src!r})"
        return f"Datetime(epoch={self.epoch})"

    def __str__(self) -> str:
        return self.to_cedar()

    @property
    def source(self) -> str | None:
        """The constructor argument, or None for a computed datetime."""
        return self._src

    def canonical_cedar(self) -> str:
        """Rust's canonical expression, as its ``Display`` writes it."""
        return f'(datetime("{UNIX_EPOCH_STR}")).offset(duration("{self.epoch}ms"))'

    def to_cedar(self) -> str:
        if self._src is not None:
            return f"datetime({quote_string(self._src)})"
        return self.canonical_cedar()

    def to_json(self) -> dict[str, Any]:
        if self._src is not None:
            return {"__extn": {"fn": "datetime", "arg": self._src}}
        return {
            "__extn": {
                "fn": "offset",
                "args": [
                    {"__extn": {"fn": "datetime", "arg": UNIX_EPOCH_STR}},
                    {"__extn": {"fn": "duration", "arg": f"{self.epoch}ms"}},
                ],
            }
        }

    # Cedar methods ----------------------------------------------------------

    def offset(self, duration: Duration) -> Datetime:
        epoch = self.epoch + duration.ms
        if not _in_i64(epoch):
            raise _error(
                "offset",
                f"overflows when adding an offset: {self.canonical_cedar()}+({duration.ms}ms)",
            )
        return Datetime(epoch)

    def duration_since(self, other: Datetime) -> Duration:
        ms = self.epoch - other.epoch
        if not _in_i64(ms):
            raise _error(
                "durationSince",
                "overflows when computing the duration between "
                f"{self.canonical_cedar()} and {other.canonical_cedar()}",
            )
        return Duration(ms)

    def to_date(self) -> Datetime:
        epoch = self.epoch - self.epoch % DAY_IN_MILLISECONDS  # Python's % is Euclidean here
        if not _in_i64(epoch):
            raise _error("toDate", f"overflows when computing the date of {self.canonical_cedar()}")
        return Datetime(epoch)

    def to_time(self) -> Duration:
        return Duration(self.epoch % DAY_IN_MILLISECONDS)


def datetime(text: str) -> Datetime:
    """The Cedar function ``datetime(String)``."""
    return Datetime.parse(text)


def duration(text: str) -> Duration:
    """The Cedar function ``duration(String)``."""
    return Duration.parse(text)
