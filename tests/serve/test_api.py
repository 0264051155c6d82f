"""The AuthZEN endpoints' behaviour beyond the interop suites: evaluations semantics and
defaults, decision contexts, paging tokens, discovery, request ids."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cedarlang_serve.config import ServeConfig

from .helpers import EXAMPLES, serving

ALICE = {"type": "user", "id": "alice"}
ERIN = {"type": "user", "id": "erin"}


def record(rid: str) -> dict[str, Any]:
    return {"resource": {"type": "record", "id": rid}}


@pytest.fixture(scope="module")
def client() -> Any:
    config = ServeConfig(
        store=str(EXAMPLES / "search"), reload_interval=0, reasons=True, annotations=("id",), max_page_size=3
    )
    with serving(config) as c:
        yield c


def decisions(answer: httpx.Response) -> list[bool]:
    assert answer.status_code == 200, answer.text
    return [e["decision"] for e in answer.json()["evaluations"]]


def test_evaluations_semantics_and_defaults(client: httpx.Client) -> None:
    # erin may view 105 (own), not 101, may view 111
    body: dict[str, Any] = {
        "subject": ERIN,
        "action": {"name": "view"},
        "evaluations": [record("105"), record("101"), record("111")],
    }
    assert decisions(client.post("/access/v1/evaluations", json=body)) == [True, False, True]
    for semantic, expected in [
        ("execute_all", [True, False, True]),
        ("deny_on_first_deny", [True, False]),
        ("permit_on_first_permit", [True]),
    ]:
        answer = client.post(
            "/access/v1/evaluations", json={**body, "options": {"evaluations_semantic": semantic}}
        )
        assert decisions(answer) == expected, semantic
    # an item's keys override the defaults; the context default is inherited
    body["evaluations"] = [
        {"action": {"name": "delete"}, **record("101")},
        {"subject": ALICE, **record("101")},
        {"subject": ALICE, "action": {"name": "edit"}, **record("102")},
    ]
    assert decisions(client.post("/access/v1/evaluations", json=body)) == [False, True, False]
    # no evaluations array: the single-evaluation form
    single = {"subject": ALICE, "action": {"name": "edit"}, **record("101")}
    assert client.post("/access/v1/evaluations", json=single).json()["decision"] is True


def test_decision_context_reasons_annotations_and_errors(client: httpx.Client) -> None:
    answer = client.post(
        "/access/v1/evaluation", json={"subject": ALICE, "action": {"name": "view"}, **record("101")}
    ).json()
    assert answer["decision"] is True
    assert answer["context"]["reasons"] == ["view-any-record-manager", "view-own-record"]
    assert answer["context"]["annotations"]["view-own-record"] == {"id": "view-own-record"}
    # properties merge over stored attributes, for this request only
    moved = {"type": "record", "id": "101", "properties": {"department": "Finance"}}
    assert client.post(
        "/access/v1/evaluation", json={"subject": ERIN, "action": {"name": "view"}, "resource": moved}
    ).json()["decision"]
    assert not client.post(
        "/access/v1/evaluation", json={"subject": ERIN, "action": {"name": "view"}, **record("101")}
    ).json()["decision"]
    # a request Cedar cannot take (the schema has no such action, a mistyped property): closed, with why
    for body in [
        {"subject": ALICE, "action": {"name": "fly"}, **record("101")},
        {
            "subject": ALICE,
            "action": {"name": "view"},
            "resource": {**moved, "properties": {"department": 7}},
        },
    ]:
        answer = client.post("/access/v1/evaluation", json=body)
        assert answer.status_code == 200
        assert answer.json()["decision"] is False and answer.json()["context"]["error"]["status"] == 400


def test_paging_tokens(client: httpx.Client) -> None:
    body: dict[str, Any] = {"subject": ALICE, "action": {"name": "view"}, "resource": {"type": "record"}}
    seen: list[str] = []
    answer = client.post("/access/v1/search/resource", json=body).json()
    first_token = answer["page"]["next_token"]
    while True:  # no limit given: pages of the server's maximum (3), never a silent cap
        assert answer["page"]["total"] == 20 and answer["page"]["count"] == len(answer["results"]) <= 3
        seen += [r["id"] for r in answer["results"]]
        if not answer["page"]["next_token"]:
            break
        answer = client.post(
            "/access/v1/search/resource", json={**body, "page": {"token": answer["page"]["next_token"]}}
        ).json()
    assert seen == [str(n) for n in range(101, 121)]
    # a token with a changed request, a tampered token, a token of another server: 400
    changed = {**body, "action": {"name": "edit"}, "page": {"token": first_token}}
    assert client.post("/access/v1/search/resource", json=changed).status_code == 400
    head, _, mac = first_token.partition(".")
    for token in [head + "." + mac[::-1], head[:-2] + "x" + head[-1] + "." + mac, first_token + "A"]:
        answer = client.post("/access/v1/search/resource", json={**body, "page": {"token": token}})
        assert answer.status_code == 400 and "token" in answer.json()["error"]["message"]
    # a smaller limit than the server's
    answer = client.post("/access/v1/search/resource", json={**body, "page": {"limit": 2}}).json()
    assert [r["id"] for r in answer["results"]] == ["101", "102"] and answer["page"]["next_token"]


def test_discovery_and_request_id(client: httpx.Client) -> None:
    meta = client.get("/.well-known/authzen-configuration")
    assert meta.status_code == 200 and meta.headers["content-type"].startswith("application/json")
    base = str(client.base_url).rstrip("/")
    assert meta.json()["policy_decision_point"] == base
    assert meta.json()["search_action_endpoint"] == base + "/access/v1/search/action"
    answer = client.post(
        "/access/v1/evaluation",
        content=b"{",
        headers={"Content-Type": "application/json", "X-Request-ID": "r-1"},
    )
    assert answer.status_code == 400 and answer.headers["x-request-id"] == "r-1"
    assert "x-request-id" not in client.get("/health").headers
