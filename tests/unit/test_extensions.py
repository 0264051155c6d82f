"""Tests of the extension types (decimal, ipaddr, datetime, duration).

Besides table tests, every extension literal is checked against the Rust
engine through ``cedarpy``: an expression is evaluated by authorizing a request
against ``permit(principal, action, resource) when { <expr> };`` and the
outcome (true, false, or the exact error message) must be what this
implementation predicts.
"""

from __future__ import annotations

import glob
import json
import os
import pickle
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cedarlang.errors import ExtensionError
from cedarlang.extensions import (
    EXTENSION_TYPES,
    FUNCTIONS,
    ORDERED_TYPES,
    Datetime,
    Decimal,
    Duration,
    ExtensionFunction,
    IPAddr,
    construct,
)
from cedarlang.lexical import quote as quote_string
from cedarlang.values import I64_MAX, I64_MIN, type_name

from .._shared import conformance_dir

cedarpy = pytest.importorskip("cedarpy")

CORPUS_DIR = str(conformance_dir() / "corpus" / "corpus-tests")
SETTINGS = settings(
    max_examples=int(os.environ.get("CEDAR_EXT_EXAMPLES", "1000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --------------------------------------------------------------------------------------
# oracle helpers
# --------------------------------------------------------------------------------------

_REQUEST = {"principal": 'User::"a"', "action": 'Action::"a"', "resource": 'R::"r"'}
_ERR_PREFIX = "error while evaluating policy `policy0`: "

Outcome = bool | str


def oracle(expr: str, entities: list[Any] | None = None) -> Outcome:
    """What Rust Cedar says of ``expr``: True, False, or the error message."""
    policy = f"permit(principal, action, resource) when {{ {expr} }};"
    result = cedarpy.is_authorized(_REQUEST, policy, entities or [])
    errors = result.diagnostics.errors
    if errors:
        assert len(errors) == 1, errors
        assert errors[0].startswith(_ERR_PREFIX), (expr, errors)
        return str(errors[0][len(_ERR_PREFIX) :])
    return bool(result.allowed)


def mine(thunk: Callable[[], Any]) -> Outcome:
    """Run ``thunk``; an ExtensionError becomes the message Rust would print."""
    try:
        value = thunk()
    except ExtensionError as e:
        assert e.extension_name, "ExtensionError without extension_name"
        return e.message
    assert type(value) is bool
    return value


def q(s: str) -> str:
    return quote_string(s)


def _outcome_and(first: Outcome, second: Callable[[], Outcome]) -> Outcome:
    return second() if first is True else first


# --------------------------------------------------------------------------------------
# registry / interface
# --------------------------------------------------------------------------------------

ALL_NAMES = {
    "decimal": (False, 1, "decimal", True),
    "lessThan": (True, 2, "Bool", False),
    "lessThanOrEqual": (True, 2, "Bool", False),
    "greaterThan": (True, 2, "Bool", False),
    "greaterThanOrEqual": (True, 2, "Bool", False),
    "ip": (False, 1, "ipaddr", True),
    "isIpv4": (True, 1, "Bool", False),
    "isIpv6": (True, 1, "Bool", False),
    "isLoopback": (True, 1, "Bool", False),
    "isMulticast": (True, 1, "Bool", False),
    "isInRange": (True, 2, "Bool", False),
    "datetime": (False, 1, "datetime", True),
    "duration": (False, 1, "duration", True),
    "offset": (True, 2, "datetime", False),
    "durationSince": (True, 2, "duration", False),
    "toDate": (True, 1, "datetime", False),
    "toTime": (True, 1, "duration", False),
    "toMilliseconds": (True, 1, "Long", False),
    "toSeconds": (True, 1, "Long", False),
    "toMinutes": (True, 1, "Long", False),
    "toHours": (True, 1, "Long", False),
    "toDays": (True, 1, "Long", False),
}


def test_registry_has_every_function() -> None:
    assert set(FUNCTIONS) == set(ALL_NAMES)
    for name, (is_method, arity, ret, ctor) in ALL_NAMES.items():
        f = FUNCTIONS[name]
        assert isinstance(f, ExtensionFunction)
        assert f.name == name
        assert f.is_method is is_method
        assert len(f.arg_types) == arity
        assert f.return_type == ret
        assert f.is_constructor is ctor
        if ctor:
            assert f.arg_types == (str,)


def test_registry_arg_types() -> None:
    assert FUNCTIONS["lessThan"].arg_types == (Decimal, Decimal)
    assert FUNCTIONS["isInRange"].arg_types == (IPAddr, IPAddr)
    assert FUNCTIONS["offset"].arg_types == (Datetime, Duration)
    assert FUNCTIONS["durationSince"].arg_types == (Datetime, Datetime)
    assert FUNCTIONS["toTime"].arg_types == (Datetime,)
    assert FUNCTIONS["toDays"].arg_types == (Duration,)


def test_extension_types() -> None:
    assert {
        "decimal": Decimal,
        "ipaddr": IPAddr,
        "datetime": Datetime,
        "duration": Duration,
    } == EXTENSION_TYPES
    for name, cls in EXTENSION_TYPES.items():
        assert cls.cedar_type == name  # type: ignore[attr-defined]
    assert set(ORDERED_TYPES) == {Datetime, Duration}


def test_type_name_uses_cedar_type() -> None:
    assert type_name(construct("decimal", "1.0")) == "decimal"
    assert type_name(construct("ipaddr", "::1")) == "ipaddr"
    assert type_name(construct("datetime", "2024-01-01")) == "datetime"
    assert type_name(construct("duration", "1h")) == "duration"


def test_construct() -> None:
    assert construct("decimal", "1.5") == Decimal(15000)
    assert construct("ipaddr", "10.0.0.1") == IPAddr(True, 0x0A000001, 32)
    assert construct("datetime", "1970-01-02") == Datetime(86_400_000)
    assert construct("duration", "-2s") == Duration(-2000)
    with pytest.raises(ExtensionError):
        construct("decimal", "1.23456")
    with pytest.raises(ExtensionError):
        construct("ipaddr", "1.2.3")
    with pytest.raises(ExtensionError):
        construct("nope", "x")


def test_values_are_immutable_hashable_picklable() -> None:
    values = [
        construct("decimal", "-1.25"),
        construct("ipaddr", "192.168.0.1/24"),
        construct("datetime", "2024-10-15T11:38:02.101+1134"),
        construct("duration", "1d2h"),
        FUNCTIONS["toDate"].impl(construct("datetime", "2024-10-15T11:38:02Z")),
    ]
    for v in values:
        with pytest.raises(AttributeError):
            v.foo = 1
        first_slot = type(v).__slots__[0]
        with pytest.raises(AttributeError):
            setattr(v, first_slot, 1)
        assert not hasattr(v, "__dict__")
        assert hash(v) == hash(pickle.loads(pickle.dumps(v)))
        assert pickle.loads(pickle.dumps(v)) == v
        assert pickle.loads(pickle.dumps(v)).to_json() == v.to_json()
        assert repr(v)


def test_equality_is_per_class() -> None:
    d = construct("decimal", "1.0")
    assert d == construct("decimal", "1.0000")
    assert d == construct("decimal", "0001.0")
    assert hash(d) == hash(construct("decimal", "1.0000"))
    assert d != 10000
    assert construct("duration", "1ms") != construct("datetime", "1970-01-01").offset(
        construct("duration", "1ms")
    )
    assert construct("duration", "0ms") != construct("datetime", "1970-01-01")
    assert construct("ipaddr", "10.0.0.1/24") != construct("ipaddr", "10.0.0.0/24")
    assert construct("ipaddr", "::1") == construct("ipaddr", "0:0:0:0:0:0:0:1/128")
    assert construct("ipaddr", "0.0.0.0/0") != construct("ipaddr", "::/0")
    assert construct("datetime", "2024-01-01T01:00:00+0100") == construct("datetime", "2024-01-01")
    assert len({construct("duration", "60s"), construct("duration", "1m")}) == 1


def test_rich_comparisons() -> None:
    a, b = construct("datetime", "2024-01-01"), construct("datetime", "2024-01-02")
    assert a < b and a <= b and b > a and b >= a and a <= a and not a < a
    c, d = construct("duration", "-1ms"), construct("duration", "1ms")
    assert c < d and c <= d and d > c and d >= c and not d < c
    with pytest.raises(TypeError):
        _ = a < c


# --------------------------------------------------------------------------------------
# to_cedar / to_json
# --------------------------------------------------------------------------------------


def test_to_cedar_and_to_json_keep_the_constructor_argument() -> None:
    d = construct("decimal", "1.50")
    assert d.to_cedar() == 'decimal("1.50")'
    assert d.to_json() == {"__extn": {"fn": "decimal", "arg": "1.50"}}
    assert d.canonical() == "1.5000"
    assert Decimal(-5000).to_cedar() == 'decimal("-0.5000")'
    i = construct("ipaddr", "10.0.0.0/24")
    assert i.to_cedar() == 'ip("10.0.0.0/24")'
    assert i.to_json() == {"__extn": {"fn": "ip", "arg": "10.0.0.0/24"}}
    assert construct("ipaddr", "0:0::FFFF:0:1").canonical() == "::ffff:0.0.0.1/128"
    assert construct("ipaddr", "1:0:0:2:0:0:0:3/64").canonical() == "1:0:0:2::3/64"
    assert construct("ipaddr", "1:0:2:0:3:0:4:0").canonical() == "1:0:2:0:3:0:4:0/128"
    dt = construct("datetime", "2024-10-15")
    assert dt.to_cedar() == 'datetime("2024-10-15")'
    assert dt.to_json() == {"__extn": {"fn": "datetime", "arg": "2024-10-15"}}
    du = construct("duration", "1d2h")
    assert du.to_cedar() == 'duration("1d2h")'
    assert du.to_json() == {"__extn": {"fn": "duration", "arg": "1d2h"}}


def test_computed_values_use_rusts_canonical_form() -> None:
    dt = FUNCTIONS["offset"].impl(construct("datetime", "1970-01-01"), construct("duration", "-1ms"))
    assert dt.to_json() == {
        "__extn": {
            "fn": "offset",
            "args": [
                {"__extn": {"fn": "datetime", "arg": "1970-01-01"}},
                {"__extn": {"fn": "duration", "arg": "-1ms"}},
            ],
        }
    }
    assert dt.to_cedar() == '(datetime("1970-01-01")).offset(duration("-1ms"))'
    t = FUNCTIONS["toTime"].impl(construct("datetime", "2024-01-01T10:00:00Z"))
    assert t.to_json() == {"__extn": {"fn": "duration", "arg": "36000000ms"}}
    assert t.to_cedar() == 'duration("36000000ms")'


def _json_to_est(j: Any) -> Any:
    """An ``__extn`` value JSON as the policy-JSON (EST) expression Rust prints."""
    ext = j["__extn"]
    args = [ext["arg"]] if "arg" in ext else ext["args"]
    return {ext["fn"]: [a if isinstance(a, dict) else {"Value": a} for a in args]}


def _est_args(j: Any) -> Any:
    return {k: [_est_args(a) if "__extn" in a else a for a in v] for k, v in j.items()}


def _residual_of(expr: str) -> Any:
    policy = f"permit(principal, action, resource) when {{ context.x == {expr} }};"
    r = cedarpy.is_authorized_partial(_REQUEST, policy, [])
    body = r.residuals["policy0"]["conditions"][0]["body"]
    while "&&" in body:
        body = body["&&"]["right"]
    return body["=="]["right"]


@pytest.mark.parametrize(
    ("expr", "thunk"),
    [
        ('decimal("1.50")', lambda: construct("decimal", "1.50")),
        ('ip("0::1")', lambda: construct("ipaddr", "0::1")),
        (
            'datetime("2024-10-15T11:38:02.101+1134")',
            lambda: construct("datetime", "2024-10-15T11:38:02.101+1134"),
        ),
        ('duration("1d2h")', lambda: construct("duration", "1d2h")),
        (
            'datetime("1970-01-01").offset(duration("-1ms"))',
            lambda: construct("datetime", "1970-01-01").offset(construct("duration", "-1ms")),
        ),
        (
            'datetime("2024-10-15T11:38:02.101+1134").toDate()',
            lambda: construct("datetime", "2024-10-15T11:38:02.101+1134").to_date(),
        ),
        (
            'datetime("2024-01-01T10:00:00Z").toTime()',
            lambda: construct("datetime", "2024-01-01T10:00:00Z").to_time(),
        ),
        (
            'datetime("2024-01-01").durationSince(datetime("2023-01-01"))',
            lambda: construct("datetime", "2024-01-01").duration_since(construct("datetime", "2023-01-01")),
        ),
    ],
)
def test_to_json_matches_rust_residuals(expr: str, thunk: Callable[[], Any]) -> None:
    value = thunk()
    est = _json_to_est(value.to_json())
    est = {k: [_json_to_est(a) if "__extn" in a else a for a in v] for k, v in est.items()}
    assert _residual_of(expr) == est


@pytest.mark.parametrize(
    "value_thunk",
    [
        lambda: construct("decimal", "-12.5"),
        lambda: construct("ipaddr", "fe80::1/10"),
        lambda: construct("datetime", "2024-10-15T11:38:02.101-1134"),
        lambda: construct("duration", "-3d4m"),
        lambda: construct("datetime", "1969-12-31").offset(construct("duration", "-7ms")),
        lambda: construct("datetime", "2024-03-01T12:00:00Z").to_time(),
    ],
)
def test_to_json_and_to_cedar_are_accepted_by_rust(value_thunk: Callable[[], Any]) -> None:
    value = value_thunk()
    entities = [{"uid": {"type": "User", "id": "a"}, "attrs": {"x": value.to_json()}, "parents": []}]
    assert oracle(f"principal.x == {value.to_cedar()}", entities) is True
    assert oracle(f"{value.to_cedar()} == {value.to_cedar()}") is True


# --------------------------------------------------------------------------------------
# decimal
# --------------------------------------------------------------------------------------

VALID_DECIMALS = {
    "1.0": 10000,
    "-1.0": -10000,
    "123.456": 1234560,
    "0.1234": 1234,
    "-0.0123": -123,
    "55.1": 551000,
    "-0.5": -5000,
    "-0.0": 0,
    "0.0": 0,
    "00000000000000000000000001.0": 10000,
    "1.0000": 10000,
    "922337203685477.5807": I64_MAX,
    "-922337203685477.5808": I64_MIN,
    "-0000922337203685477.5808": I64_MIN,
}

INVALID_DECIMALS = {
    "1": "`1` is not a well-formed decimal value",
    "1.": "`1.` is not a well-formed decimal value",
    ".1": "`.1` is not a well-formed decimal value",
    "+1.0": "`+1.0` is not a well-formed decimal value",
    " 1.0": "` 1.0` is not a well-formed decimal value",
    "1.0 ": "`1.0 ` is not a well-formed decimal value",
    "1.0\n": "`1.0\n` is not a well-formed decimal value",
    "--1.0": "`--1.0` is not a well-formed decimal value",
    "1.2.3": "`1.2.3` is not a well-formed decimal value",
    "1e3": "`1e3` is not a well-formed decimal value",
    "": "`` is not a well-formed decimal value",
    "1.23456": "too many digits after the decimal in `1.23456`",
    "922337203685477.5808": "overflow when converting to decimal",
    "-922337203685477.5809": "overflow when converting to decimal",
    "922337203685478.0": "overflow when converting to decimal",
    "99999999999999999999.0": "overflow when converting to decimal",
    "99999999999999999999.12345": "overflow when converting to decimal",
    "１.0": "overflow when converting to decimal",
}


@pytest.mark.parametrize(("text", "value"), VALID_DECIMALS.items())
def test_valid_decimals(text: str, value: int) -> None:
    d = construct("decimal", text)
    assert isinstance(d, Decimal)
    assert d.value == value
    assert d == FUNCTIONS["decimal"].impl(text)


@pytest.mark.parametrize(("text", "message"), INVALID_DECIMALS.items())
def test_invalid_decimals(text: str, message: str) -> None:
    with pytest.raises(ExtensionError) as info:
        FUNCTIONS["decimal"].impl(text)
    assert info.value.detail == message
    assert info.value.kind == "FailedExtensionFunctionExecution"


def test_decimal_methods() -> None:
    a, b = construct("decimal", "-0.5"), construct("decimal", "0.25")
    assert FUNCTIONS["lessThan"].impl(a, b) is True
    assert FUNCTIONS["lessThanOrEqual"].impl(a, a) is True
    assert FUNCTIONS["greaterThan"].impl(a, b) is False
    assert FUNCTIONS["greaterThanOrEqual"].impl(b, a) is True


def _decimal_check(text: str) -> tuple[str, Outcome]:
    """An expression that is true iff ``text`` parses to the value we compute."""
    try:
        canon = Decimal.parse(text).canonical()
    except ExtensionError:
        canon = "0.0"
    expr = f"decimal({q(text)}) == decimal({q(canon)})"
    return expr, mine(lambda: Decimal.parse(text) == Decimal.parse(canon))


@pytest.mark.parametrize("text", [*VALID_DECIMALS, *INVALID_DECIMALS])
def test_decimal_table_against_rust(text: str) -> None:
    expr, expected = _decimal_check(text)
    assert oracle(expr) == expected


_digits = st.text(alphabet="0123456789", min_size=0, max_size=22)
_decimal_like = st.builds(
    lambda sign, left, dot, right, junk: f"{sign}{left}{dot}{right}{junk}",
    st.sampled_from(["", "", "", "-", "+", " ", "--", "0"]),
    _digits,
    st.sampled_from([".", ".", ".", "", ".."]),
    st.text(alphabet="0123456789", min_size=0, max_size=6),
    st.sampled_from(["", "", "", "", " ", "\n", "x", ".0", "٣"]),
)
_boundary_decimals = st.builds(
    lambda sign, whole, frac: f"{sign}{whole}.{frac}",
    st.sampled_from(["", "-"]),
    st.integers(min_value=922337203685470, max_value=922337203685480).map(str),
    st.integers(min_value=0, max_value=9999).map(lambda n: f"{n:04d}"[: 1 + n % 4]),
)
_any_decimal = st.one_of(_decimal_like, _boundary_decimals, st.text(alphabet="0123456789.-+ e", max_size=12))


@SETTINGS
@given(_any_decimal)
@example("-0.0001")
@example("-922337203685477.5808")
def test_decimal_parse_against_rust(text: str) -> None:
    expr, expected = _decimal_check(text)
    assert oracle(expr) == expected


_DECIMAL_OPS: dict[str, Callable[[int, int], bool]] = {
    "lessThan": lambda a, b: a < b,
    "lessThanOrEqual": lambda a, b: a <= b,
    "greaterThan": lambda a, b: a > b,
    "greaterThanOrEqual": lambda a, b: a >= b,
}


@SETTINGS
@given(
    st.one_of(_boundary_decimals, _decimal_like),
    st.one_of(_boundary_decimals, _decimal_like),
    st.sampled_from(sorted(_DECIMAL_OPS)),
)
def test_decimal_comparisons_against_rust(a: str, b: str, op: str) -> None:
    expr = f"decimal({q(a)}).{op}(decimal({q(b)}))"
    expected = mine(lambda: FUNCTIONS[op].impl(Decimal.parse(a), Decimal.parse(b)))
    assert oracle(expr) == expected


# --------------------------------------------------------------------------------------
# ipaddr
# --------------------------------------------------------------------------------------

VALID_IPS = {
    # text: (is_v4, address, prefix)
    "127.0.0.1": (True, 0x7F000001, 32),
    "0.0.0.0/0": (True, 0, 0),
    "255.255.255.255/32": (True, 0xFFFFFFFF, 32),
    "10.1.2.3/8": (True, 0x0A010203, 8),
    "::": (False, 0, 128),
    "::1": (False, 1, 128),
    "::/0": (False, 0, 0),
    "1::": (False, 1 << 112, 128),
    "ff00::/8": (False, 0xFF << 120, 8),
    "0:0:0:0:0:0:0:1/128": (False, 1, 128),
    "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789/128": (
        False,
        0xABCDEF0123456789ABCDEF0123456789,
        128,
    ),
    "1:2:3:4:5:6:7::": (False, 0x0001000200030004000500060007 << 16, 128),
    "::2:3:4:5:6:7:8": (False, 0x0002000300040005000600070008, 128),
    "0001:0002::0003": (False, (1 << 112) | (2 << 96) | 3, 128),
    "::ffff:ff00:1": (False, 0xFFFFFF000001, 128),
}

INVALID_IPS = {
    "": "invalid IP address: ",
    "01.2.3.4": "invalid IP address: 01.2.3.4",
    "1.2.3.04": "invalid IP address: 1.2.3.04",
    "256.0.0.1": "invalid IP address: 256.0.0.1",
    "1.2.3": "invalid IP address: 1.2.3",
    "1.2.3.4.5": "invalid IP address: 1.2.3.4.5",
    " 1.2.3.4": "invalid IP address:  1.2.3.4",
    "1:2:3:4:5:6:7:8:9": "invalid IP address: 1:2:3:4:5:6:7:8:9",
    "1:2::3:4:5:6:7:8": "invalid IP address: 1:2::3:4:5:6:7:8",
    "1::2::3": "invalid IP address: 1::2::3",
    "12345::": "invalid IP address: 12345::",
    ":::": "invalid IP address: :::",
    "::ffff:1.2.3.4": (
        "error parsing IP address from string: We do not accept IPv4 embedded in IPv6 "
        "(e.g., ::ffff:127.0.0.1). Found: `::ffff:1.2.3.4`"
    ),
    "1.2.3.4/33": "error parsing prefix: 33 is larger than the limit 32",
    "::1/129": "error parsing prefix: 129 is larger than the limit 128",
    "::1/999": "error parsing prefix from the string `999`: number too large to fit in target type",
    "1.2.3.4/032": "error parsing prefix: string length 3 is too large",
    "1.2.3.4/08": "error parsing prefix `08`: leading zero(s)",
    "1.2.3.4/+3": "error parsing prefix `+3`: encountered non-digit",
    "1.2.3.4/": "error parsing prefix from the string ``: cannot parse integer from empty string",
    "1.2.3/4": "error parsing IP address from the string `1.2.3`: invalid IP address syntax",
    "1.2.3.4/24/3": "error parsing prefix: string length 4 is too large",
    "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789/0128": (
        "error parsing IP address from string `ABCD:EF01:2345:6789:ABCD:EF01:2345:6789/0128`: "
        "string length is too large"
    ),
}


@pytest.mark.parametrize(("text", "parts"), VALID_IPS.items())
def test_valid_ips(text: str, parts: tuple[bool, int, int]) -> None:
    v = construct("ipaddr", text)
    assert (v.is_v4, v.addr, v.prefix) == parts


@pytest.mark.parametrize(("text", "message"), INVALID_IPS.items())
def test_invalid_ips(text: str, message: str) -> None:
    with pytest.raises(ExtensionError) as info:
        FUNCTIONS["ip"].impl(text)
    assert info.value.detail == message


@pytest.mark.parametrize(
    ("text", "v4", "v6", "loopback", "multicast"),
    [
        ("127.0.0.1", True, False, True, False),
        ("127.0.0.1/8", True, False, True, False),
        ("127.0.0.1/7", True, False, False, False),
        ("::1", False, True, True, False),
        ("::1/127", False, True, False, False),
        ("224.0.0.1/4", True, False, False, True),
        ("239.255.255.255", True, False, False, True),
        ("224.0.0.1/3", True, False, False, False),
        ("ff00::/8", False, True, False, True),
        ("ff00::/7", False, True, False, False),
        ("::ffff:7f00:1", False, True, False, False),
    ],
)
def test_ip_predicates(text: str, v4: bool, v6: bool, loopback: bool, multicast: bool) -> None:
    v = construct("ipaddr", text)
    got = [FUNCTIONS[n].impl(v) for n in ("isIpv4", "isIpv6", "isLoopback", "isMulticast")]
    assert got == [v4, v6, loopback, multicast]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("10.0.0.1", "10.0.0.0/24", True),
        ("10.0.0.0/24", "10.0.0.0/24", True),
        ("10.0.0.0/23", "10.0.0.0/24", False),
        ("10.0.1.1", "10.0.0.0/24", False),
        ("0.0.0.0/0", "0.0.0.0/0", True),
        ("1.2.3.4", "0.0.0.0/0", True),
        ("::1", "::/0", True),
        ("::1", "0.0.0.0/0", False),
        ("1.2.3.4", "::/0", False),
        ("ff00::1", "ff00::/8", True),
    ],
)
def test_is_in_range(a: str, b: str, expected: bool) -> None:
    assert FUNCTIONS["isInRange"].impl(construct("ipaddr", a), construct("ipaddr", b)) is expected


def _full_ip(v: IPAddr) -> str:
    """A spelling of ``v`` that Rust parses back to exactly ``v``."""
    if v.is_v4:
        addr = ".".join(str((v.addr >> s) & 0xFF) for s in (24, 16, 8, 0))
    else:
        addr = ":".join(f"{(v.addr >> (16 * (7 - i))) & 0xFFFF:x}" for i in range(8))
    return f"{addr}/{v.prefix}"


def _ip_check(text: str) -> tuple[str, Outcome]:
    try:
        v = IPAddr.parse(text)
    except ExtensionError:
        expr = f"ip({q(text)}) == ip({q(text)})"
        return expr, mine(lambda: IPAddr.parse(text) == IPAddr.parse(text))
    preds = [v.is_ipv4(), v.is_ipv6(), v.is_loopback(), v.is_multicast()]
    expr = (
        f"ip({q(text)}) == ip({q(_full_ip(v))}) && "
        f"[ip({q(text)}).isIpv4(), ip({q(text)}).isIpv6(), ip({q(text)}).isLoopback(), "
        f"ip({q(text)}).isMulticast()] == [{', '.join(str(p).lower() for p in preds)}]"
    )
    return expr, True


@pytest.mark.parametrize("text", [*VALID_IPS, *INVALID_IPS])
def test_ip_table_against_rust(text: str) -> None:
    expr, expected = _ip_check(text)
    assert oracle(expr) == expected


def _octet_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(0, 255).map(str),
        st.integers(0, 999).map(str),
        st.sampled_from(["00", "01", "010", "0000", "", "1234", "+1", "a"]),
    )


