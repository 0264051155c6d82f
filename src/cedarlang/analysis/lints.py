"""Lints over one policy set, in every request environment of the schema:

* ``vacuous``: the policy applies to no request;
* ``shadowed-permit`` / ``shadowed-forbid``: whenever it applies, another policy of the
  same effect applies too (of two equivalent policies, the later one is reported);
* ``overridden-permit``: whenever the permit applies, a forbid applies (it allows nothing);
* ``redundant``: removing the policy changes no decision (reported for the policies
  the lints above do not already explain).

Scopes are folded while encoding (``action ==``, ``is``, the schema's ``appliesTo`` and
``memberOf``), so a policy whose scope matches no environment, or a pair whose
conditions are syntactically the same, is decided without the solver; the solver
decides the rest.  Policies that cannot be analysed are listed, never linted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..ast import Effect
from ..policy import PolicySet
from .encoding import Term
from .queries import Analyzer, policy_name

__all__ = ["Lint", "LintReport", "lint"]


@dataclass(frozen=True)
class Lint:
    kind: str
    policy: str
    other: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "policy": self.policy, "other": self.other, "message": self.message}


@dataclass
class LintReport:
    lints: list[Lint]
    not_analysed: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"lints": [x.to_json() for x in self.lints], "not_analysed": self.not_analysed}


class _Checker:
    def __init__(self, analyzer: Analyzer, policies: PolicySet) -> None:
        self.analyzer = analyzer
        self.policies = policies
        self.envs = range(len(analyzer.envs))
        self.encoded = [analyzer.encoded(i, policies) for i in self.envs]

    def satisfiable(self, index: int, *parts: Term) -> bool:
        backend, enc = self.analyzer.session(index)
        formula = enc.and_(*parts)
        if enc.is_false(formula):
            return False
        return backend.check([formula, *enc.hierarchy_axioms()])

    def applies(self, index: int, pid: str) -> Term:
        return self.encoded[index].applies[pid]

    def never(self, pid: str) -> bool:
        return not any(self.satisfiable(i, self.applies(i, pid)) for i in self.envs)

    def implies(self, p: str, q: str) -> bool:
        """Whenever ``p`` applies, ``q`` applies (in every environment)."""
        for i in self.envs:
            _, enc = self.analyzer.session(i)
            a, b = self.applies(i, p), self.applies(i, q)
            if enc.is_false(a) or enc.is_true(b) or a == b:
                continue
            if self.satisfiable(i, a, enc.not_(b)):
                return False
        return True

    def allows(self, index: int, without: str) -> Term:
        _, enc = self.analyzer.session(index)
        permits: list[Term] = []
        forbids: list[Term] = []
        for policy in self.policies.policies():
            if policy.id == without:
                continue
            t = self.applies(index, policy.id)
            (permits if policy.ast.effect is Effect.PERMIT else forbids).append(t)
        return enc.and_(enc.or_(*permits), enc.not_(enc.or_(*forbids)))

    def redundant(self, pid: str) -> bool:
        for i in self.envs:
            _, enc = self.analyzer.session(i)
            if self.satisfiable(i, enc.not_(enc.eq(self.encoded[i].allows, self.allows(i, pid)))):
                return False
        return True


def lint(analyzer: Analyzer, policies: PolicySet) -> LintReport:
    c = _Checker(analyzer, policies)
    reasons = sorted({r for e in c.encoded for r in e.unsupported})
    ids = [p.id for p in policies.policies() if all(p.id in e.applies for e in c.encoded)]
    effect = {p.id: p.ast.effect for p in policies.policies()}
    name = {p.id: policy_name(p) for p in policies.policies()}
    lints: list[Lint] = []
    explained: set[str] = set()
    covering: set[str] = set()  # the policies that shadow or override an explained one
    vacuous = {pid for pid in ids if c.never(pid)}
    for pid in ids:
        if pid in vacuous:
            lints.append(Lint("vacuous", name[pid], None, f"policy {name[pid]} applies to no request"))
            explained.add(pid)
            continue
        if effect[pid] is Effect.PERMIT:
            for f in ids:
                if effect[f] is Effect.FORBID and f not in vacuous and c.implies(pid, f):
                    message = f"permit {name[pid]} is overridden by forbid {name[f]}: it allows nothing"
                    lints.append(Lint("overridden-permit", name[pid], name[f], message))
                    explained.add(pid)
                    covering.add(f)
                    break
        for q in ids:
            if q == pid or effect[q] is not effect[pid] or q in vacuous or not c.implies(pid, q):
                continue
            if ids.index(q) > ids.index(pid) and c.implies(q, pid):
                continue  # equivalent: the later one is the shadowed one
            kind = "shadowed-permit" if effect[pid] is Effect.PERMIT else "shadowed-forbid"
            message = f"{effect[pid]} {name[pid]} is shadowed by {effect[q]} {name[q]}"
            lints.append(Lint(kind, name[pid], name[q], message))
            explained.add(pid)
            covering.add(q)
            break
    if not reasons:
        for pid in ids:
            if pid not in explained and pid not in covering and c.redundant(pid):
                message = f"removing policy {name[pid]} changes no decision"
                lints.append(Lint("redundant", name[pid], None, message))
    return LintReport(lints, reasons)
