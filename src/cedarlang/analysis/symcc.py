"""``cedar symcc``: Rust's single-query commands (``cedar-policy-cli/src/command/symcc.rs``),
with the same subcommands, flags and messages, for one request environment.

Like Rust, a property that does not hold is still a successful run (exit 0) and prints
the counterexample; an incomplete answer (a policy could not be analysed, templates
included: Rust ignores them with a warning) exits 4.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..parser import parse_entity_uid
from ..policy import Policy, PolicySet
from ..schema import Schema
from .queries import Analyzer, Outcome, QueryResult
from .report import CLEAN, INCOMPLETE, Report, describe
from .solver import AnalysisError

__all__ = ["COMMANDS", "Command", "run"]


@dataclass(frozen=True)
class Command:
    """One subcommand: what it takes (``policy``: one policy per input, ``set``: a
    policy set per input), how many inputs, and the property it checks."""

    takes: str
    arity: int
    prop: str
    check: Callable[[Analyzer, list[PolicySet]], QueryResult]


def _one(pset: PolicySet, name: str) -> Policy:
    """Exactly one static policy (Rust's ``exactly_one_policy``)."""
    templates = len(pset.templates())
    if templates:
        raise AnalysisError(
            f"Expected exactly one static policy in {name}, found {templates} policy template(s)"
        )
    policies = pset.policies()
    if len(policies) != 1:
        raise AnalysisError(f"Expected exactly one policy in {name}, found {len(policies)}")
    return policies[0]


def _never_errors(a: Analyzer, s: list[PolicySet]) -> QueryResult:
    _one(s[0], "--policies")
    return a.never_errors(s[0])


COMMANDS: dict[str, Command] = {
    "never-errors": Command("policy", 1, "Policy never errors", _never_errors),
    "always-matches": Command(
        "policy", 1, "Policy always matches", lambda a, s: a.always_matches(_one(s[0], "--policies"))
    ),
    "never-matches": Command(
        "policy", 1, "Policy never matches", lambda a, s: a.never_matches(_one(s[0], "--policies"))
    ),
    "matches-equivalent": Command(
        "policy",
        2,
        "Policies have equivalent match conditions",
        lambda a, s: a.matches_equivalent(_one(s[0], "--policy1"), _one(s[1], "--policy2")),
    ),
    "matches-implies": Command(
        "policy",
        2,
        "Policy1 match implies Policy2 match",
        lambda a, s: a.matches_implies(_one(s[0], "--policy1"), _one(s[1], "--policy2")),
    ),
    "matches-disjoint": Command(
        "policy",
        2,
        "Policies have disjoint match conditions",
        lambda a, s: a.matches_disjoint(_one(s[0], "--policy1"), _one(s[1], "--policy2")),
    ),
    "always-allows": Command("set", 1, "Policy set always allows", lambda a, s: a.always_allows(s[0])),
    "always-denies": Command("set", 1, "Policy set always denies", lambda a, s: a.always_denies(s[0])),
    "equivalent": Command("set", 2, "Policy sets are equivalent", lambda a, s: a.equivalent(s[0], s[1])),
    "implies": Command("set", 2, "Policy set 1 implies policy set 2", lambda a, s: a.implies(s[0], s[1])),
    "disjoint": Command("set", 2, "Policy sets are disjoint", lambda a, s: a.disjoint(s[0], s[1])),
}


def run(
    command: str,
    schema: Schema,
    inputs: list[PolicySet],
    principal_type: str,
    action: str,
    resource_type: str,
    *,
    counterexample: bool = True,
    verbose: bool = False,
) -> Report:
    cmd = COMMANDS[command]
    env = Analyzer.environment(schema, principal_type, parse_entity_uid(action), resource_type)
    result = cmd.check(Analyzer(schema, env), inputs)
    (r,) = result.envs
    report = Report(data=result.to_json())
    if r.outcome is Outcome.HOLDS:
        report.lines.append(f"✓ {cmd.prop}: VERIFIED")
        if verbose:
            report.lines.append("  No counterexample found — property holds for all well-formed inputs.")
    elif r.outcome is Outcome.FAILS:
        report.lines.append(f"✗ {cmd.prop}: DOES NOT HOLD")
        if counterexample and r.counterexample is not None:
            report.lines.append("  Counterexample found:")
            report.lines += describe(r.counterexample)
    else:
        report.lines.append(f"? {cmd.prop}: UNKNOWN")
        report.lines += [f"  not analysed: {reason}" for reason in r.reasons]
    report.code = INCOMPLETE if r.outcome is Outcome.UNKNOWN else CLEAN
    return report
