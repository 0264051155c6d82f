"""Cedar's extension types and functions: ``decimal``, ``ipaddr``, ``datetime`` and ``duration``.

:data:`FUNCTIONS` maps every extension function name (``"decimal"``,
``"lessThan"``, ``"isInRange"``, ``"offset"`` ...) to its
:class:`ExtensionFunction`; :data:`EXTENSION_TYPES` maps Cedar type names to the
Python classes of the values. Implementations receive arguments whose types
have already been checked against :attr:`ExtensionFunction.arg_types` and raise
:class:`~cedarlang.errors.ExtensionError` (built with its ``extension_name``) when they fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from ..errors import ExtensionError
from . import datetime as _dt
from . import decimal as _dec
from . import ipaddr as _ip
from .datetime import Datetime, Duration
from .decimal import Decimal
from .ipaddr import IPAddr

__all__ = [
    "EXTENSION_TYPES",
    "FUNCTIONS",
    "ORDERED_TYPES",
    "ORDERED_TYPE_NAMES",
    "Datetime",
    "Decimal",
    "Duration",
    "ExtensionFunction",
    "IPAddr",
    "cedar_type_name",
    "construct",
    "constructor_for",
]

EXTENSION_TYPES: Final[dict[str, type]] = {
    "decimal": Decimal,
    "ipaddr": IPAddr,
    "datetime": Datetime,
    "duration": Duration,
}
"""Cedar extension type name -> Python class of its values."""

ORDERED_TYPE_NAMES: Final[tuple[str, ...]] = ("datetime", "duration")
"""Extension types that Cedar's ``<``, ``<=``, ``>``, ``>=`` accept (same type on both sides;
Rust: the types with operator overloading)."""

ORDERED_TYPES: Final[tuple[type, ...]] = tuple(EXTENSION_TYPES[name] for name in ORDERED_TYPE_NAMES)
"""The Python classes of :data:`ORDERED_TYPE_NAMES`."""

_PRIMITIVE_TYPE_NAMES: Final[dict[type, str]] = {str: "String", int: "Long", bool: "Bool"}


def cedar_type_name(cls: type) -> str:
    """The Cedar type of values of Python class ``cls``: ``"String"``, ``"Long"``, ``"Bool"``,
    or an extension type name (``"decimal"``...)."""
    name = _PRIMITIVE_TYPE_NAMES.get(cls)
    if name is not None:
        return name
    return next(ext for ext, ext_cls in EXTENSION_TYPES.items() if ext_cls is cls)


@dataclass(frozen=True, slots=True)
class ExtensionFunction:
    """One Cedar extension function or method."""

    name: str
    """The Cedar name, e.g. ``"decimal"``, ``"lessThan"``, ``"isInRange"``, ``"offset"``."""
    is_method: bool
    """True: called as ``receiver.name(args)``; False: called as ``name(args)``."""
    arg_types: tuple[type, ...]
    """Python classes of the arguments, receiver first (``str``: String, ``int``: Long)."""
    return_type: str
    """Cedar type name of the result: ``"Bool"``, ``"Long"``, ``"String"``, or an extension type."""
    is_constructor: bool
    """True for ``ip``/``decimal``/``datetime``/``duration`` (the validator wants a literal)."""
    impl: Callable[..., Any]
    """Takes type-checked arguments, returns a Cedar value, raises ExtensionError."""
    literal_error: tuple[str, str] | None = None
    """Constructors only: what the validator reports, as ``(message, help)``, when ``impl``
    rejects a literal argument (Rust's extension argument validation)."""

    @property
    def arg_type_names(self) -> tuple[str, ...]:
        """Cedar type names of the arguments, receiver first (``"String"``, ``"decimal"``...)."""
        return tuple(cedar_type_name(t) for t in self.arg_types)


def _fn(
    name: str,
    is_method: bool,
    arg_types: tuple[type, ...],
    return_type: str,
    impl: Callable[..., Any],
    literal_error: tuple[str, str] | None = None,
) -> ExtensionFunction:
    return ExtensionFunction(
        name, is_method, arg_types, return_type, literal_error is not None, impl, literal_error
    )


_IP_LITERAL: Final = (
    "failed to parse as IP address",
    "valid IP strings are IPv4/IPv6 addresses or CIDR ranges like `127.0.0.1`, `127.0.0.1/24`, "
    "or `ffee::/64`",
)
_DECIMAL_LITERAL: Final = (
    "failed to parse as a decimal value",
    "valid decimal strings have a decimal point and at most four digits after it, like `1.0` or `-0.0001`",
)
_DATETIME_LITERAL: Final = (
    "failed to parse as a datetime value",
    "valid datetime strings start with `YYYY-MM-DD` and may optionally include `THH:MM:SS` plus "
    "`Z`, `.SSSZ`, or an offset like `+0700`",
)
_DURATION_LITERAL: Final = (
    "failed to parse as a duration value",
    "valid duration strings are concatenated quantity-unit pairs with an optional leading `-`, "
    "for example `1d2h3m4s50ms`",
)


_ALL: Final = (
    # decimal
    _fn("decimal", False, (str,), "decimal", _dec.decimal, _DECIMAL_LITERAL),
    _fn("lessThan", True, (Decimal, Decimal), "Bool", Decimal.less_than),
    _fn("lessThanOrEqual", True, (Decimal, Decimal), "Bool", Decimal.less_than_or_equal),
    _fn("greaterThan", True, (Decimal, Decimal), "Bool", Decimal.greater_than),
    _fn("greaterThanOrEqual", True, (Decimal, Decimal), "Bool", Decimal.greater_than_or_equal),
    # ipaddr
    _fn("ip", False, (str,), "ipaddr", _ip.ip, _IP_LITERAL),
    _fn("isIpv4", True, (IPAddr,), "Bool", IPAddr.is_ipv4),
    _fn("isIpv6", True, (IPAddr,), "Bool", IPAddr.is_ipv6),
    _fn("isLoopback", True, (IPAddr,), "Bool", IPAddr.is_loopback),
    _fn("isMulticast", True, (IPAddr,), "Bool", IPAddr.is_multicast),
    _fn("isInRange", True, (IPAddr, IPAddr), "Bool", IPAddr.is_in_range),
    # datetime
    _fn("datetime", False, (str,), "datetime", _dt.datetime, _DATETIME_LITERAL),
    _fn("duration", False, (str,), "duration", _dt.duration, _DURATION_LITERAL),
    _fn("offset", True, (Datetime, Duration), "datetime", Datetime.offset),
    _fn("durationSince", True, (Datetime, Datetime), "duration", Datetime.duration_since),
    _fn("toDate", True, (Datetime,), "datetime", Datetime.to_date),
    _fn("toTime", True, (Datetime,), "duration", Datetime.to_time),
    _fn("toMilliseconds", True, (Duration,), "Long", Duration.to_milliseconds),
    _fn("toSeconds", True, (Duration,), "Long", Duration.to_seconds),
    _fn("toMinutes", True, (Duration,), "Long", Duration.to_minutes),
    _fn("toHours", True, (Duration,), "Long", Duration.to_hours),
    _fn("toDays", True, (Duration,), "Long", Duration.to_days),
)

FUNCTIONS: Final[dict[str, ExtensionFunction]] = {f.name: f for f in _ALL}
"""Every Cedar extension function and method, keyed by name."""

_CONSTRUCTORS: Final[dict[str, ExtensionFunction]] = {
    "decimal": FUNCTIONS["decimal"],
    "ipaddr": FUNCTIONS["ip"],
    "datetime": FUNCTIONS["datetime"],
    "duration": FUNCTIONS["duration"],
}


def constructor_for(type_name: str) -> ExtensionFunction | None:
    """The single-``String``-argument constructor of an extension type, if it has one."""
    return _CONSTRUCTORS.get(type_name)


def construct(type_name: str, arg: str) -> Any:
    """Build a value of extension type ``type_name`` from its constructor's string argument.

    ``construct("decimal", "1.5")`` is ``decimal("1.5")``; ``construct("ipaddr", ...)``
    calls ``ip``. Raises :class:`ExtensionError` for a bad argument or an unknown type.
    """
    ctor = _CONSTRUCTORS.get(type_name)
    if ctor is None:
        raise ExtensionError(f"unknown extension type `{type_name}`", extension_name=type_name)
    if type(arg) is not str:
        raise ExtensionError(
            f"the constructor of `{type_name}` expects a string argument, got {type(arg).__name__}",
            extension_name=ctor.name,
        )
    return ctor.impl(arg)
