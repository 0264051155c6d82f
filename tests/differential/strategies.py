"""Hypothesis strategies for differential testing of cedarlang against cedarpy (Rust).

Everything is generated over one small, fixed *universe* of entity types, ids,
attribute names and tag names so that references in policies, entity data and
requests usually hit each other (``principal.n`` exists, ``principal in
Group::"g1"`` is sometimes true, ``==`` between a literal and an attribute is
sometimes true, ...).

The main entry point is :func:`cases`, which draws a :class:`Case`: policy text
(kept as a small tree so failures can be minimised), template links, entity
JSON and one to three requests.  Expressions are generated *by type* so that a
good share of policies evaluate cleanly (and Allow), with deliberate ill-typed
sub-expressions, missing attributes/entities, overflowing arithmetic and
invalid extension literals so that a good share raise run-time errors.  A small
fraction of cases is deliberately malformed (bad syntax, bad entity JSON, bad
request uids) to compare what each side accepts.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

# --------------------------------------------------------------------------------------
# The universe
# --------------------------------------------------------------------------------------

# Non-action entities, in a fixed order: an entity's parents are always drawn from
# entities *later* in this list, so the hierarchy is a DAG.
UNIVERSE: tuple[tuple[str, str], ...] = (
    ("User", "alice"),
    ("User", "bob"),
    ("User", ""),
    ("NS::User", "alice"),
    ("User", 'q"u\\o\nte'),
    ("Photo", "p1"),
    ("Photo", "p2"),
    ("Photo", "ünï😀"),
    ("NS::Sub::Doc", "d1"),
    ("Album", "a1"),
    ("Album", "a2"),
    ("Group", "g1"),
    ("Group", "g2"),
    ("Group", "*"),
    ("Group", "admins"),
)
SIMPLE_UNIVERSE = tuple(u for u in UNIVERSE if u[1].isascii() and u[1].isalnum())
# Action entities, also in DAG order.
ACTIONS: tuple[tuple[str, str], ...] = (
    ("Action", "view"),
    ("Action", "edit"),
    ("Action", "delete"),
    ("NS::Action", "view"),
    ("Action", "readOnly"),
    ("Action", "all"),
)
# Entities referenced but never defined in the entity data.
UNKNOWN: tuple[tuple[str, str], ...] = (("User", "nobody"), ("Group", "ghost"), ("Action", "nope"))

ENTITY_TYPES = ("User", "Group", "Photo", "Album", "NS::User", "NS::Sub::Doc")
IS_TYPES = (*ENTITY_TYPES, "Action", "NS::Action", "Nope", "NS::Nope")

TYPES = (
    "bool",
    "long",
    "str",
    "entity",
    "set",
    "record",
    "ipaddr",
    "decimal",
    "datetime",
    "duration",
)
EXT_TYPES = ("ipaddr", "decimal", "datetime", "duration")

# Attribute paths and their (intended) types.  Entity attributes and context keys
# are drawn from the same table; the one-element paths are top-level attributes.
PATHS: dict[tuple[str, ...], str] = {
    ("n",): "long",
    ("m",): "long",
    ("s",): "str",
    ("flag",): "bool",
    ("owner",): "entity",
    ("groups",): "set_entity",
    ("nums",): "set_long",
    ("labels",): "set_str",
    ("rec",): "record",
    ("ip",): "ipaddr",
    ("dec",): "decimal",
    ("dt",): "datetime",
    ("dur",): "duration",
    ("a b",): "str",
    ("if",): "bool",
    ("rec", "n"): "long",
    ("rec", "s"): "str",
    ("rec", "flag"): "bool",
    ("rec", "owner"): "entity",
    ("rec", "inner"): "record",
    ("rec", "inner", "flag"): "bool",
    ("rec", "inner", "n"): "long",
}
TOP_ATTRS: dict[str, str] = {p[0]: t for p, t in PATHS.items() if len(p) == 1}
ALL_ATTR_NAMES = (*TOP_ATTRS, "inner", "missing", "type", "id", "")
RESERVED = {"true", "false", "if", "then", "else", "in", "is", "like", "has", "__cedar"}
TAG_TYPES = {"t1": "long", "t2": "str", "t3": "bool", "tx": "any"}
TAG_NAMES = (*TAG_TYPES, "nope", "")

STRINGS = (
    "a",
    "b",
    "",
    "hello world",
    "a*b",
    'q"u',
    "back\\slash",
    "new\nline",
    "tab\t",
    "ünï",
    "😀",
    "alice",
    "g1",
)

LONG_EDGES = (
    9223372036854775807,
    -9223372036854775808,
    4611686018427387904,
    3037000500,
    -3037000500,
    9223372036854775806,
    -9223372036854775807,
)

# --------------------------------------------------------------------------------------
# Extension-function literals (valid and invalid)
# --------------------------------------------------------------------------------------

IPV6 = (
    "::1",
    "::",
    "fe80::1",
    "ff02::1",
    "2001:db8::",
    "2001:db8::/32",
    "::ffff:127.0.0.1",
    "::ffff:1.2.3.4/120",
    "1:2:3:4:5:6:7:8",
    "::1/128",
    "fe80::/10",
    "ff00::/8",
    "::/0",
    "FE80::1",
)
IPV4_SPECIAL = (
    "127.0.0.1",
    "127.1.2.3/8",
    "224.0.0.1",
    "239.255.255.255",
    "0.0.0.0",
    "255.255.255.255",
    "10.0.0.0/8",
    "10.1.2.3",
    "192.168.1.1/24",
    "192.168.1.0/24",
    "0.0.0.0/0",
)
BAD_IPS = (
    "1.2.3",
    "1.2.3.4.5",
    "256.1.1.1",
    "1.2.3.4/33",
    "::1/129",
    "1::2::3",
    "01.2.3.4",
    "1.2.3.4/",
    "",
    "abc",
    " 1.2.3.4",
    "1.2.3.4/-1",
    "1.2.3.4/08",
    "::g",
    "[::1]",
    "1.2.3.4%eth0",
    "fe80::1%1",
    "1.2.3.4/+8",
    "1.2.3.04",
)
GOOD_DECIMALS = (
    "0.0",
    "1.0",
    "1.00",
    "-1.5",
    "12.3456",
    "922337203685477.5807",
    "-922337203685477.5808",
    "0.0001",
    "-0.0",
    "3.14",
)
BAD_DECIMALS = (
    "1",
    "1.",
    ".5",
    "1.23456",
    "922337203685477.5808",
    "-922337203685477.5809",
    "1.2.3",
    "+1.0",
    "1e2",
    "",
    " 1.0",
    "0x1.0",
    "1.-1",
    "--1.0",
)
BAD_DATETIMES = (
    "2023-02-29",
    "2024-13-01",
    "2024-1-01",
    "2024-01-01T24:00:00Z",
    "2024-01-01T00:00:60Z",
    "2024-01-01T00:00:00",
    "2024-01-01T00:00:00+24:00",
    "2024-01-01T00:00:00+2400",
    "2024-01-01T00:00:00.1Z",
    "2024-01-01 00:00:00Z",
    "",
    "+2024-01-01",
    "2024-01-01T00:00:00+0060",
    "2024-01-01T00:00Z",
    "2024-01-01Z",
    "24-01-01",
    "2024-00-10",
    "2024-04-31",
    "2024-01-01t00:00:00z",
    "2024-01-01T00:00:00.1234Z",
)
BAD_DURATIONS = (
    "",
    "-",
    "1",
    "1m1h",
    "1h1h",
    "1y",
    "1.5h",
    "h",
    "+1h",
    "1H",
    " 1h",
    "1ms1s",
    "9223372036854775808ms",
    "9223372036854775807d",
    "106751991167301d",
    "--1h",
    "1d 1h",
)


# --------------------------------------------------------------------------------------
# Expression trees
# --------------------------------------------------------------------------------------

# Precedence levels of the Cedar grammar (higher binds tighter).
IF, OR, AND, REL, ADD, MUL, UNARY, MEMBER = range(8)


class Node:
    """A fragment of policy text: string pieces and sub-expression nodes."""

    __slots__ = ("parts", "prec")

    def __init__(self, prec: int, *parts: str | Node) -> None:
        self.prec = prec
        self.parts = list(parts)

    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.text() for p in self.parts)

    def children(self) -> list[Node]:
        return [p for p in self.parts if isinstance(p, Node)]

    def __repr__(self) -> str:
        return f"Node({self.text()!r})"


def leaf(text: str, prec: int = MEMBER) -> Node:
    return Node(prec, text)


# --------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------


@dataclass
class PolicySpec:
    effect: str
    principal: str
    action: str
    resource: str
    conditions: list[tuple[str, Node]] = field(default_factory=list)
    annotations: list[str] = field(default_factory=list)
    slots: tuple[str, ...] = ()
    trailer: str = ""

    def render(self) -> str:
        head = "".join(a + "\n" for a in self.annotations)
        body = f"{self.effect}({self.principal}, {self.action}, {self.resource})"
        for kw, cond in self.conditions:
            body += f"\n  {kw} {{ {cond.text()} }}"
        return head + body + ";" + self.trailer


@dataclass
class LinkSpec:
    policy_index: int
    new_id: str
    values: dict[str, Any]


# Placeholders put into generated JSON values, replaced in the serialised JSON text
# by things a Python dict cannot hold (duplicate keys, ``-0``, a lone surrogate, ...).
JSON_MUTATIONS = {
    '"@@NEG0@@"': "-0",
    '"@@LONE@@"': '"a\\udc00"',
    '"@@FLOAT@@"': "1.0",
    '"@@DUPKEY@@": 0': '"k": 1, "k": 2',
    '"@@DUPUID@@": 0': '"uid": {"type": "User", "id": "alice"}',
}


def mutate_json(text: str) -> str:
    if "@@" in text:
        for old, new in JSON_MUTATIONS.items():
            text = text.replace(old, new)
    return text


@dataclass
class Case:
    policies: list[PolicySpec]
    links: list[LinkSpec]
    entities: list[Any]
    requests: list[dict[str, Any]]
    # hand-written inputs (tests/differential/test_edge_cases.py) bypass the structure
    raw_policies: str | None = None
    raw_entities: str | None = None
    # a schema (JSON) both engines validate entities and requests against
    schema: dict[str, Any] | None = None

    def schema_json(self) -> str | None:
        return None if self.schema is None else json.dumps(self.schema, ensure_ascii=False)

    def entities_json(self) -> str:
        """The entity data as JSON text (what both engines are given)."""
        if self.raw_entities is not None:
            return self.raw_entities
        return mutate_json(json.dumps(self.entities, ensure_ascii=False))

    def wire_requests(self) -> list[dict[str, Any]]:
        """The requests as given to both engines (a mutated context becomes JSON text)."""
        out = []
        for r in self.requests:
            ctx = r.get("context")
            text = json.dumps(ctx, ensure_ascii=False)
            if "@@" in text:
                r = {**r, "context": mutate_json(text)}
            out.append(r)
        return out

    def policy_text(self) -> str:
        if self.raw_policies is not None:
            return self.raw_policies
        return "\n".join(p.render() for p in self.policies) + "\n"

    def link_dicts(self) -> list[dict[str, Any]]:
        return [
            {"template_id": f"policy{link.policy_index}", "new_id": link.new_id, "values": link.values}
            for link in self.links
        ]

    def copy(self) -> Case:
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return (
            f"Case(policies={self.policy_text()!r}, links={json.dumps(self.link_dicts())}, "
            f"entities={self.entities_json()}, schema={self.schema_json()}, "
            f"requests={json.dumps(self.wire_requests(), ensure_ascii=False)})"
        )


# --------------------------------------------------------------------------------------
# Profiles: knobs that bias the generator
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    name: str = "mixed"
    max_policies: int = 4
    max_depth: int = 4
    budget: int = 40  # max expression nodes per condition
    illtyped: float = 0.05  # per node: generate a value of a random other type
    raw: float = 0.03  # per needed paren: leave it out (stress the grammar)
    malformed: float = 0.02  # per policy/entity/request: a deliberately odd construct
    template: float = 0.12  # per policy: make it a template
    ext_weight: float = 1.0  # multiplier for extension-function productions
    scope_weight: float = 1.0  # multiplier for constrained scopes
    permit: float = 0.8
    missing_attr: float = 0.2


MIXED = Profile()
EXTENSIONS = Profile(name="extensions", ext_weight=5.0, template=0.05, max_policies=3)
HIERARCHY = Profile(
    name="hierarchy", template=0.4, scope_weight=3.0, max_depth=3, ext_weight=0.3, illtyped=0.03
)
PROFILES = {p.name: p for p in (MIXED, EXTENSIONS, HIERARCHY)}


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------


def _escape_char(ch: str) -> str:
    return {
        '"': '\\"',
        "\\": "\\\\",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\0": "\\0",
    }.get(ch, ch)


def uid_text(t: str, i: str) -> str:
    """The normalised ``Type::"id"`` form Rust's ``EntityUid::from_str`` accepts."""
    return f'{t}::"{"".join(_escape_char(c) for c in i)}"'


