"""The policy syntax tree (PST): policies as typed, immutable nodes that programs build and
inspect — what policy editors and admin UIs work on.

The nodes mirror Rust's ``cedar_policy::pst`` (cedar-policy 4.11+) with the names, fields and
string tags of ``cedarpy.pst`` (cedarpy 4.12.2), so code written against one reads the other::

    from cedarlang import PolicySet, pst

    text = 'permit(principal, action, resource) when { resource.owner == principal };'
    tree = PolicySet.from_str(text).to_pst()
    match tree.static_policies["policy0"].clauses[0].expr:
        case pst.BinaryOp(op="eq", left=pst.GetAttr(attr="owner"), right=pst.Var(name="principal")):
            ...
    PolicySet.from_pst(tree)  # and back, after editing the nodes

Every node is a frozen, hashable dataclass; each closed set is a ``Literal`` or a union of
node types, so a ``match`` over one can be checked for exhaustiveness. As in Rust, the tree
is the desugared form: ``e has a.b`` is ``e has a && e.a has b``, ``action in A`` is
``action in [A]``, and extension functions are operators (``ip("...")`` is
``UnaryOp("ip", ...)``, ``d1.lessThan(d2)`` is ``BinaryOp("decimal_less_than", ...)``).
Expressions nest at most :data:`MAX_DEPTH` levels (cedarpy's limit); deeper ones raise
:class:`~cedarlang.errors.PolicySetError`.

Conversions go through the JSON policy format (:mod:`cedarlang.est`), which already
checks names, slots and scopes: :func:`to_pst` / :func:`from_pst` (also
``PolicySet.to_pst`` / ``PolicySet.from_pst``) and :func:`policies_to_pst`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar

from .errors import CedarError, PolicySetError
from .source import TextInput

if TYPE_CHECKING:
    from .policy import PolicySet as CorePolicySet

__all__ = [
    "MAX_DEPTH",
    "ActionConstraint",
    "ActionEq",
    "ActionIn",
    "BinaryOp",
    "BinaryOpName",
    "BoolLit",
    "Char",
    "Clause",
    "Effect",
    "EntityLit",
    "EntityOrSlot",
    "EntityType",
    "EntityUid",
    "Expr",
    "FrozenMap",
    "GetAttr",
    "HasAttr",
    "IfThenElse",
    "Is",
    "Like",
    "Lit",
    "LongLit",
    "PatternElem",
    "PolicySet",
    "PrincipalOrResourceConstraint",
    "PstNode",
    "Record",
    "ScopeAny",
    "ScopeEq",
    "ScopeIn",
    "ScopeIs",
    "ScopeIsIn",
    "Set",
    "Slot",
    "SlotName",
    "StringLit",
    "Template",
    "TemplateLink",
    "UnaryOp",
    "UnaryOpName",
    "Unless",
    "Var",
    "VarName",
    "When",
    "Wildcard",
    "entity_uids",
    "from_pst",
    "policies_to_pst",
    "to_pst",
]

MAX_DEPTH = 100
"""The deepest expression (in nodes, the root counting 1) a tree may hold, as in cedarpy."""

_K = TypeVar("_K", bound=str)
_V = TypeVar("_V")


class FrozenMap(dict[_K, _V]):
    """An immutable, hashable string-keyed mapping (a ``dict``, so ``==`` with a dict,
    ``json.dumps`` and ``dataclasses.asdict`` work)."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def _immutable(self, *_args: object, **_kwargs: object) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is immutable")

    __setitem__ = _immutable
    __delitem__ = _immutable
    __ior__ = _immutable
    clear = _immutable
    pop = _immutable
    popitem = _immutable
    setdefault = _immutable
    update = _immutable


# ---------------------------------------------------------------------------
# Nodes


@dataclass(frozen=True, slots=True)
class EntityType:
    """An entity type name: ``User``, or ``MyApp::Photo`` with a namespace."""

    basename: str
    namespace: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "::".join((*self.namespace, self.basename))


