"""Cedar's JSON policy format (the "EST") in both directions, and Cedar text from the AST.

The JSON shapes follow Rust ``cedar-policy`` 4.x exactly:

* a policy is ``{"effect", "principal", "action", "resource", "conditions"}`` plus
  ``"annotations"`` when it has any (an annotation written without a value is ``null``);
* a policy set is ``{"templates": {...}, "staticPolicies": {...}, "templateLinks": [...]}``;
* expressions are one-key objects: ``{"Value": v}``, ``{"Var": "principal"}``,
  ``{"==": {"left", "right"}}``, ``{"like": {"left", "pattern"}}``,
  ``{"is": {"left", "entity_type", "in"?}}``, ``{"ip": [args]}`` ...

:func:`policy_set_to_json` gives what ``cedarpy.policies_to_json_str`` gives;
:func:`policy_set_from_json` reads that format straight into the AST (a port of Rust's
``est::Expr::try_into_ast`` and ``est::Policy::try_into_ast_policy_or_template`` in
``cedar-policy-core/src/est``); :func:`policy_to_cedar` and :func:`policy_set_to_cedar`
print the AST the way Rust prints a JSON policy (fully parenthesised, one line per
policy), so JSON → Cedar → JSON round-trips.

All three walks are iterative, so chains as long as the parser accepts (100,000 chained
``.a``, ``&&`` or ``+``) work. Reading JSON bounds nesting by
:data:`~cedarlang._limits.MAX_NESTING` as the parser does for text: an operand counts one
level unless it continues a chain that text writes without parentheses (the left operand
of ``&&``/``||``/``+``/``-``/``*`` chains, the receiver of member accesses ``a.b.c()``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final, assert_never

from . import ast
from ._limits import MAX_NESTING
from .ast import BinaryOp, Expr, ScopeConstraint, ScopeOp, UnaryOp
from .cedar_json import JsonValueError, compact_json, is_entity_type_name, load_json_text, uid_from_json
from .errors import CedarError, PolicyJsonError
from .extensions import FUNCTIONS
from .lexical import RESERVED_IDENTS, escape_char_debug, escape_debug, is_action_type, is_ident, quote
from .policy import Policy, PolicySet, Template
from .values import EntityUid

__all__ = [
    "PolicyJsonError",
    "escape_debug",
    "est_expr_to_cedar",
    "est_policy_to_cedar",
    "expr_from_json",
    "expr_text",
    "expr_to_json",
    "policy_from_json",
    "policy_set_from_json",
    "policy_set_to_cedar",
    "policy_set_to_json",
    "policy_set_to_json_text",
    "policy_to_cedar",
    "policy_to_json",
]

Json = dict[str, Any]


# ---------------------------------------------------------------------------
# AST → JSON

_Hole = tuple[Expr, Any, str | int]
"""A child still to convert, and where its JSON goes: ``container[key]``."""


def _value_json(value: bool | int | str | EntityUid) -> Any:
    if type(value) is EntityUid:
        return {"__entity": {"type": value.type, "id": value.id}}
    return value


def _is_in(expr: ast.And) -> tuple[ast.Is, ast.Binary] | None:
    """``e is T in E``: parsed as ``e is T && e in E`` with the same node ``e`` in both."""
    left, right = expr.left, expr.right
    if (
        type(left) is ast.Is
        and type(right) is ast.Binary
        and right.op is BinaryOp.IN
        and right.left is left.expr
    ):
        return left, right
    return None


def _pattern_json(pattern: tuple[str | None, ...]) -> list[Any]:
    out: list[Any] = []
    for piece in pattern:
        if piece is None:
            out.append("Wildcard")
        else:
            out.extend({"Literal": ch} for ch in piece)
    return out


def _json_node(e: Expr) -> tuple[Json, list[_Hole]]:
    """``e``'s JSON object with placeholders for its operands, and the operands to fill in."""
    match e:
        case ast.Lit():
            return {"Value": _value_json(e.value)}, []
        case ast.Var():
            return {"Var": e.name}, []
        case ast.Slot():
            return {"Slot": e.name}, []
        case ast.And():
            collapsed = _is_in(e)
            if collapsed is not None:
                test, member = collapsed
                body: Json = {"left": None, "entity_type": test.entity_type, "in": None}
                return {"is": body}, [(test.expr, body, "left"), (member.right, body, "in")]
            body = {"left": None, "right": None}
            return {"&&": body}, [(e.left, body, "left"), (e.right, body, "right")]
        case ast.Or():
            body = {"left": None, "right": None}
            return {"||": body}, [(e.left, body, "left"), (e.right, body, "right")]
        case ast.Binary():
            body = {"left": None, "right": None}
            return {e.op.value: body}, [(e.left, body, "left"), (e.right, body, "right")]
        case ast.Unary():
            body = {"arg": None}
            return {e.op.value: body}, [(e.arg, body, "arg")]
        case ast.If():
            body = {"if": None, "then": None, "else": None}
            return {"if-then-else": body}, [
                (e.cond, body, "if"),
                (e.then, body, "then"),
                (e.else_, body, "else"),
            ]
        case ast.GetAttr():
            body = {"left": None, "attr": e.attr}
            return {".": body}, [(e.expr, body, "left")]
        case ast.HasAttr():
            body = {"left": None, "attr": e.attr}
            return {"has": body}, [(e.expr, body, "left")]
        case ast.Like():
            body = {"left": None, "pattern": _pattern_json(e.pattern)}
            return {"like": body}, [(e.expr, body, "left")]
        case ast.Is():
            body = {"left": None, "entity_type": e.entity_type}
            return {"is": body}, [(e.expr, body, "left")]
        case ast.SetLit():
            items: list[Any] = [None] * len(e.items)
            return {"Set": items}, [(item, items, i) for i, item in enumerate(e.items)]
        case ast.RecordLit():
            fields = sorted(e.fields, key=lambda kv: kv[0])
            record: Json = dict.fromkeys(k for k, _ in fields)
            return {"Record": record}, [(v, record, k) for k, v in fields]
        case ast.ExtCall():
            args: list[Any] = [None] * len(e.args)
            return {e.name: args}, [(arg, args, i) for i, arg in enumerate(e.args)]
        case _:
            assert_never(e)


