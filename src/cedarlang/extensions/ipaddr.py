"""The Cedar ``ipaddr`` extension: IPv4/IPv6 addresses and CIDR ranges.

Mirrors ``cedar-policy-core/src/extensions/ipaddr.rs`` on top of a port of
Rust's ``std::net`` address parser (``core::net::parser``):

* the whole string is at most 43 bytes;
* a string with two or more ``:`` and two or more ``.`` is refused (no IPv4
  embedded in IPv6, e.g. ``::ffff:1.2.3.4``);
* IPv4 octets are 1-3 decimal digits, at most 255, without leading zeros;
* IPv6 groups are 1-4 hex digits (leading zeros allowed), ``::`` stands for at
  least one zero group and appears at most once;
* the prefix after the first ``/`` is decimal without sign or leading zeros,
  at most 2 (IPv4) or 3 (IPv6) characters, at most 32 / 128.

Equality compares the version, the address (not masked) and the prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Final

from ..errors import ExtensionError
from ._value import ExtensionValue

EXTENSION_NAME: Final = "ipaddr"

PREFIX_MAX_LEN_V4: Final = 32
PREFIX_MAX_LEN_V6: Final = 128
PREFIX_STR_MAX_LEN_V4: Final = 2
PREFIX_STR_MAX_LEN_V6: Final = 3
IP_STR_REP_MAX_LEN: Final = 43

_V4_MAX: Final = (1 << 32) - 1
_V6_MAX: Final = (1 << 128) - 1


def _error(message: str) -> ExtensionError:
    return ExtensionError(message, extension_name=EXTENSION_NAME)


# --- port of Rust's `core::net::parser` ----------------------------------------------
# Every reader takes the text and a position and returns (value, new position), or
# None without consuming anything (Rust's `read_atomically`).

_Read = tuple[int, int] | None


def _digit(ch: str, radix: int) -> int | None:
    """Rust's ``char::to_digit`` for radix 10 or 16 (ASCII only)."""
    if "0" <= ch <= "9":
        return ord(ch) - 48
    if radix == 16:
        if "a" <= ch <= "f":
            return ord(ch) - 87
        if "A" <= ch <= "F":
            return ord(ch) - 55
    return None


def _read_number(
    s: str, pos: int, radix: int, max_digits: int, allow_zero_prefix: bool, max_value: int
) -> _Read:
    has_leading_zero = pos < len(s) and s[pos] == "0"
    result = 0
    count = 0
    while pos < len(s):
        d = _digit(s[pos], radix)
        if d is None:
            break
        result = result * radix + d
        count += 1
        pos += 1
        if count > max_digits:
            return None
    if count == 0:
        return None
    if not allow_zero_prefix and has_leading_zero and count > 1:
        return None
    if result > max_value:
        return None
    return result, pos


def _read_separator(s: str, pos: int, sep: str, index: int, inner: Callable[[str, int], _Read]) -> _Read:
    if index > 0:
        if pos >= len(s) or s[pos] != sep:
            return None
        pos += 1
    return inner(s, pos)


def _read_octet(s: str, pos: int) -> _Read:
    # Octal-looking numbers are refused (RFC 6943 section 3.1.1).
    return _read_number(s, pos, 10, 3, False, 255)


def _read_hex_group(s: str, pos: int) -> _Read:
    return _read_number(s, pos, 16, 4, True, 0xFFFF)


def _read_ipv4(s: str, pos: int) -> _Read:
    addr = 0
    for i in range(4):
        got = _read_separator(s, pos, ".", i, _read_octet)
        if got is None:
            return None
        octet, pos = got
        addr = (addr << 8) | octet
    return addr, pos


def _read_groups(s: str, pos: int, limit: int) -> tuple[list[int], bool, int]:
    """Colon-separated groups, with an optional trailing embedded IPv4 address."""
    groups: list[int] = []
    for i in range(limit):
        if i < limit - 1:
            v4 = _read_separator(s, pos, ":", i, _read_ipv4)
            if v4 is not None:
                addr, pos = v4
                groups.extend((addr >> 16, addr & 0xFFFF))
                return groups, True, pos
        group = _read_separator(s, pos, ":", i, _read_hex_group)
        if group is None:
            return groups, False, pos
        value, pos = group
        groups.append(value)
    return groups, False, pos


def _read_ipv6(s: str, pos: int) -> _Read:
    head, head_ipv4, pos = _read_groups(s, pos, 8)
    if len(head) == 8:
        return _groups_to_int(head), pos
    if head_ipv4:  # an IPv4 part is not allowed before `::`
        return None
    if s[pos : pos + 2] != "::":
        return None
    pos += 2
    # `::` stands for at least one zero group, so at most 7 - len(head) groups follow
    tail, _, pos = _read_groups(s, pos, 8 - (len(head) + 1))
    return _groups_to_int(head + [0] * (8 - len(head) - len(tail)) + tail), pos