@dataclass(frozen=True, slots=True)
class EntityUid:
    """An entity: its type and id (``User::"alice"``)."""

    type: EntityType
    id: str

    def __str__(self) -> str:
        from .values import EntityUid as CoreUid

        return str(CoreUid(str(self.type), self.id))


SlotName = Literal["principal", "resource"]
"""The name of a template slot: ``?principal`` or ``?resource``."""
VarName = Literal["principal", "action", "resource", "context"]
"""The name of a request variable."""
Effect = Literal["permit", "forbid"]
"""A policy's effect."""


@dataclass(frozen=True, slots=True)
class Slot:
    """A template slot (``?principal``, ``?resource``) in a scope constraint."""

    name: SlotName


EntityOrSlot = EntityUid | Slot
"""What a scope constraint compares with: an entity, or a slot in a template."""


@dataclass(frozen=True, slots=True)
class Var:
    """A request variable: ``principal``, ``action``, ``resource`` or ``context``."""

    name: VarName


@dataclass(frozen=True, slots=True)
class BoolLit:
    """A Boolean literal."""

    value: bool


@dataclass(frozen=True, slots=True)
class LongLit:
    """An integer literal (a Cedar ``Long``, 64-bit signed)."""

    value: int


@dataclass(frozen=True, slots=True)
class StringLit:
    """A string literal (the value, escapes already decoded)."""

    value: str


@dataclass(frozen=True, slots=True)
class EntityLit:
    """An entity literal such as ``User::"alice"``."""

    value: EntityUid


Lit = BoolLit | LongLit | StringLit | EntityLit
"""Any literal."""

UnaryOpName = Literal[
    "not",
    "neg",
    "is_empty",
    "datetime",
    "decimal",
    "duration",
    "ip",
    "is_ipv4",
    "is_ipv6",
    "is_loopback",
    "is_multicast",
    "to_date",
    "to_time",
    "to_milliseconds",
    "to_seconds",
    "to_minutes",
    "to_hours",
    "to_days",
]
"""The one-operand operators and methods, and the extension constructors and
methods of one argument (``ip("...")``, ``d.toDate()``)."""

BinaryOpName = Literal[
    "eq",
    "not_eq",
    "less",
    "less_eq",
    "greater",
    "greater_eq",
    "and",
    "or",
    "add",
    "sub",
    "mul",
    "in",
    "contains",
    "contains_all",
    "contains_any",
    "get_tag",
    "has_tag",
    "is_in_range",
    "offset",
    "duration_since",
    "decimal_less_than",
    "decimal_less_eq",
    "decimal_greater",
    "decimal_greater_eq",
]
"""The two-operand operators and methods (comparison, ``&&``/``||``, arithmetic, ``in``,
``contains*``, tags, and the extension methods of two arguments)."""


@dataclass(frozen=True, slots=True)
class UnaryOp:
    """``op`` applied to ``arg`` (``!x``, ``-x``, ``s.isEmpty()``, ``ip("...")``, ...)."""

    op: UnaryOpName
    arg: Expr


@dataclass(frozen=True, slots=True)
class BinaryOp:
    """``left op right`` (``a == b``, ``a && b``, ``s.contains(x)``, ``e.getTag(k)``, ...)."""

    op: BinaryOpName
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class GetAttr:
    """Attribute access: ``base.attr`` (or ``base["attr"]``)."""

    base: Expr
    attr: str


@dataclass(frozen=True, slots=True)
class HasAttr:
    """``base has a.b.c``: ``attrs`` is the path, at least one name."""

    base: Expr
    attrs: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.attrs:
            raise ValueError("HasAttr.attrs must name at least one attribute")


@dataclass(frozen=True, slots=True)
class Char:
    """A literal character of a ``like`` pattern."""

    value: str


@dataclass(frozen=True, slots=True)
class Wildcard:
    """The ``*`` of a ``like`` pattern."""