_ipv4_like = st.builds(
    lambda parts, n: ".".join(parts[:n]),
    st.lists(_octet_text(), min_size=5, max_size=5),
    st.sampled_from([4, 4, 4, 4, 3, 5]),
)
_hex_group = st.one_of(
    st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=4),
    st.text(alphabet="0123456789abcdefABCDEFg", min_size=0, max_size=5),
)


@st.composite
def _ipv6_like(draw: st.DrawFn) -> str:
    n = draw(st.integers(0, 9))
    groups = draw(st.lists(_hex_group, min_size=n, max_size=n))
    if draw(st.booleans()) and n <= 8:
        at = draw(st.integers(0, n))
        text = ":".join(groups[:at]) + "::" + ":".join(groups[at:])
    else:
        text = ":".join(groups)
    if draw(st.integers(0, 9)) == 0:
        text += ":" + draw(_ipv4_like)
    return text


_prefix_suffix = st.one_of(
    st.just(""),
    st.integers(0, 140).map(lambda n: f"/{n}"),
    st.sampled_from(["/", "/00", "/01", "/032", "/+8", "/ 8", "/8 ", "/-1", "/1/2", "/999"]),
)
_any_ip = st.one_of(
    st.builds(lambda a, p: a + p, st.one_of(_ipv4_like, _ipv6_like()), _prefix_suffix),
    st.text(alphabet="0123456789abcdefABCDEF:./ g", max_size=20),
)


