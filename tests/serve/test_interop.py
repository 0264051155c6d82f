"""Every case of the four public AuthZEN interop suites, over real HTTP, compared the way
the reference harnesses (``../shared/authzen-interop/*/runner.ts``) compare."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cedarlang_serve.config import ServeConfig

from .helpers import EXAMPLES, INTEROP, serving

EXPECTED_COUNTS = {"todo": 43, "search": 198, "api-gateway": 25, "idp": 6}


def _load(path: str) -> Any:
    return json.loads((INTEROP / path).read_text(encoding="utf-8"))


def decision_cases(path: str) -> Iterator[tuple[str, Any, Any]]:
    data = _load(path)
    for case in data.get("evaluation", []):
        yield "/access/v1/evaluation", case["request"], case["expected"]
    for case in data.get("evaluations", []):
        yield "/access/v1/evaluations", case["request"], case["expected"]


def search_cases() -> Iterator[tuple[str, Any, Any]]:
    for kind in ("subject", "resource", "action"):
        for case in _load(f"search/{kind}/results.json")["evaluation"]:
            yield f"/access/v1/search/{kind}", case["request"], case["expected"]


def idp_cases() -> Iterator[tuple[str, Any, Any]]:
    for case in _load("idp/results.json")["search"]:
        yield "/access/v1/search/resource", case["request"], case["expected"]


SUITES = {
    "todo": lambda: decision_cases("todo/decisions-authorization-api-1_0-02.json"),
    "search": search_cases,
    "api-gateway": lambda: decision_cases("api-gateway/decisions.json"),
    "idp": idp_cases,
}


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def _sorted_results(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # runner.ts: sort by (type, id), or by name for actions
    return sorted(items, key=lambda r: (r["type"], r["id"]) if "type" in r else ("", r["name"]))


def passes(endpoint: str, data: Any, expected: Any) -> bool:
    """The harnesses' verdict: evaluation compares ``data.decision || false``, evaluations
    ``JSON.stringify(data.evaluations || [])``, searches the sorted ``results`` with nulls
    dropped."""
    if endpoint.endswith("/evaluation"):
        return bool((data.get("decision") or False) == expected)
    if endpoint.endswith("/evaluations"):
        return json.dumps(data.get("evaluations") or []) == json.dumps(expected)
    actual = _drop_nulls(_sorted_results(data.get("results") or []))
    return json.dumps(actual) == json.dumps(_drop_nulls(_sorted_results(expected.get("results") or [])))


@pytest.mark.parametrize("suite", list(SUITES))
def test_interop_suite(suite: str, capsys: pytest.CaptureFixture[str]) -> None:
    config = ServeConfig(store=str(EXAMPLES / suite), reload_interval=0)
    cases = list(SUITES[suite]())
    failures = []
    with serving(config) as client:
        for i, (endpoint, request, expected) in enumerate(cases):
            request_id = f"{suite}-{i}"
            # as the harnesses send: POST, JSON, an Authorization header the PDP ignores
            response = client.post(
                endpoint,
                content=json.dumps(request),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": "Bearer interop",
                    "X-Request-ID": request_id,
                },
            )
            assert response.headers.get("x-request-id") == request_id
            try:
                ok = response.status_code == 200 and passes(endpoint, response.json(), expected)
            except (ValueError, httpx.DecodingError):
                ok = False
            if not ok:
                failures.append((endpoint, request, expected, response.status_code, response.text))
    passed = len(cases) - len(failures)
    with capsys.disabled():
        print(f"\nAuthZEN interop {suite}: {passed}/{len(cases)} PASS")
    assert len(cases) == EXPECTED_COUNTS[suite]
    assert not failures, failures[:3]
