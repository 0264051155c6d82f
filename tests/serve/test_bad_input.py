"""Malformed AuthZEN requests over HTTP: every one gets a 4xx with an AuthZEN-style error
body (``{"error": {"status": N, "message": "..."}}``), none a 5xx."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from cedarlang_serve.config import ServeConfig

from .helpers import EXAMPLES, serving

SUBJECT = {"type": "user", "id": "alice"}
RESOURCE = {"type": "record", "id": "101"}
ACTION = {"name": "view"}

VALID: dict[str, dict[str, Any]] = {
    "evaluation": {"subject": SUBJECT, "action": ACTION, "resource": RESOURCE, "context": {}},
    "search/subject": {"subject": {"type": "user"}, "action": ACTION, "resource": RESOURCE},
    "search/resource": {"subject": SUBJECT, "action": ACTION, "resource": {"type": "record"}},
    "search/action": {"subject": SUBJECT, "resource": RESOURCE},
}
# the fields each endpoint needs, as paths into the body
REQUIRED = {
    "evaluation": [
        "subject",
        "subject.type",
        "subject.id",
        "action",
        "action.name",
        "resource",
        "resource.type",
        "resource.id",
    ],
    "search/subject": [
        "subject",
        "subject.type",
        "action",
        "action.name",
        "resource",
        "resource.type",
        "resource.id",
    ],
    "search/resource": [
        "subject",
        "subject.type",
        "subject.id",
        "action",
        "action.name",
        "resource",
        "resource.type",
    ],
    "search/action": ["subject", "subject.type", "subject.id", "resource", "resource.type", "resource.id"],
}
OPTIONAL_OBJECTS = ["subject.properties", "resource.properties", "context"]
WRONG_STRINGS = [42, 1.5, True, [], {}, None]
WRONG_OBJECTS = [42, "text", [], True]


def _set(body: dict[str, Any], path: str, value: Any, delete: bool = False) -> dict[str, Any]:
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    if delete:
        target.pop(last, None)
    else:
        target[last] = value
    return body


def generated() -> Iterator[tuple[str, str, bytes, str]]:
    """(name, endpoint, body, content type): each valid request broken one way."""
    for endpoint, valid in VALID.items():
        for path in REQUIRED[endpoint]:
            yield (
                f"{endpoint}: no {path}",
                endpoint,
                json.dumps(_set(valid, path, None, delete=True)).encode(),
                "application/json",
            )
            # an empty `id` is a string (and a Cedar entity id); an empty `type` or `name` is not
            wrong = (
                WRONG_OBJECTS if "." not in path else WRONG_STRINGS + ([] if path.endswith(".id") else [""])
            )
            for value in wrong:
                body = _set(valid, path, value)
                yield f"{endpoint}: {path}={value!r}", endpoint, json.dumps(body).encode(), "application/json"
        for path in OPTIONAL_OBJECTS:
            for value in WRONG_OBJECTS:
                body = _set(valid, path, value)
                yield f"{endpoint}: {path}={value!r}", endpoint, json.dumps(body).encode(), "application/json"
        if endpoint.startswith("search"):
            for page in [42, "p", [], {"limit": -1}, {"limit": "2"}, {"limit": 1.5}, {"limit": True},
                         {"token": 42}, {"token": ""}, {"token": "forged"}, {"token": "a.b"},
                         {"properties": 3}]:  # fmt: skip
                body = {**valid, "page": page}
                yield f"{endpoint}: page={page!r}", endpoint, json.dumps(body).encode(), "application/json"
    # the evaluations endpoint: items, defaults, options
    base = {"subject": SUBJECT, "action": ACTION, "evaluations": [{"resource": RESOURCE}]}
    for path in ["subject", "action"]:
        body = _set(base, path, None, delete=True)
        yield f"evaluations: no default {path}", "evaluations", json.dumps(body).encode(), "application/json"
    for item in [42, "x", [], None, {"resource": 42}, {"resource": {"type": "record"}}, {"action": {}},
                 {"resource": RESOURCE, "subject": {"id": "a"}}, {"resource": RESOURCE, "context": []}]:  # fmt: skip
        body = {**base, "evaluations": [{"resource": RESOURCE}, item]}
        yield f"evaluations: item {item!r}", "evaluations", json.dumps(body).encode(), "application/json"
    for value in [42, "x", {"a": 1}, True]:
        yield (
            f"evaluations: evaluations={value!r}",
            "evaluations",
            json.dumps({**base, "evaluations": value}).encode(),
            "application/json",
        )
    for options in [
        42,
        "x",
        [],
        {"evaluations_semantic": "all"},
        {"evaluations_semantic": 1},
        {"evaluations_semantic": None},
    ]:
        yield (
            f"evaluations: options={options!r}",
            "evaluations",
            json.dumps({**base, "options": options}).encode(),
            "application/json",
        )


def hand_written() -> Iterator[tuple[str, str, bytes, str]]:
    ok = json.dumps(VALID["evaluation"]).encode()
    for endpoint in ["evaluation", "evaluations", "search/subject", "search/resource", "search/action"]:
        for name, raw in [
            ("empty body", b""),
            ("not JSON", b"{subject: 1}"),
            ("truncated", b'{"subject": {"type": "user"'),
            ("an array", b"[]"),
            ("a string", b'"request"'),
            ("null", b"null"),
            ("a number", b"7"),
            ("NaN", b'{"subject": NaN}'),
            ("Infinity", b'{"context": {"x": Infinity}}'),
            ("bad UTF-8", b'{"subject": "\xff\xfe"}'),
            ("lone surrogate", b'{"subject": {"type": "user", "id": "\\ud800"}, "action": 1}'),
            ("nested too deeply", b'{"context": ' + b"[" * 100000 + b"]" * 100000 + b"}"),
        ]:
            yield f"{endpoint}: {name}", endpoint, raw, "application/json"
        yield f"{endpoint}: text/plain", endpoint, ok, "text/plain"
        yield f"{endpoint}: no content type", endpoint, ok, ""
        yield f"{endpoint}: form", endpoint, b"subject=alice", "application/x-www-form-urlencoded"
    yield "too large", "evaluation", b'{"context": {"x": "' + b"a" * (2 << 20) + b'"}}', "application/json"
    many = {"subject": SUBJECT, "action": ACTION, "evaluations": [{"resource": RESOURCE}] * 10_001}
    yield "too many evaluations", "evaluations", json.dumps(many).encode(), "application/json"


def test_malformed_requests_get_4xx_with_an_error_body(capsys: Any) -> None:
    cases = [*generated(), *hand_written()]
    statuses: dict[int, int] = {}
    wrong = []
    with serving(ServeConfig(store=str(EXAMPLES / "search"), reload_interval=0)) as client:
        for name, endpoint, raw, content_type in cases:
            headers = {"Content-Type": content_type} if content_type else {}
            response = client.post(f"/access/v1/{endpoint}", content=raw, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            try:
                error = response.json()["error"]
                ok = (
                    400 <= response.status_code < 500
                    and error["status"] == response.status_code
                    and isinstance(error["message"], str)
                    and error["message"]
                )
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok:
                wrong.append((name, response.status_code, response.text[:200]))
        # other methods and paths answer in the same style
        for response in [client.get("/access/v1/evaluation"), client.post("/access/v1/nothing", json={})]:
            assert (
                response.status_code in (404, 405)
                and response.json()["error"]["status"] == response.status_code
            )
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    with capsys.disabled():
        print(
            f"\nmalformed AuthZEN requests: {len(cases)} sent, statuses {dict(sorted(statuses.items()))}, {server_errors} 5xx"
        )
    assert len(cases) >= 200
    assert not wrong, wrong[:5]
    assert server_errors == 0