def expr_to_json(expr: Expr) -> Json:
    """One expression in the EST format (iterative: any depth).

    ``e is T in E`` (parsed as ``e is T && e in E`` sharing the node ``e``) becomes a single
    ``is`` with an ``in``, as Rust writes it.
    """
    root: dict[str, Any] = {}
    work: list[_Hole] = [(expr, root, "")]
    while work:
        node, container, key = work.pop()
        container[key], operands = _json_node(node)
        work += operands
    result: Json = root[""]
    return result


def _uid_json(uid: EntityUid) -> dict[str, str]:
    return {"type": uid.type, "id": uid.id}


def scope_to_json(constraint: ScopeConstraint, slots: Mapping[str, EntityUid] | None = None) -> Json:
    """One scope constraint (``slots`` fills template slots, for linked policies)."""
    op = constraint.op
    if op is ScopeOp.ALL:
        return {"op": "All"}
    if op is ScopeOp.IS:
        return {"op": "is", "entity_type": constraint.entity_type}
    target = constraint.entity
    target_json: Json
    if isinstance(target, ast.EntityList):
        # Rust writes `action in [A]` (one element) like `action in A`
        if len(target) == 1:
            target_json = {"entity": _uid_json(target[0])}
        else:
            target_json = {"entities": [_uid_json(uid) for uid in target]}
    elif isinstance(target, str):
        if slots is not None and target in slots:
            target_json = {"entity": _uid_json(slots[target])}
        else:
            target_json = {"slot": target}
    else:
        assert isinstance(target, EntityUid)
        target_json = {"entity": _uid_json(target)}
    if op is ScopeOp.IS_IN:
        return {"op": "is", "entity_type": constraint.entity_type, "in": target_json}
    return {"op": op.value, **target_json}


def annotations_json(policy_ast: ast.PolicyAst) -> dict[str, str | None]:
    """The policy's annotations, sorted by key; one written without a value is ``None``."""
    valueless = policy_ast.valueless
    return {
        key: (None if key in valueless else value) for key, value in sorted(policy_ast.annotations.items())
    }


def _ast_json(policy_ast: ast.PolicyAst, slots: Mapping[str, EntityUid] | None = None) -> Json:
    data: Json = {
        "effect": policy_ast.effect.value,
        "principal": scope_to_json(policy_ast.principal, slots),
        "action": scope_to_json(policy_ast.action, slots),
        "resource": scope_to_json(policy_ast.resource, slots),
        "conditions": [
            {"kind": "when" if cond.is_when else "unless", "body": expr_to_json(cond.body)}
            for cond in policy_ast.conditions
        ],
    }
    if policy_ast.annotations:
        data["annotations"] = annotations_json(policy_ast)
    return data


def _linked_slots(policy: Policy) -> Mapping[str, EntityUid] | None:
    return policy.slot_values if policy.template_id is not None else None


def policy_to_json(policy: Policy | Template | ast.PolicyAst) -> Json:
    """One policy or template in the EST format (a linked policy with its slots filled in)."""
    if isinstance(policy, ast.PolicyAst):
        return _ast_json(policy)
    if isinstance(policy, Policy):
        return _ast_json(policy.ast, _linked_slots(policy))
    return _ast_json(policy.ast)


def policy_set_to_json(pset: PolicySet) -> Json:
    """The whole set: ``{"templates", "staticPolicies", "templateLinks"}``."""
    templates = {t.id: _ast_json(t.ast) for t in pset.templates()}
    static: Json = {}
    links: list[Json] = []
    for policy in pset.policies():
        if policy.template_id is None:
            static[policy.id] = _ast_json(policy.ast)
        else:
            links.append(
                {
                    "templateId": policy.template_id,
                    "newId": policy.id,
                    "values": {slot: _uid_json(uid) for slot, uid in policy.slot_values.items()},
                }
            )
    return {"templates": templates, "staticPolicies": static, "templateLinks": links}


