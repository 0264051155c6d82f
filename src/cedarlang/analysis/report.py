"""What ``cedar analyze`` prints: human text or JSON, and an exit code for CI.

Exit codes: 0 nothing found (no lint; the policy sets are equivalent), 2 findings
(lints; a decision changes), 4 nothing found but some policy could not be analysed
(the answer is incomplete), 1 an error (raised as a :class:`CedarError`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..lexical import is_action_type
from ..policy import PolicySet
from ..schema import Schema
from .counterexample import Counterexample
from .lints import lint
from .queries import Analyzer, Outcome, QueryResult, env_label, policy_name

__all__ = ["CHANGED", "CLEAN", "INCOMPLETE", "Report", "analyze_policies", "compare"]

CLEAN = 0
CHANGED = 2
INCOMPLETE = 4


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    code: int = CLEAN

    def text(self, as_json: bool) -> str:
        return json.dumps(self.data, indent=2, ensure_ascii=False) if as_json else "\n".join(self.lines)


def _uid(u: dict[str, str]) -> str:
    return f"{u['type']}::{json.dumps(u['id'], ensure_ascii=False)}"


def describe(cex: Counterexample, indent: str = "    ") -> list[str]:
    """A counterexample in a few lines: the request, then each entity that matters."""
    lines = [
        f"{indent}request: principal {_uid(cex.principal)}, action {_uid(cex.action)}, "
        f"resource {_uid(cex.resource)}, context {json.dumps(cex.context, ensure_ascii=False)}"
    ]
    for e in cex.entities:
        if is_action_type(e["uid"]["type"]):
            continue  # the schema's actions (in the JSON output)
        parts = []
        if e["attrs"]:
            parts.append(f"attrs {json.dumps(e['attrs'], ensure_ascii=False)}")
        if e["parents"]:
            parts.append("in " + ", ".join(_uid(p) for p in e["parents"]))
        if e.get("tags"):
            parts.append(f"tags {json.dumps(e['tags'], ensure_ascii=False)}")
        if parts:  # (entities without attributes, parents or tags: in the JSON output)
            lines.append(f"{indent}entity {_uid(e['uid'])}: " + "; ".join(parts))
    return lines


def analyze_policies(schema: Schema, policies: PolicySet) -> Report:
    """Lints, plus which environments the set always denies or may error in."""
    analyzer = Analyzer(schema)
    report = Report()
    lints = lint(analyzer, policies)
    errors = analyzer.never_errors(policies)
    denies = analyzer.always_denies(policies)
    for x in lints.lints:
        report.lines.append(f"{x.kind}: {x.message}")
    for r in errors.envs:
        if r.outcome is Outcome.FAILS and r.counterexample is not None:
            report.lines.append(f"may-error: a policy errors for ({env_label(r.env)}), e.g.")
            report.lines += describe(r.counterexample)
    never = [env_label(r.env) for r in denies.envs if r.outcome is Outcome.HOLDS]
    for label in never:
        report.lines.append(f"always-denies: no request is allowed for ({label})")
    for reason in lints.not_analysed:
        report.lines.append(f"not analysed: {reason}")
    report.lines += _template_notes(policies)
    findings = bool(lints.lints) or errors.outcome is Outcome.FAILS
    if findings:
        report.code = CHANGED
    elif lints.not_analysed:
        report.code = INCOMPLETE
    if not report.lines:
        report.lines.append("no findings")
    report.data = {
        "lints": [x.to_json() for x in lints.lints],
        "never_errors": errors.to_json(),
        "always_denies": [r.to_json() for r in denies.envs if r.outcome is Outcome.HOLDS],
        "not_analysed": lints.not_analysed,
    }
    return report


def compare(schema: Schema, old: PolicySet, new: PolicySet) -> Report:
    """Per request environment: equivalent, more permissive (the new set allows more),
    less permissive, or incomparable; with the requests whose decision changes."""
    analyzer = Analyzer(schema)
    gained = analyzer.implies(new, old)  # fails where the new set allows more
    lost = analyzer.implies(old, new)  # fails where the new set allows less
    report = Report()
    envs = []
    verdicts = set()
    for g, ls in zip(gained.envs, lost.envs, strict=True):
        verdict = _verdict(g.outcome, ls.outcome)
        verdicts.add(verdict)
        report.lines.append(f"{env_label(g.env)}: {verdict}")
        entry: dict[str, Any] = {**g.to_json(), "verdict": verdict}
        for key in ("outcome", "counterexample", "reasons"):
            entry.pop(key, None)
        if g.counterexample is not None:
            report.lines.append("  newly allowed, e.g.")
            report.lines += describe(g.counterexample)
            entry["newly_allowed"] = g.counterexample.to_json()
        if ls.counterexample is not None:
            report.lines.append("  newly denied, e.g.")
            report.lines += describe(ls.counterexample)
            entry["newly_denied"] = ls.counterexample.to_json()
        reasons = sorted(set(g.reasons) | set(ls.reasons))
        for reason in reasons:
            report.lines.append(f"  not analysed: {reason}")
        if reasons:
            entry["not_analysed"] = reasons
        envs.append(entry)
    overall = _overall(gained, lost)
    report.lines += _template_notes(old, new)
    report.lines.append(f"overall: {overall}")
    report.data = {"verdict": overall, "envs": envs}
    if overall != "equivalent":
        report.code = INCOMPLETE if overall == "unknown" else CHANGED
    return report


def _template_notes(*sets: PolicySet) -> list[str]:
    names = sorted({policy_name(t) for ps in sets for t in ps.templates()})
    if not names:
        return []
    return [f"note: templates decide no request on their own, only their links do: {', '.join(names)}"]


def _verdict(gained: Outcome, lost: Outcome) -> str:
    if gained is Outcome.FAILS and lost is Outcome.FAILS:
        return "incomparable"
    if gained is Outcome.FAILS:
        return "more permissive"
    if lost is Outcome.FAILS:
        return "less permissive"
    if Outcome.UNKNOWN in (gained, lost):
        return "unknown"
    return "equivalent"


def _overall(gained: QueryResult, lost: QueryResult) -> str:
    return _verdict(gained.outcome, lost.outcome)