class Gen:
    """Makes the random choices for one case.

    Two backends: by default every choice comes from a ``random.Random`` seeded by
    one hypothesis draw (fast: one case needs thousands of choices, and hypothesis
    costs ~50µs per draw; failures are minimised by ``harness.minimize``).  With
    ``fine=True`` every choice is its own hypothesis draw, so hypothesis can
    shrink cases itself (about 10x slower).
    """

    def __init__(self, draw: st.DrawFn, profile: Profile, rng: random.Random | None = None) -> None:
        self.draw = draw
        self.rng = rng
        self.p = profile
        self.budget = 0
        # uids the requests mention (and their ancestors): entity literals favour them
        self.focus: dict[str, list[tuple[str, str]]] = {}
        self.drawn_uids: list[tuple[str, tuple[str, str]]] = []

    def set_focus(self, entities: list[Any]) -> None:
        """Point entity literals at the requests' uids and their ancestors."""
        parents: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for ent in entities:
            try:
                uid = ent["uid"]
                uid = uid.get("__entity", uid)
                key = (uid["type"], uid["id"])
                for par in ent.get("parents", []):
                    par = par.get("__entity", par)
                    parents.setdefault(key, []).append((par["type"], par["id"]))
            except (KeyError, TypeError, AttributeError):
                continue
        for kind, uid in self.drawn_uids:
            todo, seen = [uid], []
            while todo:
                u = todo.pop()
                if u in seen:
                    continue
                seen.append(u)
                todo.extend(parents.get(u, []))
            if kind == "action":
                seen = [u for u in seen if u[0].split("::")[-1] == "Action"]
            bucket = self.focus.setdefault(kind, [])
            bucket.extend(u for u in seen if u not in bucket)
        self.focus["any"] = self.focus.get("principal", []) + self.focus.get("resource", [])

    # -- primitive choices ----------------------------------------------------------------

    def integer(self, lo: int, hi: int) -> int:
        if self.rng is not None:
            return self.rng.randint(lo, hi)
        return int(self.draw(st.integers(lo, hi)))

    def flip(self, p: float) -> bool:
        """True with probability ``p``."""
        if p <= 0:
            return False
        if p >= 1:
            return True
        if self.rng is not None:
            return self.rng.random() < p
        # Hypothesis draws integers from wide ranges with a strong bias towards
        # small values, so probabilities are built from draws in 0..99 (close to
        # uniform, but 0 is over-represented: keep it on the likelier side).
        if p > 0.5:
            return not self.flip(1 - p)
        k = p * 100
        whole = int(k)
        u = self.integer(0, 99)
        if u >= 100 - whole:
            return True
        frac = k - whole
        if frac > 1e-9 and u == 99 - whole:
            return self.integer(0, 99) >= 100 - round(frac * 100)
        return False

    def pick(self, seq: Iterable[T]) -> T:
        items = list(seq)
        return items[self.integer(0, len(items) - 1)]

    def weighted(self, options: Iterable[tuple[float, T]]) -> T:
        live = [(w, v) for w, v in options if w > 0]
        total = sum(w for w, _ in live)
        if self.rng is not None:
            x = self.rng.random() * total
        else:
            x = (self.integer(0, 99) * 100 + self.integer(0, 99)) * total / 10000
        for w, v in live:
            if x < w:
                return v
            x -= w
        return live[-1][1]

    # -- literals ---------------------------------------------------------------------

    def str_body(self, s: str, pattern: bool = False) -> str:
        out = []
        for ch in s:
            if pattern and ch == "*":
                out.append("*")
            elif ch in '"\\\n\r\t\0':
                out.append(_escape_char(ch))
            elif self.flip(0.015):
                out.append(self.pick([f"\\u{{{ord(ch):x}}}", f"\\u{{{ord(ch):06X}}}"]))
            elif ch.isascii() and ch.isalnum() and self.flip(0.007):
                out.append(f"\\x{ord(ch):02x}")
            else:
                out.append(ch)
        if self.flip(self.p.malformed / 6):
            bad = self.pick(
                ["\\q", "\\u{110000}", "\\u{d800}", "\\x80", "\\*", "\\u{}", "\\u{1234567}", "\\'", "\\x7f"]
            )
            pos = self.integer(0, len(out))
            out.insert(pos, bad)
        return "".join(out)

    def string(self) -> str:
        return self.pick(STRINGS)

    def str_lit(self, s: str | None = None) -> Node:
        if s is None:
            s = self.string()
        return leaf('"' + self.str_body(s) + '"')

    def long_lit(self) -> Node:
        kind = self.weighted(
            [
                (6, None),
                (2, "edge"),
                (self.p.malformed, "overflow"),
            ]
        )
        if kind is None:
            v = self.pick([0, 1, 2, 3, 5, 7, 10, 42, 100, -1, -7])
        elif kind == "edge":
            v = self.pick(LONG_EDGES)
        else:
            return leaf("9223372036854775808")
        return leaf(str(v), UNARY if v < 0 else MEMBER)

    def uid_pair(self, kind: str = "any") -> tuple[str, str]:
        focus = self.focus.get(kind, [])
        if focus and self.flip(0.55):
            return self.pick(focus)
        if kind == "action":
            return self.weighted(
                [(10, ("Action", "view")), (30, None), (1, ("Action", "nope"))]
            ) or self.pick(ACTIONS)
        pool = self.weighted([(12, "simple"), (2, "all"), (1, "unknown"), (0.5, "action")])
        if pool == "simple":
            return self.pick(SIMPLE_UNIVERSE)
        if pool == "all":
            return self.pick(UNIVERSE)
        if pool == "unknown":
            return self.pick(UNKNOWN)
        return self.pick(ACTIONS)

    def entity_lit(self, kind: str = "any") -> Node:
        t, i = self.uid_pair(kind)
        if self.flip(0.03):
            t = t.replace("::", " :: ")
        return leaf(f'{t}::"{self.str_body(i)}"')

    def ext_arg(self, ty: str, valid: float = 0.85, safe: bool = False) -> str:
        """A constructor argument; ``safe`` avoids edge values that are invalid."""
        if ty == "ipaddr":
            if self.flip(valid):
                kind = self.pick(["v4", "v4special", "v6"])
                if kind == "v4":
                    octs = [str(self.pick([0, 1, 2, 10, 127, 192, 168, 224, 255])) for _ in range(4)]
                    s = ".".join(octs)
                    if self.flip(0.4):
                        s += "/" + str(self.pick([0, 1, 8, 16, 24, 31, 32]))
                    return s
                if kind == "v4special":
                    return self.pick(IPV4_SPECIAL)
                return self.pick([v for v in IPV6 if not (safe and "." in v)])
            return self.pick(BAD_IPS)
        if ty == "decimal":
            if self.flip(valid):
                if self.flip(0.5):
                    return self.pick(GOOD_DECIMALS)
                whole = self.pick([0, 1, 2, 12, 100] if safe else [0, 1, 2, 12, 100, 922337203685477])
                frac = "".join(str(self.integer(0, 9)) for _ in range(self.integer(1, 4)))
                sign = "-" if self.flip(0.3) else ""
                return f"{sign}{whole}.{frac}"
            return self.pick(BAD_DECIMALS)
        if ty == "datetime":
            if self.flip(valid):
                y = self.pick(["2024", "1970", "2000", "2023", "0000", "9999", "1969"])
                mo = self.pick(["01", "02", "06", "12"])
                d = self.pick(
                    ["01", "15", "28", "29", "30", "31"] if mo in ("01", "12") else ["01", "15", "28"]
                )
                date = f"{y}-{mo}-{d}"
                form = self.integer(0, 4)
                if form == 0:
                    return date
                hh = self.pick(["00", "12", "23"])
                mm = self.pick(["00", "30", "59"])
                ss = self.pick(["00", "01", "59"])
                ms = self.pick(["", ".000", ".123", ".999"]) if form >= 2 else ""
                tz = "Z" if form in (1, 2) else self.pick(["+0000", "-0800", "+0530", "+2359", "-2359"])
                return f"{date}T{hh}:{mm}:{ss}{ms}{tz}"
            return self.pick(BAD_DATETIMES)
        if ty == "duration":
            if self.flip(valid):
                units = []
                for u in ("d", "h", "m", "s", "ms"):
                    if self.flip(0.35):
                        big = [] if safe else [106751991167]
                        units.append(f"{self.pick([0, 1, 2, 24, 59, 60, 90, 1000, *big])}{u}")
                if not units:
                    units.append(f"{self.pick([1, 2, 30])}{self.pick(['d', 'h', 'm', 's', 'ms'])}")
                sign = "-" if self.flip(0.25) else ""
                return sign + "".join(units)
            return self.pick(BAD_DURATIONS)
        raise AssertionError(ty)

    def ext_ctor(self, ty: str) -> Node:
        fn = {"ipaddr": "ip", "decimal": "decimal", "datetime": "datetime", "duration": "duration"}[ty]
        arg = self.ext_arg(ty, valid=0.85)
        return Node(MEMBER, f'{fn}("', self.str_body(arg), '")')

    def pattern(self) -> str:
        # A like-pattern literal body.  Raw `*` is a wildcard, `\*` a literal star.
        pieces = []
        for _ in range(self.integer(0, 4)):
            kind = self.weighted([(3, "text"), (3, "star"), (1, "escstar"), (0.3, "ustar")])
            if kind == "text":
                pieces.append(
                    self.str_body(
                        self.pick(["a", "b", "hello", " ", "o w", "ü", 'q"', "\\", "\n", "g1", "ali"])
                    )
                )
            elif kind == "star":
                pieces.append("*")
            elif kind == "escstar":
                pieces.append("\\*")
            else:
                pieces.append(self.pick(["\\u{2a}", "\\x2a", "\\u{5c}*"]))
        return "".join(pieces)

    # -- precedence helpers -------------------------------------------------------------

    def paren(self, n: Node, min_prec: int) -> Node:
        if n.prec < min_prec:
            if self.flip(self.p.raw):
                return n
            return Node(MEMBER, "(", n, ")")
        if self.flip(0.02):
            return Node(MEMBER, "(", n, ")")
        return n

    def sub(self, ty: str, depth: int, min_prec: int) -> Node:
        return self.paren(self.expr(ty, depth - 1), min_prec)

    # -- attribute access ---------------------------------------------------------------

    def access(self, recv: Node, key: str) -> Node:
        ident = key.isidentifier() and key.isascii() and key not in RESERVED
        if ident and not self.flip(0.2):
            return Node(MEMBER, recv, "." + key)
        if key in RESERVED and self.flip(0.1):
            return Node(MEMBER, recv, "." + key)  # reserved word as attribute: a parse error
        return Node(MEMBER, recv, '["', self.str_body(key), '"]')

    def entity_recv(self, depth: int) -> Node:
        kind = self.weighted(
            [(4, "principal"), (3, "resource"), (1, "lit"), (0.5, "action"), (1 if depth > 1 else 0, "deep")]
        )
        if kind == "lit":
            return self.entity_lit()
        if kind == "deep":
            return self.sub("entity", depth, MEMBER)
        return leaf(kind)

    def attr(self, ty: str, depth: int) -> Node:
        want = {"set": ("set_entity", "set_long", "set_str")}.get(ty, (ty,))
        paths = [p for p, t in PATHS.items() if t in want]
        if not paths or self.flip(0.08):
            path: tuple[str, ...] = (self.pick(ALL_ATTR_NAMES),)
        else:
            path = self.pick(paths)
        recv = leaf("context") if self.flip(0.35) else self.entity_recv(depth)
        if self.flip(self.p.malformed / 2):
            # a reserved word after `.`: a parse error in Rust
            return Node(MEMBER, recv, "." + self.pick(sorted(RESERVED)))
        node = recv
        for key in path:
            node = self.access(node, key)
        return node

    # -- expressions by type ----------------------------------------------------------------

    def expr(self, ty: str, depth: int) -> Node:
        self.budget -= 1
        if self.flip(self.p.illtyped):
            ty = self.pick(TYPES)
        if depth <= 0 or self.budget <= 0:
            return self.leaf(ty)
        production: Callable[[int], Node] = getattr(self, "g_" + ty)
        return production(depth)

    def leaf(self, ty: str) -> Node:
        if ty == "bool":
            return self.weighted([(3, leaf("true")), (1, leaf("false")), (2, None)]) or self.attr("bool", 0)
        if ty == "long":
            return self.long_lit() if self.flip(0.6) else self.attr("long", 0)
        if ty == "str":
            return self.str_lit() if self.flip(0.6) else self.attr("str", 0)
        if ty == "entity":
            return self._entity_leaf()
        if ty == "set":
            return self.g_set(0)
        if ty == "record":
            return self.weighted([(2, leaf("context")), (1, leaf("{}")), (3, None)]) or self.attr("record", 0)
        return self.ext_ctor(ty) if self.flip(0.7) else self.attr(ty, 0)

    def _entity_leaf(self) -> Node:
        kind = self.weighted([(3, "principal"), (2, "resource"), (1, "action"), (3, "lit"), (1, "attr")])
        if kind == "lit":
            return self.entity_lit()
        if kind == "attr":
            return self.attr("entity", 0)
        return leaf(kind)

    def any_type(self) -> str:
        return self.weighted(
            [(3, "long"), (3, "str"), (3, "entity"), (2, "bool"), (1, "set"), (1, "record")]
            + [(0.5 * self.p.ext_weight, t) for t in EXT_TYPES]
        )

    def g_bool(self, d: int) -> Node:
        e = self.p.ext_weight
        s = self.p.scope_weight
        kind = self.weighted(
            [
                (3, "leaf"),
                (4, "cmp"),
                (4, "eq"),
                (4, "andor"),
                (2, "not"),
                (3 * s, "in"),
                (3, "has"),
                (3, "guard"),
                (2, "like"),
                (2 * s, "is"),
                (1, "if"),
                (3, "setop"),
                (1.5, "tags"),
                (1.5 * e, "ipop"),
                (1.5 * e, "decop"),
                (1.5 * e, "timecmp"),
                (self.p.malformed * 5, "weird"),
            ]
        )
        if kind == "leaf":
            return self.leaf("bool")
        if kind == "cmp":
            op = self.pick(["<", "<=", ">", ">="])
            return Node(REL, self.sub("long", d, ADD), f" {op} ", self.sub("long", d, ADD))
        if kind == "timecmp":
            t = self.pick(["datetime", "duration", "decimal"] if self.flip(0.1) else ["datetime", "duration"])
            op = self.pick(["<", "<=", ">", ">=", "==", "!="])
            return Node(REL, self.sub(t, d, ADD), f" {op} ", self.sub(t, d, ADD))
        if kind == "eq":
            if self.flip(0.3):  # the same expression twice: mostly true
                lhs = self.sub(self.any_type(), d, ADD)
                return Node(REL, lhs, f" {self.pick(['==', '==', '!='])} ", copy.deepcopy(lhs))
            t = self.any_type()
            t2 = t if not self.flip(0.1) else self.any_type()
            op = self.pick(["==", "!="])
            return Node(REL, self.sub(t, d, ADD), f" {op} ", self.sub(t2, d, ADD))
        if kind == "andor":
            if self.flip(0.5):
                return Node(AND, self.sub("bool", d, AND), " && ", self.sub("bool", d, REL))
            return Node(OR, self.sub("bool", d, OR), " || ", self.sub("bool", d, AND))
        if kind == "not":
            k = 1 if not self.flip(0.2) else self.integer(2, 5)
            return Node(UNARY, "!" * k, self.sub("bool", d, MEMBER))
        if kind == "in":
            lhs = self.sub("entity", d, ADD)
            rhs_t = self.weighted([(3, "entity"), (2, "set")])
            if rhs_t == "entity":
                rhs = self.paren(self.entity_lit() if self.flip(0.5) else self.expr("entity", d - 1), ADD)
            else:
                rhs = self.paren(self.entity_set(d - 1), ADD)
            return Node(REL, lhs, " in ", rhs)
        if kind == "has":
            recv = self.paren(leaf("context") if self.flip(0.25) else self.entity_recv(d), ADD)
            form = self.weighted([(4, "ident"), (1, "str"), (2, "ext")])
            if form == "ident":
                name = self.pick([n for n in ALL_ATTR_NAMES if n.isidentifier() and n not in RESERVED])
                if self.flip(self.p.malformed):
                    name = self.pick(sorted(RESERVED | {"principal", "context"}))
                return Node(REL, recv, " has ", name)
            if form == "str":
                return Node(REL, recv, ' has "', self.str_body(self.pick(ALL_ATTR_NAMES)), '"')
            path = self.pick([p for p in PATHS if len(p) > 1 and all(k.isidentifier() for k in p)])
            if self.flip(0.2):
                path = (*path[:-1], self.pick(["missing", "n", "flag"]))
            return Node(REL, recv, " has ", ".".join(path))
        if kind == "guard":
            # the idiomatic `R has a.b && R.a.b <op> X`
            path = self.pick([p for p in PATHS if all(k.isidentifier() and k not in RESERVED for k in p)])
            ty = PATHS[path]
            recv = leaf("context") if self.flip(0.3) else self.entity_recv(1)
            acc = recv
            for key in path:
                acc = self.access(acc, key)
            if ty == "long":
                test = Node(
                    REL, acc, f" {self.pick(['<', '<=', '>', '>=', '==', '!='])} ", self.sub("long", d, ADD)
                )
            elif ty == "bool":
                test = acc if self.flip(0.5) else Node(REL, acc, " == ", self.sub("bool", d, ADD))
                test = self.paren(test, REL)
            elif ty == "str":
                test = (
                    Node(REL, acc, ' like "', self.pattern(), '"')
                    if self.flip(0.5)
                    else Node(REL, acc, " == ", self.sub("str", d, ADD))
                )
            elif ty == "entity":
                test = Node(REL, acc, " in ", self.sub("entity", d, ADD))
            elif ty.startswith("set_"):
                elem = {"set_entity": "entity", "set_long": "long", "set_str": "str"}[ty]
                test = Node(MEMBER, acc, ".contains(", self.expr(elem, d - 1), ")")
            elif ty == "ipaddr":
                test = Node(MEMBER, acc, ".isInRange(", self.expr("ipaddr", d - 1), ")")
            elif ty == "decimal":
                test = Node(MEMBER, acc, ".greaterThan(", self.expr("decimal", d - 1), ")")
            elif ty in ("datetime", "duration"):
                test = Node(REL, acc, f" {self.pick(['<', '>', '=='])} ", self.sub(ty, d, ADD))
            else:
                test = Node(REL, acc, " == ", self.sub(ty, d, ADD))
            return Node(AND, Node(REL, recv, " has ", ".".join(path)), " && ", self.paren(test, REL))
        if kind == "like":
            return Node(REL, self.sub("str", d, ADD), ' like "', self.pattern(), '"')
        if kind == "is":
            focus = [u[0] for u in self.focus.get("any", [])]
            t = self.pick(focus) if focus and self.flip(0.5) else self.pick(IS_TYPES)
            lhs = self.sub("entity", d, ADD)
            if self.flip(0.4):
                rhs = self.paren(
                    self.expr("entity", d - 1) if self.flip(0.6) else self.entity_set(d - 1), ADD
                )
                return Node(REL, lhs, f" is {t} in ", rhs)
            return Node(REL, lhs, f" is {t}")
        if kind == "if":
            return self.g_if("bool", d)
        if kind == "setop":
            op = self.weighted([(3, "contains"), (2, "containsAll"), (2, "containsAny"), (1, "isEmpty")])
            recv = self.sub("set", d, MEMBER)
            if op == "isEmpty":
                return Node(MEMBER, recv, ".isEmpty()")
            if op == "contains":
                return Node(MEMBER, recv, ".contains(", self.expr(self.any_type(), d - 1), ")")
            return Node(MEMBER, recv, f".{op}(", self.expr("set", d - 1), ")")
        if kind == "tags":
            recv = self.sub("entity", d, MEMBER)
            tag = self.tag_key(d)
            if self.flip(0.6):
                return Node(MEMBER, recv, ".hasTag(", tag, ")")
            return Node(MEMBER, recv, ".getTag(", tag, ")")
        if kind == "ipop":
            recv = self.sub("ipaddr", d, MEMBER)
            m = self.pick(["isIpv4", "isIpv6", "isLoopback", "isMulticast", "isInRange"])
            if m == "isInRange":
                return Node(MEMBER, recv, ".isInRange(", self.expr("ipaddr", d - 1), ")")
            return Node(MEMBER, recv, f".{m}()")
        if kind == "decop":
            m = self.pick(["lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual"])
            return Node(MEMBER, self.sub("decimal", d, MEMBER), f".{m}(", self.expr("decimal", d - 1), ")")
        # weird: constructs that are errors (parse or run-time) on purpose
        w = self.integer(0, 9)
        if w == 0:
            return Node(MEMBER, self.sub("set", d, MEMBER), ".foo()")
        if w == 1:
            return Node(MEMBER, "foo(", self.expr("long", d - 1), ")")
        if w == 2:
            return Node(MEMBER, "isIpv4(", self.expr("ipaddr", d - 1), ")")
        if w == 3:
            return Node(MEMBER, 'ip("1.2.3.4", ', self.expr("str", d - 1), ").isIpv4()")
        if w == 4:
            return Node(REL, "?principal == ", self.sub("entity", d, ADD))
        if w == 5:
            return Node(REL, self.sub("long", d, ADD), " < ", self.sub("long", d, ADD), " < 3")
        if w == 6:
            return Node(MEMBER, "[", self.expr("long", d - 1), "].contains(1, 2)")
        if w == 7:
            return Node(REL, "{a: ", self.expr("long", d - 1), ", a: 2} == {}")
        if w == 8:
            return Node(MEMBER, self.sub("entity", d, MEMBER), ".hasTag()")
        return Node(REL, self.sub("long", d, ADD), " / 2 == 1")

    def tag_key(self, d: int) -> Node:
        if self.flip(0.15):
            return self.expr("str", d - 1)
        return self.str_lit(self.pick(TAG_NAMES))

    def g_if(self, ty: str, d: int) -> Node:
        return Node(
            IF,
            "if ",
            self.expr("bool", d - 1),
            " then ",
            self.expr(ty, d - 1),
            " else ",
            self.expr(ty, d - 1),
        )

    def g_long(self, d: int) -> Node:
        kind = self.weighted(
            [
                (2, "lit"),
                (3, "attr"),
                (3, "add"),
                (2, "mul"),
                (1, "neg"),
                (1.5 * self.p.ext_weight, "dur"),
                (1, "tag"),
                (0.7, "if"),
            ]
        )
        if kind == "lit":
            return self.long_lit()
        if kind == "attr":
            return self.attr("long", d)
        if kind == "add":
            op = self.pick([" + ", " - "])
            return Node(ADD, self.sub("long", d, ADD), op, self.sub("long", d, MUL))
        if kind == "mul":
            return Node(MUL, self.sub("long", d, MUL), " * ", self.sub("long", d, UNARY))
        if kind == "neg":
            k = 1 if not self.flip(0.15) else self.integer(2, 5)
            return Node(UNARY, "-" * k, self.sub("long", d, MEMBER))
        if kind == "dur":
            m = self.pick(["toMilliseconds", "toSeconds", "toMinutes", "toHours", "toDays"])
            return Node(MEMBER, self.sub("duration", d, MEMBER), f".{m}()")
        if kind == "tag":
            return Node(
                MEMBER,
                self.sub("entity", d, MEMBER),
                ".getTag(",
                self.str_lit("t1") if self.flip(0.8) else self.tag_key(d),
                ")",
            )
        return self.g_if("long", d)

    def g_str(self, d: int) -> Node:
        kind = self.weighted([(4, "lit"), (3, "attr"), (1, "tag"), (0.5, "if")])
        if kind == "lit":
            return self.str_lit()
        if kind == "attr":
            return self.attr("str", d)
        if kind == "tag":
            return Node(
                MEMBER,
                self.sub("entity", d, MEMBER),
                ".getTag(",
                self.str_lit("t2") if self.flip(0.8) else self.tag_key(d),
                ")",
            )
        return self.g_if("str", d)

    def g_entity(self, d: int) -> Node:
        kind = self.weighted([(4, "var"), (4, "lit"), (2, "attr"), (0.5, "if")])
        if kind == "var":
            return leaf(self.weighted([(4, "principal"), (3, "resource"), (1, "action")]))
        if kind == "lit":
            return self.entity_lit()
        if kind == "attr":
            return self.attr("entity", d)
        return self.g_if("entity", d)

    def entity_set(self, d: int) -> Node:
        if self.flip(0.3):
            return self.attr("set", max(d, 0)) if self.flip(0.5) else self.set_lit("entity", d)
        return self.set_lit("entity", d)

    def set_lit(self, elem: str, d: int) -> Node:
        n = self.weighted([(1, 0), (3, 1), (3, 2), (1, 3)])
        parts: list[str | Node] = ["["]
        for i in range(n):
            if i:
                parts.append(", ")
            t = elem if not self.flip(0.1) else self.any_type()
            if t == "entity" and self.flip(0.6):
                parts.append(self.entity_lit("action" if self.flip(0.2) else "any"))
            else:
                parts.append(self.expr(t, d - 1))
        parts.append("]")
        return Node(MEMBER, *parts)

    def g_set(self, d: int) -> Node:
        kind = self.weighted([(4, "lit"), (3 if d > 0 else 1, "attr"), (0.3, "if")])
        if kind == "attr" or (kind == "if" and d <= 0):
            return self.attr("set", d)
        if kind == "if":
            return self.g_if("set", d)
        elem = self.weighted(
            [(3, "long"), (2, "str"), (3, "entity"), (0.5, "bool"), (0.5, "set"), (0.5, "record")]
        )
        return self.set_lit(elem, d)

    def g_record(self, d: int) -> Node:
        kind = self.weighted([(3, "lit"), (2, "context"), (3, "attr"), (0.3, "if")])
        if kind == "context":
            return leaf("context")
        if kind == "attr":
            return self.attr("record", d)
        if kind == "if":
            return self.g_if("record", d)
        keys = []
        for _ in range(self.integer(0, 3)):
            k = self.pick(["n", "s", "flag", "inner", "a b", "owner", "if", ""])
            if k not in keys:
                keys.append(k)
        if keys and self.flip(self.p.malformed):
            keys.append(keys[0])  # duplicate key: a parse error
        parts: list[str | Node] = ["{"]
        types = {"n": "long", "s": "str", "flag": "bool", "inner": "record", "owner": "entity"}
        for i, k in enumerate(keys):
            if i:
                parts.append(", ")
            if k.isidentifier() and k not in ("if",) and not self.flip(0.2):
                parts.append(f"{k}: ")
            else:
                parts.append(f'"{self.str_body(k)}": ')
            parts.append(self.expr(types.get(k, self.any_type()), d - 1))
        parts.append("}")
        return Node(MEMBER, *parts)

    def g_ext(self, ty: str, d: int) -> Node:
        kind = self.weighted([(5, "ctor"), (2, "attr"), (0.3, "dyn"), (2, "method")])
        if kind == "ctor":
            return self.ext_ctor(ty)
        if kind == "attr":
            return self.attr(ty, d)
        if kind == "dyn":
            fn = {"ipaddr": "ip", "decimal": "decimal", "datetime": "datetime", "duration": "duration"}[ty]
            return Node(MEMBER, f"{fn}(", self.expr("str", d - 1), ")")
        if ty == "datetime":
            if self.flip(0.6):
                return Node(
                    MEMBER, self.sub("datetime", d, MEMBER), ".offset(", self.expr("duration", d - 1), ")"
                )
            return Node(MEMBER, self.sub("datetime", d, MEMBER), ".toDate()")
        if ty == "duration":
            if self.flip(0.5):
                return Node(
                    MEMBER,
                    self.sub("datetime", d, MEMBER),
                    ".durationSince(",
                    self.expr("datetime", d - 1),
                    ")",
                )
            return Node(MEMBER, self.sub("datetime", d, MEMBER), ".toTime()")
        return self.ext_ctor(ty)

    def g_ipaddr(self, d: int) -> Node:
        return self.g_ext("ipaddr", d)

    def g_decimal(self, d: int) -> Node:
        return self.g_ext("decimal", d)

    def g_datetime(self, d: int) -> Node:
        return self.g_ext("datetime", d)

    def g_duration(self, d: int) -> Node:
        return self.g_ext("duration", d)

    # -- policies -----------------------------------------------------------------------

    def scope_var(self, var: str, template: bool) -> tuple[str, tuple[str, ...]]:
        s = self.p.scope_weight
        slot = "?" + var
        if template and self.flip(0.8):
            form = self.pick(["==", "in", "is in"])
            if form == "is in":
                return f"{var} is {self.pick(ENTITY_TYPES)} in {slot}", (slot,)
            return f"{var} {form} {slot}", (slot,)
        kind = self.weighted(
            [
                (5, "all"),
                (2 * s, "=="),
                (2 * s, "in"),
                (1 * s, "is"),
                (1 * s, "is in"),
                (self.p.malformed * 5, "weird"),
            ]
        )
        if kind == "all":
            return var, ()
        focus = [u[0] for u in self.focus.get(var, [])]
        typ = self.pick(focus) if focus and self.flip(0.6) else self.pick(IS_TYPES)
        if kind == "is":
            return f"{var} is {typ}", ()
        if kind == "weird":
            other = "?resource" if var == "principal" else "?principal"
            return self.pick(
                [
                    f"{var} in [{self.entity_lit().text()}]",
                    f"{var} == {other}",
                    f"{var} is {self.pick(ENTITY_TYPES)} == {self.entity_lit().text()}",
                    f"{var} in {self.pick(['1', 'context', 'principal'])}",
                    f"{var} == {self.entity_lit('action').text()}",
                ]
            ), ()
        e = self.entity_lit(var).text()
        if kind == "is in":
            return f"{var} is {typ} in {e}", ()
        return f"{var} {kind} {e}", ()

    def scope_action(self) -> str:
        s = self.p.scope_weight
        kind = self.weighted(
            [
                (5, "all"),
                (2 * s, "=="),
                (2 * s, "in"),
                (2 * s, "in list"),
                (self.p.malformed * 5, "weird"),
            ]
        )
        if kind == "all":
            return "action"
        if kind in ("==", "in"):
            return f"action {kind} {self.entity_lit('action').text()}"
        if kind == "in list":
            items = [self.entity_lit("action").text() for _ in range(self.integer(1, 3))]
            return f"action in [{', '.join(items)}]"
        return self.pick(
            [
                "action in []",
                "action is Action",
                'action == User::"alice"',
                'action in [Action::"view", User::"alice"]',
                "action in ?principal",
                'action is Action in Action::"all"',
            ]
        )

    def policy(self) -> PolicySpec:
        template = self.flip(self.p.template)
        effect = "permit" if self.flip(self.p.permit) else "forbid"
        principal, pslots = self.scope_var("principal", template)
        action = self.scope_action()
        resource, rslots = self.scope_var("resource", template)
        conditions = []
        for _ in range(self.weighted([(3, 0), (6, 1), (2, 2), (0.3, 3)])):
            self.budget = self.p.budget
            kw = "when" if self.flip(0.75) else "unless"
            depth = self.integer(1, self.p.max_depth)
            conditions.append((kw, self.expr("bool", depth)))
        annotations = []
        if self.flip(0.15):
            pool = ['@id("x")', '@advice("hi \\"there\\"")', "@a", '@b("")', '@c("\\u{1F600}")']
            for _ in range(self.integer(1, 2)):
                ann = self.pick(pool)
                pool.remove(ann)
                annotations.append(ann)
            if self.flip(self.p.malformed * 2):
                annotations.append(annotations[0])  # duplicate annotation: a parse error
        trailer = ""
        if self.flip(0.05):
            trailer = self.pick([" // comment", "\n// another ) ; comment"])
        if self.flip(self.p.malformed / 3):
            conditions.append(("when", leaf("")))  # empty condition: a parse error
        return PolicySpec(
            effect, principal, action, resource, conditions, annotations, pslots + rslots, trailer
        )

    # -- JSON values ----------------------------------------------------------------------

    def uid_json(self, t: str, i: str) -> dict[str, Any]:
        return {"type": t, "id": i}

    def json_value(self, ty: str, depth: int = 2) -> Any:
        if self.flip(0.04):
            ty = self.pick(
                [
                    "long",
                    "str",
                    "bool",
                    "entity",
                    "set_long",
                    "record",
                    "ipaddr",
                    "decimal",
                    "datetime",
                    "duration",
                ]
            )
        if ty == "any":
            ty = self.pick(["long", "str", "bool", "entity", "set_str", "record", "decimal", "ipaddr"])
        if ty == "long":
            return (
                self.pick([0, 1, 2, 5, 7, 10, 42, 100, -1, -7]) if self.flip(0.85) else self.pick(LONG_EDGES)
            )
        if ty == "str":
            return self.string()
        if ty == "bool":
            return self.flip(0.6)
        if ty == "entity":
            t, i = self.uid_pair()
            if self.flip(0.05):
                return self.uid_json(t, i)  # without __entity: a *record* with type/id keys
            return {"__entity": self.uid_json(t, i)}
        if ty.startswith("set_"):
            elem = ty[4:]
            return [
                self.json_value(elem, depth - 1)
                for _ in range(self.weighted([(1, 0), (3, 1), (3, 2), (1, 3)]))
            ]
        if ty == "record":
            rec: dict[str, Any] = {}
            shape = {"n": "long", "s": "str", "flag": "bool", "owner": "entity", "inner": "record"}
            for k, t in shape.items():
                if t == "record" and depth <= 0:
                    continue
                if self.flip(0.75):
                    rec[k] = self.json_value(t, depth - 1)
            return rec
        if ty in EXT_TYPES:
            fn = {"ipaddr": "ip", "decimal": "decimal", "datetime": "datetime", "duration": "duration"}[ty]
            if ty == "datetime" and self.flip(0.15):
                return {
                    "__extn": {
                        "fn": "offset",
                        "args": [
                            {"__extn": {"fn": "datetime", "arg": self.ext_arg("datetime", 1, True)}},
                            {"__extn": {"fn": "duration", "arg": self.ext_arg("duration", 1, True)}},
                        ],
                    }
                }
            return {"__extn": {"fn": fn, "arg": self.ext_arg(ty, 1 - self.p.malformed / 10, True)}}
        raise AssertionError(ty)

    def json_attrs(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for name, ty in TOP_ATTRS.items():
            if not self.flip(self.p.missing_attr):
                attrs[name] = self.json_value(ty)
        return attrs

    def weird_json_value(self) -> Any:
        return self.pick(
            [
                1.5,
                None,
                2**63,
                -(2**63) - 1,
                {"__expr": "1"},
                {"__extn": {"fn": "isIpv4", "arg": "1.2.3.4"}},
                {"__extn": {"fn": "ip", "arg": "1.2.3.4", "args": []}},
                {"__extn": {"fn": "offset", "args": ["2024-01-01", "1h"]}},
                {"__extn": {"fn": "ip", "args": ["1.2.3.4"]}},
                {"__extn": {"fn": "nope", "arg": "1"}},
                {"__extn": {"fn": "decimal", "arg": 1}},
                {"__entity": {"type": "User", "id": "alice"}, "x": 1},
                {"__entity": {"type": "if", "id": "a"}},
                {"__entity": {"type": "User"}},
                {"fn": "ip", "arg": "1.2.3.4"},
                {"__extn": {"fn": "datetime", "arg": "2024-01-01"}, "extra": 1},
                [1, [2, "x"], {"k": []}],
            ]
        )

    def entities(self) -> list[Any]:
        out: list[Any] = []
        chosen = [u for u in UNIVERSE if self.flip(0.85 if u in SIMPLE_UNIVERSE else 0.3)]
        for idx, u in enumerate(chosen):
            later = chosen[idx + 1 :]
            parents = []
            for cand in later:
                if self.flip(0.25 if cand[0] == "Group" else 0.1):
                    parents.append(cand)
            if self.flip(0.05):
                parents.append(self.pick(UNKNOWN[:2]))
            ent: dict[str, Any] = {
                "uid": self.uid_json(*u),
                "attrs": self.json_attrs(),
                "parents": [self.uid_json(*p) for p in parents],
            }
            if self.flip(0.4):
                ent["tags"] = {k: self.json_value(t) for k, t in TAG_TYPES.items() if self.flip(0.7)}
            out.append(ent)
        chosen_actions = [a for a in ACTIONS if self.flip(0.6)]
        for idx, a in enumerate(chosen_actions):
            parents = [p for p in chosen_actions[idx + 1 :] if self.flip(0.5)]
            ent = {"uid": self.uid_json(*a), "attrs": {}, "parents": [self.uid_json(*p) for p in parents]}
            if self.flip(0.2):
                ent["attrs"] = self.json_attrs()
            out.append(ent)
        if out and self.flip(0.5):
            # shuffle deterministically by rotating
            k = self.integer(0, len(out) - 1)
            out = out[k:] + out[:k]
        if out and self.flip(self.p.malformed * 3):
            self.perturb_entities(out)
        return out

    def perturb_entities(self, out: list[Any]) -> None:
        i = self.integer(0, len(out) - 1)
        ent = out[i]
        kind = self.integer(0, 16)
        if kind == 0:
            ent.pop("attrs", None)
        elif kind == 1:
            ent.pop("parents", None)
        elif kind == 2:
            out.append(copy.deepcopy(ent))  # identical duplicate
        elif kind == 3:
            dup = copy.deepcopy(ent)
            dup["attrs"]["zz"] = 1
            out.append(dup)  # conflicting duplicate
        elif kind == 4:
            ent["parents"].append(ent["uid"])  # self-loop
        elif kind == 5:
            other = out[self.integer(0, len(out) - 1)]
            ent["parents"].append(other["uid"])
            other["parents"].append(ent["uid"])  # (maybe) a cycle
        elif kind == 6:
            ent["uid"] = {"__entity": ent["uid"]}
        elif kind == 7:
            ent["uid"] = {
                "type": self.pick(["if", "principal", "A ", "__cedar::X", "NS::", "in", "Action"]),
                "id": "w",
            }
        elif kind == 8:
            ent["extra"] = 1
        elif kind == 9:
            ent["attrs"][self.pick(["n", "weird"])] = self.weird_json_value()
        elif kind == 10:
            out.append(
                {
                    "uid": {"type": "Action", "id": "view"},
                    "attrs": {},
                    "parents": [{"type": "User", "id": "alice"}],
                }
            )
        elif kind == 11:
            ent["tags"] = {"t1": self.weird_json_value()}
        elif kind == 12:
            ent["parents"] = [{"__entity": p} for p in ent["parents"]] + [{"type": "Group", "id": "g1"}]
        elif kind == 13:
            ent["attrs"] = {
                "n": 1,
                "nested": {"__entity": {"type": "Group", "id": "g1"}},
                "set": [[], [[]], {}],
            }
        elif kind == 14:
            target = self.pick([ent, ent.setdefault("attrs", {}), {"rec": None}])
            if "rec" in target and target["rec"] is None:
                ent.setdefault("attrs", {})["rec"] = {"n": 1, "@@DUPKEY@@": 0}
            else:
                target["@@DUPKEY@@" if target is not ent else "@@DUPUID@@"] = 0
        else:
            ent.setdefault("attrs", {})["n"] = self.pick(["@@NEG0@@", "@@LONE@@", "@@FLOAT@@"])

    # -- requests ---------------------------------------------------------------------------

    def request_uid(self, kind: str) -> Any:
        if kind == "action":
            t, i = self.weighted(
                [(10, None), (0.3, ("Action", "nope")), (0.2, ("User", "alice"))]
            ) or self.pick(ACTIONS)
        else:
            t, i = _principal_pool(self, kind)
        self.drawn_uids.append((kind, (t, i)))
        if self.flip(self.p.malformed):
            return self.pick(
                [
                    f'{t} :: "{i}"',
                    f' {t}::"{i}"',
                    'if::"a"',
                    {"type": "if", "id": "a"},
                    f'{t}::"\\u{{61}}"',
                    'User::"a\nb"',
                    {"type": t, "id": i, "extra": 1},
                    "User",
                ]
            )
        simple = i.isascii() and i.isalnum()
        if self.flip(0.3 if simple else 0.9):
            return {"type": t, "id": i}
        return uid_text(t, i)

    def request(self) -> dict[str, Any]:
        p = self.request_uid("principal")
        a = self.request_uid("action")
        r = self.request_uid("resource")
        ctx = self.json_attrs() if self.flip(0.85) else {}
        if self.flip(self.p.malformed * 2):
            ctx[self.pick(["n", "bad"])] = self.weird_json_value()
        if self.flip(self.p.malformed):
            if self.flip(0.5):
                ctx["@@DUPKEY@@"] = 0
            else:
                ctx[self.pick(["n", "s", "bad"])] = self.pick(["@@NEG0@@", "@@LONE@@", "@@FLOAT@@"])
        return {"principal": p, "action": a, "resource": r, "context": ctx}


def _principal_pool(g: Gen, kind: str = "any") -> tuple[str, str]:
    pool = g.weighted([(8, "typical"), (4, "simple"), (1, "unknown"), (1, "weird"), (0.3, "action")])
    if pool == "typical":
        if kind == "principal":
            return g.pick(SIMPLE_UNIVERSE[:3])
        if kind == "resource":
            return g.pick(SIMPLE_UNIVERSE[3:8])
        pool = "simple"
    if pool == "simple":
        return g.pick(SIMPLE_UNIVERSE)
    if pool == "unknown":
        return g.pick(UNKNOWN[:2])
    if pool == "weird":
        return g.pick([u for u in UNIVERSE if u not in SIMPLE_UNIVERSE])
    return g.pick(ACTIONS)


def _link_value(g: Gen, slot: str) -> Any:
    focus = g.focus.get(slot.lstrip("?"), [])
    t, i = g.pick(focus) if focus and g.flip(0.6) else _principal_pool(g, slot.lstrip("?"))
    if g.flip(g.p.malformed):
        return g.pick(
            [f'{t} :: "{i}"', 'if::"a"', {"type": "if", "id": "a"}, {"type": t, "id": i, "extra": 1}, "User"]
        )
    if g.flip(0.3):
        return {"type": t, "id": i}
    return uid_text(t, i)


@st.composite
def cases(draw: st.DrawFn, profile: Profile = MIXED, fine: bool = False) -> Case:
    """One case: policies (incl. templates and links), entities and 1-3 requests."""
    rng = None if fine else random.Random(draw(st.integers(0, 2**64 - 1)))
    g = Gen(draw, profile, rng)
    entities = g.entities()
    requests = [g.request() for _ in range(g.weighted([(4, 1), (3, 2), (2, 3)]))]
    g.set_focus(entities)
    policies = [g.policy() for _ in range(g.integer(1, profile.max_policies))]
    links: list[LinkSpec] = []
    for idx, pol in enumerate(policies):
        if not pol.slots:
            continue
        for _ in range(g.weighted([(1, 0), (4, 1), (2, 2)])):
            values = {slot: _link_value(g, slot) for slot in pol.slots}
            links.append(LinkSpec(idx, f"link{len(links)}", values))
    if g.flip(profile.malformed * 2):
        # a link that cannot work: unknown/static template, clashing id, wrong slots
        idx = g.integer(0, len(policies) - 1)
        pol = policies[idx]
        kind = g.integer(0, 3)
        values = {slot: _link_value(g, slot) for slot in pol.slots}
        if kind == 0:
            new_id = g.pick(["policy0", f"policy{idx}", "link0"])
        elif kind == 1:
            new_id = "bad"
            values["?resource" if "?principal" in values else "?principal"] = uid_text("User", "alice")
        elif kind == 2:
            new_id = "bad"
            values = {}
        else:
            new_id = "bad"
            idx = len(policies) + 3  # no such template
        links.append(LinkSpec(idx, new_id, values))
    return Case(policies, links, entities, requests)
