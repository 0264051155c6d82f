"""Queries over policy sets, per request environment and over all of them (Rust's
``cedar-policy-symcc`` ``CedarSymCompiler::check_*``): never-errors, always-allows,
always-denies, implies, equivalent, disjoint.

A query holds in an environment when the solver proves that no request and entities
(conforming to the schema) violate it; otherwise the model is read back as a
:class:`~cedarlang.analysis.counterexample.Counterexample`.  Policies that fail
validation or use a feature the encoding does not cover make the query ``unknown``
in the environments they concern (never a wrong "holds").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ..ast import Effect, PolicyAst, ScopeConstraint
from ..policy import Policy, PolicySet, Template
from ..schema import Schema
from ..validator import Validator
from ..validator.schema_info import RequestEnv
from ..values import EntityUid
from .counterexample import Counterexample, extract
from .encoding import Encoder, Term, Unsupported
from .solver import AnalysisError, Backend

__all__ = ["Analyzer", "EnvResult", "Outcome", "QueryResult", "env_label", "policy_name"]


#: Validation errors that do not stop the analysis of a policy.
_HARMLESS = frozenset({"InvalidActionApplication"})


class Outcome(StrEnum):
    """A query's answer in one request environment (or overall): it holds, it fails (with a
    counterexample), or it is unknown (a policy could not be analysed)."""

    HOLDS = "holds"
    FAILS = "fails"  # with a counterexample
    UNKNOWN = "unknown"  # a policy could not be analysed


def static_ast(policy: Policy) -> PolicyAst:
    """The policy's AST, with a template link's slots filled in."""
    if not policy.slot_values:
        return policy.ast

    def linked(c: ScopeConstraint) -> ScopeConstraint:
        if isinstance(c.entity, str) and c.entity in policy.slot_values:
            return replace(c, entity=policy.slot_values[c.entity])
        return c

    pa = policy.ast
    return replace(pa, principal=linked(pa.principal), resource=linked(pa.resource))


def _single(policy: Policy) -> PolicySet:
    out = PolicySet()
    out.add(policy)
    return out


def policy_name(policy: Policy | Template) -> str:
    """How reports name a policy: its ``@id`` annotation, else its id."""
    return policy.ast.annotations.get("id") or policy.id


def env_label(env: RequestEnv) -> str:
    return f"{env.principal}, {env.action}, {env.resource}"


@dataclass
class EnvResult:
    """A query's answer in one request environment (``env``): the ``outcome``, a
    ``counterexample`` when it fails, and the ``reasons`` when it is unknown."""

    env: RequestEnv
    outcome: Outcome
    counterexample: Counterexample | None = None
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "principal": self.env.principal,
            "action": str(self.env.action),
            "resource": self.env.resource,
            "outcome": str(self.outcome),
        }
        if self.counterexample is not None:
            out["counterexample"] = self.counterexample.to_json()
        if self.reasons:
            out["reasons"] = self.reasons
        return out


@dataclass
class QueryResult:
    """A query's answer in every request environment."""

    query: str
    envs: list[EnvResult]

    @property
    def outcome(self) -> Outcome:
        if any(r.outcome is Outcome.FAILS for r in self.envs):
            return Outcome.FAILS
        if any(r.outcome is Outcome.UNKNOWN for r in self.envs):
            return Outcome.UNKNOWN
        return Outcome.HOLDS

    @property
    def holds(self) -> bool:
        return self.outcome is Outcome.HOLDS

    def counterexamples(self) -> Iterator[Counterexample]:
        for r in self.envs:
            if r.counterexample is not None:
                yield r.counterexample

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "outcome": str(self.outcome), "envs": [r.to_json() for r in self.envs]}


@dataclass
class _Encoded:
    """One policy set encoded in one environment."""

    allows: Term
    errors: Term
    applies: dict[str, Term]
    unsupported: list[str]


