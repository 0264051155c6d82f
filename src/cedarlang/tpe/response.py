"""The result of typed partial evaluation (Rust's ``cedar-policy-core/src/tpe/response.rs``
and ``TpeResponse`` in ``cedar-policy/src/api/tpe.rs``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from .. import ast
from ..authorizer import Authorizer, Decision, Request, Response
from ..conformance import validate_entity
from ..entities import Entities
from ..errors import CedarError, ReauthorizationError
from ..est import annotations_json
from ..lexical import quote
from ..policy import Policy, PolicySet
from ..schema import Schema
from ..source import Source, Span
from .entities import PartialEntities
from .request import PartialRequest, validate_concrete_request
from .residual import Concrete, ErrorResidual, Residual, expr_text, to_expr

__all__ = ["ResidualPolicy", "TpeResponse", "residual_policy_text"]


class ResidualPolicy:
    """One policy's residual: ``policy`` is the input policy, ``residual`` what is left of
    its condition, ``as_policy()`` the residual as a :class:`~cedarlang.Policy` (same id and
    annotations, unconstrained scope, one ``when`` clause holding the residual)."""

    __slots__ = ("_as_policy", "policy", "residual")

    def __init__(self, policy: Policy, residual: Residual) -> None:
        self.policy = policy
        self.residual = residual
        self._as_policy: Policy | None = None

    @property
    def id(self) -> str:
        return self.policy.id

    @property
    def is_permit(self) -> bool:
        return self.policy.is_permit

    def is_true(self) -> bool:
        return isinstance(self.residual, Concrete) and self.residual.value is True

    def is_false(self) -> bool:
        return isinstance(self.residual, Concrete) and self.residual.value is False

    def is_error(self) -> bool:
        return isinstance(self.residual, ErrorResidual)

    def as_policy(self) -> Policy:
        """Rust's ``From<ResidualPolicy> for Policy`` (``Policy::from_when_clause_annos``)."""
        if self._as_policy is None:
            pa = self.policy.ast
            body = to_expr(self.residual)
            residual_ast = ast.PolicyAst(
                pa.effect,
                ast.ScopeConstraint(),
                ast.ScopeConstraint(),
                ast.ScopeConstraint(),
                (ast.Condition(True, body),),
                pa.annotations,
                valueless=pa.valueless,
            )
            # its text is Rust's display of it, so that `str(policy)` / `policy.ast.text` print it
            text = residual_policy_text(Policy(residual_ast, self.policy.id))
            residual_ast = dataclasses.replace(
                residual_ast, span=Span(0, len(text)), source=Source(text, f"<residual of {self.policy.id}>")
            )
            self._as_policy = Policy(residual_ast, self.policy.id)
        return self._as_policy

    def __str__(self) -> str:
        return str(self.as_policy())

    def __repr__(self) -> str:
        return f"<ResidualPolicy {self.id}: {self.residual!r}>"


def residual_policy_text(policy: Policy) -> str:
    """A (residual) policy as Rust 4.12 displays it: annotations, then the one-line policy."""
    pa = policy.ast
    lines = [
        f"@{key}" if value is None else f"@{key}({quote(value)})"
        for key, value in annotations_json(pa).items()
    ]
    conditions = "".join(
        f" {'when' if c.is_when else 'unless'} {{ {expr_text(c.body)} }}" for c in pa.conditions
    )
    lines.append(f"{pa.effect.value}(principal, action, resource){conditions};")
    return "\n".join(lines)


class TpeResponse:
    """What :func:`~cedarlang.tpe.tpe` found: a decision if one could be reached, and every
    policy's residual sorted into satisfied (``true_*``), unsatisfied (``false_*``), erroring
    (``error_*``) and undecided (``residual_*``) permits and forbids."""

    def __init__(
        self,
        residuals: Iterable[ResidualPolicy],
        request: PartialRequest,
        entities: PartialEntities,
        schema: Schema,
    ) -> None:
        self.request = request
        self.entities = entities
        self.schema = schema
        self.residuals: dict[str, ResidualPolicy] = {}
        groups: dict[tuple[bool, str], list[str]] = {
            (permit, group): []
            for permit in (True, False)
            for group in ("true", "false", "error", "residual")
        }
        for rp in residuals:
            self.residuals[rp.id] = rp
            group = (
                "true"
                if rp.is_true()
                else "false"
                if rp.is_false()
                else "error"
                if rp.is_error()
                else "residual"
            )
            groups[(rp.is_permit, group)].append(rp.id)
        self.true_permits = frozenset(groups[(True, "true")])
        self.false_permits = frozenset(groups[(True, "false")])
        self.error_permits = frozenset(groups[(True, "error")])
        self.residual_permits = frozenset(groups[(True, "residual")])
        self.true_forbids = frozenset(groups[(False, "true")])
        self.false_forbids = frozenset(groups[(False, "false")])
        self.error_forbids = frozenset(groups[(False, "error")])
        self.residual_forbids = frozenset(groups[(False, "residual")])
        self.decision: Decision | None
        if self.true_forbids or not (self.true_permits or self.residual_permits):
            self.decision = Decision.DENY
        elif self.residual_forbids or not self.true_permits:
            self.decision = None
        else:
            self.decision = Decision.ALLOW

    def __repr__(self) -> str:
        undecided = sorted(self.residual_permits | self.residual_forbids)
        return f"<TpeResponse decision={self.decision} residuals={undecided}>"

    @property
    def reason(self) -> frozenset[str] | None:
        """The determining policies of the decision (``None`` when undecided)."""
        if self.decision is None:
            return None
        return self.true_permits if self.decision is Decision.ALLOW else self.true_forbids

    def residual_policy(self, policy_id: str) -> ResidualPolicy | None:
        return self.residuals.get(policy_id)

    def residual_policies(self) -> list[Policy]:
        """The non-trivial residuals (neither ``true``, ``false`` nor an error) as policies:
        residual permits, then residual forbids, each in policy-id order."""
        ids = sorted(self.residual_permits) + sorted(self.residual_forbids)
        return [self.residuals[i].as_policy() for i in ids]

    def policies(self) -> list[Policy]:
        """Every policy's residual as a policy, in input order."""
        return [rp.as_policy() for rp in self.residuals.values()]

    def policy_set(self) -> PolicySet:
        """Every residual policy in a :class:`~cedarlang.PolicySet`."""
        ps = PolicySet()
        for policy in self.policies():
            ps.add(policy)
        return ps

    def reauthorize(self, request: Request, entities: Entities) -> Response:
        """Decide a concrete request that this partial request stands for, with a concrete
        entity store consistent with the partial entities, by evaluating the residuals
        (Rust's ``Response::reauthorize``). Raises :class:`ReauthorizationError` when the
        request or entities do not conform to the schema or contradict what was known. As in
        Rust, every partial entity must be in ``entities``, the schema's actions included: build
        the store with ``Entities(..., schema=schema)``."""
        validate_concrete_request(request, self.schema)
        for entity in entities:
            try:
                validate_entity(entity, self.schema)
            except CedarError as err:
                raise ReauthorizationError("EntityValidation", str(err)) from None
        self.entities.check_consistency(entities)
        self.request.check_consistency(request)
        # residual policies are evaluated once: the interpreter, not compiled code
        return Authorizer(interpret=True).is_authorized(request, self.policies(), entities)