def _groups_to_int(groups: list[int]) -> int:
    value = 0
    for g in groups:
        value = (value << 16) | g
    return value


def parse_std_ip(s: str) -> tuple[bool, int] | None:
    """Rust's ``IpAddr::from_str``: ``(is_v4, address)`` or None."""
    v4 = _read_ipv4(s, 0)
    if v4 is not None:
        # Rust tries IPv6 only when IPv4 fails outright, not when input is left over.
        return (True, v4[0]) if v4[1] == len(s) else None
    v6 = _read_ipv6(s, 0)
    if v6 is not None and v6[1] == len(s):
        return False, v6[0]
    return None


# --- Cedar's parser ------------------------------------------------------------------


def _contains_at_least_two(s: str, ch: str) -> bool:
    i = s.find(ch)
    return i >= 0 and s.find(ch, i + 1) >= 0


def _parse_prefix(s: str, max_value: int, max_len: int) -> int:
    length = len(s.encode("utf-8", "surrogatepass"))
    if length > max_len:
        raise _error(f"error parsing prefix: string length {length} is too large")
    if any(not ("0" <= c <= "9") for c in s):
        raise _error(f"error parsing prefix `{s}`: encountered non-digit")
    if s.startswith("0") and s != "0":
        raise _error(f"error parsing prefix `{s}`: leading zero(s)")
    if not s:
        raise _error(f"error parsing prefix from the string `{s}`: cannot parse integer from empty string")
    value = int(s)
    if value > 255:  # Rust parses the prefix as a `u8`
        raise _error(f"error parsing prefix from the string `{s}`: number too large to fit in target type")
    if value > max_value:
        raise _error(f"error parsing prefix: {value} is larger than the limit {max_value}")
    return value


_OCTETS: dict[str, int] = {str(n): n for n in range(256)}
"""The octets of dotted IPv4 as the parser below accepts them (no leading zeros, at most
255), by their text: one lookup checks an octet and reads it."""
_PREFIXES_V4: dict[str, int] = {str(n): n for n in range(PREFIX_MAX_LEN_V4 + 1)}
"""The same for an IPv4 prefix length."""
_PLAIN_V4_MAX_LEN: Final = len("255.255.255.255/32")


def parse_ip(s: str) -> tuple[bool, int, int]:
    """``(is_v4, address, prefix)`` for an ``ip`` literal; raises :class:`ExtensionError`."""
    address, slash, prefix_text = s.partition("/")
    octets = address.split(".") if len(s) <= _PLAIN_V4_MAX_LEN else ()
    if len(octets) == 4:  # the common form, dotted IPv4 (and a prefix), read at once
        get = _OCTETS.get
        a, b, c, d = get(octets[0]), get(octets[1]), get(octets[2]), get(octets[3])
        prefix = _PREFIXES_V4.get(prefix_text) if slash else PREFIX_MAX_LEN_V4
        if a is not None and b is not None and c is not None and d is not None and prefix is not None:
            return True, a << 24 | b << 16 | c << 8 | d, prefix
    if len(s.encode("utf-8", "surrogatepass")) > IP_STR_REP_MAX_LEN:
        raise _error(f"error parsing IP address from string `{s}`: string length is too large")
    if _contains_at_least_two(s, ":") and _contains_at_least_two(s, "."):
        raise _error(
            "error parsing IP address from string: We do not accept IPv4 embedded in IPv6 "
            f"(e.g., ::ffff:127.0.0.1). Found: `{s}`"
        )
    if slash:
        parsed = parse_std_ip(address)
        if parsed is None:
            raise _error(f"error parsing IP address from the string `{address}`: invalid IP address syntax")
        is_v4, addr = parsed
        if is_v4:
            return is_v4, addr, _parse_prefix(prefix_text, PREFIX_MAX_LEN_V4, PREFIX_STR_MAX_LEN_V4)
        return is_v4, addr, _parse_prefix(prefix_text, PREFIX_MAX_LEN_V6, PREFIX_STR_MAX_LEN_V6)
    parsed = parse_std_ip(s)
    if parsed is None:
        raise _error(f"invalid IP address: {s}")
    is_v4, addr = parsed
    return is_v4, addr, PREFIX_MAX_LEN_V4 if is_v4 else PREFIX_MAX_LEN_V6


