"""TPE never contradicts concrete authorization (see :mod:`tests.tpe.soundness`)."""

from __future__ import annotations

from .soundness import run, summary

CI_CASES = 2000
CI_SEED = 20261130


def test_tpe_is_sound_on_generated_cases() -> None:
    stats = run(CI_CASES, CI_SEED)
    assert not stats.failures, summary(stats)
    assert stats.cases >= CI_CASES * 0.95, stats.line()
    # the property is only worth something if every outcome occurs often
    for outcome in ("allow", "deny", "none"):
        assert stats.decided[outcome] >= stats.views // 20, stats.line()