def policy_set_to_json_text(pset: PolicySet) -> str:
    """:func:`policy_set_to_json` as compact JSON text (``cedarpy.policies_to_json_str``), at
    any depth the parser accepts."""
    return compact_json(policy_set_to_json(pset))


# ---------------------------------------------------------------------------
# AST → Cedar text (Rust's Display of a JSON policy)


def is_attribute_ident(name: str) -> bool:
    return is_ident(name) and name not in RESERVED_IDENTS


def _uid_text(uid: EntityUid) -> str:
    return f"{uid.type}::{quote(uid.id)}"


def literal_text(value: bool | int | str | EntityUid) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return f"({value})" if value < 0 else str(value)
    if type(value) is str:
        return quote(value)
    assert type(value) is EntityUid
    return _uid_text(value)


def pattern_text(pattern: tuple[str | None, ...]) -> str:
    out = ['"']
    for piece in pattern:
        if piece is None:
            out.append("*")
        else:
            out.extend("\\*" if ch == "*" else escape_char_debug(ch) for ch in piece)
    out.append('"')
    return "".join(out)


_Piece = str | Expr
"""Printed text, or an expression still to print."""


def _operand(e: Expr) -> list[_Piece]:
    """An operand as cedarpy 4.12 prints it: bare for literals, variables, slots, sets and
    records; else parenthesised."""
    if isinstance(e, (ast.Lit, ast.Var, ast.Slot, ast.SetLit, ast.RecordLit)):
        return [e]
    return ["(", e, ")"]


_BARE: Final = (ast.Lit, ast.Var, ast.Slot, ast.SetLit, ast.RecordLit, ast.GetAttr, ast.ExtCall)


def _operand_bare_members(e: Expr) -> list[_Piece]:
    """An operand as the newer Rust ``Display`` prints it (``maybe_with_parens`` in
    cedar-policy-core/src/est/expr.rs): attribute accesses, method-style and extension calls
    print bare too."""
    if isinstance(e, _BARE):
        return [e]
    if isinstance(e, ast.Unary) and e.op is UnaryOp.IS_EMPTY:
        return [e]
    if isinstance(e, ast.Binary) and e.op in _METHOD_OPS:
        return [e]
    return ["(", e, ")"]


def _joined(items: tuple[Expr, ...] | list[Expr]) -> list[_Piece]:
    out: list[_Piece] = []
    for i, item in enumerate(items):
        if i:
            out.append(", ")
        out.append(item)
    return out


def _text_pieces(
    e: Expr, _operand: Callable[[Expr], list[_Piece]] = _operand, is_in: bool = True
) -> list[_Piece]:
    """How Rust prints ``e`` (``Display`` of an EST expression), one level deep; ``_operand``
    decides the parentheses, ``is_in`` whether ``x is T && x in y`` prints as ``x is T in y``."""
    match e:
        case ast.Lit():
            return [literal_text(e.value)]
        case ast.Var() | ast.Slot():
            return [e.name]
        case ast.Unary():
            if e.op is UnaryOp.NOT:
                return ["!", *_operand(e.arg)]
            if e.op is UnaryOp.NEG:
                return ["-(", e.arg, ")"]
            return [*_operand(e.arg), ".isEmpty()"]
        case ast.And():
            collapsed = _is_in(e) if is_in else None
            if collapsed is not None:
                test, member = collapsed
                return [*_operand(test.expr), f" is {test.entity_type} in ", *_operand(member.right)]
            return [*_operand(e.left), " && ", *_operand(e.right)]
        case ast.Or():
            return [*_operand(e.left), " || ", *_operand(e.right)]
        case ast.Binary():
            if e.op in _METHOD_OPS:
                return [*_operand(e.left), f".{e.op.value}(", e.right, ")"]
            return [*_operand(e.left), f" {e.op.value} ", *_operand(e.right)]
        case ast.If():
            return ["if ", *_operand(e.cond), " then ", *_operand(e.then), " else ", *_operand(e.else_)]
        case ast.GetAttr():
            return [*_operand(e.expr), f".{e.attr}" if is_attribute_ident(e.attr) else f"[{quote(e.attr)}]"]
        case ast.HasAttr():
            return [*_operand(e.expr), f" has {e.attr if is_attribute_ident(e.attr) else quote(e.attr)}"]
        case ast.Like():
            return [*_operand(e.expr), f" like {pattern_text(e.pattern)}"]
        case ast.Is():
            return [*_operand(e.expr), f" is {e.entity_type}"]
        case ast.SetLit():
            return ["[", *_joined(e.items), "]"]
        case ast.RecordLit():
            out: list[_Piece] = ["{"]
            for i, (key, value) in enumerate(sorted(e.fields, key=lambda kv: kv[0])):
                out += [", " if i else "", f"{key if is_attribute_ident(key) else quote(key)}: ", value]
            out.append("}")
            return out
        case ast.ExtCall():
            function = FUNCTIONS.get(e.name)
            if function is not None and function.is_method and e.args:
                return [*_operand(e.args[0]), f".{e.name}(", *_joined(e.args[1:]), ")"]
            return [f"{e.name}(", *_joined(e.args), ")"]
        case _:
            assert_never(e)