@SETTINGS
@given(_any_ip)
@example("::1:2:3:4:5:6:7")
@example("1:2:3:4:5:6:7:8")
@example("1:2:3:4::5:6:7:8")
@example("1.2.3.4:")
def test_ip_parse_against_rust(text: str) -> None:
    expr, expected = _ip_check(text)
    assert oracle(expr) == expected


_range_ips = st.one_of(
    st.builds(
        lambda o, p: f"{o[0]}.{o[1]}.{o[2]}.{o[3]}/{p}",
        st.lists(st.sampled_from([0, 1, 10, 127, 128, 192, 224, 255]), min_size=4, max_size=4),
        st.integers(0, 32),
    ),
    st.builds(
        lambda g, p: ":".join(f"{x:x}" for x in g) + f"/{p}",
        st.lists(st.sampled_from([0, 1, 0xFF00, 0xFFFF, 0x8000]), min_size=8, max_size=8),
        st.integers(0, 128),
    ),
)


@SETTINGS
@given(_range_ips, _range_ips)
def test_is_in_range_against_rust(a: str, b: str) -> None:
    expr = f"ip({q(a)}).isInRange(ip({q(b)}))"
    expected = mine(lambda: IPAddr.parse(a).is_in_range(IPAddr.parse(b)))
    assert oracle(expr) == expected