PatternElem = Char | Wildcard
"""One element of a ``like`` pattern."""


@dataclass(frozen=True, slots=True)
class Like:
    """``base like "pattern"``."""

    base: Expr
    pattern: tuple[PatternElem, ...]


@dataclass(frozen=True, slots=True)
class Is:
    """``base is EntityType``, or ``base is EntityType in in_expr``."""

    base: Expr
    entity_type: EntityType
    in_expr: Expr | None


@dataclass(frozen=True, slots=True)
class IfThenElse:
    """``if cond then then_expr else else_expr``."""

    cond: Expr
    then_expr: Expr
    else_expr: Expr


@dataclass(frozen=True, slots=True)
class Set:
    """A set literal ``[a, b, ...]``."""

    elements: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Record:
    """A record literal ``{name: expr, ...}``."""

    fields: Mapping[str, Expr]


Expr = (
    Var
    | Slot
    | BoolLit
    | LongLit
    | StringLit
    | EntityLit
    | UnaryOp
    | BinaryOp
    | GetAttr
    | HasAttr
    | Like
    | Is
    | IfThenElse
    | Set
    | Record
)
"""Every expression node."""


@dataclass(frozen=True, slots=True)
class When:
    """A ``when { expr }`` condition."""

    expr: Expr


@dataclass(frozen=True, slots=True)
class Unless:
    """An ``unless { expr }`` condition."""

    expr: Expr


Clause = When | Unless
"""A policy condition."""


@dataclass(frozen=True, slots=True)
class ScopeAny:
    """An unconstrained scope variable (``principal``, ``action``, ``resource`` alone)."""


@dataclass(frozen=True, slots=True)
class ScopeEq:
    """``principal == E`` / ``resource == E`` (or a slot)."""

    entity: EntityOrSlot


@dataclass(frozen=True, slots=True)
class ScopeIn:
    """``principal in E`` / ``resource in E`` (or a slot)."""

    entity: EntityOrSlot


@dataclass(frozen=True, slots=True)
class ScopeIs:
    """``principal is T`` / ``resource is T``."""

    entity_type: EntityType


@dataclass(frozen=True, slots=True)
class ScopeIsIn:
    """``principal is T in E`` / ``resource is T in E`` (or a slot)."""

    entity_type: EntityType
    entity: EntityOrSlot


PrincipalOrResourceConstraint = ScopeAny | ScopeEq | ScopeIn | ScopeIs | ScopeIsIn
"""The principal or resource part of a policy's scope."""


@dataclass(frozen=True, slots=True)
class ActionEq:
    """``action == Action::"a"``."""

    entity: EntityUid


@dataclass(frozen=True, slots=True)
class ActionIn:
    """``action in [Action::"a", ...]`` (``action in Action::"a"`` is a list of one)."""

    entities: tuple[EntityUid, ...]


ActionConstraint = ScopeAny | ActionEq | ActionIn
"""The action part of a policy's scope."""


@dataclass(frozen=True, slots=True)
class Template:
    """A static policy or a template (static policies are templates without slots)."""

    id: str
    effect: Effect
    principal: PrincipalOrResourceConstraint
    action: ActionConstraint
    resource: PrincipalOrResourceConstraint
    clauses: tuple[Clause, ...]
    annotations: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class TemplateLink:
    """A template linked to entities for its slots, under the id ``new_id``."""

    template_id: str
    new_id: str
    values: Mapping[SlotName, EntityUid]


@dataclass(frozen=True, slots=True)
class PolicySet:
    """A whole policy set: templates, static policies and template links, by id."""

    templates: Mapping[str, Template]
    static_policies: Mapping[str, Template]
    template_links: tuple[TemplateLink, ...]


PstNode = (
    PolicySet
    | Template
    | TemplateLink
    | Clause
    | Expr
    | EntityUid
    | EntityType
    | PrincipalOrResourceConstraint
    | ActionConstraint
    | PatternElem
)
"""Every node type of the tree."""