class Analyzer:
    """Symbolic analysis of policy sets against a schema.

    >>> from cedarlang import PolicySet, Schema
    >>> schema = Schema.from_str('entity User; action view appliesTo { principal: User, resource: User };')
    >>> a = Analyzer(schema)
    >>> a.always_allows(PolicySet.from_str('permit(principal, action, resource);')).holds
    True
    >>> a.never_errors(PolicySet.from_str('permit(principal, action, resource) when { 1 + 1 == 2 };')).holds
    True
    """

    def __init__(self, schema: Schema, env: RequestEnv | None = None) -> None:
        """Analyse every request environment of ``schema``, or only ``env``
        (see :meth:`environment`)."""
        self.schema = schema
        self.validator = Validator(schema)
        self.info = self.validator.info
        self._envs = self.info.envs if env is None else [env]
        self._invalid: dict[tuple[object, ...], tuple[PolicyAst, list[str]]] = {}
        # per environment: one solver and encoder, and the policy sets encoded in it
        # (kept with the set, so that an id is never reused while cached)
        self._sessions: dict[
            int, tuple[Backend, Encoder, dict[tuple[int, int], tuple[PolicySet, _Encoded]]]
        ] = {}

    @property
    def envs(self) -> list[RequestEnv]:
        return self._envs

    @staticmethod
    def environment(schema: Schema, principal_type: str, action: EntityUid, resource_type: str) -> RequestEnv:
        """The schema's request environment for these types and action (Rust's ``RequestEnv``);
        raises :class:`AnalysisError` if the schema has none."""
        for env in Validator(schema).info.envs:
            if (env.principal, env.action, env.resource) == (principal_type, action, resource_type):
                return env
        raise AnalysisError(
            f"the schema has no request environment ({principal_type}, {action}, {resource_type}): "
            f"{action} does not apply to that principal and resource type"
        )

    # -- validation ----------------------------------------------------------------------------

    def invalid_reasons(self, policy: Policy) -> list[str]:
        """Why ``policy`` cannot be analysed: its validation errors (empty if it validates).
        A template-linked policy is validated as the static policy its link makes."""
        key = (id(policy.ast), tuple(sorted(policy.slot_values.items())))
        hit = self._invalid.get(key)
        if hit is None:
            pa = static_ast(policy)
            errors, _ = self.validator.validate_policy_ast(policy.id, pa)
            # A scope no request environment matches is no obstacle: the encoding of the
            # scope is false in every environment.
            found = [
                f"policy {policy_name(policy)} fails validation: {d.message}"
                for d in errors
                if d.kind not in _HARMLESS
            ]
            hit = (policy.ast, found)  # (the AST kept alive: its id stays unique)
            self._invalid[key] = hit
        return hit[1]

    # -- encoding ------------------------------------------------------------------------------

    def encode(self, enc: Encoder, policies: PolicySet) -> _Encoded:
        permits: list[Term] = []
        forbids: list[Term] = []
        errors: list[Term] = []
        applies: dict[str, Term] = {}
        unsupported: list[str] = []
        for policy in policies.policies():
            reasons = self.invalid_reasons(policy)
            if reasons:
                unsupported += reasons
                continue
            try:
                applies_p, error_p = enc.condition(policy.condition_parts)
            except Unsupported as err:
                unsupported.append(f"policy {policy_name(policy)} uses {err.what} (not encoded yet)")
                continue
            applies[policy.id] = applies_p
            errors.append(error_p)
            (permits if policy.ast.effect is Effect.PERMIT else forbids).append(applies_p)
        # (templates decide no request: only their links, which are policies, do)
        allows = enc.and_(enc.or_(*permits), enc.not_(enc.or_(*forbids)))
        return _Encoded(allows, enc.or_(*errors), applies, unsupported)

    def session(self, index: int) -> tuple[Backend, Encoder]:
        """The solver and encoder of environment ``index``."""
        session = self._sessions.get(index)
        if session is None:
            backend = Backend()
            session = (backend, Encoder(backend, self.info, self.envs[index]), {})
            self._sessions[index] = session
        return session[0], session[1]

    def encoded(self, index: int, policies: PolicySet) -> _Encoded:
        """``policies`` encoded in environment ``index`` (once)."""
        _, enc = self.session(index)
        cache = self._sessions[index][2]
        key = (id(policies), policies.version)  # a set changed since is encoded again
        hit = cache.get(key)
        if hit is None:
            hit = (policies, self.encode(enc, policies))
            cache[key] = hit
        return hit[1]

    def run(
        self,
        query: str,
        sets: tuple[PolicySet, ...],
        violation: Callable[[Encoder, list[_Encoded]], Term | None],
        replays: Callable[[Counterexample], bool],
    ) -> QueryResult:
        """For every environment: is ``violation`` satisfiable?  ``replays`` confirms a
        counterexample concretely (needed when some policy was left out of the encoding)."""
        results = []
        for index, env in enumerate(self.envs):
            backend, enc = self.session(index)
            encoded = [self.encoded(index, ps) for ps in sets]
            reasons = [r for e in encoded for r in e.unsupported]
            formula = violation(enc, encoded)  # None: a policy it needs is not encoded
            if formula is None:
                sat = False
            else:
                sat = not enc.is_false(formula) and backend.check([formula, *enc.hierarchy_axioms()])
            cex = extract(enc) if sat else None
            if cex is not None and (not reasons or replays(cex)):
                results.append(EnvResult(env, Outcome.FAILS, cex, sorted(set(reasons))))
            elif reasons:
                results.append(EnvResult(env, Outcome.UNKNOWN, None, sorted(set(reasons))))
            else:
                results.append(EnvResult(env, Outcome.HOLDS))
        return QueryResult(query, results)

    # -- the queries ---------------------------------------------------------------------------

    def never_errors(self, policies: PolicySet) -> QueryResult:
        return self.run(
            "never-errors", (policies,), lambda enc, e: e[0].errors, lambda c: bool(c.replay(policies).errors)
        )

    def always_allows(self, policies: PolicySet) -> QueryResult:
        return self.run(
            "always-allows",
            (policies,),
            lambda enc, e: enc.not_(e[0].allows),
            lambda c: not c.replay(policies).allowed,
        )

    def always_denies(self, policies: PolicySet) -> QueryResult:
        return self.run(
            "always-denies", (policies,), lambda enc, e: e[0].allows, lambda c: c.replay(policies).allowed
        )

    def implies(self, a: PolicySet, b: PolicySet) -> QueryResult:
        """Whatever ``a`` allows, ``b`` allows."""
        return self.run(
            "implies",
            (a, b),
            lambda enc, e: enc.and_(e[0].allows, enc.not_(e[1].allows)),
            lambda c: c.replay(a).allowed and not c.replay(b).allowed,
        )

    def equivalent(self, a: PolicySet, b: PolicySet) -> QueryResult:
        return self.run(
            "equivalent",
            (a, b),
            lambda enc, e: enc.not_(enc.eq(e[0].allows, e[1].allows)),
            lambda c: c.replay(a).allowed != c.replay(b).allowed,
        )

    def disjoint(self, a: PolicySet, b: PolicySet) -> QueryResult:
        """No request is allowed by both."""
        return self.run(
            "disjoint",
            (a, b),
            lambda enc, e: enc.and_(e[0].allows, e[1].allows),
            lambda c: c.replay(a).allowed and c.replay(b).allowed,
        )

    # -- single-policy queries (Rust's ``check_*_matches``): a policy *matches* a request
    # when its condition is true without error

    def _matches(
        self,
        query: str,
        policies: tuple[Policy, ...],
        violation: Callable[[Encoder, list[Term]], Term],
        claim: Callable[[list[bool]], bool],
    ) -> QueryResult:
        sets = tuple(_single(p) for p in policies)

        def formula(enc: Encoder, encoded: list[_Encoded]) -> Term | None:
            terms = [e.applies.get(p.id) for e, p in zip(encoded, policies, strict=True)]
            if any(t is None for t in terms):
                return None
            return violation(enc, terms)

        def replays(c: Counterexample) -> bool:
            return not claim([p.id in c.replay(ps).reasons for p, ps in zip(policies, sets, strict=True)])

        return self.run(query, sets, formula, replays)

    def always_matches(self, policy: Policy) -> QueryResult:
        return self._matches("always-matches", (policy,), lambda enc, t: enc.not_(t[0]), lambda m: m[0])

    def never_matches(self, policy: Policy) -> QueryResult:
        return self._matches("never-matches", (policy,), lambda enc, t: t[0], lambda m: not m[0])

    def matches_implies(self, a: Policy, b: Policy) -> QueryResult:
        return self._matches(
            "matches-implies",
            (a, b),
            lambda enc, t: enc.and_(t[0], enc.not_(t[1])),
            lambda m: not m[0] or m[1],
        )

    def matches_equivalent(self, a: Policy, b: Policy) -> QueryResult:
        return self._matches(
            "matches-equivalent", (a, b), lambda enc, t: enc.not_(enc.eq(t[0], t[1])), lambda m: m[0] == m[1]
        )

    def matches_disjoint(self, a: Policy, b: Policy) -> QueryResult:
        return self._matches(
            "matches-disjoint", (a, b), lambda enc, t: enc.and_(t[0], t[1]), lambda m: not (m[0] and m[1])
        )
