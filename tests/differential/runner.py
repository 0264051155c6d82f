"""Shared driver for the pytest suite and ``run_long``: generate cases with
hypothesis, compare every one, collect mismatches grouped by signature."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, given, seed, settings

from .harness import Answer, Mismatch, check_all, minimized_report
from .strategies import PROFILES, Case, Profile, cases


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
    if rust.policies is not None:
        s["policies rejected"] += 1
    if rust.links is not None:
        s["links rejected"] += 1
    if rust.entities is not None:
        s["entities rejected"] += 1
    for ans in rust.requests:
        if isinstance(ans, Answer):
            if rust.policies is None and rust.links is None and rust.entities is None:
                s[f"decision {ans.decision}"] += 1
                if ans.errors:
                    s["requests with evaluation errors"] += 1
        else:
            s["requests rejected"] += 1
    if mms:
        s["mismatching cases"] += 1
    for mm in {m.signature(): m for m in mms}.values():
        sig = mm.signature()
        result.counts[sig] += 1
        bucket = result.mismatches.setdefault(sig, [])
        if len(bucket) < keep:
            bucket.append((case, mm))


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
    @given(cases(profile))
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
    priority = {"answer": 0, "crash": 1, "policies": 2, "links": 3, "entities": 4, "request": 5}
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


__all__ = ["PROFILES", "RunResult", "record", "report", "run_profile"]