# --------------------------------------------------------------------------------------
# datetime
# --------------------------------------------------------------------------------------

DAY = 86_400_000

VALID_DATETIMES = {
    "1970-01-01": 0,
    "1970-01-02": DAY,
    "1969-12-31": -DAY,
    "2024-10-15": 1728950400000,
    "2024-10-15T11:38:02Z": 1728992282000,
    "2024-10-15T11:38:02.101Z": 1728992282101,
    "2024-10-15T11:38:02.101+1134": 1728950642101,
    "2024-10-15T11:38:02.101-1134": 1729033922101,
    "2024-10-15T11:38:02+1134": 1728950642000,
    "2024-10-15T23:59:00+2359": 1728950400000,
    "2024-10-15T00:00:00-2359": 1729036740000,
    "2024-02-29": 1709164800000,
    "2000-02-29": 951782400000,
    "0000-02-29": -62162121600000,
    "0000-01-01": -62167219200000,
    "9999-12-31T23:59:59.999Z": 253402300799999,
    "0000-01-01T00:00:00+2359": -62167219200000 - (23 * 3600 + 59 * 60) * 1000,
}

INVALID_DATETIMES = {
    "": "invalid date pattern",
    "a": "invalid date pattern",
    "11-12-13": "invalid date pattern",
    "1111-1x-20": "invalid date pattern",
    "10000-01-01": "invalid date pattern",
    "2024-10-15Z": "invalid hour/minute/second pattern",
    "2024-01-01T": "invalid hour/minute/second pattern",
    "2024-01-01T01:02": "invalid hour/minute/second pattern",
    "2024-01-01 01:02:03Z": "invalid hour/minute/second pattern",
    "2024-01-01T00:00:00": "invalid millisecond and/or offset pattern",
    "2024-01-01T00:00:00ZZ": "invalid millisecond and/or offset pattern",
    "2024-01-01T00:00:00.1Z": "invalid millisecond and/or offset pattern",
    "2024-01-01T00:00:00.1234Z": "invalid millisecond and/or offset pattern",
    "2024-01-01T00:00:00+01": "invalid millisecond and/or offset pattern",
    "2024-01-01T00:00:00+01:00": "invalid millisecond and/or offset pattern",
    "2024-01-01T00:00:00Z\n": "invalid millisecond and/or offset pattern",
    "2024-00-01": "invalid date: 2024-00-01",
    "2024-01-00": "invalid date: 2024-01-00",
    "2024-02-30": "invalid date: 2024-02-30",
    "2025-02-29": "invalid date: 2025-02-29",
    "1900-02-29": "invalid date: 1900-02-29",
    "2024-13-01": "invalid date: 2024-13-01",
    "2024-04-31": "invalid date: 2024-04-31",
    "2024-02-30T00:00:00Z": "invalid date: 2024-02-30",
    "2024-01-01T24:00:00Z": "invalid hour/minute/second: 24:00:00",
    "2024-01-01T01:60:03Z": "invalid hour/minute/second: 01:60:03",
    "2016-12-31T23:59:60Z": "invalid hour/minute/second: 23:59:60",
    "2024-02-30T24:00:00Z": "invalid date: 2024-02-30",
    "2024-01-01T00:00:00+2400": "invalid offset range: 240",
    "2024-01-01T00:00:00-0060": "invalid offset range: 060",
    "2024-01-01T24:00:00+2400": "invalid hour/minute/second: 24:00:00",
}


