"""Cedar's JSON policy format (the "EST") in both directions, and Cedar text from it.

The JSON shapes follow Rust ``cedar-policy`` 4.x exactly:

* a policy is ``{"effect", "principal", "action", "resource", "conditions"}`` plus
  ``"annotations"`` when it has any (an annotation written without a value is ``null``);
* a policy set is ``{"templates": {...}, "staticPolicies": {...}, "templateLinks": [...]}``;
* expressions are one-key objects: ``{"Value": v}``, ``{"Var": "principal"}``,
  ``{"==": {"left", "right"}}``, ``{"like": {"left", "pattern"}}``,
  ``{"is": {"left", "entity_type", "in"?}}``, ``{"ip": [args]}`` ...

:func:`policy_set_to_json` gives what ``cedarpy.policies_to_json_str`` gives;
:func:`policy_set_from_json` reads that format back into a :class:`PolicySet`;
:func:`est_policy_to_cedar` and :func:`policy_set_to_cedar` write Cedar text the way Rust
prints a JSON policy (fully parenthesised, one line per policy), so JSON → Cedar → JSON
round-trips.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar, cast

from . import ast
from ._limits import DEEP_FRAMES, recursion_headroom
from .ast import BinaryOp, Expr, ScopeConstraint, ScopeOp, UnaryOp
from .cedar_json import JsonValueError, uid_from_json
from .errors import CedarError, ParseError
from .extensions import FUNCTIONS
from .lexer import IDENT, STR, tokenize
from .lexical import IDENT_RE, escape_char_debug, escape_debug, is_ident, quote
from .parser import RESERVED, parse_expression, parse_policies
from .policy import Policy, PolicySet, Template
from .source import Source
from .values import EntityUid

__all__ = [
    "PolicyJsonError",
    "escape_debug",
    "est_expr_to_cedar",
    "est_policy_to_cedar",
    "expr_from_json",
    "expr_to_json",
    "policy_from_json",
    "policy_set_from_json",
    "policy_set_to_cedar",
    "policy_set_to_json",
    "policy_to_cedar",
    "policy_to_json",
]

Json = dict[str, Any]


class PolicyJsonError(CedarError):
    """JSON (EST) policy data that is malformed or does not describe a valid policy."""


F = TypeVar("F", bound=Callable[..., Any])


def _deep(fn: F) -> F:
    """Run ``fn`` with room for deeply nested expressions."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with recursion_headroom(DEEP_FRAMES):
            return fn(*args, **kwargs)

    return cast(F, wrapper)


# ---------------------------------------------------------------------------
# AST → JSON

_BINARY_KEYS: Final[dict[BinaryOp, str]] = {op: op.value for op in BinaryOp}
_UNARY_KEYS: Final[dict[UnaryOp, str]] = {UnaryOp.NOT: "!", UnaryOp.NEG: "neg", UnaryOp.IS_EMPTY: "isEmpty"}


def _value_json(value: Any) -> Any:
    if type(value) is EntityUid:
        return {"__entity": {"type": value.type, "id": value.id}}
    return value


def _is_in(expr: Expr) -> bool:
    """``e is T in E``: parsed as ``e is T && e in E`` with the same node ``e`` in both."""
    if not isinstance(expr, ast.And):
        return False
    left, right = expr.left, expr.right
    return (
        type(left) is ast.Is
        and type(right) is ast.Binary
        and right.op is BinaryOp.IN
        and right.left is left.expr
    )


def _chain_key(expr: Expr) -> str | None:
    """The JSON key of a left-associative chain link (``&&``, ``||``, ``+``, ``-``, ``*``)."""
    t = type(expr)
    if t is ast.And:
        return None if _is_in(expr) else "&&"
    if t is ast.Or:
        return "||"
    if t is ast.Binary and expr.op in (BinaryOp.ADD, BinaryOp.SUB, BinaryOp.MUL):  # type: ignore[attr-defined]
        return str(expr.op.value)  # type: ignore[attr-defined]
    return None