def format_address(is_v4: bool, addr: int) -> str:
    """The address written the way Rust's ``Display`` writes it (RFC 5952 for IPv6)."""
    if is_v4:
        return ".".join(str((addr >> shift) & 0xFF) for shift in (24, 16, 8, 0))
    groups = [(addr >> (16 * (7 - i))) & 0xFFFF for i in range(8)]
    if groups[:5] == [0] * 5 and groups[5] == 0xFFFF:  # IPv4-mapped
        return "::ffff:" + format_address(True, addr & _V4_MAX)
    # longest run (of length >= 2) of zero groups, the first one on ties
    best_start, best_len, i = -1, 0, 0
    while i < 8:
        if groups[i] == 0:
            j = i
            while j < 8 and groups[j] == 0:
                j += 1
            if j - i > best_len:
                best_start, best_len = i, j - i
            i = j
        else:
            i += 1
    if best_len < 2:
        return ":".join(f"{g:x}" for g in groups)
    left = ":".join(f"{g:x}" for g in groups[:best_start])
    right = ":".join(f"{g:x}" for g in groups[best_start + best_len :])
    return f"{left}::{right}"


class IPAddr(ExtensionValue):
    """A Cedar ``ipaddr`` value: an address (as an int) with a prefix length.

    ``src`` is the constructor argument the value was built from; like Rust,
    it is what :meth:`to_cedar` and :meth:`to_json` write back out.
    """

    __slots__ = ("addr", "is_v4", "prefix")

    cedar_type: ClassVar[str] = "ipaddr"
    constructor: ClassVar[str] = "ip"

    is_v4: bool
    addr: int
    prefix: int

    def __init__(self, is_v4: bool, addr: int, prefix: int, src: str | None = None) -> None:
        if not 0 <= addr <= (_V4_MAX if is_v4 else _V6_MAX):
            raise ValueError("address out of range")
        if not 0 <= prefix <= (PREFIX_MAX_LEN_V4 if is_v4 else PREFIX_MAX_LEN_V6):
            raise ValueError("prefix out of range")
        _fill(self, is_v4, addr, prefix, src)

    @classmethod
    def parse(cls, text: str) -> IPAddr:
        """``ip(text)``; raises :class:`ExtensionError` for a bad literal."""
        is_v4, addr, prefix = parse_ip(text)
        value = _new(cls)  # (the parser's values are in range: not checked again)
        _fill(value, is_v4, addr, prefix, text)
        return value

    def __reduce__(self) -> tuple[Any, ...]:
        return (IPAddr, (self.is_v4, self.addr, self.prefix, self._src))

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is IPAddr
            and self.addr == other.addr
            and self.prefix == other.prefix
            and self.is_v4 == other.is_v4
        )

    def __hash__(self) -> int:
        return hash((IPAddr, self.is_v4, self.addr, self.prefix))

    def canonical(self) -> str:
        """``address/prefix`` as Rust's ``Display`` writes it."""
        return f"{format_address(self.is_v4, self.addr)}/{self.prefix}"

    # Cedar methods --------------------------------------------------------

    def is_ipv4(self) -> bool:
        return self.is_v4

    def is_ipv6(self) -> bool:
        return not self.is_v4

    def is_loopback(self) -> bool:
        # 127.0.0.0/8 and ::1; the range must lie inside, so the prefix must be long enough
        if self.is_v4:
            return self.addr >> 24 == 127 and self.prefix >= 8
        return self.addr == 1 and self.prefix >= PREFIX_MAX_LEN_V6

    def is_multicast(self) -> bool:
        # 224.0.0.0/4 and ff00::/8
        if self.is_v4:
            return 224 <= self.addr >> 24 <= 239 and self.prefix >= 4
        return self.addr >> 120 == 0xFF and self.prefix >= 8

    def is_in_range(self, other: IPAddr) -> bool:
        if self.is_v4 != other.is_v4:
            return False
        bits = PREFIX_MAX_LEN_V4 if self.is_v4 else PREFIX_MAX_LEN_V6
        full = (1 << bits) - 1

        def hostmask(prefix: int) -> int:
            return (1 << (bits - prefix)) - 1

        self_network = self.addr & (full ^ hostmask(self.prefix))
        other_network = other.addr & (full ^ hostmask(other.prefix))
        self_broadcast = self.addr | hostmask(self.prefix)
        other_broadcast = other.addr | hostmask(other.prefix)
        return other_network <= self_network and self_broadcast <= other_broadcast


_new = object.__new__
_SET_IS_V4, _SET_ADDR, _SET_PREFIX, _SET_SRC = (
    getattr(IPAddr, slot).__set__ for slot in ("is_v4", "addr", "prefix", "_src")
)


def _fill(value: IPAddr, is_v4: bool, addr: int, prefix: int, src: str | None) -> None:
    """Set the slots of a new ``IPAddr`` (through their descriptors: the class refuses
    ``__setattr__``)."""
    _SET_IS_V4(value, is_v4)
    _SET_ADDR(value, addr)
    _SET_PREFIX(value, prefix)
    _SET_SRC(value, src)


def ip(text: str) -> IPAddr:
    """The Cedar function ``ip(String)``."""
    return IPAddr.parse(text)