_METHOD_OPS: Final = frozenset(
    {BinaryOp.CONTAINS, BinaryOp.CONTAINS_ALL, BinaryOp.CONTAINS_ANY, BinaryOp.GET_TAG, BinaryOp.HAS_TAG}
)


def expr_text(expr: Expr, *, bare_members: bool = False) -> str:
    """An expression as Cedar text, printed the way Rust prints a JSON policy (iterative).

    ``bare_members``: the newer Rust ``Display`` (TPE residuals): attribute accesses and
    method calls unparenthesised, ``is ... in`` left as its ``&&``."""
    operand = _operand_bare_members if bare_members else _operand
    out: list[str] = []
    work: list[_Piece] = [expr]
    while work:
        item = work.pop()
        if isinstance(item, str):
            out.append(item)
        else:
            work += reversed(_text_pieces(item, operand, not bare_members))
    return "".join(out)


def _scope_text(var: str, constraint: ScopeConstraint, slots: Mapping[str, EntityUid] | None) -> str:
    op = constraint.op
    if op is ScopeOp.ALL:
        return var
    if op is ScopeOp.IS:
        return f"{var} is {constraint.entity_type}"
    target = constraint.entity
    if isinstance(target, ast.EntityList):
        target_text = "[" + ", ".join(_uid_text(uid) for uid in target) + "]"
    elif isinstance(target, str):
        target_text = _uid_text(slots[target]) if slots is not None and target in slots else target
    else:
        assert isinstance(target, EntityUid)
        target_text = _uid_text(target)
    if op is ScopeOp.IS_IN:
        return f"{var} is {constraint.entity_type} in {target_text}"
    return f"{var} {op.value} {target_text}"


def _policy_text(policy_ast: ast.PolicyAst, slots: Mapping[str, EntityUid] | None = None) -> str:
    lines = [
        f"@{key}" if value is None else f"@{key}({quote(value)})"
        for key, value in annotations_json(policy_ast).items()
    ]
    scope = ", ".join(
        _scope_text(var, constraint, slots)
        for var, constraint in (
            ("principal", policy_ast.principal),
            ("action", policy_ast.action),
            ("resource", policy_ast.resource),
        )
    )
    text = f"{policy_ast.effect.value}({scope})"
    for cond in policy_ast.conditions:
        text += f" {'when' if cond.is_when else 'unless'} {{ {expr_text(cond.body)} }}"
    lines.append(text + ";")
    return "\n".join(lines)


def policy_to_cedar(policy: Policy | Template | ast.PolicyAst) -> str:
    """A policy as Cedar text in Rust's one-line printed form (a linked policy with its
    slots filled in)."""
    if isinstance(policy, ast.PolicyAst):
        return _policy_text(policy)
    if isinstance(policy, Policy):
        return _policy_text(policy.ast, _linked_slots(policy))
    return _policy_text(policy.ast)


def policy_set_to_cedar(pset: PolicySet, *, templates: bool = True, linked: bool = False) -> str:
    """The set as Cedar text: static policies, then templates (``templates=False`` leaves
    them out), then template-linked policies with their slots filled (if ``linked``).

    ``policy_set_to_cedar(ps, templates=False, linked=True)`` is what Rust's ``Display``
    of a policy set (and ``cedarpy.policies_from_json_str``) prints.
    """
    parts = [policy_to_cedar(p) for p in pset.policies() if p.template_id is None]
    if templates:
        parts += [policy_to_cedar(t) for t in pset.templates()]
    if linked:
        parts += [policy_to_cedar(p) for p in pset.policies() if p.template_id is not None]
    return "\n".join(parts)


def est_policy_to_cedar(data: Any, policy_id: str = "policy") -> str:
    """One EST policy or template as Cedar text (read into the AST, then printed)."""
    return _policy_text(_read_policy(data, policy_id))


def est_expr_to_cedar(data: Any, where: str = "expression") -> str:
    """An EST expression as Cedar text (read into the AST, then printed)."""
    return expr_text(_read_expr(data, where, in_template=True))


# ---------------------------------------------------------------------------
# JSON → AST (Rust's `est::Expr::try_into_ast`, iterative)


def _fail(message: str) -> PolicyJsonError:
    return PolicyJsonError(message)


def _show(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, default=repr)
    return text if len(text) <= 80 else text[:77] + "..."


def _uid_from(data: Any, where: str) -> EntityUid:
    try:
        return uid_from_json(data, where)
    except JsonValueError as err:
        raise _fail(str(err)) from None


def _type_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not is_entity_type_name(name):
        raise _fail(f"in {where}: invalid entity type: {_show(name)}")
    return name


def _one_key(data: Any, where: str) -> tuple[str, Any]:
    if isinstance(data, dict) and len(data) == 1:
        return next(iter(data.items()))
    if data == {}:
        raise _fail(f"in {where}: missing operator, found empty object")
    if isinstance(data, dict):
        raise _fail(f"in {where}: found multiple operators where one was expected: {sorted(data)}")
    raise _fail(f"in {where}: an expression must be a JSON object with exactly one key, got {_show(data)}")


