"""The typed partial evaluator (Rust's ``cedar-policy-core/src/tpe/evaluator.rs`` and
``policy_residual_map`` in ``tpe.rs``).

Each policy is first typechecked (by :mod:`cedarlang.validator`, strict mode) in the one
request environment the partial request belongs to; its condition then becomes a residual
(:func:`~cedarlang.tpe.residual.from_condition`) that :class:`Evaluator` simplifies with
what the partial request and partial entities know. Simplification never loses an error:
``<residual> && false`` stays as it is when the residual may error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from .. import ops
from .._limits import recursion_headroom
from ..ast import BinaryOp
from ..errors import EvaluationError, TpePolicyValidationError, TpeRequestError
from ..evaluator import BINARY_OPS, UNARY_OPS  # the interpreter's operator tables, shared
from ..policy import Policy, PolicySet
from ..schema import Schema
from ..validator import Validator, policy_condition
from ..validator.schema_info import RequestEnv
from ..validator.typecheck import EMPTY, EnvChecker, PolicyCheck
from ..validator.types import BOOL
from ..validator.validator import expression_depth as tree_depth
from ..values import CedarSet, EntityUid, Record
from .entities import PartialEntities
from .request import PartialRequest
from .residual import (
    ERROR,
    FALSE_R,
    TRUE_R,
    Concrete,
    ErrorResidual,
    Kind,
    Partial,
    Residual,
    can_error,
    depth,
    from_condition,
)

__all__ = ["Evaluator", "policy_residuals"]

_FRAMES: Final = 20_000
_FRAMES_PER_LEVEL: Final = 8


_VALIDATORS: dict[int, tuple[Schema, Validator]] = {}
_MAX_VALIDATORS: Final = 8


def validator_for(schema: Schema) -> Validator:
    """The validator of ``schema``, built once for the last few schemas used (its
    ``SchemaInfo`` costs more than typechecking a policy in one environment)."""
    cached = _VALIDATORS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    validator = Validator(schema)
    if len(_VALIDATORS) >= _MAX_VALIDATORS:
        _VALIDATORS.pop(next(iter(_VALIDATORS)), None)
    _VALIDATORS[id(schema)] = (schema, validator)  # the schema kept alive: its id stays its own
    return validator


def find_request_env(validator: Validator, request: PartialRequest) -> RequestEnv:
    """The schema's request environment for the request's action, principal type and
    resource type (Rust's ``find_request_env``)."""
    for env in validator.info.envs:
        if (
            env.action == request.action
            and env.principal == request.principal.type
            and env.resource == request.resource.type
        ):
            return env
    raise TpeRequestError(
        "NoMatchingReqEnv", "no request environment in the schema matches the given request"
    )


def policy_residuals(
    policies: PolicySet | Iterable[Policy], request: PartialRequest, schema: Schema
) -> list[tuple[Policy, Residual]]:
    """Typecheck every policy in the request's environment and turn its condition into a
    residual (not yet simplified). Raises :class:`TpePolicyValidationError` for the first
    policy that does not validate."""
    validator = validator_for(schema)
    env = find_request_env(validator, request)
    out: list[tuple[Policy, Residual]] = []
    for policy in policies:
        pa = policy.ast
        slots = policy.slot_values
        errors = validator.literal_errors(policy.id, pa)
        if not errors:
            linked = env
            if slots:
                p_slot, r_slot = slots.get("?principal"), slots.get("?resource")
                linked = RequestEnv(
                    env.principal,
                    env.action,
                    env.resource,
                    env.context,
                    p_slot.type if p_slot is not None else None,
                    r_slot.type if r_slot is not None else None,
                )
            cond = policy_condition(pa)
            pc = PolicyCheck(validator.info, policy.id, pa.source, pa.span)
            checker = EnvChecker(pc, linked)
            with recursion_headroom(max(_FRAMES, tree_depth(cond) * _FRAMES_PER_LEVEL + 1000)):
                checker.expect(EMPTY, cond, [BOOL])
                errors = list(pc.errors)
                if not errors:
                    out.append((policy, from_condition(cond, checker.types, slots)))
                    continue
        raise TpePolicyValidationError(errors)
    return out


def _bool(r: Residual) -> bool | None:
    """The boolean a concrete residual holds (``None`` if it is not a boolean)."""
    assert isinstance(r, Concrete)
    v = r.value
    return v if v is True or v is False else None


class Evaluator:
    """Simplifies residuals with a partial request and partial entities (Rust's
    ``tpe::evaluator::Evaluator::interpret``; the cases are in the same order)."""

    def __init__(self, request: PartialRequest, entities: PartialEntities) -> None:
        self.request = request
        self.entities = entities

    def interpret(self, r: Residual) -> Residual:
        try:
            with recursion_headroom(max(_FRAMES, depth(r) * _FRAMES_PER_LEVEL + 1000)):
                return self._interpret(r)
        except RecursionError:  # Rust's `stack_size_check`: an error residual
            return ERROR

    def _interpret(self, r: Residual) -> Residual:
        if not isinstance(r, Partial):
            return r
        kind = r.kind
        go = self._interpret
        if kind is Kind.VAR:
            return self._var(r)
        if kind is Kind.AND or kind is Kind.OR:
            return self._and_or(r, kind is Kind.AND)
        if kind is Kind.IF:
            test = go(r.args[0])
            if isinstance(test, Concrete):
                b = _bool(test)
                if b is None:
                    return ERROR
                return go(r.args[1] if b else r.args[2])
            if isinstance(test, ErrorResidual):
                return ERROR
            return Partial(Kind.IF, (test, go(r.args[1]), go(r.args[2])))
        if kind is Kind.IS:
            arg = go(r.args[0])
            if isinstance(arg, Concrete):
                v = arg.value
                return Concrete(v.type == r.data) if type(v) is EntityUid else ERROR
            if isinstance(arg, Partial) and arg.kind is Kind.VAR and arg.data in ("principal", "resource"):
                part = self.request.principal if arg.data == "principal" else self.request.resource
                return Concrete(part.type == r.data)
            if isinstance(arg, ErrorResidual):
                return ERROR
            return Partial(Kind.IS, (arg,), r.data)
        if kind is Kind.LIKE:
            arg = go(r.args[0])
            if isinstance(arg, Concrete):
                v = arg.value
                return Concrete(ops.match_pattern(v, r.data)) if type(v) is str else ERROR
            if isinstance(arg, ErrorResidual):
                return ERROR
            return Partial(Kind.LIKE, (arg,), r.data)
        if kind is Kind.BINARY:
            return self._binary(r)
        if kind is Kind.GET_ATTR or kind is Kind.HAS_ATTR:
            return self._attr(r, kind is Kind.GET_ATTR)
        if kind is Kind.UNARY:
            arg = go(r.args[0])
            if isinstance(arg, Concrete):
                try:
                    return Concrete(UNARY_OPS[r.data](arg.value))
                except EvaluationError:
                    return ERROR
            if isinstance(arg, ErrorResidual):
                return ERROR
            return Partial(Kind.UNARY, (arg,), r.data)
        args = tuple(go(a) for a in r.args)
        if all(isinstance(a, Concrete) for a in args):
            values = [a.value for a in args if isinstance(a, Concrete)]
            if kind is Kind.SET:
                return Concrete(CedarSet(values))
            if kind is Kind.RECORD:
                return Concrete(Record(zip(r.data, values, strict=True)))
            try:
                return Concrete(ops.call_extension(r.data, values))
            except EvaluationError:
                return ERROR
        if any(isinstance(a, ErrorResidual) for a in args):
            return ERROR
        return Partial(kind, args, r.data)

    def _var(self, r: Partial) -> Residual:
        name = r.data
        request = self.request
        if name == "action":
            return Concrete(request.action)
        if name == "principal" or name == "resource":
            uid = (request.principal if name == "principal" else request.resource).uid
            return r if uid is None else Concrete(uid)
        return r if request.context is None else Concrete(request.context)

    def _and_or(self, r: Partial, is_and: bool) -> Residual:
        # `&&`: false short-circuits; `||`: true does
        left = self._interpret(r.args[0])
        if isinstance(left, Concrete):
            b = _bool(left)
            if b is None:
                return ERROR
            if b is is_and:
                return self._interpret(r.args[1])
            return left
        if isinstance(left, ErrorResidual):
            return ERROR
        right = self._interpret(r.args[1])
        if isinstance(right, Concrete):
            b = _bool(right)
            if b is None:
                return Partial(r.kind, (left, ERROR))
            if b is is_and:  # <left> && true == <left>; <left> || false == <left>
                return left
            if not can_error(left):  # <error-free> && false == false (|| true == true)
                return right
            return Partial(r.kind, (left, right))
        return Partial(r.kind, (left, right))

    def _binary(self, r: Partial) -> Residual:
        op: BinaryOp = r.data
        arg1 = self._interpret(r.args[0])
        arg2 = self._interpret(r.args[1])
        if isinstance(arg1, Concrete) and isinstance(arg2, Concrete):
            v1, v2 = arg1.value, arg2.value
            if op is BinaryOp.IN:
                return self._in(r, arg1, arg2)
            if op is BinaryOp.GET_TAG or op is BinaryOp.HAS_TAG:
                if type(v1) is not EntityUid or type(v2) is not str:
                    return ERROR
                tags = self.entities.tags(v1)
                if tags is None:
                    return Partial(Kind.BINARY, (arg1, arg2), op)
                if op is BinaryOp.HAS_TAG:
                    return Concrete(v2 in tags)
                return Concrete(tags[v2]) if v2 in tags else ERROR
            try:
                return Concrete(BINARY_OPS[op](v1, v2))
            except EvaluationError:
                return ERROR
        if isinstance(arg1, ErrorResidual) or isinstance(arg2, ErrorResidual):
            return ERROR
        return Partial(Kind.BINARY, (arg1, arg2), op)

    def _in(self, r: Partial, arg1: Concrete, arg2: Concrete) -> Residual:
        uid1, v2 = arg1.value, arg2.value
        if type(uid1) is not EntityUid:
            return ERROR
        residual = Partial(Kind.BINARY, (arg1, arg2), BinaryOp.IN)
        if type(v2) is EntityUid:
            if uid1 == v2:
                return TRUE_R
            ancestors = self.entities.ancestors(uid1)
            return residual if ancestors is None else Concrete(v2 in ancestors)
        if type(v2) is CedarSet:
            if any(type(u) is not EntityUid for u in v2):
                return ERROR
            ancestors = self.entities.ancestors(uid1)
            if uid1 in v2 or (ancestors is not None and any(u in ancestors for u in v2)):
                return TRUE_R
            if len(v2) and ancestors is None:
                return residual
            return FALSE_R
        return ERROR

    def _attr(self, r: Partial, get: bool) -> Residual:
        arg = self._interpret(r.args[0])
        attr: str = r.data
        if isinstance(arg, Concrete):
            v = arg.value
            if type(v) is Record:
                if not get:
                    return Concrete(attr in v)
                return Concrete(v[attr]) if attr in v else ERROR
            if type(v) is EntityUid:
                attrs = self.entities.attrs(v)
                if attrs is None:
                    return Partial(r.kind, (arg,), attr)
                if not get:
                    return Concrete(attr in attrs)
                return Concrete(attrs[attr]) if attr in attrs else ERROR
            return ERROR
        if isinstance(arg, ErrorResidual):
            return ERROR
        return Partial(r.kind, (arg,), attr)