@pytest.mark.parametrize(("text", "epoch"), VALID_DATETIMES.items())
def test_valid_datetimes(text: str, epoch: int) -> None:
    assert construct("datetime", text).epoch == epoch


@pytest.mark.parametrize(("text", "message"), INVALID_DATETIMES.items())
def test_invalid_datetimes(text: str, message: str) -> None:
    with pytest.raises(ExtensionError) as info:
        FUNCTIONS["datetime"].impl(text)
    assert info.value.detail == message


def _dt(epoch_ms: int) -> str:
    return f'datetime("1970-01-01").offset(duration("{epoch_ms}ms"))'


def _datetime_check(text: str) -> tuple[str, Outcome]:
    try:
        v = Datetime.parse(text)
    except ExtensionError:
        expr = f"datetime({q(text)}) == datetime({q(text)})"
        return expr, mine(lambda: Datetime.parse(text) == Datetime.parse(text))
    expr = (
        f"datetime({q(text)}) == {_dt(v.epoch)} && "
        f'datetime({q(text)}).toTime() == duration("{v.to_time().ms}ms") && '
        f"datetime({q(text)}).toDate() == {_dt(v.to_date().epoch)}"
    )
    return expr, True


@pytest.mark.parametrize("text", [*VALID_DATETIMES, *INVALID_DATETIMES])
def test_datetime_table_against_rust(text: str) -> None:
    expr, expected = _datetime_check(text)
    assert oracle(expr) == expected


