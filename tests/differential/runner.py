"""Shared driver for the pytest suite and ``run_long``: generate cases with
hypothesis, compare every one, collect mismatches grouped by signature."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, seed, settings

from .harness import Answer, Mismatch, check_all, minimized_report
from .schemacases import SCHEMA, schema_cases
from .strategies import PROFILES as PLAIN_PROFILES
from .strategies import Case, Profile, cases

# Every generator profile: the schema-shaped one (requests policies decide) and the
# free-form ones over a fixed universe (odd inputs, rejections, corner cases).
PROFILES: dict[str, Profile] = {SCHEMA.name: SCHEMA, **PLAIN_PROFILES}
# How a run (CI or run_long) divides its cases among the profiles.
SHARES: dict[str, float] = {"schema": 0.65, "mixed": 0.15, "extensions": 0.1, "hierarchy": 0.1}


@dataclass
class RunResult:
    stats: Counter[str] = field(default_factory=Counter)
    # signature -> (count, first few (case, mismatch))
    mismatches: dict[tuple[object, ...], list[tuple[Case, Mismatch]]] = field(default_factory=dict)
    counts: Counter[tuple[object, ...]] = field(default_factory=Counter)

    def merge(self, other: RunResult, keep: int = 3) -> None:
        self.stats.update(other.stats)
        self.counts.update(other.counts)
        for sig, items in other.mismatches.items():
            mine = self.mismatches.setdefault(sig, [])
            mine.extend(items[: max(0, keep - len(mine))])

    @property
    def n_mismatching_cases(self) -> int:
        return self.stats["mismatching cases"]


def record(result: RunResult, case: Case, keep: int = 3) -> None:
    rust, _py, mms = check_all(case)
    s = result.stats
    s["cases"] += 1
    s["requests"] += len(case.requests)
    for stage in ("schema", "policies", "links", "entities"):
        if getattr(rust, stage) is not None:
            s[f"{stage} rejected"] += 1
    inputs_ok = all(getattr(rust, stage) is None for stage in ("schema", "policies", "links", "entities"))
    for ans in rust.requests:
        if not isinstance(ans, Answer):
            s["requests rejected"] += 1
        elif inputs_ok:
            s["compared"] += 1
            s["allow" if ans.decision == "allow" else "forbid" if ans.reasons else "default deny"] += 1
            if ans.errors:
                s["with evaluation errors"] += 1
    if mms:
        s["mismatching cases"] += 1
    for mm in {m.signature(): m for m in mms}.values():
        sig = mm.signature()
        result.counts[sig] += 1
        bucket = result.mismatches.setdefault(sig, [])
        if len(bucket) < keep:
            bucket.append((case, mm))


# The mix a full run must keep (fractions; see ``mix_problems``).
MIX_THRESHOLDS: dict[str, tuple[str, str, float]] = {
    # name: (numerator, denominator, minimum share)
    "decided by a policy": ("decided", "compared", 0.40),
    "allowed": ("allow", "compared", 0.10),
    "denied by a forbid": ("forbid", "compared", 0.10),
    "with evaluation errors": ("with evaluation errors", "compared", 0.05),
    "policy sets rejected": ("policies rejected", "cases", 0.01),
    "entity sets rejected": ("entities rejected", "cases", 0.01),
    "requests rejected": ("requests rejected", "requests", 0.01),
}


def _count(stats: Mapping[str, int], key: str) -> int:
    return stats.get("allow", 0) + stats.get("forbid", 0) if key == "decided" else stats.get(key, 0)


def mix_line(stats: Mapping[str, int]) -> str:
    """One line describing what a run compared."""
    g = stats.get
    compared = max(1, g("compared", 0))

    def pct(n: int) -> str:
        return f"{n} ({100 * n / compared:.0f}%)"

    return (
        f"{g('cases', 0)} cases, {g('requests', 0)} requests; {g('compared', 0)} compared answers: "
        f"{pct(_count(stats, 'decided'))} decided by a policy = {pct(g('allow', 0))} allow + "
        f"{pct(g('forbid', 0))} forbid, {pct(g('default deny', 0))} default deny, "
        f"{pct(g('with evaluation errors', 0))} with evaluation errors; rejected (kinds compared): "
        f"{g('requests rejected', 0)} requests, {g('policies rejected', 0)} policy sets, "
        f"{g('links rejected', 0)} link sets, {g('entities rejected', 0)} entity sets, "
        f"{g('schema rejected', 0)} schemas; {g('mismatching cases', 0)} mismatching cases"
    )


def mix_problems(stats: Mapping[str, int]) -> list[str]:
    """The thresholds of MIX_THRESHOLDS the run missed (empty when the mix is fine)."""
    out = []
    for name, (num, den, minimum) in MIX_THRESHOLDS.items():
        n, d = _count(stats, num), _count(stats, den)
        if n < minimum * d:
            out.append(f"{name}: {n} of {d} {den} ({100 * n / max(d, 1):.1f}%), want >= {100 * minimum:.0f}%")
    return out


def run_profile(
    profile: Profile, examples: int, seed_value: int, result: RunResult | None = None
) -> RunResult:
    """Generate ``examples`` cases deterministically (fixed seed, no database)."""
    result = result if result is not None else RunResult()
    if examples <= 0:
        return result

    @seed(seed_value)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(schema_cases(SCHEMA) if profile is SCHEMA else cases(profile))
    def body(case: Case) -> None:
        record(result, case)

    body()
    return result


def report(result: RunResult, minimize_seconds: float = 30.0, max_groups: int = 40) -> str:
    """All mismatch groups, the first ones minimised (within the time budget)."""
    if not result.mismatches:
        return "no mismatches"
    deadline = time.monotonic() + minimize_seconds
    out = [
        f"{result.stats['cases']} cases, {result.n_mismatching_cases} mismatching; "
        f"{len(result.mismatches)} distinct mismatch signatures:"
    ]
    priority = {"answer": 0, "crash": 1, "schema": 2, "policies": 3, "links": 4, "entities": 5, "request": 6}
    ordered = sorted(
        result.mismatches.items(), key=lambda kv: (priority.get(str(kv[0][0]), 9), -result.counts[kv[0]])
    )
    for n, (sig, items) in enumerate(ordered[:max_groups]):
        case, mm = items[0]
        left = deadline - time.monotonic()
        title = f"#{n + 1} ({result.counts[sig]} cases)"
        if left > 0.5:
            _small, _mm2, text = minimized_report(case, mm, budget_s=min(left, 15.0))
            text = text.replace("=== MISMATCH", f"=== MISMATCH {title}", 1)
        else:
            from .harness import describe

            text = describe(case, mm, f"MISMATCH {title} (not minimised)")
        out.append(text)
    if len(ordered) > max_groups:
        out.append(f"... and {len(ordered) - max_groups} more signatures")
    return "\n\n".join(out)


__all__ = ["PROFILES", "SHARES", "RunResult", "mix_line", "mix_problems", "record", "report", "run_profile"]
