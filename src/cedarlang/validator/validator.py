"""The policy validator: Rust's ``Validator::validate`` / ``validate_with_level``.

For every static policy and template:

1. entity types, action ids and enumerated entity ids used anywhere in the policy must be
   declared (``UnrecognizedEntityType``, ``UnrecognizedActionId``, ``InvalidEnumEntity``);
2. some action the scope admits must apply to some principal and resource type the scope
   admits (``InvalidActionApplication``);
3. the policy condition must typecheck as ``Bool`` in every request environment of the schema
   (templates: with every possible type for their slots); a policy whose condition is
   ``False`` in every environment gets an ``ImpossiblePolicy`` warning.

Template-linked policies are validated through their templates, plus checks of the slot values
(their entity types, and the action application with the slots filled in).

``mode="permissive"`` selects Rust's permissive typechecking (see :mod:`.typecheck`);
``level=N`` adds Rust's level validation (RFC 76, see :mod:`.levels`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final, Literal

from .. import ast
from .._limits import recursion_headroom
from ..ast import BinaryOp, Expr, PolicyAst, ScopeConstraint, ScopeOp
from ..policy import Policy, PolicySet, Template
from ..schema import Schema
from ..schema.resolve import uid_str
from ..source import Source, Span
from ..values import EntityUid
from .diagnostics import ValidationDiagnostic, ValidationResult, fuzzy_search, make
from .levels import LevelChecker
from .schema_info import RequestEnv, SchemaInfo, is_action_type
from .str_checks import check_ident, check_string, expr_texts
from .typecheck import EMPTY, EnvChecker, PolicyCheck
from .types import BOOL, FALSE

__all__ = ["VALIDATION_MODES", "ValidationMode", "Validator", "policy_condition"]

#: Rust's ``ValidationMode`` values (``partial`` is an experimental Rust feature not offered here).
ValidationMode = Literal["strict", "permissive"]
"""A validation mode: Cedar's default ``strict``, or ``permissive`` (Rust's ``ValidationMode``)."""
VALIDATION_MODES: Final[tuple[ValidationMode, ...]] = ("strict", "permissive")
"""Every validation mode."""

_FRAMES_PER_LEVEL = 8
_MIN_FRAMES = 20_000


def _true(span: Span | None) -> Expr:
    return ast.Lit(True, span)


def _scope_expr(var: str, c: ScopeConstraint, slots: dict[str, EntityUid] | None = None) -> Expr:
    """The expression of one scope constraint, exactly as Rust builds it."""
    span = c.span
    op = c.op
    if op is ScopeOp.ALL:
        return _true(span)
    variable = ast.Var(var, span)
    if op is ScopeOp.IS:
        assert c.entity_type is not None
        return ast.Is(variable, c.entity_type, span)
    target = c.entity
    rhs: Expr
    if var == "action":
        if op is ScopeOp.EQ:
            assert isinstance(target, EntityUid)
            return ast.Binary(BinaryOp.EQ, variable, ast.Lit(target, span), span)
        assert isinstance(target, (EntityUid, ast.EntityList))
        uids = target if isinstance(target, ast.EntityList) else (target,)
        return ast.Binary(
            BinaryOp.IN, variable, ast.SetLit(tuple(ast.Lit(u, span) for u in uids), span), span
        )
    if isinstance(target, str):
        rhs = ast.Lit(slots[target], span) if slots and target in slots else ast.Slot(target, span)
    else:
        assert isinstance(target, EntityUid)
        rhs = ast.Lit(target, span)
    if op is ScopeOp.EQ:
        return ast.Binary(BinaryOp.EQ, variable, rhs, span)
    in_expr = ast.Binary(BinaryOp.IN, variable, rhs, span)
    if op is ScopeOp.IS_IN:
        assert c.entity_type is not None
        return ast.And(ast.Is(variable, c.entity_type, span), in_expr, span)
    return in_expr


def policy_condition(pa: PolicyAst) -> Expr:
    """Rust's ``Template::condition()``: ``((P && A) && R) && ((c1 && c2) && ...)``.

    Unconstrained scope parts and a missing body are the literal ``true``; ``unless { e }``
    contributes ``!e``.
    """
    span = pa.span
    p = _scope_expr("principal", pa.principal)
    a = _scope_expr("action", pa.action)
    r = _scope_expr("resource", pa.resource)
    body: Expr | None = None
    for cond in pa.conditions:
        part = cond.body if cond.is_when else ast.Unary(ast.UnaryOp.NOT, cond.body, cond.span)
        body = part if body is None else ast.And(body, part, span)
    if body is None:
        body = _true(span)
    return ast.And(ast.And(ast.And(p, a, span), r, span), body, span)


def _narrow(source: Source | None, span: Span | None, needle: str) -> Span | None:
    """The span of ``needle`` inside ``span`` (for pointing at a type name), else ``span``."""
    if source is None or span is None or not needle:
        return span
    index = source.text.find(needle, span.start, span.end)
    if index < 0:
        return span
    return Span(index, index + len(needle))


def _check_options(mode: str, level: int | None) -> bool:
    """Validate the ``mode`` / ``level`` arguments; returns "is strict"."""
    if mode not in VALIDATION_MODES:
        raise ValueError(f"unknown validation mode {mode!r} (expected 'strict' or 'permissive')")
    if level is not None and (isinstance(level, bool) or not isinstance(level, int) or level < 0):
        raise ValueError(f"the validation level must be a non-negative integer, not {level!r}")
    return mode == "strict"


class Validator:
    """Validates policy sets against a schema, like Rust's ``Validator``.

    ``mode`` is ``"strict"`` (the default) or ``"permissive"``; ``level`` (default: none)
    also checks that no policy dereferences entities more than ``level`` hops from the
    request (Rust's ``validate_with_level``).

    >>> from cedarlang import PolicySet, Schema
    >>> schema = Schema.from_str(
    ...     "entity User { manager: User, active: Bool };"
    ...     "action view appliesTo { principal: User, resource: User };")
    >>> policies = PolicySet.from_str(
    ...     "permit(principal, action, resource) when { principal.manager.active };")
    >>> Validator(schema).validate(policies).passed
    True
    >>> Validator(schema).validate(policies, level=2).passed
    True
    >>> print(Validator(schema).validate(policies, level=1).errors[0].message)
    this policy requires level 2, which exceeds the maximum allowed level (1)
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.info = SchemaInfo.build(schema)

    # -- public API ---------------------------------------------------------------------

    def validate(
        self, policies: PolicySet, mode: ValidationMode = "strict", level: int | None = None
    ) -> ValidationResult:
        """Validate every static policy, template and template-linked policy."""
        strict = _check_options(mode, level)
        errors: list[ValidationDiagnostic] = []
        warnings: list[ValidationDiagnostic] = []
        templates: list[tuple[str, PolicyAst]] = [
            (p.id, p.ast) for p in policies.policies() if p.template_id is None
        ]
        templates += [(t.id, t.ast) for t in policies.templates()]
        for pid, pa in templates:
            errs, warns = self._validate_policy_ast(pid, pa, strict, level)
            errors += errs
            warnings += warns
        for p in policies.policies():
            if p.template_id is not None:
                errors += self._validate_link(p)
        for pid, pa in templates:
            warnings += _confusable_checks(pid, pa)
        return ValidationResult(errors, warnings)

    def validate_with_level(
        self, policies: PolicySet, max_deref_level: int, mode: ValidationMode = "strict"
    ) -> ValidationResult:
        """Rust's ``Validator::validate_with_level``: :meth:`validate` with ``level``."""
        return self.validate(policies, mode, max_deref_level)

    def validate_policy(
        self, policy: Policy | Template, mode: ValidationMode = "strict", level: int | None = None
    ) -> ValidationResult:
        """Validate one static policy or template on its own."""
        strict = _check_options(mode, level)
        errors, warnings = self._validate_policy_ast(policy.id, policy.ast, strict, level)
        return ValidationResult(errors, warnings + _confusable_checks(policy.id, policy.ast))

    def validate_policy_ast(
        self, policy_id: str, pa: PolicyAst, mode: ValidationMode = "strict", level: int | None = None
    ) -> tuple[list[ValidationDiagnostic], list[ValidationDiagnostic]]:
        """Errors and warnings (except confusable-text warnings) for one policy or template."""
        return self._validate_policy_ast(policy_id, pa, _check_options(mode, level), level)

    def _validate_policy_ast(
        self, policy_id: str, pa: PolicyAst, strict: bool, level: int | None
    ) -> tuple[list[ValidationDiagnostic], list[ValidationDiagnostic]]:
        errors = self.literal_errors(policy_id, pa)
        errors += self._action_application(policy_id, pa, pa.principal, pa.action, pa.resource)
        type_errors, impossible, level_errors = self._typecheck(policy_id, pa, strict, level)
        errors += type_errors
        errors.sort(key=_span_start)
        # Rust reports the level errors after all the others.
        errors += sorted(level_errors, key=_span_start)
        warnings = []
        if impossible:
            warnings.append(
                make(
                    "ImpossiblePolicy",
                    policy_id,
                    "policy is impossible: the policy expression evaluates to false for all valid requests",
                    pa.span,
                    pa.source,
                    severity="warning",
                )
            )
        return errors, warnings

    def literal_errors(self, policy_id: str, pa: PolicyAst) -> list[ValidationDiagnostic]:
        """Undeclared entity types and action ids, invalid enumerated ids (Rust's
        ``Validator::validate_entity_types_and_literals``; typed partial evaluation runs it)."""
        errors = list(self._entity_type_errors(policy_id, pa))
        errors += self._enum_errors(policy_id, pa)
        errors += self._action_id_errors(policy_id, pa)
        return errors

    # -- typechecking -------------------------------------------------------------------

    def request_envs(self, pa: PolicyAst) -> Iterator[RequestEnv]:
        """Every request environment, with every possible type for the template's slots."""
        slots = pa.slots
        for env in self.info.envs:
            for p_slot in self._slot_links(slots, "?principal", env.principal, pa.principal):
                for r_slot in self._slot_links(slots, "?resource", env.resource, pa.resource):
                    if p_slot is None and r_slot is None:
                        yield env
                    else:
                        yield RequestEnv(env.principal, env.action, env.resource, env.context, p_slot, r_slot)

    def _slot_links(
        self, slots: tuple[str, ...], slot: str, var_type: str, c: ScopeConstraint
    ) -> list[str | None]:
        if slot not in slots:
            return [None]
        if c.op is ScopeOp.EQ:
            return [var_type]
        if c.op in (ScopeOp.IN, ScopeOp.IS_IN):
            out: list[str | None] = [
                name for name, info in self.info.entity_types.items() if var_type in info.descendants
            ]
            out.append(var_type)
            return out
        return list(self.info.entity_types)

    def _typecheck(
        self, policy_id: str, pa: PolicyAst, strict: bool, level: int | None
    ) -> tuple[list[ValidationDiagnostic], bool, list[ValidationDiagnostic]]:
        """Type errors, "typed False in every environment", and level errors."""
        cond = policy_condition(pa)
        pc = PolicyCheck(self.info, policy_id, pa.source, pa.span, strict)
        levels = LevelChecker(pc, level) if level is not None else None
        all_false = True
        depth = expression_depth(cond)
        with recursion_headroom(max(_MIN_FRAMES, depth * _FRAMES_PER_LEVEL + 1000)):
            for env in self.request_envs(pa):
                checker = EnvChecker(pc, env)
                ok, ty, _ = checker.expect(EMPTY, cond, [BOOL])
                is_false = ty == FALSE
                if not is_false:
                    all_false = False
                # Rust level-checks the environments where the policy typechecks or is
                # typed `False` (`PolicyCheck::Success` / `Irrelevant`).
                if levels is not None and (ok or is_false):
                    levels.check_env(cond, env.action, checker.types)
        return list(pc.errors), all_false, list(levels.errors) if levels is not None else []

    # -- entity types, actions, enums ---------------------------------------------------

    def _scope_uids(self, pa: PolicyAst) -> Iterator[tuple[EntityUid, Span | None]]:
        for c in (pa.principal, pa.action, pa.resource):
            target = c.entity
            if isinstance(target, EntityUid):
                yield target, c.span
            elif isinstance(target, ast.EntityList):
                for uid in target:
                    yield uid, c.span

    def _policy_uids(self, pa: PolicyAst) -> Iterator[tuple[EntityUid, Span | None]]:
        yield from self._scope_uids(pa)
        for cond in pa.conditions:
            for node in ast.walk(cond.body):
                if isinstance(node, ast.Lit) and isinstance(node.value, EntityUid):
                    yield node.value, node.span

    def _policy_type_names(self, pa: PolicyAst) -> Iterator[tuple[str, Span | None]]:
        for c in (pa.principal, pa.action, pa.resource):
            if c.entity_type is not None:
                yield c.entity_type, _narrow(pa.source, c.span, c.entity_type)
            target = c.entity
            if isinstance(target, EntityUid):
                yield target.type, _narrow(pa.source, c.span, target.type)
            elif isinstance(target, ast.EntityList):
                for uid in target:
                    yield uid.type, c.span
        for cond in pa.conditions:
            for node in ast.walk(cond.body):
                if isinstance(node, ast.Lit) and isinstance(node.value, EntityUid):
                    yield node.value.type, _narrow(pa.source, node.span, node.value.type)
                elif isinstance(node, ast.Is):
                    yield node.entity_type, node.span

    def _unknown_type_error(
        self, policy_id: str, name: str, span: Span | None, source: Source | None
    ) -> ValidationDiagnostic:
        suggestion = fuzzy_search(name, sorted(self.info.entity_types))
        return make(
            "UnrecognizedEntityType",
            policy_id,
            f"unrecognized entity type `{name}`",
            span,
            source,
            f"did you mean `{suggestion}`?" if suggestion is not None else None,
        )

    def _entity_type_errors(self, policy_id: str, pa: PolicyAst) -> Iterator[ValidationDiagnostic]:
        for name, span in self._policy_type_names(pa):
            if not self.info.is_known_entity_type(name):
                yield self._unknown_type_error(policy_id, name, span, pa.source)

    def _enum_errors(self, policy_id: str, pa: PolicyAst) -> Iterator[ValidationDiagnostic]:
        for uid, span in self._policy_uids(pa):
            if is_action_type(uid.type):
                continue
            info = self.info.entity_types.get(uid.type)
            if info is None or info.enum is None or uid.id in info.enum:
                continue
            choices = ", ".join(f'"{_escape(c)}"' for c in info.enum)
            yield make(
                "InvalidEnumEntity",
                policy_id,
                f'entity `{uid_str(uid)}` is of an enumerated entity type, but `"{_escape(uid.id)}"` is '
                "not declared as a valid eid",
                span,
                pa.source,
                f"valid entity eids: {choices}",
            )

    def _action_id_errors(self, policy_id: str, pa: PolicyAst) -> Iterator[ValidationDiagnostic]:
        for uid, span in self._policy_uids(pa):
            if is_action_type(uid.type) and uid not in self.info.actions:
                yield make(
                    "UnrecognizedActionId",
                    policy_id,
                    f"unrecognized action `{uid_str(uid)}`",
                    span,
                    pa.source,
                    self._action_help(uid),
                )

    def _action_help(self, uid: EntityUid) -> str | None:
        with_type = f"Action::{uid.id}"
        with_quotes = f'Action::"{uid.id}"'
        actions = sorted(self.info.actions, key=lambda u: (u.type, u.id))
        for action in actions:
            if with_type in action.id or with_quotes in action.id:
                return f"did you intend to include the type in action `{uid_str(action)}`?"
        # Rust compares the id with whole uids (`Action::"view"`), which favours short names;
        # comparing ids with ids gives better suggestions.
        suggestion = fuzzy_search(uid.id, [a.id for a in actions])
        if suggestion is None:
            return None
        same_type = [a for a in actions if a.id == suggestion and a.type == uid.type]
        target = (same_type or [a for a in actions if a.id == suggestion])[0]
        return f"did you mean `{uid_str(target)}`?"

    # -- action application --------------------------------------------------------------

    def _actions_for(self, c: ScopeConstraint) -> list[EntityUid]:
        if c.op is ScopeOp.ALL:
            return list(self.info.actions)
        target = c.entity
        if c.op is ScopeOp.EQ:
            assert isinstance(target, EntityUid)
            return [target] if target in self.info.actions else []
        uids = list(target) if isinstance(target, ast.EntityList) else [target]
        found = self.info.actions_in_set([u for u in uids if isinstance(u, EntityUid)])
        return found or []

    def _types_for(self, c: ScopeConstraint) -> set[str]:
        op, target = c.op, c.entity
        if op is ScopeOp.ALL or (op in (ScopeOp.EQ, ScopeOp.IN) and isinstance(target, str)):
            return set(self.info.entity_types)
        if op is ScopeOp.EQ:
            assert isinstance(target, EntityUid)
            return {target.type}
        if op is ScopeOp.IN:
            assert isinstance(target, EntityUid)
            return self.info.entity_types_in(target.type)
        assert c.entity_type is not None
        if op is ScopeOp.IS or isinstance(target, str):
            return {c.entity_type} if c.entity_type in self.info.entity_types else set()
        assert isinstance(target, EntityUid)
        return {c.entity_type} & self.info.entity_types_in(target.type)

    def _in_would_fix(self, c: ScopeConstraint, actions: list[EntityUid], principal: bool) -> bool:
        if c.op is not ScopeOp.EQ or not isinstance(c.entity, EntityUid):
            return False
        ety = c.entity.type
        specs = [self.info.actions[a] for a in actions if a in self.info.actions]
        allowed = [set(s.principals if principal else s.resources) for s in specs]
        if any(ety in a for a in allowed):
            return False
        info = self.info.entity_types.get(ety)
        if info is None:
            return False
        return any(a & info.descendants for a in allowed)

    def _action_application(
        self,
        policy_id: str,
        pa: PolicyAst,
        principal: ScopeConstraint,
        action: ScopeConstraint,
        resource: ScopeConstraint,
    ) -> list[ValidationDiagnostic]:
        actions = self._actions_for(action)
        principals = self._types_for(principal)
        resources = self._types_for(resource)
        for uid in actions:
            spec = self.info.actions.get(uid)
            if spec is None:
                continue
            if principals.intersection(spec.principals) and resources.intersection(spec.resources):
                return []
        fix_p = self._in_would_fix(principal, actions, True)
        fix_r = self._in_would_fix(resource, actions, False)
        help = {
            (True, False): "try replacing `==` with `in` in the principal clause",
            (False, True): "try replacing `==` with `in` in the resource clause",
            (True, True): "try replacing `==` with `in` in the principal clause and the resource clause",
        }.get((fix_p, fix_r))
        return [
            make(
                "InvalidActionApplication",
                policy_id,
                "unable to find an applicable action given the policy scope constraints",
                pa.span,
                pa.source,
                help,
            )
        ]

    # -- template-linked policies ---------------------------------------------------------

    def _validate_link(self, p: Policy) -> list[ValidationDiagnostic]:
        errors = [
            self._unknown_type_error(p.id, uid.type, None, None)
            for uid in p.slot_values.values()
            if not self.info.is_known_entity_type(uid.type)
        ]
        pa = p.ast

        def linked(c: ScopeConstraint) -> ScopeConstraint:
            if isinstance(c.entity, str) and c.entity in p.slot_values:
                return ScopeConstraint(c.op, p.slot_values[c.entity], c.entity_type, c.span)
            return c

        errors += self._action_application(p.id, pa, linked(pa.principal), pa.action, linked(pa.resource))
        return errors


def _span_start(d: ValidationDiagnostic) -> int:
    return d.span.start if d.span is not None else -1


def _escape(text: str) -> str:
    from ..schema._names import escape_debug

    return escape_debug(text)


def expression_depth(e: Expr) -> int:
    """The nesting depth of an expression (iteratively)."""
    best = 0
    stack: list[tuple[Expr, int]] = [(e, 1)]
    while stack:
        node, d = stack.pop()
        if d > best:
            best = d
        stack.extend((child, d + 1) for child in node.children())
    return best


def _confusable_checks(policy_id: str, pa: PolicyAst) -> list[ValidationDiagnostic]:
    out: list[ValidationDiagnostic] = []
    for is_string, text, span in expr_texts(policy_condition(pa)):
        found = check_string(text) if is_string else check_ident(text)
        if found is not None:
            kind, message = found
            out.append(make(kind, policy_id, message, span, pa.source, severity="warning"))
    return out


def validate(
    schema: Schema,
    policies: PolicySet | Iterable[Policy],
    mode: ValidationMode = "strict",
    level: int | None = None,
) -> ValidationResult:
    """Shorthand for ``Validator(schema).validate(policies, mode, level)``."""
    if not isinstance(policies, PolicySet):
        pset = PolicySet()
        for p in policies:
            pset.add(p)
        policies = pset
    return Validator(schema).validate(policies, mode, level)
