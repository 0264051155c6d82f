"""The validator against every test of Cedar's conformance suite (``shouldValidate``).

7,831 files: 22 hand-written tests under ``tests/**/*.json`` and 7,809 corpus tests under
``corpus/corpus-tests/*.json`` (``*.entities.json`` excluded). The ``policies`` and ``schema``
paths are resolved by walking up from the test file's folder. Schemas are cached by content
(the corpus has 7,809 schema files but only ~4,700 distinct texts).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from cedarlang import PolicySet, Schema
from cedarlang.validator import Validator

from .._shared import conformance_dir

ROOT = conformance_dir()


def conformance_root() -> Path:
    return ROOT


def conformance_files() -> list[Path]:
    files = sorted((ROOT / "tests").rglob("*.json"))
    corpus = ROOT / "corpus" / "corpus-tests"
    files += sorted(p for p in corpus.glob("*.json") if not p.name.endswith(".entities.json"))
    return files


def resolve(test_file: Path, relative: str) -> Path:
    """Walk up from the test file's folder until ``ancestor / relative`` is a file."""
    path = Path(relative)
    if path.is_absolute():
        return path
    for ancestor in test_file.parents:
        if (ancestor / relative).is_file():
            return ancestor / relative
    raise FileNotFoundError(relative)


CHUNKS = 6
EXPECTED_FILES = 7831

_validators: dict[str, Validator] = {}


@cache
def _files() -> list[Path]:
    return conformance_files()


def _validator(schema_text: str) -> Validator:
    v = _validators.get(schema_text)
    if v is None:
        v = _validators[schema_text] = Validator(Schema.from_str(schema_text))
    return v


def _check(path: Path) -> str | None:
    spec = json.loads(path.read_text(encoding="utf-8"))
    schema_text = resolve(path, spec["schema"]).read_text(encoding="utf-8")
    policy_text = resolve(path, spec["policies"]).read_text(encoding="utf-8")
    result = _validator(schema_text).validate(PolicySet.from_str(policy_text))
    if result.passed == spec["shouldValidate"]:
        return None
    errors = "; ".join(f"[{e.kind}] {e.full_message}" for e in result.errors) or "no errors"
    return f"{path.relative_to(conformance_root())}: expected shouldValidate={spec['shouldValidate']}, got {errors}"


pytestmark = pytest.mark.skipif(
    not (conformance_root() / "tests").is_dir(), reason="conformance data not available"
)


def test_file_count() -> None:
    assert len(_files()) == EXPECTED_FILES


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_should_validate(chunk: int) -> None:
    files = _files()[chunk::CHUNKS]
    failures = [msg for msg in map(_check, files) if msg is not None]
    assert not failures, f"{len(failures)}/{len(files)} files disagree:\n" + "\n".join(failures[:20])