def _is_node(value: object) -> bool:
    cls = type(value)
    return is_dataclass(cls) and cls.__module__ == __name__


def entity_uids(node: PstNode | Mapping[str, PstNode] | tuple[PstNode, ...]) -> frozenset[EntityUid]:
    """Every entity uid named anywhere under ``node`` (a node, or a mapping or tuple of
    nodes): the entities to load before evaluating. Anything else raises ``TypeError``."""
    if _is_node(node):
        roots: tuple[object, ...] = (node,)
    elif isinstance(node, Mapping):
        roots = tuple(node.values())
    elif isinstance(node, tuple):
        roots = node
    else:
        raise TypeError(
            f"entity_uids expects a PST node, or a mapping or tuple of them, not {type(node).__name__}"
        )
    stray = [r for r in roots if not _is_node(r)]
    if stray:
        raise TypeError(f"entity_uids expects PST nodes, got {type(stray[0]).__name__}")
    found: set[EntityUid] = set()
    stack: list[Any] = list(roots)
    while stack:
        value = stack.pop()
        if isinstance(value, EntityUid):
            found.add(value)
        elif isinstance(value, Mapping):
            stack.extend(value.values())
        elif isinstance(value, tuple):
            stack.extend(value)
        elif is_dataclass(value) and not isinstance(value, type):
            stack.extend(getattr(value, f.name) for f in fields(value))
    return frozenset(found)


# ---------------------------------------------------------------------------
# The operator names: PST tag <-> JSON policy format (EST) key

_UNARY_EST: dict[str, str] = {"not": "!", "neg": "neg", "is_empty": "isEmpty"}
_UNARY_EXT: dict[str, str] = {
    "datetime": "datetime",
    "decimal": "decimal",
    "duration": "duration",
    "ip": "ip",
    "is_ipv4": "isIpv4",
    "is_ipv6": "isIpv6",
    "is_loopback": "isLoopback",
    "is_multicast": "isMulticast",
    "to_date": "toDate",
    "to_time": "toTime",
    "to_milliseconds": "toMilliseconds",
    "to_seconds": "toSeconds",
    "to_minutes": "toMinutes",
    "to_hours": "toHours",
    "to_days": "toDays",
}
_BINARY_EST: dict[str, str] = {
    "eq": "==",
    "not_eq": "!=",
    "less": "<",
    "less_eq": "<=",
    "greater": ">",
    "greater_eq": ">=",
    "and": "&&",
    "or": "||",
    "add": "+",
    "sub": "-",
    "mul": "*",
    "in": "in",
    "contains": "contains",
    "contains_all": "containsAll",
    "contains_any": "containsAny",
    "get_tag": "getTag",
    "has_tag": "hasTag",
}
_BINARY_EXT: dict[str, str] = {
    "is_in_range": "isInRange",
    "offset": "offset",
    "duration_since": "durationSince",
    "decimal_less_than": "lessThan",
    "decimal_less_eq": "lessThanOrEqual",
    "decimal_greater": "greaterThan",
    "decimal_greater_eq": "greaterThanOrEqual",
}
_FROM_EST_UNARY = {v: k for k, v in _UNARY_EST.items()}
_FROM_EST_BINARY = {v: k for k, v in _BINARY_EST.items()}
_FROM_EXT = {v: (k, 1) for k, v in _UNARY_EXT.items()} | {v: (k, 2) for k, v in _BINARY_EXT.items()}


def _too_deep() -> PolicySetError:
    return PolicySetError(f"expression nesting exceeds the supported limit of {MAX_DEPTH} levels")


# ---------------------------------------------------------------------------
# JSON policy format -> PST


def _type(name: str) -> EntityType:
    *namespace, basename = name.split("::")
    return EntityType(basename, tuple(namespace))


def _uid(data: Mapping[str, str]) -> EntityUid:
    return EntityUid(_type(data["type"]), data["id"])