def _to_json(expr: Expr) -> Json:
    """One expression in the EST format.

    ``e is T in E`` (parsed as ``e is T && e in E`` sharing the node ``e``) becomes a single
    ``is`` with an ``in``, as Rust writes it. Long ``&&``/``||``/arithmetic chains are
    walked without recursion.
    """
    if _chain_key(expr) is not None:
        spine: list[tuple[str, Expr]] = []
        node = expr
        key = _chain_key(node)
        while key is not None:
            spine.append((key, node.right))  # type: ignore[attr-defined]
            node = node.left  # type: ignore[attr-defined]
            key = _chain_key(node)
        result = _expr_json(node)
        for key, right in reversed(spine):
            result = {key: {"left": result, "right": _to_json(right)}}
        return result
    return _expr_json(expr)


def _expr_json(expr: Expr) -> Json:
    t = type(expr)
    if t is ast.Lit:
        return {"Value": _value_json(expr.value)}  # type: ignore[attr-defined]
    if t is ast.Var:
        return {"Var": expr.name}  # type: ignore[attr-defined]
    if t is ast.Slot:
        return {"Slot": expr.name}  # type: ignore[attr-defined]
    if t is ast.And:
        assert isinstance(expr, ast.And)
        left, right = expr.left, expr.right
        if (
            type(left) is ast.Is
            and type(right) is ast.Binary
            and right.op is BinaryOp.IN
            and right.left is left.expr
        ):
            return {
                "is": {
                    "left": _to_json(left.expr),
                    "entity_type": left.entity_type,
                    "in": _to_json(right.right),
                }
            }
        return {"&&": {"left": _to_json(left), "right": _to_json(right)}}
    if t is ast.Or:
        assert isinstance(expr, ast.Or)
        return {"||": {"left": _to_json(expr.left), "right": _to_json(expr.right)}}
    if t is ast.Binary:
        assert isinstance(expr, ast.Binary)
        return {_BINARY_KEYS[expr.op]: {"left": _to_json(expr.left), "right": _to_json(expr.right)}}
    if t is ast.Unary:
        assert isinstance(expr, ast.Unary)
        return {_UNARY_KEYS[expr.op]: {"arg": _to_json(expr.arg)}}
    if t is ast.If:
        assert isinstance(expr, ast.If)
        return {
            "if-then-else": {
                "if": _to_json(expr.cond),
                "then": _to_json(expr.then),
                "else": _to_json(expr.else_),
            }
        }
    if t is ast.GetAttr:
        assert isinstance(expr, ast.GetAttr)
        return {".": {"left": _to_json(expr.expr), "attr": expr.attr}}
    if t is ast.HasAttr:
        assert isinstance(expr, ast.HasAttr)
        return {"has": {"left": _to_json(expr.expr), "attr": expr.attr}}
    if t is ast.Like:
        assert isinstance(expr, ast.Like)
        pattern: list[Any] = []
        for piece in expr.pattern:
            if piece is None:
                pattern.append("Wildcard")
            else:
                pattern.extend({"Literal": ch} for ch in piece)
        return {"like": {"left": _to_json(expr.expr), "pattern": pattern}}
    if t is ast.Is:
        assert isinstance(expr, ast.Is)
        return {"is": {"left": _to_json(expr.expr), "entity_type": expr.entity_type}}
    if t is ast.SetLit:
        assert isinstance(expr, ast.SetLit)
        return {"Set": [_to_json(item) for item in expr.items]}
    if t is ast.RecordLit:
        assert isinstance(expr, ast.RecordLit)
        return {"Record": {key: _to_json(value) for key, value in sorted(expr.fields)}}
    if t is ast.ExtCall:
        assert isinstance(expr, ast.ExtCall)
        return {expr.name: [_to_json(arg) for arg in expr.args]}
    raise PolicyJsonError(f"cannot convert {type(expr).__name__} to JSON")


def expr_to_json(expr: Expr) -> Json:
    """One expression in the EST format.

    ``e is T in E`` (parsed as ``e is T && e in E`` sharing the node ``e``) becomes a single
    ``is`` with an ``in``, as Rust writes it.
    """
    with recursion_headroom(DEEP_FRAMES):
        return _to_json(expr)


def est_expr_to_cedar(data: Any, where: str = "expression") -> str:
    """An EST expression as Cedar text (Rust's printing of JSON policies)."""
    with recursion_headroom(DEEP_FRAMES):
        return _expr_text(data, where)


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
    bare = _bare_annotations(policy_ast)
    return {key: (None if key in bare else value) for key, value in sorted(policy_ast.annotations.items())}


