"""Compiles policies to Python functions (the fast path).

Each policy's condition becomes the source of one Python function, in the style
of jinja2's code generator, then ``compile()``-d once. Literals and attribute
names never appear in the generated source: they are bound as constants in the
function's namespace. All operator semantics come from :mod:`cedarlang.ops`, so
compiled and interpreted evaluation agree; a differential test keeps them so.
Expressions nested too deeply for CPython's compiler fall back to the
interpreter.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from typing import Any, Final, assert_never, cast

from . import ast, ops
from ._limits import recursion_headroom
from .ast import BinaryOp, Expr, UnaryOp
from .errors import EvaluationError
from .evaluator import Interpreter
from .extensions import FUNCTIONS
from .values import CedarSet, EntityUid, Record, Value

PolicyFunction = Callable[[EntityUid, EntityUid, EntityUid, Record, Any], bool]
"""``fn(principal, action, resource, context, entities) -> satisfied``; raises EvaluationError."""

MAX_COMPILED_DEPTH: Final = 80
"""Deeper expressions run in the interpreter (CPython's compiler limits nesting)."""
INTERPRETER_FRAMES: Final = 20_000

_RUNTIME: Final[dict[str, Any]] = {
    "_b": ops.expect_bool,
    "_eq": ops.eq,
    "_ne": ops.ne,
    "_lt": ops.lt,
    "_le": ops.le,
    "_gt": ops.gt,
    "_ge": ops.ge,
    "_add": ops.add,
    "_sub": ops.sub,
    "_mul": ops.mul,
    "_neg": ops.neg,
    "_not": ops.not_,
    "_in": ops.in_,
    "_contains": ops.contains,
    "_contains_all": ops.contains_all,
    "_contains_any": ops.contains_any,
    "_is_empty": ops.is_empty,
    "_get_attr": ops.get_attr,
    "_has_attr": ops.has_attr,
    "_get_tag": ops.get_tag,
    "_has_tag": ops.has_tag,
    "_is": ops.is_type,
    "_like": ops.like,
    "_ext": ops.call_extension,
    "_set": CedarSet,
    "_record": Record,
    "_type": type,
    "_EntityUid": EntityUid,
    "_Record": Record,
    "_EvaluationError": EvaluationError,
}

_BINARY_HELPERS: Final = {
    BinaryOp.EQ: "_eq",
    BinaryOp.NE: "_ne",
    BinaryOp.LT: "_lt",
    BinaryOp.LE: "_le",
    BinaryOp.GT: "_gt",
    BinaryOp.GE: "_ge",
    BinaryOp.ADD: "_add",
    BinaryOp.SUB: "_sub",
    BinaryOp.MUL: "_mul",
    BinaryOp.CONTAINS: "_contains",
    BinaryOp.CONTAINS_ALL: "_contains_all",
    BinaryOp.CONTAINS_ANY: "_contains_any",
}
_ENTITY_HELPERS: Final = {BinaryOp.IN: "_in", BinaryOp.GET_TAG: "_get_tag", BinaryOp.HAS_TAG: "_has_tag"}
_UNARY_HELPERS: Final = {UnaryOp.NOT: "_not", UnaryOp.NEG: "_neg", UnaryOp.IS_EMPTY: "_is_empty"}
_VARIABLES: Final = {"principal": "p", "action": "a", "resource": "r", "context": "c"}


def expr_depth(expr: Expr) -> int:
    """How deeply the generated code for ``expr`` nests (``&&``/``||`` chains are flat)."""
    deepest = 0
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_COMPILED_DEPTH:
            break
        children = ast.chain_operands(node) if isinstance(node, (ast.And, ast.Or)) else node.children()
        stack.extend((child, depth + 1) for child in children)
    return deepest


_BOOL_BINARY: Final = frozenset(
    {
        BinaryOp.EQ,
        BinaryOp.NE,
        BinaryOp.LT,
        BinaryOp.LE,
        BinaryOp.GT,
        BinaryOp.GE,
        BinaryOp.IN,
        BinaryOp.CONTAINS,
        BinaryOp.CONTAINS_ALL,
        BinaryOp.CONTAINS_ANY,
        BinaryOp.HAS_TAG,
    }
)


def always_bool(e: Expr) -> bool:
    """Whether ``e`` evaluates to a boolean whenever it does not raise."""
    match e:
        case ast.And() | ast.Or() | ast.HasAttr() | ast.Like() | ast.Is():
            return True
        case ast.Lit():
            return type(e.value) is bool
        case ast.Unary():
            return e.op in (UnaryOp.NOT, UnaryOp.IS_EMPTY)
        case ast.Binary():
            return e.op in _BOOL_BINARY
        case (
            ast.Var() | ast.Slot() | ast.If() | ast.GetAttr() | ast.SetLit() | ast.RecordLit() | ast.ExtCall()
        ):
            return False
        case _:
            assert_never(e)


_UID_VARIABLES: Final = frozenset({"principal", "action", "resource"})


def _is_uid(e: Expr) -> bool:
    """Whether ``e`` is always an entity uid: a request's principal, action or resource, or
    a uid literal."""
    if type(e) is ast.Var:
        return e.name in _UID_VARIABLES
    return type(e) is ast.Lit and type(e.value) is EntityUid


def _is_context(e: Expr) -> bool:
    return type(e) is ast.Var and e.name == "context"


class _CodeGen:
    """Turns one expression into Python source; constants go into ``namespace``.

    With ``inline`` set, attribute reads and ``has`` on a request variable or uid literal
    (always an entity) and on ``context`` (always a record) are written as plain lookups,
    ``E.get(uid).attrs[name]`` and ``c[name]``, instead of calls into ``ops``: such code
    raises ``KeyError`` or ``AttributeError`` where Cedar raises an error (no such entity
    or attribute) or ``has`` is false, and the caller then runs the checked code instead
    (``inlined`` tells whether any such lookup was written)."""

    def __init__(
        self, namespace: dict[str, Any] | None = None, *, inline: bool = False, prefix: str = "_k"
    ) -> None:
        self.namespace: dict[str, Any] = dict(_RUNTIME) if namespace is None else namespace
        self._constants: dict[int, str] = {}
        self._prefix = prefix
        self.inline = inline
        self.inlined = False

    def constant(self, value: Any) -> str:
        key = id(value)
        name = self._constants.get(key)
        if name is None:
            name = f"{self._prefix}{len(self._constants)}"
            self._constants[key] = name
            self.namespace[name] = value
        return name

    def gen(self, e: Expr) -> str:
        match e:
            case ast.Lit():
                value = e.value
                if value is True or value is False:
                    return "True" if value else "False"
                return self.constant(value)
            case ast.Var():
                return _VARIABLES[e.name]
            case ast.And():
                return "(" + " and ".join(self.boolean(x) for x in ast.chain_operands(e)) + ")"
            case ast.Or():
                return "(" + " or ".join(self.boolean(x) for x in ast.chain_operands(e)) + ")"
            case ast.If():
                cond, then, else_ = self.boolean(e.cond), self.gen(e.then), self.gen(e.else_)
                return f"({then} if {cond} else {else_})"
            case ast.Unary():
                return f"{_UNARY_HELPERS[e.op]}({self.gen(e.arg)})"
            case ast.Binary():
                return self.binary(e)
            case ast.GetAttr():
                if self.inline and _is_uid(e.expr):
                    self.inlined = True
                    return f"{self.entity(self.gen(e.expr))}.attrs[{self.constant(e.attr)}]"
                if self.inline and _is_context(e.expr):
                    self.inlined = True
                    return f"c[{self.constant(e.attr)}]"
                return f"_get_attr(E, {self.gen(e.expr)}, {self.constant(e.attr)})"
            case ast.HasAttr():
                if self.inline and _is_uid(e.expr):
                    self.inlined = True
                    return f"({self.constant(e.attr)} in {self.entity(self.gen(e.expr))}.attrs)"
                if _is_context(e.expr):  # exact: the context is always a record
                    return f"({self.constant(e.attr)} in c)"
                return f"_has_attr(E, {self.gen(e.expr)}, {self.constant(e.attr)})"
            case ast.Like():
                return f"_like({self.gen(e.expr)}, {self.constant(e.pattern)})"
            case ast.Is():
                return f"_is({self.gen(e.expr)}, {self.constant(e.entity_type)})"
            case ast.SetLit():
                values = [item.value for item in e.items if type(item) is ast.Lit]
                if len(values) == len(e.items):
                    return self.constant(CedarSet(values))
                items = ", ".join(self.gen(item) for item in e.items)
                return f"_set(({items},))" if items else "_set(())"
            case ast.RecordLit():
                # fields are evaluated in key order, as Rust's BTreeMap does (which error is
                # reported when two fields fail depends on it)
                ordered = sorted(e.fields, key=lambda field: field[0])
                fields = ", ".join(f"({self.constant(k)}, {self.gen(v)})" for k, v in ordered)
                return f"_record(({fields},))" if fields else "_record()"
            case ast.ExtCall():
                return self.call(e)
            case ast.Slot():
                return f"_unlinked({self.constant(e.name)})"
            case _:
                assert_never(e)

    def entity(self, uid: str) -> str:
        """Code for the entity (or ``None``) of ``uid``, the code of an expression that is
        always a uid."""
        return f"E.get({uid})"

    def in_uid(self, left: str, right: str) -> str:
        """Code for ``left in right`` where ``left`` is the code of an expression that is
        always a uid."""
        return f"_in_uid(E, {left}, {right})"

    def slot(self, name: str) -> str:
        """Code for the value of template slot ``name``."""
        return _SLOT_PARAMETERS[name]

    def known(self, var: str, constraint: ast.ScopeConstraint) -> bool:
        """Whether every request this code decides is known to satisfy ``constraint``."""
        return False

    def descends(self, var: str, target: str, *, any_of: bool = False) -> str:
        """Code for whether ``var``'s entity has ``target`` (or, with ``any_of``, one of
        the uids in ``target``) among its ancestors."""
        return f"_descends_any(E, {var}, {target})" if any_of else f"_descends(E, {var}, {target})"

    def boolean(self, e: Expr) -> str:
        """Code for ``e`` that raises Cedar's type error unless it is a boolean."""
        code = self.gen(e)
        return code if always_bool(e) else f"_b({code})"

    def binary(self, e: ast.Binary) -> str:
        left, right = self.gen(e.left), self.gen(e.right)
        op = e.op
        if op is BinaryOp.IN and _is_uid(e.left):
            return self.in_uid(left, right)
        if op in _ENTITY_HELPERS:
            return f"{_ENTITY_HELPERS[op]}(E, {left}, {right})"
        if op is BinaryOp.EQ and (_is_uid(e.left) or _is_uid(e.right)):
            # a uid (a tuple) equals only a uid: no other Cedar value is a tuple, and every
            # other value's __eq__ checks the other's type
            return f"({left} == {right})"
        return f"{_BINARY_HELPERS[op]}({left}, {right})"

    def call(self, e: ast.ExtCall) -> str:
        function = FUNCTIONS.get(e.name)
        args = ", ".join(self.gen(arg) for arg in e.args)
        literals = [arg.value for arg in e.args if isinstance(arg, ast.Lit)]
        if function is not None and len(e.args) == len(function.arg_types) and len(literals) == len(e.args):
            # A call on literals (e.g. `ip("10.0.0.0/8")`) is evaluated once, if it succeeds.
            try:
                value = ops.call_extension(e.name, literals)
            except EvaluationError:
                pass
            else:
                return self.constant(value)
        return f"_ext({self.constant(e.name)}, ({args},))" if args else f"_ext({self.constant(e.name)}, ())"


def _unlinked(slot: str) -> Value:
    raise EvaluationError("UnlinkedSlot", f"template slot `{slot}` was not linked")


def _descends(entities: Any, uid: EntityUid, target: EntityUid) -> bool:
    entity = entities.get(uid)
    return entity is not None and target in entity.ancestors


def _descends_any(entities: Any, uid: EntityUid, targets: frozenset[EntityUid]) -> bool:
    entity = entities.get(uid)
    return entity is not None and not targets.isdisjoint(entity.ancestors)


_SLOT_PARAMETERS: Final = {"?principal": "sp", "?resource": "sr"}


def _scope_code(gen: _CodeGen, var: str, constraint: ast.ScopeConstraint) -> str | None:
    """Code for one scope constraint. The request's principal, action and resource are
    always entity uids, so scope checks need no run-time type checks (as in Rust)."""
    op = constraint.op
    if op is ast.ScopeOp.ALL or gen.known(var, constraint):
        return None
    if op is ast.ScopeOp.IS:
        return f"{var}[0] == {gen.constant(constraint.entity_type)}"
    target = constraint.entity
    if isinstance(target, ast.EntityList):
        uids = gen.constant(frozenset(target))
        return f"({var} in {uids} or {gen.descends(var, uids, any_of=True)})"
    ref = gen.slot(target) if isinstance(target, str) else gen.constant(target)
    if op is ast.ScopeOp.EQ:
        return f"{var} == {ref}"
    membership = f"({var} == {ref} or {gen.descends(var, ref)})"
    if op is ast.ScopeOp.IS_IN:
        return f"{var}[0] == {gen.constant(constraint.entity_type)} and {membership}"
    return membership


def _in_uid(entities: Any, uid: EntityUid, b: Value) -> bool:
    """``ops.in_`` with a left side known to be a uid (a request variable or a literal)."""
    if type(b) is EntityUid:
        if uid == b:
            return True
        entity = entities.get(uid)
        return entity is not None and b in entity.ancestors
    return ops.in_(entities, uid, b)


def _body(gen: _CodeGen, policy_ast: ast.PolicyAst, conditions: list[Expr]) -> str:
    """The expression deciding a policy: its scope checks, then its conditions."""
    checks = [
        code
        for var, constraint in (
            ("p", policy_ast.principal),
            ("a", policy_ast.action),
            ("r", policy_ast.resource),
        )
        if (code := _scope_code(gen, var, constraint)) is not None
    ]
    checks += [gen.boolean(part) for part in conditions]
    return " and ".join(checks) if checks else "True"


def _conditions(policy_ast: ast.PolicyAst) -> list[Expr]:
    """The policy's ``when`` bodies and negated ``unless`` bodies, in order."""
    return [c.body if c.is_when else ast.Unary(UnaryOp.NOT, c.body, c.span) for c in policy_ast.conditions]


_HELPERS: Final[dict[str, Any]] = {
    "_unlinked": _unlinked,
    "_descends": _descends,
    "_descends_any": _descends_any,
    "_in_uid": _in_uid,
    "_EMPTY": frozenset(),
}
"""What policy code calls besides ``_RUNTIME``."""

MAX_INLINED_DEPTH: Final = 40
"""Deeper policies are called from a decision function rather than written into it (an
inlined ``in`` nests a few levels more than the policy's own code)."""

_ENTITY_LOCALS: Final = {"p": ("_pe", "_pa"), "r": ("_re", "_ra")}
"""The locals a decision function fetches once, by the code of the variable: the
principal's and the resource's entity (or ``None``) and ancestors."""


class _DecisionGen(_CodeGen):
    """A ``_CodeGen`` writing policies into one decision function for a small set's
    candidates: the principal's and the resource's entity and ancestors are fetched once,
    ``principal in X`` is written out, and what the scope index already established for
    every request the function decides (the action constraint, ``principal is T``) is not
    checked again."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        super().__init__(namespace, inline=True)
        self.fetched: set[str] = set()
        """The locals of ``_ENTITY_LOCALS`` used so far."""
        self.slots: Mapping[str, EntityUid] = {}
        self._temps = 0

    def entity(self, uid: str) -> str:
        if uid not in _ENTITY_LOCALS:  # (a uid literal, or the action)
            return super().entity(uid)
        name = _ENTITY_LOCALS[uid][0]
        self.fetched.add(name)
        return name

    def _ancestors(self, var: str) -> str:
        entity, ancestors = _ENTITY_LOCALS[var]
        self.fetched.update((entity, ancestors))
        return ancestors

    def in_uid(self, left: str, right: str) -> str:
        if left not in _ENTITY_LOCALS:
            return super().in_uid(left, right)
        # `_in_uid(E, left, right)` written out, `right` evaluated once
        temp = f"_x{self._temps}"
        self._temps += 1
        return (
            f"(({temp} := {right}) == {left} or ({temp} in {self._ancestors(left)} "
            f"if type({temp}) is _EntityUid else _in(E, {left}, {temp})))"
        )

    def descends(self, var: str, target: str, *, any_of: bool = False) -> str:
        if var not in _ENTITY_LOCALS:
            return super().descends(var, target, any_of=any_of)
        ancestors = self._ancestors(var)
        return f"not {target}.isdisjoint({ancestors})" if any_of else f"{target} in {ancestors}"

    def slot(self, name: str) -> str:
        return self.constant(self.slots.get(name))

    def known(self, var: str, constraint: ast.ScopeConstraint) -> bool:
        # The small-set index chooses candidates by the principal's and resource's types
        # and the action with its ancestors (`PolicyIndex._by_types`): `is T` and every
        # action constraint naming entities hold for each request the function decides
        # (an empty `action in []` names none and is kept: it never holds).
        if constraint.op is ast.ScopeOp.IS:
            return True
        return var == "a" and constraint.op is not ast.ScopeOp.ALL and bool(constraint.entity)


class DecisionInliner:
    """Writes candidate policies of a small set into one decision function, sharing
    ``namespace`` (see ``authorizer.decider``): the function must start with
    :meth:`prelude`, and decides only requests whose candidates the scope index chose by
    types (every candidate's action constraint and ``is T`` hold)."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        namespace.update(_RUNTIME)
        namespace.update(_HELPERS)
        self._gen = _DecisionGen(namespace)

    def body(self, policy_ast: ast.PolicyAst, slots: Mapping[str, EntityUid]) -> tuple[str, bool] | None:
        """The expression deciding the policy, and whether it uses plain lookups (then a
        ``KeyError`` or ``AttributeError`` from it means: let the policy's own function
        decide); ``None`` if it is not to be inlined (call its function instead)."""
        conditions = _conditions(policy_ast)
        if any(expr_depth(part) > MAX_INLINED_DEPTH for part in conditions):
            return None
        gen = self._gen
        gen.slots, gen.inlined = slots, False
        return _body(gen, policy_ast, conditions), gen.inlined

    def prelude(self) -> list[str]:
        """The statements fetching the locals the bodies use (before any body runs)."""
        fetched = self._gen.fetched
        lines = []
        for var, (entity, ancestors) in _ENTITY_LOCALS.items():
            if entity in fetched:
                lines.append(f"{entity} = E.get({var})")
            if ancestors in fetched:
                lines.append(f"{ancestors} = {entity}.ancestors if {entity} is not None else _EMPTY")
        return lines


def _checked_compiler(
    policy_ast: ast.PolicyAst, conditions: list[Expr], namespace: dict[str, Any], name: str
) -> Callable[..., bool]:
    """A stand-in for a policy's checked function that compiles it on its first call (and
    puts it in its place in ``namespace``, shared by every link of a template)."""

    def compile_checked(*args: Any) -> bool:
        body = _body(_CodeGen(namespace, prefix="_q"), policy_ast, conditions)
        source = f"def _checked_policy(p, a, r, c, E, sp=None, sr=None):\n    return {body}\n"
        exec(compile(source, f"<cedar policy {name} (checked)>", "exec"), namespace)
        checked = namespace["_checked"] = namespace["_checked_policy"]
        result: bool = checked(*args)
        return result

    return compile_checked


class CompiledPolicy:
    """A policy or template compiled once; :meth:`bind` gives the function for one link.

    Linking a template creates a new function object around the same code object
    with the slot values as default arguments, so it costs no compilation and adds
    no call overhead.
    """

    __slots__ = ("_function", "_parts")

    def __init__(self, policy_ast: ast.PolicyAst, name: str = "policy") -> None:
        self._parts = policy_ast
        conditions = _conditions(policy_ast)
        self._function: types.FunctionType | None = None
        if any(expr_depth(part) > MAX_COMPILED_DEPTH for part in conditions):
            return
        fast = _CodeGen(inline=True)
        namespace = fast.namespace
        namespace.update(_HELPERS)
        body = _body(fast, policy_ast, conditions)
        if fast.inlined:
            # the plain lookups raise KeyError / AttributeError where the checked code (the
            # same expression through `ops`, compiled on first need) decides or raises
            # Cedar's error; evaluation has no side effects, so running it again is exact
            namespace["_checked"] = _checked_compiler(policy_ast, conditions, namespace, name)
            source = (
                "def _policy(p, a, r, c, E, sp=None, sr=None):\n"
                f"    try:\n        return {body}\n"
                "    except (KeyError, AttributeError):\n"
                "        return _checked(p, a, r, c, E, sp, sr)\n"
            )
        else:
            source = f"def _policy(p, a, r, c, E, sp=None, sr=None):\n    return {body}\n"
        exec(compile(source, f"<cedar policy {name}>", "exec"), namespace)
        self._function = namespace["_policy"]

    def bind(self, slots: Mapping[str, EntityUid] | None = None) -> PolicyFunction:
        """The function deciding this policy, with template slots filled from ``slots``."""
        if self._function is None:
            return _interpreted(ast.condition_parts(self._parts, slots or {}))
        if not slots:
            return cast(PolicyFunction, self._function)
        base = self._function
        bound = types.FunctionType(
            base.__code__,
            base.__globals__,
            base.__name__,
            (slots.get("?principal"), slots.get("?resource")),
        )
        return bound


def _interpreted(parts: tuple[Expr, ...]) -> PolicyFunction:
    def run(p: EntityUid, a: EntityUid, r: EntityUid, c: Record, E: Any) -> bool:
        interpreter = Interpreter(p, a, r, c, E)
        with recursion_headroom(INTERPRETER_FRAMES):
            return all(ops.expect_bool(interpreter.evaluate(part)) for part in parts)

    return run