def _expr(data: Any, depth: int) -> Expr:
    if depth > MAX_DEPTH:
        raise _too_deep()
    ((key, body),) = data.items()
    deeper = depth + 1
    if key == "Value":
        if isinstance(body, bool):
            return BoolLit(body)
        if isinstance(body, int):
            return LongLit(body)
        if isinstance(body, str):
            return StringLit(body)
        return EntityLit(_uid(body["__entity"]))
    if key == "Var":
        return Var(body)
    if key == "Slot":
        return Slot(body.removeprefix("?"))
    if key in _FROM_EST_UNARY:
        return UnaryOp(_FROM_EST_UNARY[key], _expr(body["arg"], deeper))  # type: ignore[arg-type]
    if key in _FROM_EST_BINARY:
        op = _FROM_EST_BINARY[key]
        return BinaryOp(op, _expr(body["left"], deeper), _expr(body["right"], deeper))  # type: ignore[arg-type]
    if key == ".":
        return GetAttr(_expr(body["left"], deeper), body["attr"])
    if key == "has":
        return HasAttr(_expr(body["left"], deeper), (body["attr"],))
    if key == "like":
        pattern = tuple(Wildcard() if p == "Wildcard" else Char(p["Literal"]) for p in body["pattern"])
        return Like(_expr(body["left"], deeper), pattern)
    if key == "is":
        in_expr = _expr(body["in"], deeper) if "in" in body else None
        return Is(_expr(body["left"], deeper), _type(body["entity_type"]), in_expr)
    if key == "if-then-else":
        return IfThenElse(_expr(body["if"], deeper), _expr(body["then"], deeper), _expr(body["else"], deeper))
    if key == "Set":
        return Set(tuple(_expr(item, deeper) for item in body))
    if key == "Record":
        return Record(FrozenMap({k: _expr(v, deeper) for k, v in sorted(body.items())}))
    if key not in _FROM_EXT:
        raise PolicySetError(f"the extension function `{key}` has no policy syntax tree node")
    name, arity = _FROM_EXT[key]
    args = [_expr(arg, deeper) for arg in body]
    if len(args) != arity:
        raise PolicySetError(f"`{key}` takes {arity} argument(s), found {len(args)}")
    if arity == 1:
        return UnaryOp(name, args[0])  # type: ignore[arg-type]
    return BinaryOp(name, args[0], args[1])  # type: ignore[arg-type]


def _target(data: Mapping[str, Any]) -> EntityOrSlot:
    if "slot" in data:
        return Slot(data["slot"].removeprefix("?"))
    return _uid(data["entity"])


def _scope(data: Mapping[str, Any]) -> PrincipalOrResourceConstraint:
    op = data["op"]
    if op == "All":
        return ScopeAny()
    if op == "==":
        return ScopeEq(_target(data))
    if op == "in":
        return ScopeIn(_target(data))
    if "in" in data:
        return ScopeIsIn(_type(data["entity_type"]), _target(data["in"]))
    return ScopeIs(_type(data["entity_type"]))


def _action(data: Mapping[str, Any]) -> ActionConstraint:
    op = data["op"]
    if op == "All":
        return ScopeAny()
    if op == "==":
        return ActionEq(_uid(data["entity"]))
    uids = data["entities"] if "entities" in data else [data["entity"]]
    return ActionIn(tuple(_uid(u) for u in uids))


def _template(pid: str, data: Mapping[str, Any]) -> Template:
    clauses = tuple(
        (When if c["kind"] == "when" else Unless)(_expr(c["body"], 1)) for c in data["conditions"]
    )
    annotations = {k: v or "" for k, v in data.get("annotations", {}).items()}
    return Template(
        pid,
        data["effect"],
        _scope(data["principal"]),
        _action(data["action"]),
        _scope(data["resource"]),
        clauses,
        FrozenMap(annotations),
    )