def _bare_annotations(policy_ast: ast.PolicyAst) -> frozenset[str]:
    """Keys of annotations written as ``@key`` (no value). The AST stores those as ``""``,
    so the policy's source text is scanned again (the AST keeps no other trace of them)."""
    if not any(value == "" for value in policy_ast.annotations.values()):
        return frozenset()
    text = policy_ast.text
    if text is None:
        return frozenset()
    try:
        tokens = tokenize(Source(text))
    except ParseError:
        return frozenset()
    bare = set()
    i = 0
    while i + 1 < len(tokens) and tokens[i].kind == "@" and tokens[i + 1].kind == IDENT:
        key = tokens[i + 1].text
        if i + 2 < len(tokens) and tokens[i + 2].kind == "(":
            i += 5 if i + 3 < len(tokens) and tokens[i + 3].kind == STR else 3
        else:
            bare.add(key)
            i += 2
    return frozenset(bare)


def _ast_json(policy_ast: ast.PolicyAst, slots: Mapping[str, EntityUid] | None = None) -> Json:
    data: Json = {
        "effect": policy_ast.effect.value,
        "principal": scope_to_json(policy_ast.principal, slots),
        "action": scope_to_json(policy_ast.action, slots),
        "resource": scope_to_json(policy_ast.resource, slots),
        "conditions": [
            {"kind": "when" if cond.is_when else "unless", "body": _to_json(cond.body)}
            for cond in policy_ast.conditions
        ],
    }
    if policy_ast.annotations:
        data["annotations"] = annotations_json(policy_ast)
    return data


@_deep
def policy_to_json(policy: Policy | Template | ast.PolicyAst) -> Json:
    """One policy or template in the EST format (a linked policy with its slots filled in)."""
    if isinstance(policy, ast.PolicyAst):
        return _ast_json(policy)
    if isinstance(policy, Policy):
        return _ast_json(policy.ast, policy.slot_values if policy.template_id is not None else None)
    return _ast_json(policy.ast)


@_deep
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


# ---------------------------------------------------------------------------
# JSON → Cedar text (Rust's Display of a JSON policy)

_IDENT_RE: Final = IDENT_RE
_quote: Final = quote


def _is_ident(name: str) -> bool:
    return is_ident(name) and name not in RESERVED


def _fail(message: str) -> PolicyJsonError:
    return PolicyJsonError(message)


def _uid_from(data: Any, where: str) -> EntityUid:
    try:
        return uid_from_json(data, where)
    except JsonValueError as err:
        raise _fail(str(err)) from None


def _uid_text(uid: EntityUid) -> str:
    return f"{uid.type}::{_quote(uid.id)}"


def _type_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not all(
        _IDENT_RE.fullmatch(part) and part not in RESERVED for part in name.split("::")
    ):
        raise _fail(f"in {where}: invalid entity type name {json.dumps(name)}")
    return name


def _value_text(value: Any, where: str) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise _fail(f"in {where}: integer {value} is out of range")
        return f"({value})" if value < 0 else str(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value_text(v, where) for v in value) + "]"
    if isinstance(value, dict):
        if "__entity" in value or "__expr" in value:
            return _uid_text(_uid_from(value, where))
        if "__extn" in value:
            call = value["__extn"]
            if not (isinstance(call, dict) and isinstance(call.get("fn"), str) and len(value) == 1):
                raise _fail(f"in {where}: malformed `__extn` escape")
            name = call["fn"]
            if set(call) == {"fn", "arg"}:
                args = [call["arg"]]
            elif set(call) == {"fn", "args"} and isinstance(call["args"], list):
                args = call["args"]
            else:
                raise _fail(f"in {where}: malformed `__extn` escape")
            return _call_text(name, [_value_text(a, where) for a in args], where)
        return "{" + ", ".join(f"{_quote(k)}: {_value_text(v, where)}" for k, v in value.items()) + "}"
    raise _fail(f"in {where}: {json.dumps(value)} is not a Cedar value")


def _call_text(name: str, args: list[str], where: str, parens: list[bool] | None = None) -> str:
    function = FUNCTIONS.get(name)
    if function is None:
        raise _fail(f"in {where}: unknown extension function `{name}`")
    if function.is_method and args:
        receiver = f"({args[0]})" if parens and parens[0] else args[0]
        return f"{receiver}.{name}({', '.join(args[1:])})"
    return f"{name}({', '.join(args)})"