def _fields(body: Any, names: tuple[str, ...], key: str, where: str, optional: tuple[str, ...] = ()) -> Json:
    if (
        not isinstance(body, dict)
        or not all(name in body for name in names)
        or not all(name in names or name in optional for name in body)
    ):
        wanted = ", ".join(f"`{name}`" for name in names)
        raise _fail(f"in {where}: `{key}` needs the fields {wanted}, got {_show(body)}")
    return body


_VARIABLES: Final = frozenset({"principal", "action", "resource", "context"})
_SLOTS: Final = frozenset({"?principal", "?resource"})
_UNARY_BY_NAME: Final = {op.value: op for op in UnaryOp}
_BINARY_BY_NAME: Final = {op.value: op for op in BinaryOp}
_ADDITIVE: Final = frozenset({"+", "-"})
_CHAINS: Final[dict[str, frozenset[str]]] = {
    "&&": frozenset({"&&"}),
    "||": frozenset({"||"}),
    "+": _ADDITIVE,
    "-": _ADDITIVE,
    "*": frozenset({"*"}),
}
"""For each chain operator, the operators its left operand continues the chain with (no
parentheses in Cedar text, so no nesting: ``a + b - c``)."""
_MEMBERS: Final = frozenset(
    {".", "isEmpty", "contains", "containsAll", "containsAny", "getTag", "hasTag"}
    | {name for name, function in FUNCTIONS.items() if function.is_method}
)
"""Member accesses: a receiver that is one of these needs no parentheses (``a.b.c``)."""
_NO_KEYS: Final[frozenset[str]] = frozenset()


def _depth(operand: Any, depth: int, continues: frozenset[str]) -> int:
    """The nesting depth of an operand: the parent's if it continues a chain the parser
    reads without nesting (``a && b && c``, ``a.b.c``), else one more."""
    if isinstance(operand, dict) and len(operand) == 1 and next(iter(operand)) in continues:
        return depth
    return depth + 1


_Build = Callable[[list[Expr]], Expr]
_Work = tuple[int, Any, int] | tuple[_Build, int]
"""``(depth, json, is_value)``: read an expression (or a ``Value``) at that nesting depth;
``(build, n)``: make a node of the last ``n`` results."""


# Node builders: each makes one node from its operands' results.


def _and(a: list[Expr]) -> Expr:
    return ast.And(a[0], a[1])


def _or(a: list[Expr]) -> Expr:
    return ast.Or(a[0], a[1])


def _if(a: list[Expr]) -> Expr:
    return ast.If(a[0], a[1], a[2])


def _set(a: list[Expr]) -> Expr:
    return ast.SetLit(tuple(a))


def _unary(op: UnaryOp) -> _Build:
    return lambda a: ast.Unary(op, a[0])


def _binary(op: BinaryOp) -> _Build:
    return lambda a: ast.Binary(op, a[0], a[1])


def _get_attr(attr: str) -> _Build:
    return lambda a: ast.GetAttr(a[0], attr)


def _has_attr(attr: str) -> _Build:
    return lambda a: ast.HasAttr(a[0], attr)


def _has_path(path: tuple[str, ...]) -> _Build:
    return lambda a: ast.has_path(a[0], path)


def _like(pattern: tuple[str | None, ...]) -> _Build:
    return lambda a: ast.Like(a[0], pattern)


def _is(entity_type: str) -> _Build:
    return lambda a: ast.Is(a[0], entity_type)


def _is_in_entity(entity_type: str) -> _Build:
    """``e is T in E``: ``e is T && e in E`` sharing ``e`` (as the parser builds it)."""
    return lambda a: ast.And(ast.Is(a[0], entity_type), ast.Binary(BinaryOp.IN, a[0], a[1]))


def _record(keys: tuple[str, ...]) -> _Build:
    return lambda a: ast.RecordLit(tuple(zip(keys, a, strict=True)))


def _call(name: str) -> _Build:
    return lambda a: ast.ExtCall(name, tuple(a))