def to_pst(pset: CorePolicySet) -> PolicySet:
    """``pset`` as PST nodes (templates, static policies and template links)."""
    from .est import policy_set_to_json

    data = policy_set_to_json(pset)
    return PolicySet(
        FrozenMap({tid: _template(tid, body) for tid, body in data["templates"].items()}),
        FrozenMap({pid: _template(pid, body) for pid, body in data["staticPolicies"].items()}),
        tuple(
            TemplateLink(
                link["templateId"],
                link["newId"],
                FrozenMap({slot.removeprefix("?"): _uid(uid) for slot, uid in link["values"].items()}),
            )
            for link in data["templateLinks"]
        ),
    )


def policies_to_pst(text: TextInput) -> PolicySet:
    """Parse Cedar policy text into PST nodes (``PolicySet.from_str(text).to_pst()``)."""
    from .policy import PolicySet as CorePolicySet

    return to_pst(CorePolicySet.from_str(text))


# ---------------------------------------------------------------------------
# PST -> JSON policy format


def _bad(what: str, value: object) -> PolicySetError:
    return PolicySetError(f"invalid policy syntax tree: expected {what}, found {value!r}")


def _type_json(node: object) -> str:
    if not isinstance(node, EntityType):
        raise _bad("an EntityType", node)
    return str(node)


def _uid_json(node: object) -> dict[str, str]:
    if not isinstance(node, EntityUid):
        raise _bad("an EntityUid", node)
    return {"type": _type_json(node.type), "id": node.id}


def _slot_json(node: Slot) -> str:
    if node.name not in ("principal", "resource"):
        raise _bad("a slot named principal or resource", node)
    return f"?{node.name}"


