"""Hypothesis strategies: random (schema, policy set) pairs for differential validation tests.

A schema is drawn first (entity types with attributes, tags, hierarchies and enumerations;
actions with groups, ``appliesTo`` and contexts, sometimes in a namespace). Policies are then
generated *by type* against that schema, so a good share of them validate, mixed with the
mistakes the validator must catch: misspelt or optional attributes, unknown entity types and
actions, invalid enum ids, ill-typed operators, heterogeneous sets, empty sets, bad extension
literals, non-literal constructor arguments, unsafe tag access, scope constraints that match no
action, templates with slots, and so on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

# ----------------------------------------------------------------------------------------------
# Schema model


@dataclass
class TypeDesc:
    """A schema type: ``kind`` in Bool/Long/String/Set/Entity/Record/ipaddr/decimal/datetime/duration."""

    kind: str
    elem: TypeDesc | None = None
    entity: str | None = None
    attrs: dict[str, tuple[TypeDesc, bool]] = field(default_factory=dict)

    def cedar(self) -> str:
        if self.kind == "Set":
            assert self.elem is not None
            return f"Set<{self.elem.cedar()}>"
        if self.kind == "Entity":
            assert self.entity is not None
            return self.entity
        if self.kind == "Record":
            return (
                "{"
                + ", ".join(f'"{k}"{"" if req else "?"}: {t.cedar()}' for k, (t, req) in self.attrs.items())
                + "}"
            )
        return self.kind


@dataclass
class EntityDesc:
    name: str
    parents: list[str] = field(default_factory=list)
    attrs: dict[str, tuple[TypeDesc, bool]] = field(default_factory=dict)
    tags: TypeDesc | None = None
    enum: list[str] | None = None


@dataclass
class ActionDesc:
    name: str
    namespace: str
    parents: list[str] = field(default_factory=list)
    principals: list[str] | None = None
    resources: list[str] | None = None
    context: dict[str, tuple[TypeDesc, bool]] = field(default_factory=dict)

    @property
    def uid(self) -> str:
        prefix = f"{self.namespace}::" if self.namespace else ""
        return f'{prefix}Action::"{self.name}"'


@dataclass
class SchemaDesc:
    entities: list[EntityDesc]
    actions: list[ActionDesc]

    def entity(self, name: str) -> EntityDesc | None:
        for e in self.entities:
            if e.name == name:
                return e
        return None

    def cedar(self) -> str:
        by_ns: dict[str, list[str]] = {}
        for e in self.entities:
            ns, _, base = e.name.rpartition("::")
            if e.enum is not None:
                decl = f"entity {base} enum [{', '.join(json.dumps(x) for x in e.enum)}];"
            else:
                parents = f" in [{', '.join(e.parents)}]" if e.parents else ""
                attrs = ", ".join(
                    f'"{k}"{"" if req else "?"}: {t.cedar()}' for k, (t, req) in e.attrs.items()
                )
                tags = f" tags {e.tags.cedar()}" if e.tags is not None else ""
                decl = f"entity {base}{parents} {{{attrs}}}{tags};"
            by_ns.setdefault(ns, []).append(decl)
        for a in self.actions:
            parents = ""
            if a.parents:
                parents = " in [" + ", ".join(f'"{p}"' for p in a.parents) + "]"
            applies = ""
            if a.principals is not None or a.resources is not None:
                parts = []
                if a.principals is not None:
                    parts.append(f"principal: [{', '.join(a.principals)}]")
                if a.resources is not None:
                    parts.append(f"resource: [{', '.join(a.resources)}]")
                if a.context:
                    ctx = ", ".join(
                        f'"{k}"{"" if req else "?"}: {t.cedar()}' for k, (t, req) in a.context.items()
                    )
                    parts.append(f"context: {{{ctx}}}")
                applies = " appliesTo { " + ", ".join(parts) + " }"
            by_ns.setdefault(a.namespace, []).append(f'action "{a.name}"{parents}{applies};')
        out = []
        for ns, decls in by_ns.items():
            if ns:
                out.append(f"namespace {ns} {{\n  " + "\n  ".join(decls) + "\n}")
            else:
                out.extend(decls)
        return "\n".join(out) + "\n"


ENTITY_NAMES = ("User", "Group", "Photo", "Album", "Team")
ATTR_NAMES = ("a", "b", "name", "owner", "level", "info", "tags", "flag")
ACTION_NAMES = ("view", "edit", "delete", "list", "admin")
EXT_TYPES = ("ipaddr", "decimal", "datetime", "duration")


@st.composite
def type_descs(draw: st.DrawFn, entity_names: list[str], depth: int = 0) -> TypeDesc:
    kinds = ["Bool", "Long", "String", "Long", "String", "Entity", *EXT_TYPES]
    if depth < 2:
        kinds += ["Set", "Record", "Set"]
    kind = draw(st.sampled_from(kinds))
    if kind == "Entity":
        if not entity_names:
            return TypeDesc("Long")
        return TypeDesc("Entity", entity=draw(st.sampled_from(entity_names)))
    if kind == "Set":
        return TypeDesc("Set", elem=draw(type_descs(entity_names, depth + 1)))
    if kind == "Record":
        return TypeDesc("Record", attrs=draw(attr_maps(entity_names, depth + 1, max_size=3)))
    return TypeDesc(kind)


@st.composite
def attr_maps(
    draw: st.DrawFn, entity_names: list[str], depth: int = 0, max_size: int = 4
) -> dict[str, tuple[TypeDesc, bool]]:
    names = draw(st.lists(st.sampled_from(ATTR_NAMES), max_size=max_size, unique=True))
    return {n: (draw(type_descs(entity_names, depth)), draw(st.booleans())) for n in names}


@st.composite
def schemas(draw: st.DrawFn) -> SchemaDesc:
    # "" and "NS": everything in one namespace; "mixed": each declaration picks one
    layout = draw(st.sampled_from(["", "", "NS", "mixed"]))

    def pick_ns() -> str:
        return draw(st.sampled_from(["", "NS"])) if layout == "mixed" else layout

    base_names = draw(st.lists(st.sampled_from(ENTITY_NAMES), min_size=1, max_size=4, unique=True))
    names = [f"{ns}::{n}" if (ns := pick_ns()) else n for n in base_names]
    entities: list[EntityDesc] = []
    for i, name in enumerate(names):
        if i > 0 and draw(st.integers(0, 5)) == 0:
            entities.append(
                EntityDesc(
                    name,
                    enum=draw(
                        st.lists(
                            st.sampled_from(["red", "green", "x y", ""]), min_size=1, max_size=3, unique=True
                        )
                    ),
                )
            )
            continue
        others = [n for n in names if n != name]
        parents = draw(st.lists(st.sampled_from(others), max_size=2, unique=True)) if others else []
        attrs = draw(attr_maps(names))
        tags = draw(type_descs(names, 1)) if draw(st.integers(0, 3)) == 0 else None
        entities.append(EntityDesc(name, parents, attrs, tags))
    std = [e.name for e in entities]
    action_names = draw(st.lists(st.sampled_from(ACTION_NAMES), min_size=1, max_size=4, unique=True))
    action_ns = [pick_ns() for _ in action_names]
    actions: list[ActionDesc] = []
    for i, aname in enumerate(action_names):
        namespaced = action_ns[i]
        groups = [g for j, g in enumerate(action_names) if j > i and action_ns[j] == namespaced]
        parents = draw(st.lists(st.sampled_from(groups), max_size=2, unique=True)) if groups else []
        if draw(st.integers(0, 6)) == 0:
            actions.append(ActionDesc(aname, namespaced, parents))
            continue
        principals = draw(st.lists(st.sampled_from(std), min_size=1, max_size=2, unique=True))
        resources = draw(st.lists(st.sampled_from(std), min_size=1, max_size=2, unique=True))
        context = draw(attr_maps(names, 0, max_size=3))
        actions.append(ActionDesc(aname, namespaced, parents, principals, resources, context))
    return SchemaDesc(entities, actions)


# ----------------------------------------------------------------------------------------------
# Policies


@dataclass
class Gen:
    """Expression generator state for one schema."""

    schema: SchemaDesc
    draw: st.DrawFn
    principal: str | None = None  # entity type the scope pins `principal` to, if any
    resource: str | None = None
    action: ActionDesc | None = None

    def choice(self, options: Sequence[T]) -> T:
        return self.draw(st.sampled_from(list(options)))

    def coin(self, n: int = 2) -> bool:
        return self.draw(st.integers(0, n - 1)) == 0

    # -- literals
    def entity_type_name(self) -> str:
        known = [e.name for e in self.schema.entities]
        return self.choice([*known, *known, "Nope", "NS::Other", "Usr"])

    def euid(self, ety: str | None = None) -> str:
        ety = ety or self.entity_type_name()
        desc = self.schema.entity(ety)
        if desc is not None and desc.enum is not None and not self.coin(4):
            eid = self.choice(desc.enum)
        else:
            eid = self.choice(["alice", "bob", "red", "x y"])
        return f"{ety}::{json.dumps(eid)}"

    def action_uid(self) -> str:
        uids = [a.uid for a in self.schema.actions]
        return self.choice([*uids, *uids, 'Action::"nope"', 'NS::Action::"view"', 'Action::"view"'])

    # -- typed expressions
    def expr(self, want: str, depth: int) -> str:
        """An expression that (usually) has type ``want``: bool/long/string/entity/set/record/ext/any."""
        if depth <= 0 or self.coin(3):
            return self.leaf(want)
        if want == "bool":
            return self.bool_expr(depth)
        if want == "long":
            op = self.choice(["+", "-", "*", "neg", "attr", "if", "ext"])
            if op == "neg":
                return f"-({self.expr('long', depth - 1)})"
            if op == "attr":
                return self.attr_access(depth, "Long")
            if op == "if":
                return self.if_expr("long", depth)
            if op == "ext":
                return f'duration("{self.choice(["1h", "2d3m", "-5s"])}").{self.choice(["toMilliseconds", "toHours", "toDays"])}()'
            return f"({self.expr('long', depth - 1)} {op} {self.expr(self.choice(['long', 'long', 'string']), depth - 1)})"
        if want == "set":
            op = self.choice(["lit", "attr", "if", "empty"])
            if op == "attr":
                return self.attr_access(depth, "Set")
            if op == "if":
                return self.if_expr("set", depth)
            if op == "empty":
                return "[]"
            elem = self.choice(["long", "string", "entity", "bool", "long"])
            n = self.draw(st.integers(1, 3))
            items = [
                self.expr(elem if not self.coin(6) else self.choice(["long", "string"]), depth - 1)
                for _ in range(n)
            ]
            return "[" + ", ".join(items) + "]"
        if want == "record":
            op = self.choice(["lit", "attr", "context", "if"])
            if op == "attr":
                return self.attr_access(depth, "Record")
            if op == "context":
                return "context"
            if op == "if":
                return self.if_expr("record", depth)
            names = self.draw(st.lists(st.sampled_from(ATTR_NAMES), max_size=3, unique=True))
            return (
                "{"
                + ", ".join(
                    f'"{n}": {self.expr(self.choice(["long", "string", "bool"]), depth - 1)}' for n in names
                )
                + "}"
            )
        if want == "entity":
            op = self.choice(["var", "attr", "if", "lit", "tag"])
            if op == "attr":
                return self.attr_access(depth, "Entity")
            if op == "if":
                return self.if_expr("entity", depth)
            if op == "tag":
                return self.tag_expr(depth, get=True)
            return self.leaf("entity")
        if want == "string":
            op = self.choice(["attr", "if", "lit", "tag"])
            if op == "attr":
                return self.attr_access(depth, "String")
            if op == "if":
                return self.if_expr("string", depth)
            if op == "tag":
                return self.tag_expr(depth, get=True)
            return self.leaf("string")
        if want in EXT_TYPES:
            return self.ext_expr(want, depth)
        return self.expr(self.choice(["bool", "long", "string", "entity", "set", "record"]), depth)

    def leaf(self, want: str) -> str:
        if want == "bool":
            return self.choice(
                [
                    "true",
                    "false",
                    "(principal has name)",
                    "(context has a)",
                    "(resource has owner)",
                    "(action has a)",
                ]
            )
        if want == "long":
            return self.choice(["1", "0", "-7", "9223372036854775807", "context.level", "principal.level"])
        if want == "string":
            return self.choice(['"abc"', '""', '"x y"', "principal.name", "context.name", '"say_һello"'])
        if want == "entity":
            return self.choice(
                ["principal", "resource", "action", self.euid(), self.action_uid(), "principal.owner"]
            )
        if want == "set":
            return self.choice(["[1, 2]", '["a"]', "[principal]", "[]", "principal.tags", "context.tags"])
        if want == "record":
            return self.choice(["context", "{}", '{"a": 1}', "principal.info", "context.info"])
        if want in EXT_TYPES:
            return self.ext_expr(want, 0)
        return self.leaf(self.choice(["bool", "long", "string", "entity"]))

    def var(self) -> str:
        return self.choice(["principal", "resource", "context", "principal", "resource", "action"])

    def attr_access(self, depth: int, kind_hint: str) -> str:
        """Usually an attribute that exists (often with the hinted kind), sometimes a mistake."""
        base = self.var()
        ety: str | None = None
        attrs: dict[str, tuple[TypeDesc, bool]] = {}
        if base == "principal":
            ety = self.principal or self.choice([e.name for e in self.schema.entities])
        elif base == "resource":
            ety = self.resource or self.choice([e.name for e in self.schema.entities])
        elif base == "context":
            act = self.action or self.choice(self.schema.actions) if self.schema.actions else None
            if isinstance(act, ActionDesc):
                attrs = act.context
        if ety is not None:
            desc = self.schema.entity(ety)
            attrs = desc.attrs if desc is not None else {}
        path = base
        guard: list[str] = []
        for _ in range(self.draw(st.integers(1, 2))):
            candidates = [k for k, (t, _) in attrs.items() if t.kind == kind_hint] or list(attrs)
            if not candidates or self.coin(8):
                name = self.choice([*list(ATTR_NAMES), "Readers"])
                attrs = {}
                if self.coin(2):
                    guard.append(f"{path} has {name}")
                path = f"{path}.{name}"
                continue
            name = self.choice(candidates)
            t, required = attrs[name]
            if not required and not self.coin(4):
                guard.append(f"{path} has {name}")
            path = f"{path}.{name}" if not self.coin(8) else f'{path}["{name}"]'
            if t.kind == "Record":
                attrs = t.attrs
            elif t.kind == "Entity" and t.entity is not None:
                d = self.schema.entity(t.entity)
                attrs = d.attrs if d is not None else {}
            else:
                break
        if guard and kind_hint != "Bool":
            # a guarded access must stay an expression of the hinted type: use `if`
            other = self.leaf(
                {
                    "Long": "long",
                    "String": "string",
                    "Set": "set",
                    "Record": "record",
                    "Entity": "entity",
                }.get(kind_hint, "long")
            )
            return f"(if {' && '.join(guard)} then {path} else {other})"
        if guard:
            return f"({' && '.join(guard)} && {path})"
        return path

    def if_expr(self, want: str, depth: int) -> str:
        other = want if not self.coin(6) else self.choice(["long", "string", "bool", "entity"])
        return f"(if {self.expr('bool', depth - 1)} then {self.expr(want, depth - 1)} else {self.expr(other, depth - 1)})"

    def ext_expr(self, want: str, depth: int) -> str:
        valid = {
            "ipaddr": ["10.0.0.1", "192.168.0.0/16", "::1", "ffee::/64"],
            "decimal": ["1.0", "-0.0001", "922337203685477.5807", "3.14159"],
            "datetime": ["2024-01-01", "2024-01-01T10:00:00Z", "2024-01-01T10:00:00.123+0100"],
            "duration": ["1h", "2d3m", "-5s", "1d2h3m4s5ms"],
        }[want]
        invalid = {
            "ipaddr": ["1.2.3", "::g"],
            "decimal": ["1", "1.23456"],
            "datetime": ["2024-13-01", "x"],
            "duration": ["1x", "h"],
        }[want]
        ctor = "ip" if want == "ipaddr" else want
        r = self.draw(st.integers(0, 11))
        if r < 8:
            return f'{ctor}("{self.choice(valid)}")'
        if r == 8:
            if self.coin(2):
                return f'{ctor}("{self.choice(invalid)}")'
            return f"{ctor}({json.dumps(self.draw(near_valid(want)))})"
        if r == 9 and depth > 0:
            return f"{ctor}({self.expr('string', depth - 1)})"
        if r == 10 and want == "datetime":
            return f'{ctor}("{self.choice(valid)}").offset(duration("1h"))'
        if r == 10 and want == "duration":
            return 'datetime("2024-01-01").durationSince(datetime("2023-01-01"))'
        return f"{ctor}({self.choice(['1', 'true', chr(34) * 2])})"

    def tag_expr(self, depth: int, get: bool) -> str:
        target = self.expr("entity", depth - 1) if depth > 0 else self.choice(["principal", "resource"])
        key = self.choice(['"k"', '"tag"', "principal.name"]) if not self.coin(6) else "1"
        if get:
            if self.coin(2):
                return f"(if {target}.hasTag({key}) then {target}.getTag({key}) else {target}.getTag({key}))"
            return f"{target}.getTag({key})"
        return f"{target}.hasTag({key})"

    def bool_expr(self, depth: int) -> str:
        op = self.choice(
            [
                "&&",
                "||",
                "!",
                "==",
                "!=",
                "<",
                "<=",
                ">",
                "in",
                "is",
                "has",
                "like",
                "contains",
                "containsAll",
                "containsAny",
                "isEmpty",
                "if",
                "ext",
                "hasTag",
                "attr",
                "has2",
                "cmpext",
            ]
        )
        d = depth - 1
        if op in ("&&", "||"):
            return f"({self.expr('bool', d)} {op} {self.expr('bool', d)})"
        if op == "!":
            return f"!({self.expr('bool', d)})"
        if op in ("==", "!="):
            t = self.choice(["long", "string", "entity", "bool", "set", "record", "entity", "ipaddr"])
            t2 = t if not self.coin(5) else self.choice(["long", "string", "entity"])
            return f"({self.expr(t, d)} {op} {self.expr(t2, d)})"
        if op in ("<", "<=", ">"):
            t = self.choice(["long", "long", "long", "datetime", "duration", "string", "decimal"])
            return f"({self.expr(t, d)} {op} {self.expr(t if not self.coin(6) else 'long', d)})"
        if op == "cmpext":
            m = self.choice(["lessThan", "greaterThanOrEqual"])
            return f"{self.expr('decimal', d)}.{m}({self.expr('decimal', d)})"
        if op == "in":
            rhs = self.choice(["entity", "entity", "set"])
            if rhs == "set" and self.coin(2):
                items = [
                    self.choice([self.euid(), self.action_uid(), "principal", "resource"])
                    for _ in range(self.draw(st.integers(1, 2)))
                ]
                return f"({self.expr('entity', d)} in [{', '.join(items)}])"
            return f"({self.expr('entity', d)} in {self.expr(rhs, d)})"
        if op == "is":
            suffix = f" in {self.expr('entity', d)}" if self.coin(3) else ""
            return f"({self.expr('entity', d)} is {self.entity_type_name()}{suffix})"
        if op == "has":
            target = self.expr(self.choice(["entity", "record", "entity"]), d)
            return f"({target} has {self.choice(ATTR_NAMES)})"
        if op == "has2":
            return f"({self.var()} has {self.choice(ATTR_NAMES)}.{self.choice(ATTR_NAMES)})"
        if op == "like":
            return f'({self.expr("string", d)} like "{self.choice(["*", "a*", "x y", "*_*"])}")'
        if op == "contains":
            return (
                f"{self.expr('set', d)}.contains({self.expr(self.choice(['long', 'string', 'entity']), d)})"
            )
        if op in ("containsAll", "containsAny"):
            return f"{self.expr('set', d)}.{op}({self.expr('set', d)})"
        if op == "isEmpty":
            return f"{self.expr('set', d)}.isEmpty()"
        if op == "if":
            return self.if_expr("bool", depth)
        if op == "ext":
            m = self.choice(["isIpv4", "isLoopback", "isInRange"])
            if m == "isInRange":
                return f"{self.expr('ipaddr', d)}.isInRange({self.expr('ipaddr', d)})"
            return f"{self.expr('ipaddr', d)}.{m}()"
        if op == "hasTag":
            if self.coin(2):
                return f"({self.tag_expr(d, get=False)} && {self.tag_expr(d, get=True)} == {self.expr('string', d)})"
            return self.tag_expr(d, get=False)
        return self.attr_access(depth, "Bool")

    # -- scopes
    def scope_var(self, var: str, template: bool) -> str:
        r = self.draw(st.integers(0, 7 if not template else 9))
        if r <= 2:
            return var
        if r == 3:
            ety = self.entity_type_name()
            setattr(self, var, ety)
            return f"{var} == {self.euid(ety)}"
        if r == 4:
            return f"{var} in {self.euid()}"
        if r == 5:
            ety = self.entity_type_name()
            setattr(self, var, ety)
            return f"{var} is {ety}"
        if r == 6:
            ety = self.entity_type_name()
            setattr(self, var, ety)
            return f"{var} is {ety} in {self.euid()}"
        if r == 7:
            return f"{var} in {self.euid()}"
        if r == 8:
            return f"{var} == ?{var}"
        return f"{var} in ?{var}" if self.coin(2) else f"{var} is {self.entity_type_name()} in ?{var}"

    def scope_action(self) -> str:
        r = self.draw(st.integers(0, 5))
        acts = self.schema.actions
        if r <= 1 or not acts:
            return "action"
        if r <= 3:
            uid = self.action_uid()
            for a in acts:
                if a.uid == uid:
                    self.action = a
            return f"action == {uid}" if r == 2 else f"action in {uid}"
        items = [self.action_uid() for _ in range(self.draw(st.integers(1, 3)))]
        return f"action in [{', '.join(items)}]"


@st.composite
def near_valid(draw: st.DrawFn, ext: str) -> str:
    """Strings close to valid extension literals (valid ones included), to compare parsers."""
    num = st.integers(0, 400).map(str)
    if ext == "decimal":
        sign = draw(st.sampled_from(["", "", "-"]))
        whole = draw(st.text("0123456789", min_size=0, max_size=17))
        frac = draw(st.text("0123456789", min_size=0, max_size=6))
        return f"{sign}{whole}.{frac}" if draw(st.integers(0, 5)) else f"{sign}{whole}{frac}"
    if ext == "ipaddr":
        if draw(st.booleans()):
            parts = [
                draw(st.sampled_from(["0", "1", "10", "255", "256", "01", "300"]))
                for _ in range(draw(st.integers(3, 5)))
            ]
            text = ".".join(parts)
        else:
            groups = [
                draw(st.sampled_from(["", "0", "ffee", "1", "12345", "g"]))
                for _ in range(draw(st.integers(2, 9)))
            ]
            text = ":".join(groups)
        if draw(st.booleans()):
            text += "/" + draw(num)
        return text
    if ext == "datetime":
        year = draw(st.sampled_from(["2024", "1970", "0000", "9999", "202", "-2024"]))
        month = draw(st.sampled_from(["01", "12", "13", "00", "1"]))
        day = draw(st.sampled_from(["01", "29", "31", "32", "1"]))
        text = f"{year}-{month}-{day}"
        if draw(st.booleans()):
            hh = draw(st.sampled_from(["00", "23", "24", "9"]))
            mm = draw(st.sampled_from(["00", "59", "60"]))
            ss = draw(st.sampled_from(["00", "59", "60"]))
            text += f"T{hh}:{mm}:{ss}"
            text += draw(st.sampled_from(["", ".123", ".1", ".1234"]))
            text += draw(st.sampled_from(["Z", "+0100", "-2359", "+2400", "+01:00", ""]))
        return text
    units = ["d", "h", "m", "s", "ms"]
    chosen = draw(st.lists(st.sampled_from(units), min_size=0, max_size=4))
    body = "".join(
        draw(st.sampled_from(["0", "1", "25", "9223372036854775807", "99999999999999999999"])) + u
        for u in chosen
    )
    return draw(st.sampled_from(["", "", "-"])) + body


@st.composite
def policies(draw: st.DrawFn, schema: SchemaDesc) -> str:
    g = Gen(schema, draw)
    template = draw(st.integers(0, 4)) == 0
    effect = draw(st.sampled_from(["permit", "forbid"]))
    scope = f"{g.scope_var('principal', template)}, {g.scope_action()}, {g.scope_var('resource', template)}"
    conds = []
    for _ in range(draw(st.integers(0, 2))):
        kw = draw(st.sampled_from(["when", "when", "unless"]))
        conds.append(f"{kw} {{ {g.expr('bool', draw(st.integers(1, 4)))} }}")
    return f"{effect}({scope}){' '.join(['', *conds])};"


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str]:
    schema = draw(schemas())
    n = draw(st.integers(1, 3))
    texts = [draw(policies(schema)) for _ in range(n)]
    return schema.cedar(), "\n".join(texts)


# ----------------------------------------------------------------------------------------------
# Capability-heavy cases: boolean combinations of `has` guards and attribute / tag accesses


def _paths(attrs: dict[str, tuple[TypeDesc, bool]], schema: SchemaDesc, depth: int = 0) -> list[list[str]]:
    out: list[list[str]] = []
    for name, (t, _) in attrs.items():
        out.append([name])
        if depth < 2:
            sub: dict[str, tuple[TypeDesc, bool]] = {}
            if t.kind == "Record":
                sub = t.attrs
            elif t.kind == "Entity" and t.entity is not None:
                d = schema.entity(t.entity)
                sub = d.attrs if d is not None else {}
            out.extend([name, *rest] for rest in _paths(sub, schema, depth + 1))
    return out


@st.composite
def guard_exprs(draw: st.DrawFn, schema: SchemaDesc, bases: dict[str, list[list[str]]], depth: int) -> str:
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        kind = draw(st.sampled_from(["has", "has", "get", "get", "tag", "const", "haschain"]))
        base = draw(st.sampled_from(sorted(bases)))
        paths = bases[base] or [["a"]]
        path = draw(st.sampled_from(paths))
        if kind == "const":
            return draw(st.sampled_from(["true", "false", "(1 == 2)", "(1 == 1)"]))
        if kind == "tag":
            key = draw(st.sampled_from(['"k"', '"j"']))
            if draw(st.booleans()):
                return f"{base}.hasTag({key})"
            return f"({base}.getTag({key}) == {base}.getTag({key}))"
        prefix = base + "".join(f".{p}" for p in path[:-1])
        if kind == "has":
            return f"({prefix} has {path[-1]})"
        if kind == "haschain":
            return f"({base} has {'.'.join(path)})"
        full = base + "".join(f".{p}" for p in path)
        return f"({full} == {full})"
    op = draw(st.sampled_from(["&&", "&&", "||", "!", "if"]))
    sub = guard_exprs(schema, bases, depth - 1)
    if op == "!":
        return f"!{draw(sub)}"
    if op == "if":
        return f"(if {draw(sub)} then {draw(sub)} else {draw(sub)})"
    return f"({draw(sub)} {op} {draw(sub)})"


@st.composite
def guard_cases(draw: st.DrawFn) -> tuple[str, str]:
    schema = draw(schemas())
    texts = []
    for _ in range(draw(st.integers(1, 3))):
        bases: dict[str, list[list[str]]] = {}
        scope_p, scope_r, action_scope = "principal", "resource", "action"
        pe = draw(st.sampled_from(schema.entities))
        re_ = draw(st.sampled_from(schema.entities))
        if draw(st.booleans()):
            scope_p = f"principal is {pe.name}"
        if draw(st.booleans()):
            scope_r = f"resource is {re_.name}"
        bases["principal"] = _paths(pe.attrs, schema)
        bases["resource"] = _paths(re_.attrs, schema)
        acts = [a for a in schema.actions if a.principals]
        if len(acts) > 0 and draw(st.booleans()):
            act = draw(st.sampled_from(acts))
            action_scope = f"action == {act.uid}"
            bases["context"] = _paths(act.context, schema)
        conds = " ".join(
            f"{draw(st.sampled_from(['when', 'when', 'unless']))} {{ {draw(guard_exprs(schema, bases, 3))} }}"
            for _ in range(draw(st.integers(1, 2)))
        )
        texts.append(f"permit({scope_p}, {action_scope}, {scope_r}) {conds};")
    return schema.cedar(), "\n".join(texts)