def _read_expr(data: Any, where: str, *, in_template: bool = False) -> Expr:
    """One EST expression as an AST expression.

    Slots are only allowed in a policy's scope (Rust: "invalid slot name or slot used in
    wrong position"); ``in_template`` lets a stand-alone expression have them.
    """
    results: list[Expr] = []
    work: list[_Work] = [(0, data, 0)]
    while work:
        item = work.pop()
        if len(item) == 2:
            build, count = item
            args = results[len(results) - count :]
            del results[len(results) - count :]
            results.append(build(args))
            continue
        depth, node, is_value = item
        if depth > MAX_NESTING:
            raise _fail(f"in {where}: expression is nested too deeply (more than {MAX_NESTING} levels)")
        if is_value:
            _read_value(node, depth, where, results, work)
            continue
        key, body = _one_key(node, where)
        if key == "Value":
            work.append((depth, body, 1))
        elif key == "Var":
            if type(body) is not str or body not in _VARIABLES:
                raise _fail(f"in {where}: unknown variable {_show(body)}")
            results.append(ast.Var(body))
        elif key == "Slot":
            if type(body) is not str or body not in _SLOTS or not in_template:
                raise _fail(f"in {where}: invalid slot name or slot used in wrong position: {_show(body)}")
            results.append(ast.Slot(body))
        elif key in _UNARY_BY_NAME:
            op = _UNARY_BY_NAME[key]
            arg = _fields(body, ("arg",), key, where)["arg"]
            continues = _MEMBERS if op is UnaryOp.IS_EMPTY else _NO_KEYS
            work += [(_unary(op), 1), (_depth(arg, depth, continues), arg, 0)]
        elif key == "&&" or key == "||" or key in _BINARY_BY_NAME:
            fields = _fields(body, ("left", "right"), key, where)
            build = _and if key == "&&" else _or if key == "||" else _binary(_BINARY_BY_NAME[key])
            left = fields["left"]
            continues = _CHAINS.get(key) or (_MEMBERS if key in _MEMBERS else _NO_KEYS)
            work += [(build, 2), (depth + 1, fields["right"], 0), (_depth(left, depth, continues), left, 0)]
        elif key == "." or key == "has":
            fields = _fields(body, ("left", "attr"), key, where)
            attr = fields["attr"]
            if key == "has" and isinstance(attr, list) and attr and all(isinstance(a, str) for a in attr):
                path = tuple(attr)  # `e has a.b` (Rust's `HasAttrRepr::Extended`)
                build = _has_path(path)
            elif not isinstance(attr, str):
                raise _fail(f"in {where}: attribute name must be a string, got {_show(attr)}")
            elif key == ".":
                build = _get_attr(attr)
            else:
                build = _has_attr(attr)
            work += [(build, 1), (_depth(fields["left"], depth, _MEMBERS), fields["left"], 0)]
        elif key == "like":
            fields = _fields(body, ("left", "pattern"), key, where)
            pattern = _read_pattern(fields["pattern"], where)
            work += [(_like(pattern), 1), (_depth(fields["left"], depth, _MEMBERS), fields["left"], 0)]
        elif key == "is":
            fields = _fields(body, ("left", "entity_type"), key, where, optional=("in",))
            entity_type = _type_name(fields["entity_type"], where)
            if "in" in fields:
                build = _is_in_entity(entity_type)
                left_depth = _depth(fields["left"], depth, _MEMBERS)
                work += [(build, 2), (depth + 1, fields["in"], 0), (left_depth, fields["left"], 0)]
            else:
                work += [(_is(entity_type), 1), (_depth(fields["left"], depth, _MEMBERS), fields["left"], 0)]
        elif key == "if-then-else":
            fields = _fields(body, ("if", "then", "else"), key, where)
            work += [
                (_if, 3),
                (depth + 1, fields["else"], 0),
                (depth + 1, fields["then"], 0),
                (depth + 1, fields["if"], 0),
            ]
        elif key == "Set":
            if not isinstance(body, list):
                raise _fail(f"in {where}: `Set` needs a list, got {_show(body)}")
            work.append((_set, len(body)))
            work += [(depth + 1, item, 0) for item in reversed(body)]
        elif key == "Record":
            if not isinstance(body, dict):
                raise _fail(f"in {where}: `Record` needs an object, got {_show(body)}")
            keys = tuple(body)
            work.append((_record(keys), len(keys)))
            work += [(depth + 1, body[k], 0) for k in reversed(keys)]
        elif key in FUNCTIONS:
            if not isinstance(body, list):
                raise _fail(f"in {where}: call of `{key}` needs a list of arguments, got {_show(body)}")
            _push_call(key, body, depth, 0, work)
        else:
            raise _fail(f"in {where}: invalid extension function: `{key}`")
    assert len(results) == 1
    return results[0]


def _push_call(name: str, args: list[Any], depth: int, is_value: int, work: list[_Work]) -> None:
    """An extension call; a method's receiver is not nested (``a.f(b)`` needs no parentheses)."""
    receiver_depth = _depth(args[0], depth, _MEMBERS) if args and FUNCTIONS[name].is_method else depth + 1
    work.append((_call(name), len(args)))
    work += [
        (depth + 1 if i else receiver_depth, arg, is_value) for i, arg in reversed(list(enumerate(args)))
    ]


def _read_value(value: Any, depth: int, where: str, results: list[Expr], work: list[_Work]) -> None:
    """A ``{"Value": ...}`` (Rust's ``CedarValueJson::into_expr``): a literal, or a set,
    record or extension call of values."""
    if value is True or value is False or type(value) is str:
        results.append(ast.Lit(value))
    elif type(value) is int:
        if not -(2**63) <= value < 2**63:
            raise _fail(f"in {where}: integer {value} is out of range")
        results.append(ast.Lit(value))
    elif type(value) is list:
        work.append((_set, len(value)))
        work += [(depth + 1, item, 1) for item in reversed(value)]
    elif type(value) is dict:
        escape = _escape(value, where)
        if isinstance(escape, EntityUid):
            results.append(ast.Lit(escape))
        elif escape is not None:
            name, args = escape
            _push_call(name, args, depth, 1, work)
        else:
            keys = tuple(value)
            work.append((_record(keys), len(keys)))
            work += [(depth + 1, value[k], 1) for k in reversed(keys)]
    else:
        raise _fail(f"in {where}: {_show(value)} is not a Cedar value")


