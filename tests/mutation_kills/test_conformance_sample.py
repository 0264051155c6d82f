"""A deterministic sample of the official conformance corpus, for mutation testing.

The whole corpus takes too long to run once per mutant, so this module picks the
hand-written suites plus, for every operator and feature of the language, the
first few corpus files (in sorted order) whose policies use it. Each file runs
through the compiled authorizer and the reference interpreter; both must give
the recorded answer (decision, determining policies, erroring policies).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import cedarlang

from ..conformance.runner import conformance_files, conformance_root, run_file

PER_FEATURE = 3
"""How many corpus files to take for each feature."""

FEATURES: dict[str, str] = {
    # (the corpus prints `a != b` as `!(a == b)` and has no `unless` or `context`: the
    # exact tests in this folder cover those)
    "like": r"\blike\b",
    "like-wildcard": r'like\s+"[^"]*\*',
    "has": r"\bhas\b",
    "getTag": r"\.getTag\(",
    "hasTag": r"\.hasTag\(",
    "contains": r"\.contains\(",
    "containsAll": r"\.containsAll\(",
    "containsAny": r"\.containsAny\(",
    "isEmpty": r"\.isEmpty\(",
    "is": r"\bis\b",
    "is-in": r"\bis\s+\w+(::\w+)*\s+in\b",
    "in": r"\bin\b",
    "in-set": r"\bin\s*\[",
    "add": r"[\w)\]]\s*\+\s*",
    "sub": r"[\w)\]]\s+-\s*",
    "mul": r"\*\s*-?\d",
    "neg": r"[(=<>!&|,\[]\s*-\s*[a-z(]",
    "lt": r"<(?!=)",
    "le": r"<=",
    "gt": r"(?<!-)>(?!=)",
    "ge": r">=",
    "eq": r"==",
    "not": r"!(?!=)",
    "and": r"&&",
    "or": r"\|\|",
    "if": r"\bif\b",
    "record": r"\{\s*\"?\w+\"?\s*:",
    "set": r"\[",
    "attr-chain": r"\.\w+\.\w+",
    "ip": r"\bip\(",
    "decimal": r"\bdecimal\(",
    "datetime": r"\bdatetime\(",
    "duration": r"\bduration\(",
    "forbid": r"\bforbid\b",
    "principal-eq": r"principal\s*==",
    "resource-eq": r"resource\s*==",
    "action-eq": r"action\s*==",
    "principal-in": r"principal\s+in\b",
    "resource-in": r"resource\s+in\b",
    "action-in": r"action\s+in\b",
}


def sample_files() -> list[Path]:
    """The hand-written suites, then ``PER_FEATURE`` corpus files per feature."""
    tests_dir = conformance_root() / "tests"
    chosen = [p for p in conformance_files() if tests_dir in p.parents]
    corpus = [p for p in conformance_files() if tests_dir not in p.parents]
    patterns = {name: re.compile(rx) for name, rx in FEATURES.items()}
    need = dict.fromkeys(FEATURES, PER_FEATURE)
    for path in corpus:
        if not any(need.values()):
            break
        text = path.with_suffix(".cedar").read_text(encoding="utf-8")
        hits = [name for name, rx in patterns.items() if need[name] and rx.search(text)]
        if hits:
            chosen.append(path)
            for name in hits:
                need[name] -= 1
    return chosen


SAMPLE = sample_files()


def test_sample_covers_every_feature() -> None:
    """Every feature is used by some sampled corpus file (the corpus may have fewer than
    ``PER_FEATURE`` files with a feature, e.g. `>=`)."""
    tests_dir = conformance_root() / "tests"
    texts = [
        p.with_suffix(".cedar").read_text(encoding="utf-8") for p in SAMPLE if tests_dir not in p.parents
    ]
    for name, rx in FEATURES.items():
        assert any(re.search(rx, text) for text in texts), name


@pytest.mark.parametrize("path", SAMPLE, ids=lambda p: p.stem[:12])
def test_conformance_file(path: Path) -> None:
    for authorizer in (cedarlang.Authorizer(), cedarlang.Authorizer(interpret=True)):
        result = run_file(path, authorizer=authorizer)
        assert result.requests > 0 and not result.failures, (authorizer.interpret, result.failures)