def _two(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(lambda n: f"{n:02d}")


_years = st.one_of(
    st.sampled_from(["0000", "0004", "0100", "0400", "1900", "1970", "2000", "2024", "9999"]),
    st.integers(0, 9999).map(lambda n: f"{n:04d}"),
    st.sampled_from(["999", "10000", "20x4"]),
)
_datetime_like = st.builds(
    lambda y, mo, d, t, frac, off: f"{y}-{mo}-{d}{t}{frac}{off}" if t else f"{y}-{mo}-{d}{off}",
    _years,
    _two(0, 13),
    st.one_of(_two(0, 32), st.sampled_from(["28", "29", "30", "31"])),
    st.one_of(
        st.just(""),
        st.builds(lambda h, m, s: f"T{h}:{m}:{s}", _two(0, 25), _two(0, 61), _two(0, 61)),
        st.sampled_from(["T", "T1:02:03", "t01:02:03", "T01:02"]),
    ),
    st.sampled_from(["", "", ".000", ".999", ".5", ".12345", "."]),
    st.one_of(
        st.sampled_from(["Z", "Z", "", "z", "ZZ", "+01", "+01:00", " Z", "Z "]),
        st.builds(lambda s, h, m: f"{s}{h}{m}", st.sampled_from("+-"), _two(0, 25), _two(0, 61)),
    ),
)
_any_datetime = st.one_of(_datetime_like, st.text(alphabet="0123456789-T:.Z+ ", max_size=30))


@SETTINGS
@given(_any_datetime)
@example("0000-01-01T00:00:00+2359")
@example("9999-12-31T23:59:59.999-2359")
def test_datetime_parse_against_rust(text: str) -> None:
    expr, expected = _datetime_check(text)
    assert oracle(expr) == expected


_epochs = st.one_of(
    st.integers(I64_MIN, I64_MAX),
    st.integers(-10 * DAY, 10 * DAY),
    st.sampled_from([I64_MIN, I64_MIN + 1, I64_MAX, I64_MAX - 1, 0, -1, 1, DAY, -DAY]),
    st.integers(I64_MIN, I64_MIN + 2 * DAY),
    st.integers(I64_MAX - 2 * DAY, I64_MAX),
)


@SETTINGS
@given(_epochs, _epochs)
def test_datetime_arithmetic_against_rust(a: int, b: int) -> None:
    da, db = Datetime(a), Datetime(b)
    dur_b = Duration(b)
    cases: list[tuple[str, Callable[[], bool]]] = [
        (
            f'{_dt(a)}.offset(duration("{b}ms")) == {_dt(a)}',
            lambda: da.offset(dur_b) == da,
        ),
        (
            f'{_dt(a)}.offset(duration("{b}ms")) > {_dt(a)}',
            lambda: da.offset(dur_b) > da,
        ),
        (
            f'{_dt(a)}.durationSince({_dt(b)}) < duration("0ms")',
            lambda: da.duration_since(db) < Duration(0),
        ),
        (
            f"{_dt(a)}.durationSince({_dt(b)}).toMilliseconds() == {a - b}"
            if I64_MIN <= a - b <= I64_MAX
            else f'{_dt(a)}.durationSince({_dt(b)}) == duration("0ms")',
            lambda: (
                da.duration_since(db).to_milliseconds() == a - b
                if I64_MIN <= a - b <= I64_MAX
                else da.duration_since(db) == Duration(0)
            ),
        ),
        (
            f"{_dt(a)}.toDate() == {_dt(a - a % DAY)}"
            if a - a % DAY >= I64_MIN
            else f"{_dt(a)}.toDate() == {_dt(0)}",
            lambda: (
                da.to_date() == Datetime(a - a % DAY)
                if a - a % DAY >= I64_MIN
                else da.to_date() == Datetime(0)
            ),
        ),
        (
            f"{_dt(a)}.toTime().toMilliseconds() == {a % DAY}",
            lambda: da.to_time().to_milliseconds() == a % DAY,
        ),
        (f"{_dt(a)} <= {_dt(b)}", lambda: da <= db),
        (f"{_dt(a)} >= {_dt(b)}", lambda: da >= db),
    ]
    for expr, thunk in cases:
        assert oracle(expr) == mine(thunk), expr


def test_datetime_methods() -> None:
    dt = construct("datetime", "2024-10-15T11:38:02.101-1134")
    assert FUNCTIONS["toDate"].impl(dt) == construct("datetime", "2024-10-15")
    assert FUNCTIONS["toTime"].impl(dt) == construct("duration", "23h12m2s101ms")
    before = construct("datetime", "1969-12-31T23:00:00Z")
    assert FUNCTIONS["toDate"].impl(before) == construct("datetime", "1969-12-31")
    assert FUNCTIONS["toTime"].impl(before) == construct("duration", "23h")
    assert FUNCTIONS["durationSince"].impl(dt, before).ms == dt.epoch - before.epoch
    assert FUNCTIONS["offset"].impl(before, construct("duration", "1h")) == construct(
        "datetime", "1970-01-01"
    )


def test_datetime_overflow_messages() -> None:
    big = Datetime(I64_MAX)
    with pytest.raises(ExtensionError) as info:
        big.offset(Duration(1))
    assert info.value.detail == (
        'overflows when adding an offset: (datetime("1970-01-01")).offset('
        'duration("9223372036854775807ms"))+(1ms)'
    )
    assert info.value.extension_name == "offset"
    with pytest.raises(ExtensionError) as info:
        Datetime(0).duration_since(Datetime(I64_MIN))
    assert info.value.extension_name == "durationSince"
    with pytest.raises(ExtensionError) as info:
        Datetime(I64_MIN).to_date()
    assert info.value.detail == (
        "overflows when computing the date of "
        '(datetime("1970-01-01")).offset(duration("-9223372036854775808ms"))'
    )


@pytest.mark.parametrize(
    "expr",
    [
        f'datetime("1970-01-01").offset(duration("{I64_MAX}ms")).offset(duration("1ms")) '
        '== datetime("1970-01-01")',
        'datetime("1970-01-01").durationSince(datetime("1970-01-01")'
        f'.offset(duration("-{I64_MAX}ms")).offset(duration("-1ms"))) == duration("1ms")',
        f'datetime("1970-01-01").offset(duration("{I64_MIN}ms")).toDate() == datetime("1970-01-01")',
    ],
)
def test_overflow_messages_match_rust(expr: str) -> None:
    result = oracle(expr)
    assert isinstance(result, str)
    a = I64_MAX
    if ".toDate()" in expr:
        mine_result = mine(lambda: Datetime(I64_MIN).to_date() == Datetime(0))
    elif "durationSince" in expr:
        mine_result = mine(lambda: Datetime(0).duration_since(Datetime(I64_MIN)) == Duration(1))
    else:
        mine_result = mine(lambda: Datetime(a).offset(Duration(1)) == Datetime(0))
    assert result == mine_result


# --------------------------------------------------------------------------------------
# duration
# --------------------------------------------------------------------------------------

VALID_DURATIONS = {
    "0ms": 0,
    "0d": 0,
    "-0s": 0,
    "1ms": 1,
    "1s": 1000,
    "1m": 60_000,
    "1h": 3_600_000,
    "1d": DAY,
    "1d2h3m4s5ms": DAY + 2 * 3_600_000 + 3 * 60_000 + 4000 + 5,
    "-1d2h3m4s5ms": -(DAY + 2 * 3_600_000 + 3 * 60_000 + 4000 + 5),
    "2ms": 2,
    "1m2ms": 60_002,
    "0001h": 3_600_000,
    "100000d": 100_000 * DAY,
    f"{I64_MAX}ms": I64_MAX,
    f"-{I64_MAX + 1}ms": I64_MIN,
    "106751991167d": 106751991167 * DAY,
    "-9223372036854775s808ms": I64_MIN,
}

INVALID_DURATIONS = {
    "": "invalid duration pattern",
    "-": "invalid duration pattern",
    "1": "invalid duration pattern",
    "d": "invalid duration pattern",
    "1h1d": "invalid duration pattern",
    "1d1d": "invalid duration pattern",
    "1ms1s": "invalid duration pattern",
    "+1d": "invalid duration pattern",
    "--1d": "invalid duration pattern",
    "1d-1h": "invalid duration pattern",
    "1D": "invalid duration pattern",
    "1.5h": "invalid duration pattern",
    " 1d": "invalid duration pattern",
    "1d\n": "invalid duration pattern",
    "1y": "invalid duration pattern",
    f"{I64_MAX + 1}ms": "Duration overflows internal representation",
    f"-{I64_MAX + 2}ms": "Duration overflows internal representation",
    "106751991168d": "Duration overflows internal representation",
    "18446744073709551616ms": "Duration overflows internal representation",
    "99999999999999999999999d": "Duration overflows internal representation",
    "9223372036854775s808ms": "Duration overflows internal representation",
}


@pytest.mark.parametrize(("text", "ms"), VALID_DURATIONS.items())
def test_valid_durations(text: str, ms: int) -> None:
    assert construct("duration", text).ms == ms


@pytest.mark.parametrize(("text", "message"), INVALID_DURATIONS.items())
def test_invalid_durations(text: str, message: str) -> None:
    with pytest.raises(ExtensionError) as info:
        FUNCTIONS["duration"].impl(text)
    assert info.value.detail == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1d2h3m4s5ms", [93784005, 93784, 1563, 26, 1]),
        ("-1d2h3m4s5ms", [-93784005, -93784, -1563, -26, -1]),
        ("-999ms", [-999, 0, 0, 0, 0]),
        ("-59s", [-59000, -59, 0, 0, 0]),
        ("23h59m", [86340000, 86340, 1439, 23, 0]),
    ],
)
def test_duration_methods(text: str, expected: list[int]) -> None:
    d = construct("duration", text)
    names = ["toMilliseconds", "toSeconds", "toMinutes", "toHours", "toDays"]
    assert [FUNCTIONS[n].impl(d) for n in names] == expected