def _expr_json(node: object, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _too_deep()
    deeper = depth + 1
    match node:
        case BoolLit(value=value) | LongLit(value=value) | StringLit(value=value):
            return {"Value": value}
        case EntityLit(value=uid):
            return {"Value": {"__entity": _uid_json(uid)}}
        case Var(name=name):
            return {"Var": name}
        case Slot():
            return {"Slot": _slot_json(node)}
        case UnaryOp(op=op, arg=arg):
            if op in _UNARY_EST:
                return {_UNARY_EST[op]: {"arg": _expr_json(arg, deeper)}}
            if op in _UNARY_EXT:
                return {_UNARY_EXT[op]: [_expr_json(arg, deeper)]}
            raise _bad("a unary operator", op)
        case BinaryOp(op=op, left=left, right=right):
            operands = [_expr_json(left, deeper), _expr_json(right, deeper)]
            if op in _BINARY_EST:
                return {_BINARY_EST[op]: {"left": operands[0], "right": operands[1]}}
            if op in _BINARY_EXT:
                return {_BINARY_EXT[op]: operands}
            raise _bad("a binary operator", op)
        case GetAttr(base=base, attr=attr):
            return {".": {"left": _expr_json(base, deeper), "attr": attr}}
        case HasAttr(base=base, attrs=attrs):
            # `e has a.b` is `e has a && e.a has b` (Rust's extended_has_attr)
            prefix = _expr_json(base, deeper)
            result: Any = {"has": {"left": prefix, "attr": attrs[0]}}
            for previous, attr in itertools.pairwise(attrs):
                prefix = {".": {"left": prefix, "attr": previous}}
                result = {"&&": {"left": result, "right": {"has": {"left": prefix, "attr": attr}}}}
            return result
        case Like(base=base, pattern=pattern):
            elements: list[Any] = []
            for element in pattern:
                if isinstance(element, Wildcard):
                    elements.append("Wildcard")
                elif isinstance(element, Char) and len(element.value) == 1:
                    elements.append({"Literal": element.value})
                else:
                    raise _bad("a pattern element (one Char or Wildcard)", element)
            return {"like": {"left": _expr_json(base, deeper), "pattern": elements}}
        case Is(base=base, entity_type=entity_type, in_expr=in_expr):
            body: dict[str, Any] = {"left": _expr_json(base, deeper), "entity_type": _type_json(entity_type)}
            if in_expr is not None:
                body["in"] = _expr_json(in_expr, deeper)
            return {"is": body}
        case IfThenElse(cond=cond, then_expr=then_expr, else_expr=else_expr):
            return {
                "if-then-else": {
                    "if": _expr_json(cond, deeper),
                    "then": _expr_json(then_expr, deeper),
                    "else": _expr_json(else_expr, deeper),
                }
            }
        case Set(elements=items):
            return {"Set": [_expr_json(item, deeper) for item in items]}
        case Record(fields=record):
            return {"Record": {key: _expr_json(value, deeper) for key, value in record.items()}}
        case _:
            raise _bad("an expression node", node)


def _target_json(node: object) -> dict[str, Any]:
    if isinstance(node, Slot):
        return {"slot": _slot_json(node)}
    return {"entity": _uid_json(node)}


def _scope_json(node: object) -> dict[str, Any]:
    match node:
        case ScopeAny():
            return {"op": "All"}
        case ScopeEq(entity=entity):
            return {"op": "==", **_target_json(entity)}
        case ScopeIn(entity=entity):
            return {"op": "in", **_target_json(entity)}
        case ScopeIs(entity_type=entity_type):
            return {"op": "is", "entity_type": _type_json(entity_type)}
        case ScopeIsIn(entity_type=entity_type, entity=entity):
            return {"op": "is", "entity_type": _type_json(entity_type), "in": _target_json(entity)}
        case _:
            raise _bad("a principal or resource constraint", node)


def _action_json(node: object) -> dict[str, Any]:
    match node:
        case ScopeAny():
            return {"op": "All"}
        case ActionEq(entity=entity):
            return {"op": "==", "entity": _uid_json(entity)}
        case ActionIn(entities=entities):
            return {"op": "in", "entities": [_uid_json(uid) for uid in entities]}
        case _:
            raise _bad("an action constraint", node)


def _template_json(key: str, node: object) -> dict[str, Any]:
    if not isinstance(node, Template):
        raise _bad("a Template", node)
    if node.id != key:
        raise PolicySetError(f"invalid policy syntax tree: the policy under `{key}` has the id `{node.id}`")
    if node.effect not in ("permit", "forbid"):
        raise _bad("permit or forbid", node.effect)
    conditions = []
    for clause in node.clauses:
        if not isinstance(clause, When | Unless):
            raise _bad("a When or Unless clause", clause)
        kind = "when" if isinstance(clause, When) else "unless"
        conditions.append({"kind": kind, "body": _expr_json(clause.expr, 1)})
    return {
        "effect": node.effect,
        "principal": _scope_json(node.principal),
        "action": _action_json(node.action),
        "resource": _scope_json(node.resource),
        "conditions": conditions,
        "annotations": dict(node.annotations),
    }


def from_pst(node: PolicySet) -> CorePolicySet:
    """A policy set from PST nodes (the inverse of :func:`to_pst`). Raises ``TypeError``
    for anything but a PST ``PolicySet`` and :class:`PolicySetError` for nodes that do not
    form a valid policy set."""
    from .est import policy_set_from_json

    if not isinstance(node, PolicySet):
        raise TypeError(f"from_pst expects a cedarlang.pst.PolicySet, not {type(node).__name__}")
    links = []
    for link in node.template_links:
        if not isinstance(link, TemplateLink):
            raise _bad("a TemplateLink", link)
        links.append(
            {
                "templateId": link.template_id,
                "newId": link.new_id,
                "values": {f"?{slot}": _uid_json(uid) for slot, uid in link.values.items()},
            }
        )
    data = {
        "templates": {key: _template_json(key, t) for key, t in node.templates.items()},
        "staticPolicies": {key: _template_json(key, p) for key, p in node.static_policies.items()},
        "templateLinks": links,
    }
    try:
        return policy_set_from_json(data)
    except PolicySetError:
        raise
    except CedarError as err:
        raise PolicySetError(f"invalid policy syntax tree: {err}") from None
