"""Schema-shaped cases: requests that policies actually decide.

:mod:`strategies` draws policies, entities and requests over one fixed universe,
mostly independently, so most requests end in a plain default deny.  Here each
case first draws a small *schema* (entity types with a membership hierarchy up
to four levels deep, typed required/optional attributes, optional tags, actions
in action groups, a context shape), then entities and requests conforming to it,
and only then policies aimed at those requests:

* scopes name a request's principal/resource/action or one of their ancestors
  (the deepest ones favoured, so the transitive closure matters), or a type
  (``is``);
* conditions test attributes that exist, with literals drawn from the values the
  entities really hold (equal decimals, strings containing ``*`` and patterns
  with a literal ``\\*``, ...), so that they come out true about half the time;
* a minority reads optional attributes without a ``has`` guard, or misuses a
  type, so that evaluation errors (also inside ``unless``) keep being compared.

A share of the cases also passes the schema itself to both engines (entities and
requests are then validated against it; a few are perturbed so that they do not
conform).  The result is an ordinary :class:`~tests.differential.strategies.Case`,
so the harness and the minimiser treat it like any other.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from .strategies import (
    AND,
    IF,
    MEMBER,
    OR,
    REL,
    UNARY,
    Case,
    Gen,
    Node,
    PolicySpec,
    Profile,
    leaf,
    uid_text,
)

# --------------------------------------------------------------------------------------
# Value pools: small, so that literals and attribute values often coincide
# --------------------------------------------------------------------------------------

LONGS = (0, 1, 2, 3, 5, 10, -1, 42)
STRINGS = ("a", "b", "ab", "a*b", "a*", "*", "axb", "abc", "", "x\\y", "hello world", "ünï")
DECIMALS = ("1.0", "1.5", "-0.25", "2.0", "0.0001", "10.0", "1.4999")
IPS = ("10.0.0.1", "10.0.0.0/8", "192.168.1.7", "192.168.0.0/16", "127.0.0.1", "::1", "fe80::1")
RANGES = ("10.0.0.0/8", "192.168.0.0/16", "127.0.0.0/8", "::1/128", "fe80::/10", "0.0.0.0/0")
DATETIMES = ("2024-01-01", "2024-06-01T12:00:00Z", "2023-12-31T23:59:59Z", "2024-06-01T14:00:00+0200")
DURATIONS = ("1h", "30m", "1d", "-2h", "90m", "1d2h")
TAG_KEYS = ("k1", "k2", "k3")

# Entity-type chains (child first).  Each type may be a member of the next ones.
PRINCIPAL_CHAINS = (("User", "Team", "Dept", "Org"), ("Person", "Group", "Division", "Company"))
RESOURCE_CHAINS = (("Doc", "Folder", "Drive", "Tenant"), ("Photo", "Album", "Library", "Account"))
ID_POOLS = ("alice", "bob", "carol", "a*b", "x y", "0", "ünï")
ACTION_GROUPS = ("readOnly", "readWrite", "all")
ACTIONS = ("view", "comment", "edit", "delete")
NAMESPACES = ("", "", "App", "Acme::Prod")

# (name, type) pools; types: Long String Bool decimal ipaddr datetime duration,
# ("Entity", role) with role "principal"/"resource", ("Set", elem), "Record"
ATTR_POOL: tuple[tuple[str, Any], ...] = (
    ("age", "Long"),
    ("level", "Long"),
    ("name", "String"),
    ("title", "String"),
    ("active", "Bool"),
    ("score", "decimal"),
    ("limit", "decimal"),
    ("addr", "ipaddr"),
    ("since", "datetime"),
    ("ttl", "duration"),
    ("owner", ("Entity", "principal")),
    ("parent", ("Entity", "resource")),
    ("labels", ("Set", "String")),
    ("nums", ("Set", "Long")),
    ("friends", ("Set", ("Entity", "principal"))),
    ("info", "Record"),
)
RECORD_SHAPE: tuple[tuple[str, Any, bool], ...] = (
    ("n", "Long", True),
    ("s", "String", True),
    ("opt", "Bool", False),
)
CONTEXT_POOL: tuple[tuple[str, Any], ...] = (
    ("ip", "ipaddr"),
    ("now", "datetime"),
    ("amount", "decimal"),
    ("mfa", "Bool"),
    ("reason", "String"),
    ("count", "Long"),
    ("via", ("Entity", "principal")),
)
EXT_FN = {"ipaddr": "ip", "decimal": "decimal", "datetime": "datetime", "duration": "duration"}


@dataclass
class Attr:
    name: str
    ty: Any
    required: bool


@dataclass
class EntityType:
    name: str  # fully qualified
    role: str  # principal / resource
    level: int  # 0 = the request's type, higher = containers
    attrs: list[Attr]
    parents: list[str]  # fully qualified parent types
    tags: Any = None  # tag type or None
    ids: list[str] = field(default_factory=list)


@dataclass
class World:
    """The generated schema plus the entity data conforming to it."""

    namespace: str
    types: dict[str, EntityType]
    actions: dict[str, list[str]]  # action id -> parent action ids
    action_applies: dict[str, tuple[list[str], list[str]]]
    context: list[Attr]
    entities: dict[tuple[str, str], dict[str, Any]]  # uid -> {"attrs": python values, "parents": [...]}
    ancestors: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def action_type(self) -> str:
        return f"{self.namespace}::Action" if self.namespace else "Action"

    def by_role(self, role: str, level: int | None = None) -> list[EntityType]:
        return [t for t in self.types.values() if t.role == role and (level is None or t.level == level)]

    def close(self) -> None:
        """Transitive closure of the parents (entities and actions)."""
        parents = {uid: [tuple(p) for p in e["parents"]] for uid, e in self.entities.items()}
        for aid, pars in self.actions.items():
            parents[(self.action_type, aid)] = [(self.action_type, p) for p in pars]
        for uid in parents:
            seen: list[tuple[str, str]] = []
            todo = list(parents[uid])
            while todo:
                u = todo.pop(0)
                if u not in seen:
                    seen.append(u)
                    todo.extend(parents.get(u, []))
            self.ancestors[uid] = seen


# --------------------------------------------------------------------------------------
# JSON forms
# --------------------------------------------------------------------------------------


def type_json(ty: Any, world: World) -> dict[str, Any]:
    if isinstance(ty, tuple) and ty[0] == "Entity":
        return {"type": "Entity", "name": _role_type(world, ty[1])}
    if isinstance(ty, tuple) and ty[0] == "Set":
        return {"type": "Set", "element": type_json(ty[1], world)}
    if ty == "Record":
        return {
            "type": "Record",
            "attributes": {n: {**type_json(t, world), "required": r} for n, t, r in RECORD_SHAPE},
        }
    if ty in EXT_FN:
        return {"type": "Extension", "name": ty}
    return {"type": "Boolean" if ty == "Bool" else ty}


def _role_type(world: World, role: str) -> str:
    return world.by_role(role, 0)[0].name


def _local(world: World, name: str) -> str:
    """A type name as written inside its namespace in schema JSON."""
    prefix = world.namespace + "::"
    return name[len(prefix) :] if world.namespace and name.startswith(prefix) else name


def schema_json(world: World) -> dict[str, Any]:
    ets: dict[str, Any] = {}
    for t in world.types.values():
        ent: dict[str, Any] = {
            "memberOfTypes": [_local(world, p) for p in t.parents],
            "shape": {
                "type": "Record",
                "attributes": {a.name: {**type_json(a.ty, world), "required": a.required} for a in t.attrs},
            },
        }
        if t.tags is not None:
            ent["tags"] = type_json(t.tags, world)
        ets[_local(world, t.name)] = ent
    actions: dict[str, Any] = {}
    for aid, pars in world.actions.items():
        act: dict[str, Any] = {"memberOf": [{"id": p} for p in pars]}
        if aid in world.action_applies:
            ps, rs = world.action_applies[aid]
            act["appliesTo"] = {
                "principalTypes": [_local(world, p) for p in ps],
                "resourceTypes": [_local(world, r) for r in rs],
                "context": {
                    "type": "Record",
                    "attributes": {
                        a.name: {**type_json(a.ty, world), "required": a.required} for a in world.context
                    },
                },
            }
        actions[aid] = act
    return {world.namespace: {"entityTypes": ets, "actions": actions}}


def value_json(v: Any) -> Any:
    """Python generator values -> entity/context JSON (explicit ``__entity``/``__extn``)."""
    if isinstance(v, Ext):
        return {"__extn": {"fn": EXT_FN[v.ty], "arg": v.text}}
    if isinstance(v, Ref):
        return {"__entity": {"type": v.type, "id": v.id}}
    if isinstance(v, list):
        return [value_json(x) for x in v]
    if isinstance(v, dict):
        return {k: value_json(x) for k, x in v.items()}
    return v


@dataclass(frozen=True)
class Ext:
    ty: str
    text: str


@dataclass(frozen=True)
class Ref:
    type: str
    id: str


def _str_lit(s: str) -> str:
    out = []
    for ch in s:
        out.append({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}.get(ch, ch))
    return '"' + "".join(out) + '"'


def _pattern_lit(pieces: list[str | None]) -> str:
    """A ``like`` pattern: ``None`` is the wildcard, a literal ``*`` is written ``\\*``."""
    out = []
    for p in pieces:
        if p is None:
            out.append("*")
        else:
            out.append(_str_lit(p)[1:-1].replace("*", "\\*"))
    return '"' + "".join(out) + '"'


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------


class SchemaGen(Gen):
    """Draws a :class:`World`, requests over it, then policies aimed at the requests."""

    w: World  # the schema and entities of the case
    reqs: list[dict[str, Any]]  # each request's uids as (type, id) pairs, and its context
    focus_req: dict[str, Any]  # the request the policy being drawn aims at

    def world(self) -> World:
        ns = self.pick(NAMESPACES)
        q = (lambda n: f"{ns}::{n}") if ns else (lambda n: n)
        types: dict[str, EntityType] = {}
        for role, chains in (("principal", PRINCIPAL_CHAINS), ("resource", RESOURCE_CHAINS)):
            chain = self.pick(chains)[: self.weighted([(1, 2), (3, 3), (4, 4)])]
            for level, name in enumerate(chain):
                parents = [q(n) for n in chain[level + 1 : level + 3]]  # skip-level memberships too
                if level > 0 and self.flip(0.2):
                    parents.append(q(name))  # containers nest (Folder in Folder)
                attrs = []
                pool = list(ATTR_POOL)
                for _ in range(self.integer(2, 6) if level == 0 else self.integer(0, 3)):
                    name_ty = self.pick(pool)
                    pool.remove(name_ty)
                    attrs.append(Attr(name_ty[0], name_ty[1], self.flip(0.7)))
                tags = self.pick(["String", "Long"]) if self.flip(0.3) else None
                ids = [
                    self.pick(ID_POOLS) if self.flip(0.3) else f"{name[0].lower()}{i}"
                    for i in range(self.integer(1, 3))
                ]
                types[q(name)] = EntityType(
                    q(name), role, level, attrs, parents, tags, list(dict.fromkeys(ids))
                )
        # actions: leaves in groups, groups in bigger groups
        actions: dict[str, list[str]] = {}
        groups = list(ACTION_GROUPS[: self.integer(1, 3)])
        for gi, g in enumerate(groups):
            actions[g] = [h for h in groups[gi + 1 :] if self.flip(0.7)]
        applies: dict[str, tuple[list[str], list[str]]] = {}
        for a in ACTIONS[: self.integer(2, 4)]:
            actions[a] = [g for g in groups if self.flip(0.5)] or [groups[0]]
            applies[a] = (
                [t.name for t in types.values() if t.role == "principal" and t.level == 0],
                [t.name for t in types.values() if t.role == "resource" and t.level == 0],
            )
        context = []
        pool = list(CONTEXT_POOL)
        for _ in range(self.integer(0, 4)):
            name_ty = self.pick(pool)
            pool.remove(name_ty)
            context.append(Attr(name_ty[0], name_ty[1], self.flip(0.7)))
        world = World(ns, types, actions, applies, context, {})
        self.w = world
        for t in sorted(types.values(), key=lambda t: -t.level):
            for i in t.ids:
                uid = (t.name, i)
                parents = []
                for pt in t.parents:
                    cands = [(pt, j) for j in types[pt].ids if (pt, j) != uid and (pt != t.name or j > i)]
                    for c in cands:
                        if self.flip(0.6 if len(cands) == 1 else 0.4):
                            parents.append(c)
                world.entities[uid] = {
                    "attrs": self.attr_values(t.attrs),
                    "parents": parents,
                    "tags": {k: self.value(t.tags) for k in TAG_KEYS if self.flip(0.5)} if t.tags else None,
                }
        world.close()
        return world

    # -- values ---------------------------------------------------------------------------

    def value(self, ty: Any) -> Any:
        if ty == "Long":
            return self.pick(LONGS)
        if ty == "String":
            return self.pick(STRINGS)
        if ty == "Bool":
            return self.flip(0.6)
        if ty == "decimal":
            return Ext(ty, self.pick(DECIMALS))
        if ty == "ipaddr":
            return Ext(ty, self.pick(IPS))
        if ty == "datetime":
            return Ext(ty, self.pick(DATETIMES))
        if ty == "duration":
            return Ext(ty, self.pick(DURATIONS))
        if ty == "Record":
            return {n: self.value(t) for n, t, r in RECORD_SHAPE if r or self.flip(0.5)}
        if isinstance(ty, tuple) and ty[0] == "Entity":
            t = self.pick(self.w.by_role(ty[1], 0))
            return Ref(t.name, self.pick(t.ids))
        if isinstance(ty, tuple) and ty[0] == "Set":
            return [self.value(ty[1]) for _ in range(self.weighted([(1, 0), (3, 1), (3, 2), (1, 3)]))]
        raise AssertionError(ty)

    def attr_values(self, attrs: list[Attr]) -> dict[str, Any]:
        return {a.name: self.value(a.ty) for a in attrs if a.required or self.flip(0.5)}

    # -- requests -------------------------------------------------------------------------

    def request(self) -> dict[str, Any]:
        w = self.w
        act = self.pick([a for a in w.actions if a in w.action_applies])
        uids = {}
        for var in ("principal", "resource"):
            t = self.pick(w.by_role(var, 0))
            i = self.pick(t.ids) if self.flip(0.95) else "nobody"
            uids[var] = {"type": t.name, "id": i} if self.flip(0.4) else uid_text(t.name, i)
        req: dict[str, Any] = {
            "principal": uids["principal"],
            "action": uid_text(w.action_type, act),
            "resource": uids["resource"],
        }
        req["context"] = value_json(self.attr_values(w.context))
        return req

    # -- expressions ----------------------------------------------------------------------

    def setup_focus(self, requests: list[dict[str, Any]]) -> None:
        """Remember each request's uids (as pairs) and their ancestors."""
        self.reqs = []
        for r in requests:
            pair = {}
            for var in ("principal", "action", "resource"):
                u = r[var]
                pair[var] = (u["type"], u["id"]) if isinstance(u, dict) else self._parse_uid(u)
            pair["context"] = r["context"]
            self.reqs.append(pair)

    @staticmethod
    def _parse_uid(text: str) -> tuple[str, str]:
        head, _, body = text.partition('::"')
        return head, json.loads('"' + body[:-1] + '"')

    def lit(self, uid: tuple[str, str]) -> str:
        return uid_text(*uid)

    def target(self, var: str) -> tuple[str, str]:
        """An entity for a scope/``in`` test: the request's own, an ancestor (deep ones
        favoured) or now and then an unrelated one."""
        uid: tuple[str, str] = self.focus_req[var]
        anc = self.w.ancestors.get(uid, [])
        kind = self.weighted([(2, "self"), (5 if anc else 0, "anc"), (1, "other")])
        if kind == "self":
            return uid
        if kind == "anc":
            # the later in the list, the deeper the ancestor: favour those
            return anc[max(self.integer(0, len(anc) - 1), self.integer(0, len(anc) - 1))]
        if var == "action":
            return (self.w.action_type, self.pick(list(self.w.actions)))
        return self.pick(list(self.w.entities))

    def scope(self, var: str) -> str:
        kind = self.weighted([(3, "all"), (2, "=="), (4, "in"), (1, "is"), (1, "is in"), (0.5, "in list")])
        if var == "action":
            kind = {"is": "in", "is in": "in list"}.get(kind, kind)
        elif kind == "in list":
            kind = "in"  # only the action scope takes a list
        if kind == "all":
            return var
        if kind == "==":
            return f"{var} == {self.lit(self.focus_req[var] if self.flip(0.8) else self.target(var))}"
        if kind == "in":
            return f"{var} in {self.lit(self.target(var))}"
        if kind == "in list":
            return f"{var} in [{', '.join(self.lit(self.target(var)) for _ in range(self.integer(1, 3)))}]"
        typ = self.focus_req[var][0] if self.flip(0.8) else self.pick(list(self.w.types))
        if kind == "is":
            return f"{var} is {typ}"
        return f"{var} is {typ} in {self.lit(self.target(var))}"

    def recv(self) -> tuple[Node, tuple[str, str] | None, list[Attr], Any]:
        """A receiver of attribute accesses: (expr, uid, its attributes, its attr values)."""
        var = self.weighted([(4, "principal"), (4, "resource"), (2 if self.w.context else 0, "context")])
        if var == "context":
            return leaf("context"), None, self.w.context, self.focus_req["context"]
        uid = self.focus_req[var]
        ent = self.w.entities.get(uid)
        t = self.w.types.get(uid[0])
        if t is None:
            return leaf(var), uid, [], {}
        return leaf(var), uid, t.attrs, (ent or {}).get("attrs", {})

    def access(self, recv: Node, name: str) -> Node:
        if self.flip(0.15):
            return Node(MEMBER, recv, "[", _str_lit(name), "]")
        return Node(MEMBER, recv, "." + name)

    def near(self, ty: Any, actual: Any) -> Any:
        """A literal value of ``ty``: often the actual value, else another one."""
        if actual is not None and not isinstance(actual, (list, dict)) and self.flip(0.5):
            return actual
        return self.value(ty)

    def lit_value(self, v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return _str_lit(v)
        if isinstance(v, Ext):
            return f'{EXT_FN[v.ty]}("{v.text}")'
        if isinstance(v, Ref):
            return uid_text(v.type, v.id)
        if isinstance(v, list):
            return "[" + ", ".join(self.lit_value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}: {self.lit_value(x)}" for k, x in v.items()) + "}"
        raise AssertionError(v)

    def test_attr(self, acc: Node, ty: Any, actual: Any, d: int) -> Node:
        """A boolean test of an attribute value of type ``ty`` (``actual`` when known)."""
        if isinstance(actual, dict) and "__extn" in actual:
            actual = Ext(ty, actual["__extn"]["arg"])
        elif isinstance(actual, dict) and "__entity" in actual:
            actual = Ref(actual["__entity"]["type"], actual["__entity"]["id"])
        if ty == "Long":
            op = self.pick(["<", "<=", ">", ">=", "==", "!="])
            return Node(REL, acc, f" {op} ", leaf(str(self.near(ty, actual)), UNARY))
        if ty == "Bool":
            return self.pick([acc, Node(REL, acc, " == ", leaf(self.lit_value(self.near(ty, actual))))])
        if ty == "String":
            if self.flip(0.6):
                return Node(
                    REL, acc, " like ", leaf(self.pattern_for(actual if isinstance(actual, str) else None))
                )
            return Node(REL, acc, f" {self.pick(['==', '!='])} ", leaf(_str_lit(self.near(ty, actual))))
        if ty == "decimal":
            m = self.pick(["lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "=="])
            other = self.lit_value(self.near(ty, actual))
            if m == "==":
                return Node(REL, acc, " == ", leaf(other))
            return Node(MEMBER, acc, f".{m}({other})")
        if ty == "ipaddr":
            m = self.pick(["isInRange", "isInRange", "isLoopback", "isIpv4", "isMulticast"])
            if m == "isInRange":
                return Node(MEMBER, acc, f'.isInRange(ip("{self.pick(RANGES)}"))')
            return Node(MEMBER, acc, f".{m}()")
        if ty in ("datetime", "duration"):
            op = self.pick(["<", "<=", ">", ">=", "==", "!="])
            other = self.lit_value(self.near(ty, actual))
            if ty == "datetime" and self.flip(0.3):
                acc = Node(MEMBER, acc, f'.offset(duration("{self.pick(DURATIONS)}"))')
            return Node(REL, acc, f" {op} ", leaf(other))
        if isinstance(ty, tuple) and ty[0] == "Entity":
            if self.flip(0.5):
                return Node(REL, acc, " == ", leaf(self.lit(self.entity_near(actual))))
            return Node(REL, acc, " in ", leaf(self.lit(self.target(ty[1]))))
        if isinstance(ty, tuple) and ty[0] == "Set":
            elem = ty[1]
            m = self.pick(["contains", "contains", "containsAny", "containsAll", "isEmpty"])
            pool = actual if isinstance(actual, list) and actual else None
            if m == "isEmpty":
                return Node(MEMBER, acc, ".isEmpty()")
            if m == "contains":
                if isinstance(elem, tuple) and self.flip(0.4):
                    return Node(
                        MEMBER, acc, f".contains({'principal' if elem[1] == 'principal' else 'resource'})"
                    )
                v = self.pick(pool) if pool and self.flip(0.5) else self.value(elem)
                return Node(MEMBER, acc, f".contains({self.lit_value(self._plain(v))})")
            vs = [
                self.pick(pool) if pool and self.flip(0.5) else self.value(elem)
                for _ in range(self.integer(0, 2))
            ]
            return Node(MEMBER, acc, f".{m}({self.lit_value([self._plain(v) for v in vs])})")
        if ty == "Record":
            sub = self.pick(RECORD_SHAPE)
            inner = actual.get(sub[0]) if isinstance(actual, dict) else None
            a2 = self.access(acc, sub[0])
            t = self.test_attr(a2, sub[1], inner, d)
            if not sub[2] and self.flip(0.7):
                return Node(AND, Node(REL, acc, f" has {sub[0]}"), " && ", self.paren(t, REL))
            return t
        raise AssertionError(ty)

    @staticmethod
    def _plain(v: Any) -> Any:
        if isinstance(v, dict) and "__entity" in v:
            return Ref(v["__entity"]["type"], v["__entity"]["id"])
        return v

    def entity_near(self, actual: Any) -> tuple[str, str]:
        if isinstance(actual, Ref) and self.flip(0.5):
            return (actual.type, actual.id)
        return self.pick(list(self.w.entities))

    def pattern_for(self, actual: str | None) -> str:
        """A ``like`` pattern built from ``actual``: characters cut out as wildcards,
        and literal stars (``\\*``) where ``actual`` has a ``*`` or another character."""
        s = actual if actual is not None and self.flip(0.8) else self.pick(STRINGS)
        pieces: list[str | None] = []
        for ch in s:
            k = self.weighted([(6, "keep"), (1, "wild"), (0.6, "star"), (0.3, "drop")])
            if k == "keep":
                pieces.append(ch)
            elif k == "wild":
                pieces.append(None)
            elif k == "star":
                pieces.append("*")  # a literal star: matches only a `*`
        if self.flip(0.2):
            pieces.insert(self.integer(0, len(pieces)), None)
        return _pattern_lit(pieces)

    def cond(self, d: int) -> Node:
        kind = self.weighted(
            [
                (6, "attr"),
                (2 if d > 0 else 0, "andor"),
                (1 if d > 0 else 0, "not"),
                (2, "in"),
                (1, "tag"),
                (1, "is"),
                (0.8, "unguarded"),
                (0.3, "illtyped"),
                (0.3 if d > 0 else 0, "if"),
            ]
        )
        if kind == "andor":
            if self.flip(0.5):
                return Node(AND, self.paren(self.cond(d - 1), AND), " && ", self.paren(self.cond(d - 1), REL))
            return Node(OR, self.paren(self.cond(d - 1), OR), " || ", self.paren(self.cond(d - 1), AND))
        if kind == "not":
            return Node(UNARY, "!", self.paren(self.cond(d - 1), MEMBER))
        if kind == "if":
            return Node(IF, "if ", self.cond(d - 1), " then ", self.cond(d - 1), " else ", self.cond(d - 1))
        if kind == "in":
            var = self.pick(["principal", "resource"])
            lhs: Node = leaf(var)
            ent = self.w.entities.get(self.focus_req[var], {})
            refs = [(a, v) for a, v in ent.get("attrs", {}).items() if isinstance(v, Ref)]
            if refs and self.flip(0.4):
                a, v = self.pick(refs)
                lhs = self.access(leaf(var), a)
                return Node(
                    REL,
                    lhs,
                    " in ",
                    leaf(self.lit(self.pick([(v.type, v.id), *self.w.ancestors.get((v.type, v.id), [])]))),
                )
            if self.flip(0.3):
                return Node(
                    REL,
                    lhs,
                    " in ",
                    leaf(
                        "[" + ", ".join(self.lit(self.target(var)) for _ in range(self.integer(1, 3))) + "]"
                    ),
                )
            return Node(REL, lhs, " in ", leaf(self.lit(self.target(var))))
        if kind == "is":
            var = self.pick(["principal", "resource"])
            typ = self.focus_req[var][0] if self.flip(0.6) else self.pick(list(self.w.types))
            if self.flip(0.3):
                return Node(REL, leaf(var), f" is {typ} in ", leaf(self.lit(self.target(var))))
            return Node(REL, leaf(var), f" is {typ}")
        if kind == "tag":
            var = self.pick(["principal", "resource"])
            uid = self.focus_req[var]
            t = self.w.types.get(uid[0])
            key = self.pick(TAG_KEYS)
            has = Node(MEMBER, leaf(var), f'.hasTag("{key}")')
            if t is None or t.tags is None or self.flip(0.3):
                return has
            tags = (self.w.entities.get(uid) or {}).get("tags") or {}
            get = Node(MEMBER, leaf(var), f'.getTag("{key}")')
            test = self.test_attr(get, t.tags, tags.get(key), d)
            if self.flip(0.8):
                return Node(AND, has, " && ", self.paren(test, REL))
            return test  # may error: the tag may be missing
        recv, _uid, attrs, values = self.recv()
        if not attrs or kind == "illtyped":
            # a type error or a missing attribute on purpose
            name = self.pick([a.name for a in attrs] or ["missing"])
            return self.pick(
                [
                    Node(REL, self.access(recv, name), ' like "a*"'),
                    Node(REL, self.access(recv, name), " > 1"),
                    Node(REL, self.access(recv, "nope"), " == 1"),
                    Node(MEMBER, self.access(recv, name), ".contains(1)"),
                ]
            )
        a = self.pick(attrs)
        acc = self.access(recv, a.name)
        test = self.test_attr(acc, a.ty, values.get(a.name), d)
        if not a.required and kind != "unguarded":
            return Node(AND, Node(REL, recv, f" has {a.name}"), " && ", self.paren(test, REL))
        return test

    def policy(self) -> PolicySpec:
        self.focus_req = self.pick(self.reqs)
        effect = "permit" if self.flip(0.6) else "forbid"
        principal, action, resource = self.scope("principal"), self.scope("action"), self.scope("resource")
        conditions = []
        for _ in range(self.weighted([(3, 0), (5, 1), (2, 2)])):
            kw = "when" if self.flip(0.7) else "unless"
            conditions.append((kw, self.cond(self.integer(0, 2))))
        return PolicySpec(effect, principal, action, resource, conditions)

    # -- entity JSON ------------------------------------------------------------------------

    def entity_json(self, with_schema: bool) -> list[Any]:
        out: list[Any] = []
        for (t, i), e in self.w.entities.items():
            ent: dict[str, Any] = {
                "uid": {"type": t, "id": i},
                "attrs": value_json(e["attrs"]),
                "parents": [{"type": pt, "id": pi} for pt, pi in e["parents"]],
            }
            if e["tags"] is not None:
                ent["tags"] = value_json(e["tags"])
            out.append(ent)
        if not with_schema:
            for aid, pars in self.w.actions.items():
                out.append(
                    {
                        "uid": {"type": self.w.action_type, "id": aid},
                        "attrs": {},
                        "parents": [{"type": self.w.action_type, "id": p} for p in pars],
                    }
                )
        k = self.integer(0, max(0, len(out) - 1))
        return out[k:] + out[:k]

    def break_conformance(self, entities: list[Any], requests: list[dict[str, Any]]) -> None:
        """Make the data not conform to the schema in one place (schema cases only)."""
        kind = self.integer(0, 5)
        ents = [e for e in entities if e.get("attrs")]
        if kind == 0 and ents:
            # a value of the wrong type (not for an extension-typed attribute: Rust reads
            # any value there as the argument of an implicit constructor call)
            e = self.pick(ents)
            declared = {a.name: a.ty for a in self.w.types[e["uid"]["type"]].attrs}
            names = [n for n in e["attrs"] if declared.get(n) not in EXT_FN]
            if names:
                e["attrs"][self.pick(names)] = self.pick([1, "x", True, []])
        elif kind == 1 and ents:
            e = self.pick(ents)
            del e["attrs"][self.pick(list(e["attrs"]))]
        elif kind == 2 and entities:
            self.pick(entities)["attrs"]["undeclared"] = 1
        elif kind == 3 and entities:
            # a parent of a type the schema does not allow, not even through the
            # hierarchy (Rust accepts a parent whose type is a transitive memberOfTypes:
            # see test_edge_cases.test_schema_transitive_parent_type)
            e = self.pick(entities)
            allowed: set[str] = set()
            todo = [e["uid"]["type"]]
            while todo:
                for pt in self.w.types[todo.pop()].parents:
                    if pt not in allowed:
                        allowed.add(pt)
                        todo.append(pt)
            bad = [t for t in self.w.types if t not in allowed]
            if bad:
                e["parents"].append({"type": self.pick(bad), "id": "zz"})
        elif kind == 4:
            entities.append({"uid": {"type": "Unknown", "id": "u"}, "attrs": {}, "parents": []})
        else:
            r = self.pick(requests)
            if self.flip(0.5):
                r["context"] = {**r["context"], "undeclared": 1}
            else:
                r["principal"], r["resource"] = r["resource"], r["principal"]


@dataclass(frozen=True)
class SchemaProfile(Profile):
    schema_share: float = 0.3  # cases that pass the schema to both engines
    nonconforming: float = 0.15  # of those, cases whose data breaks the schema


SCHEMA = SchemaProfile(name="schema")


@st.composite
def schema_cases(draw: st.DrawFn, profile: SchemaProfile = SCHEMA) -> Case:
    rng = random.Random(draw(st.integers(0, 2**64 - 1)))
    g = SchemaGen(draw, profile, rng)
    world = g.world()
    requests = [g.request() for _ in range(g.weighted([(2, 1), (3, 2), (3, 3)]))]
    g.setup_focus(requests)
    policies = [g.policy() for _ in range(g.weighted([(2, 1), (4, 2), (3, 3), (1, 4)]))]
    with_schema = g.flip(profile.schema_share)
    entities = g.entity_json(with_schema)
    if with_schema and g.flip(profile.nonconforming):
        g.break_conformance(entities, requests)
    return Case(policies, [], entities, requests, schema=schema_json(world) if with_schema else None)