def _duration_check(text: str) -> tuple[str, Outcome]:
    try:
        d = Duration.parse(text)
    except ExtensionError:
        expr = f"duration({q(text)}) == duration({q(text)})"
        return expr, mine(lambda: Duration.parse(text) == Duration.parse(text))
    expr = (
        f"[duration({q(text)}).toMilliseconds(), duration({q(text)}).toSeconds(), "
        f"duration({q(text)}).toMinutes(), duration({q(text)}).toHours(), "
        f"duration({q(text)}).toDays()] == "
        f"[{d.to_milliseconds()}, {d.to_seconds()}, {d.to_minutes()}, {d.to_hours()}, "
        f"{d.to_days()}]"
    )
    return expr, True


@pytest.mark.parametrize("text", [*VALID_DURATIONS, *INVALID_DURATIONS])
def test_duration_table_against_rust(text: str) -> None:
    expr, expected = _duration_check(text)
    assert oracle(expr) == expected


_quantity = st.one_of(
    st.integers(0, 1000).map(str),
    st.integers(0, 2**64).map(str),
    st.integers(0, 10**25).map(str),
    st.sampled_from(["0", "00", "007", "106751991167", "106751991168", "9223372036854775807"]),
)


@st.composite
def _duration_like(draw: st.DrawFn) -> str:
    units = ["d", "h", "m", "s", "ms"]
    chosen = draw(st.lists(st.sampled_from([*units, "x", ""]), min_size=0, max_size=5))
    if draw(st.integers(0, 3)) > 0:  # usually keep Cedar's order, without repeats
        chosen = sorted(set(chosen) & set(units), key=units.index)
    sign = draw(st.sampled_from(["", "", "-", "+", "--"]))
    return sign + "".join(draw(_quantity) + u for u in chosen)