_BINARY_INFIX: Final = {
    "==": "==",
    "!=": "!=",
    "in": "in",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "&&": "&&",
    "||": "||",
    "+": "+",
    "-": "-",
    "*": "*",
}
_BINARY_METHODS: Final = ("contains", "containsAll", "containsAny", "getTag", "hasTag")
_BARE: Final = frozenset({"Value", "Var", "Slot", "Set", "Record"})


def _one_key(data: Any, where: str) -> tuple[str, Any]:
    if not isinstance(data, dict) or len(data) != 1:
        raise _fail(
            f"in {where}: an expression must be a JSON object with exactly one key, got {_show(data)}"
        )
    return next(iter(data.items()))


def _show(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _fields(body: Any, names: Iterable[str], key: str, where: str, optional: Iterable[str] = ()) -> Json:
    required = set(names)
    allowed = required | set(optional)
    if not isinstance(body, dict) or not required <= set(body) or not set(body) <= allowed:
        raise _fail(f"in {where}: `{key}` needs the fields {', '.join(sorted(required))}, got {_show(body)}")
    return body


_CHAINS: Final = frozenset({"&&", "||", "+", "-", "*"})


class _Style:
    compact = False
    """Leave out the parentheses around the left operand of ``&&``/``||``/``+``/``-``/``*``
    chains (the same tree when parsed; used to parse very long chains back)."""


def _chain_text(key: str, body: Any, where: str) -> str:
    rights = []
    while True:
        fields = _fields(body, ("left", "right"), key, where)
        rights.append(fields["right"])
        left = fields["left"]
        if isinstance(left, dict) and len(left) == 1 and key in left:
            body = left[key]
            continue
        break
    rights.reverse()
    parts = [_sub(r, where) for r in rights]
    if _Style.compact:
        return _sub(left, where) + "".join(f" {key} {p}" for p in parts)
    head = "(" * (len(parts) - 1) + _sub(left, where)
    return head + "".join(f" {key} {p})" for p in parts[:-1]) + f" {key} {parts[-1]}"


def _sub(data: Any, where: str) -> str:
    """An operand: bare for literals, variables, slots, sets and records; else parenthesised."""
    key, _ = _one_key(data, where)
    text = _expr_text(data, where)
    return text if key in _BARE else f"({text})"


def _expr_text(data: Any, where: str = "expression") -> str:
    """An EST expression as Cedar text (Rust's printing of JSON policies)."""
    key, body = _one_key(data, where)
    if key == "Value":
        return _value_text(body, where)
    if key == "Var":
        if body not in ("principal", "action", "resource", "context"):
            raise _fail(f"in {where}: unknown variable {_show(body)}")
        return str(body)
    if key == "Slot":
        if body not in ("?principal", "?resource"):
            raise _fail(f"in {where}: unknown slot {_show(body)}")
        return str(body)
    if key in ("!", "neg", "isEmpty"):
        arg = _fields(body, ("arg",), key, where)["arg"]
        if key == "!":
            return "!" + _sub(arg, where)
        if key == "neg":
            return f"-({_expr_text(arg, where)})"
        return _sub(arg, where) + ".isEmpty()"
    if key in _CHAINS:
        return _chain_text(key, body, where)
    if key in _BINARY_INFIX:
        fields = _fields(body, ("left", "right"), key, where)
        return f"{_sub(fields['left'], where)} {key} {_sub(fields['right'], where)}"
    if key in _BINARY_METHODS:
        fields = _fields(body, ("left", "right"), key, where)
        return f"{_sub(fields['left'], where)}.{key}({_expr_text(fields['right'], where)})"
    if key in (".", "has"):
        fields = _fields(body, ("left", "attr"), key, where)
        attr = fields["attr"]
        if not isinstance(attr, str):
            raise _fail(f"in {where}: attribute name must be a string, got {_show(attr)}")
        left = _sub(fields["left"], where)
        if key == ".":
            return f"{left}.{attr}" if _is_ident(attr) else f"{left}[{_quote(attr)}]"
        return f"{left} has {attr if _is_ident(attr) else _quote(attr)}"
    if key == "like":
        fields = _fields(body, ("left", "pattern"), key, where)
        return f"{_sub(fields['left'], where)} like {_pattern_text(fields['pattern'], where)}"
    if key == "is":
        fields = _fields(body, ("left", "entity_type"), key, where, optional=("in",))
        text = f"{_sub(fields['left'], where)} is {_type_name(fields['entity_type'], where)}"
        if "in" in fields:
            text += f" in {_sub(fields['in'], where)}"
        return text
    if key == "if-then-else":
        fields = _fields(body, ("if", "then", "else"), key, where)
        return (
            f"if {_sub(fields['if'], where)} then {_sub(fields['then'], where)} "
            f"else {_sub(fields['else'], where)}"
        )
    if key == "Set":
        if not isinstance(body, list):
            raise _fail(f"in {where}: `Set` needs a list, got {_show(body)}")
        return "[" + ", ".join(_expr_text(item, where) for item in body) + "]"
    if key == "Record":
        if not isinstance(body, dict):
            raise _fail(f"in {where}: `Record` needs an object, got {_show(body)}")
        items = sorted(body.items())
        return (
            "{"
            + ", ".join(f"{k if _is_ident(k) else _quote(k)}: {_expr_text(v, where)}" for k, v in items)
            + "}"
        )
    if key in FUNCTIONS:
        if not isinstance(body, list):
            raise _fail(f"in {where}: call of `{key}` needs a list of arguments, got {_show(body)}")
        args = [_expr_text(arg, where) for arg in body]
        parens = [_one_key(arg, where)[0] not in _BARE for arg in body]
        return _call_text(key, args, where, parens)
    raise _fail(f"in {where}: unknown operator or extension function `{key}`")


def _pattern_text(pattern: Any, where: str) -> str:
    if not isinstance(pattern, list):
        raise _fail(f"in {where}: `like` pattern must be a list, got {_show(pattern)}")
    out = ['"']
    for elem in pattern:
        if elem == "Wildcard":
            out.append("*")
        elif isinstance(elem, dict) and set(elem) == {"Literal"} and isinstance(elem["Literal"], str):
            for ch in elem["Literal"]:
                out.append("\\*" if ch == "*" else escape_char_debug(ch))
        else:
            raise _fail(f"in {where}: bad `like` pattern element {_show(elem)}")
    out.append('"')
    return "".join(out)


def _scope_text(var: str, data: Any, where: str) -> str:
    if not isinstance(data, dict) or "op" not in data:
        raise _fail(f"in {where}: the {var} constraint needs an `op`, got {_show(data)}")
    op = data["op"]
    rest = {k: v for k, v in data.items() if k != "op"}
    if op in ("All", "all"):
        if rest:
            raise _fail(f"in {where}: unexpected fields in the {var} constraint: {_show(rest)}")
        return var
    if op == "is" and var != "action":
        _fields(rest, ("entity_type",), "is", where, optional=("in",))
        text = f"{var} is {_type_name(rest['entity_type'], where)}"
        if "in" in rest:
            text += " in " + _scope_target(var, rest["in"], where, allow_set=False)
        return text
    if op in ("==", "in"):
        return f"{var} {op} " + _scope_target(var, rest, where, allow_set=(op == "in" and var == "action"))
    raise _fail(f"in {where}: invalid operator {_show(op)} in the {var} constraint")


def _scope_target(var: str, data: Any, where: str, allow_set: bool) -> str:
    if isinstance(data, dict) and set(data) == {"entity"}:
        return _uid_text(_uid_from(data["entity"], where))
    if isinstance(data, dict) and set(data) == {"slot"} and var != "action":
        slot = data["slot"]
        if slot != f"?{var}":
            raise _fail(f"in {where}: the {var} constraint cannot use the slot {_show(slot)}")
        return str(slot)
    if (
        allow_set
        and isinstance(data, dict)
        and set(data) == {"entities"}
        and isinstance(data["entities"], list)
    ):
        return "[" + ", ".join(_uid_text(_uid_from(e, where)) for e in data["entities"]) + "]"
    raise _fail(f"in {where}: invalid target in the {var} constraint: {_show(data)}")


_POLICY_FIELDS: Final = frozenset({"effect", "principal", "action", "resource", "conditions", "annotations"})


@_deep
def est_policy_to_cedar(data: Any, policy_id: str = "policy") -> str:
    """One EST policy or template as Cedar text (annotations sorted, one line)."""
    where = f"policy `{policy_id}`"
    if not isinstance(data, dict):
        raise _fail(f"in {where}: a policy must be a JSON object")
    unknown = set(data) - _POLICY_FIELDS
    missing = {"effect", "principal", "action", "resource"} - set(data)
    if unknown or missing:
        problem = f"unknown field(s) {', '.join(sorted(unknown))}" if unknown else ""
        if missing:
            problem = (problem + "; " if problem else "") + f"missing field(s) {', '.join(sorted(missing))}"
        raise _fail(f"in {where}: {problem}")
    effect = data["effect"]
    if effect not in ("permit", "forbid"):
        raise _fail(f"in {where}: invalid effect {_show(effect)}")
    lines = []
    annotations = data.get("annotations") or {}
    if not isinstance(annotations, dict):
        raise _fail(f"in {where}: `annotations` must be an object")
    for key in sorted(annotations):
        value = annotations[key]
        if not _IDENT_RE.fullmatch(key):
            raise _fail(f"in {where}: invalid annotation name {_show(key)}")
        if value is None:
            lines.append(f"@{key}")
        elif isinstance(value, str):
            lines.append(f"@{key}({_quote(value)})")
        else:
            raise _fail(f"in {where}: annotation `{key}` must be a string or null")
    scope = ", ".join(_scope_text(var, data[var], where) for var in ("principal", "action", "resource"))
    text = f"{effect}({scope})"
    conditions = data.get("conditions", [])
    if not isinstance(conditions, list):
        raise _fail(f"in {where}: `conditions` must be a list")
    for cond in conditions:
        if (
            not isinstance(cond, dict)
            or set(cond) != {"kind", "body"}
            or cond["kind"] not in ("when", "unless")
        ):
            raise _fail(f'in {where}: a condition is {{"kind": "when"|"unless", "body": ...}}')
        text += f" {cond['kind']} {{ {_expr_text(cond['body'], where)} }}"
    lines.append(text + ";")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# JSON → PolicySet


def _load(data: Mapping[str, Any] | str | bytes) -> Any:
    if isinstance(data, (str, bytes)):
        try:
            return json.loads(data)
        except json.JSONDecodeError as err:
            raise _fail(f"policies are not valid JSON: {err}") from None
    return data


def _parse_policy(data: Any, policy_id: str) -> ast.PolicyAst:
    text = est_policy_to_cedar(data, policy_id)
    try:
        parsed = parse_policies(text, f"<policy {policy_id}>")
    except ParseError as err:
        # a long chain prints as deeply nested parentheses: parse it without them
        _Style.compact = True
        try:
            compact = est_policy_to_cedar(data, policy_id)
        finally:
            _Style.compact = False
        if compact == text:
            raise _fail(f"in policy `{policy_id}`: {err}") from None
        try:
            parsed = parse_policies(compact, f"<policy {policy_id}>")
        except ParseError:
            raise _fail(f"in policy `{policy_id}`: {err}") from None
    return parsed[0]


@_deep
def policy_from_json(data: Mapping[str, Any] | str | bytes, policy_id: str = "policy0") -> Policy | Template:
    """One EST policy: a :class:`Policy`, or a :class:`Template` if it has slots."""
    parsed = _parse_policy(_load(data), policy_id)
    return Template(parsed, policy_id) if parsed.slots else Policy(parsed, policy_id)


@_deep
def expr_from_json(data: Mapping[str, Any] | str | bytes) -> Expr:
    """One EST expression as an AST expression."""
    loaded = _load(data)
    text = _expr_text(loaded)
    try:
        return parse_expression(text)
    except ParseError as err:
        _Style.compact = True
        try:
            compact = _expr_text(loaded)
        finally:
            _Style.compact = False
        try:
            return parse_expression(compact)
        except ParseError:
            raise _fail(f"in expression: {err}") from None


_SET_FIELDS: Final = frozenset({"templates", "staticPolicies", "templateLinks"})


@_deep
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
            pset.add_template(Template(_parse_policy(body, tid), tid))
        for pid, body in static.items():
            parsed = _parse_policy(body, pid)
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


# ---------------------------------------------------------------------------
# Cedar text


@_deep
def policy_to_cedar(policy: Policy | Template | ast.PolicyAst) -> str:
    """A policy as Cedar text in Rust's one-line printed form."""
    return est_policy_to_cedar(policy_to_json(policy))


@_deep
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
