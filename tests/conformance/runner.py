"""Runs Cedar's official conformance tests (cedar-integration-tests JSON format)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cedarlang

from .._shared import conformance_dir


def conformance_root() -> Path:
    """The conformance data folder (``$CEDAR_CONFORMANCE`` or ``../shared/conformance``)."""
    return conformance_dir()


def conformance_files(root: Path | None = None) -> list[Path]:
    root = root or conformance_root()
    files = sorted((root / "tests").rglob("*.json"))
    corpus = root / "corpus" / "corpus-tests"
    files += sorted(p for p in corpus.glob("*.json") if not p.name.endswith(".entities.json"))
    return files


def resolve(test_file: Path, relative: str) -> Path:
    """Walk up from the test file's folder until ``ancestor / relative`` exists."""
    path = Path(relative)
    if path.is_absolute():
        return path
    for ancestor in test_file.parents:
        candidate = ancestor / relative
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(relative)


@dataclass
class FileResult:
    path: Path
    requests: int = 0
    passed: int = 0
    failures: list[str] = field(default_factory=list)
    should_validate: bool = True
    validation_passed: bool | None = None


_cache: dict[tuple[str, Path], Any] = {}


def _cached(kind: str, path: Path, load: Any) -> Any:
    key = (kind, path)
    if key not in _cache:
        _cache[key] = load(path.read_text(encoding="utf-8"))
    return _cache[key]


def run_file(
    path: Path, *, use_schema: bool = True, authorizer: cedarlang.Authorizer | None = None
) -> FileResult:
    spec = json.loads(path.read_text(encoding="utf-8"))
    result = FileResult(path, should_validate=spec["shouldValidate"])
    policies = cedarlang.PolicySet.from_str(resolve(path, spec["policies"]).read_text(encoding="utf-8"))
    schema = None
    if use_schema:
        schema = _cached("schema", resolve(path, spec["schema"]), cedarlang.Schema.from_str)
    entities_text = resolve(path, spec["entities"]).read_text(encoding="utf-8")
    entities = cedarlang.Entities.from_json(entities_text, schema=schema)
    authorizer = authorizer or cedarlang.Authorizer()
    for req in spec["requests"]:
        result.requests += 1
        request = cedarlang.Request(
            req["principal"],
            req["action"],
            req["resource"],
            req["context"],
            schema=schema if req.get("validateRequest", True) else None,
        )
        response = authorizer.is_authorized(request, policies, entities)
        got = (response.decision.value, set(response.reasons), {e.policy_id for e in response.errors})
        want = (req["decision"], set(req["reason"]), set(req["errors"]))
        if got == want:
            result.passed += 1
        else:
            result.failures.append(
                f"{path.name} [{req['description']}]: expected {want}, got {got} "
                f"errors={[str(e) for e in response.errors]}"
            )
    return result


def run_all(files: list[Path] | None = None) -> Iterator[FileResult]:
    for path in files or conformance_files():
        yield run_file(path)


if __name__ == "__main__":
    import sys
    import time

    start = time.perf_counter()
    total = passed = 0
    shown = 0
    crashed = 0
    for path in conformance_files():
        try:
            r = run_file(path)
        except cedarlang.CedarError as err:
            crashed += 1
            if shown < 30:
                print(f"CRASH {path.name}: {type(err).__name__}: {err}")
                shown += 1
            continue
        total += r.requests
        passed += r.passed
        for f in r.failures:
            if shown < 30:
                print(f)
                shown += 1
    print(
        f"conformance: {passed} / {total} requests passed, {crashed} files raised, "
        f"{time.perf_counter() - start:.1f}s"
    )
    sys.exit(0 if passed == total and not crashed else 1)