def _escape(value: Json, where: str) -> EntityUid | tuple[str, list[Any]] | None:
    """An ``__entity`` or ``__extn`` escape; ``None`` if ``value`` is a plain record (as in
    Rust, an object that does not have exactly an escape's shape is a record)."""
    if len(value) != 1:
        return None
    key, inner = next(iter(value.items()))
    if key == "__expr" and type(inner) is str:
        raise _fail(f"in {where}: the `__expr` escape is no longer supported")
    if type(inner) is not dict:
        return None
    if key == "__entity" and type(inner.get("type")) is str and type(inner.get("id")) is str:
        return _uid_from(value, where)
    if key == "__extn" and type(inner.get("fn")) is str:
        name = inner["fn"]
        if set(inner) == {"fn", "arg"}:
            args = [inner["arg"]]
        elif set(inner) == {"fn", "args"} and type(inner["args"]) is list:
            args = inner["args"]
        else:
            return None
        if name not in FUNCTIONS:
            raise _fail(f"in {where}: invalid extension function: `{name}`")
        return name, args
    return None


def _read_pattern(pattern: Any, where: str) -> tuple[str | None, ...]:
    if not isinstance(pattern, list):
        raise _fail(f"in {where}: `like` pattern must be a list, got {_show(pattern)}")
    pieces: list[str | None] = []
    for elem in pattern:
        if elem == "Wildcard":
            pieces.append(None)
        elif isinstance(elem, dict) and set(elem) == {"Literal"} and isinstance(elem["Literal"], str):
            last = pieces[-1] if pieces else None
            if last is not None:
                pieces[-1] = last + elem["Literal"]
            else:
                pieces.append(elem["Literal"])
        else:
            raise _fail(f"in {where}: bad `like` pattern element {_show(elem)}")
    return tuple(pieces)


def _read_scope(var: str, data: Any, where: str) -> ScopeConstraint:
    """A scope constraint (Rust's ``PrincipalConstraint``/``ActionConstraint``/...;
    as with serde, fields beside the ones an ``op`` uses are ignored)."""
    if not isinstance(data, dict) or "op" not in data:
        raise _fail(f"in {where}: the {var} constraint needs an `op`, got {_show(data)}")
    op = data["op"]
    if op in ("All", "all"):
        return ScopeConstraint(ScopeOp.ALL)
    if op == "is" and var != "action":
        entity_type = _type_name(data.get("entity_type"), where)
        if "in" not in data:
            return ScopeConstraint(ScopeOp.IS, None, entity_type)
        return ScopeConstraint(ScopeOp.IS_IN, _scope_target(var, data["in"], where), entity_type)
    if op == "==" or op == "in":
        scope_op = ScopeOp.EQ if op == "==" else ScopeOp.IN
        if var == "action":
            if op == "in" and isinstance(data, dict) and "entities" in data and "entity" not in data:
                uids = data["entities"]
                if not isinstance(uids, list):
                    raise _fail(f"in {where}: `entities` must be a list, got {_show(uids)}")
                return ScopeConstraint(scope_op, ast.EntityList(_action_uid(u, where) for u in uids))
            if "slot" in data and "entity" not in data:
                raise _fail(f"in {where}: slots are not allowed for actions")
            if "entity" not in data:
                raise _fail(f"in {where}: invalid target in the action constraint: {_show(data)}")
            return ScopeConstraint(scope_op, _action_uid(data["entity"], where))
        return ScopeConstraint(scope_op, _scope_target(var, data, where))
    raise _fail(f"in {where}: invalid operator {_show(op)} in the {var} constraint")


def _action_uid(data: Any, where: str) -> EntityUid:
    uid = _uid_from(data, where)
    if not is_action_type(uid.type):
        raise _fail(f"in {where}: expected an entity uid with type `Action` but got `{_uid_text(uid)}`")
    return uid


def _scope_target(var: str, data: Any, where: str) -> EntityUid | str:
    if isinstance(data, dict) and "entity" in data:
        return _uid_from(data["entity"], where)
    if isinstance(data, dict) and "slot" in data:
        slot = data["slot"]
        if slot != f"?{var}":
            raise _fail(f"in {where}: invalid slot name or slot used in wrong position: {_show(slot)}")
        return f"?{var}"
    raise _fail(f"in {where}: invalid target in the {var} constraint: {_show(data)}")


_POLICY_FIELDS: Final = frozenset({"effect", "principal", "action", "resource", "conditions", "annotations"})
_REQUIRED_FIELDS: Final = ("effect", "principal", "action", "resource", "conditions")