_any_duration = st.one_of(_duration_like(), st.text(alphabet="0123456789-dhms ", max_size=16))


@SETTINGS
@given(_any_duration)
@example("-9223372036854775808ms")
@example("-9223372036854775809ms")
@example("-106751991167d")
def test_duration_parse_against_rust(text: str) -> None:
    expr, expected = _duration_check(text)
    assert oracle(expr) == expected


# --------------------------------------------------------------------------------------
# every extension literal of the conformance corpus
# --------------------------------------------------------------------------------------

_LITERAL_RE = re.compile(r'\b(decimal|ip|datetime|duration)\("((?:[^"\\]|\\.)*)"\)')
_ESCAPE_RE = re.compile(r"\\(u\{[0-9a-fA-F]{1,6}\}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "0": "\0", "'": "'", '"': '"'}


def _unescape(body: str) -> str | None:
    """A Cedar string literal's text, or None if it uses an escape we do not know."""
    bad = False

    def repl(m: re.Match[str]) -> str:
        nonlocal bad
        esc = m.group(1)
        if esc.startswith("u{"):
            code = int(esc[2:-1], 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                bad = True
                return ""
            return chr(code)
        if esc in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[esc]
        bad = True
        return ""

    text = _ESCAPE_RE.sub(repl, body)
    return None if bad else text


def _corpus_literals() -> list[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in glob.glob(os.path.join(CORPUS_DIR, "*.cedar")):
        with open(path, encoding="utf-8") as f:
            for m in _LITERAL_RE.finditer(f.read()):
                text = _unescape(m.group(2))
                if text is not None:
                    found.add((m.group(1), text))
    return sorted(found)


_CHECKS: dict[str, Callable[[str], tuple[str, Outcome]]] = {
    "decimal": _decimal_check,
    "ip": _ip_check,
    "datetime": _datetime_check,
    "duration": _duration_check,
}


@pytest.mark.skipif(not os.path.isdir(CORPUS_DIR), reason="conformance corpus not available")
def test_every_corpus_literal_against_rust() -> None:
    literals = _corpus_literals()
    assert len(literals) > 100
    failures = []
    for fn, text in literals:
        expr, expected = _CHECKS[fn](text)
        got = oracle(expr)
        if got != expected:
            failures.append((fn, text, got, expected))
    assert not failures, json.dumps(failures[:20], indent=1, ensure_ascii=False)


def test_the_plain_ipv4_shortcut_reads_as_the_full_parser() -> None:
    """``parse_ip`` reads dotted IPv4 (with a prefix) by a table lookup per octet when every
    value is in range; on every other string the port of Rust's parser decides. Both must
    give the same value or the same error."""
    import random

    from cedarlang.errors import ExtensionError
    from cedarlang.extensions import ipaddr

    def outcome(text: str, shortcut: bool) -> object:
        saved = ipaddr._OCTETS
        if not shortcut:
            ipaddr._OCTETS = {}  # no octet is read by the shortcut: the full parser alone
        try:
            return ipaddr.parse_ip(text)
        except ExtensionError as err:
            return str(err)
        finally:
            ipaddr._OCTETS = saved

    rnd = random.Random(7)
    parts = ["0", "1", "9", "10", "01", "00", "255", "256", "999", "1000", "127", "", "a", "\u0663", " 1"]
    prefixes = [None, "0", "8", "32", "33", "00", "01", "99", "100", "", "+1"]
    accepted = 0
    for _ in range(20_000):
        text = ".".join(rnd.choice(parts) for _ in range(rnd.choice([3, 4, 4, 4, 5])))
        prefix = rnd.choice(prefixes)
        if prefix is not None:
            text += "/" + prefix
        fast = outcome(text, True)
        assert fast == outcome(text, False), text
        accepted += type(fast) is tuple
    assert accepted > 50