def _read_policy(data: Any, policy_id: str) -> ast.PolicyAst:
    """One EST policy or template as a :class:`~cedarlang.ast.PolicyAst`."""
    where = f"policy `{policy_id}`"
    if not isinstance(data, dict):
        raise _fail(f"in {where}: a policy must be a JSON object")
    unknown = set(data) - _POLICY_FIELDS
    missing = [name for name in _REQUIRED_FIELDS if name not in data]
    if unknown or missing:
        problem = f"unknown field(s) {', '.join(sorted(unknown))}" if unknown else ""
        if missing:
            problem = (problem + "; " if problem else "") + f"missing field(s) {', '.join(missing)}"
        raise _fail(f"in {where}: {problem}")
    effect = data["effect"]
    if effect not in ("permit", "forbid"):
        raise _fail(f"in {where}: invalid effect {_show(effect)}")
    annotations: dict[str, str] = {}
    valueless: set[str] = set()
    raw = data.get("annotations", {})
    if not isinstance(raw, dict):
        raise _fail(f"in {where}: `annotations` must be an object")
    for key, value in raw.items():
        if not is_ident(key):
            raise _fail(f"in {where}: invalid annotation name {_show(key)}")
        if value is None:
            valueless.add(key)
            value = ""
        elif not isinstance(value, str):
            raise _fail(f"in {where}: annotation `{key}` must be a string or null")
        annotations[key] = value
    principal = _read_scope("principal", data["principal"], where)
    action = _read_scope("action", data["action"], where)
    resource = _read_scope("resource", data["resource"], where)
    conditions = data["conditions"]
    if not isinstance(conditions, list):
        raise _fail(f"in {where}: `conditions` must be a list")
    parsed = []
    for cond in conditions:
        if (
            not isinstance(cond, dict)
            or set(cond) != {"kind", "body"}
            or cond["kind"] not in ("when", "unless")
        ):
            raise _fail(f'in {where}: a condition is {{"kind": "when"|"unless", "body": ...}}')
        parsed.append(ast.Condition(cond["kind"] == "when", _read_expr(cond["body"], where)))
    return ast.PolicyAst(
        ast.Effect(effect),
        principal,
        action,
        resource,
        tuple(parsed),
        annotations,
        valueless=frozenset(valueless),
    )


def _load(data: Mapping[str, Any] | str | bytes) -> Any:
    if isinstance(data, str | bytes):
        try:
            return load_json_text(data, "policies JSON")
        except JsonValueError as err:
            raise _fail(str(err)) from None
    return data


def policy_from_json(data: Mapping[str, Any] | str | bytes, policy_id: str = "policy0") -> Policy | Template:
    """One EST policy: a :class:`Policy`, or a :class:`Template` if it has slots."""
    parsed = _read_policy(_load(data), policy_id)
    return Template(parsed, policy_id) if parsed.slots else Policy(parsed, policy_id)


def expr_from_json(data: Mapping[str, Any] | str | bytes) -> Expr:
    """One EST expression as an AST expression."""
    return _read_expr(_load(data), "expression", in_template=True)


_SET_FIELDS: Final = frozenset({"templates", "staticPolicies", "templateLinks"})


def policy_set_from_json(data: Mapping[str, Any] | str | bytes) -> PolicySet:
    """A :class:`PolicySet` from ``{"staticPolicies", "templates", "templateLinks"}``
    (each part optional). Policy ids are the JSON keys."""
    loaded = _load(data)
    if not isinstance(loaded, dict):
        raise _fail("a JSON policy set must be an object")
    unknown = set(loaded) - _SET_FIELDS
    if unknown:
        raise _fail(
            f"unknown field(s) {', '.join(f'`{u}`' for u in sorted(unknown))} in a JSON policy set, "
            "expected `templates`, `staticPolicies`, `templateLinks`"
        )
    pset = PolicySet()
    templates = loaded.get("templates", {})
    static = loaded.get("staticPolicies", {})
    links = loaded.get("templateLinks", [])
    if not isinstance(templates, dict) or not isinstance(static, dict) or not isinstance(links, list):
        raise _fail("`templates` and `staticPolicies` must be objects and `templateLinks` a list")
    try:
        for tid, body in templates.items():
            pset.add_template(Template(_read_policy(body, tid), tid))
        for pid, body in static.items():
            parsed = _read_policy(body, pid)
            if parsed.slots:
                raise _fail(f"policy `{pid}` has slots: it belongs in `templates`, not `staticPolicies`")
            pset.add(Policy(parsed, pid))
        for link in links:
            if not isinstance(link, dict) or set(link) != {"templateId", "newId", "values"}:
                raise _fail(f"a template link is {{templateId, newId, values}}, got {_show(link)}")
            values = link["values"]
            if not isinstance(values, dict):
                raise _fail("template link `values` must be an object")
            uids = {slot: _uid_from(uid, f"link `{link['newId']}`") for slot, uid in values.items()}
            pset.link(link["templateId"], link["newId"], uids)
    except PolicyJsonError:
        raise
    except CedarError as err:
        raise _fail(str(err)) from None
    return pset
