"""Hot reload (atomic swap; a bad change keeps the last good store), the admin API, and
structured decision logs."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from cedarlang_serve.config import ServeConfig

from .helpers import copy_example, serving

TOKEN = "s3cret-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ERIN_VIEWS_101 = {
    "subject": {"type": "user", "id": "erin"},
    "action": {"name": "view"},
    "resource": {"type": "record", "id": "101"},
}
FORBID = '\n@id("no-erin")\nforbid (principal == user::"erin", action, resource);\n'
OPEN = '\n@id("erin-views-all")\npermit (principal == user::"erin", action == Action::"view", resource);\n'


def decision(client: httpx.Client) -> bool:
    return bool(client.post("/access/v1/evaluation", json=ERIN_VIEWS_101).json()["decision"])


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_hot_reload_swaps_good_changes_and_keeps_the_last_good_store(tmp_path: Path) -> None:
    store = copy_example("search", tmp_path)
    policies = store / "policies.cedar"
    good = policies.read_text()
    handler = Collect()
    logged = handler.records
    logging.getLogger("cedarlang_serve.store").addHandler(handler)
    with serving(ServeConfig(store=str(store), reload_interval=0.05, admin_token=TOKEN)) as client:
        assert not decision(client)
        policies.write_text(good + OPEN)
        assert eventually(lambda: decision(client))
        version = client.get("/health").json()["store"]
        # a broken change: still the last good store, and the reason is reported
        policies.write_text(good + OPEN + "permit (principal, action, resource) when { principal.nope ")
        assert eventually(
            lambda: client.get("/admin/v1/status", headers=AUTH).json()["last_error"] is not None
        )
        status = client.get("/admin/v1/status", headers=AUTH).json()
        assert status["version"] == version and "policies.cedar" in status["last_error"]
        assert decision(client)
        errors = [r.getMessage() for r in logged if r.levelno == logging.ERROR]
        assert any(
            "not reloaded, still serving version " + version in m and "policies.cedar" in m for m in errors
        )
        # a change the schema rejects is refused the same way
        policies.write_text(good + "\npermit (principal, action, resource) when { principal.salary > 3 };\n")
        assert eventually(
            lambda: "salary" in (client.get("/admin/v1/status", headers=AUTH).json()["last_error"] or "")
        )
        assert decision(client) and client.get("/health").json()["store"] == version
        # repaired: served again, the error cleared
        policies.write_text(good + FORBID)
        assert eventually(lambda: client.get("/admin/v1/status", headers=AUTH).json()["last_error"] is None)
        assert not decision(client)
    logging.getLogger("cedarlang_serve.store").removeHandler(handler)


def test_admin_api(tmp_path: Path) -> None:
    store = copy_example("search", tmp_path)
    with serving(ServeConfig(store=str(store), reload_interval=0, admin_token=TOKEN)) as client:
        for headers in [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]:
            answer = client.get("/admin/v1/policies", headers=headers)
            assert answer.status_code == 401 and answer.json()["error"]["status"] == 401
        text = client.get("/admin/v1/policies", headers=AUTH).text
        assert '@id("view-own-record")' in text
        assert "entity record" in client.get("/admin/v1/schema", headers=AUTH).text
        assert client.get("/admin/v1/mapping", headers=AUTH).status_code == 404
        # a bad replacement: 400 with the diagnostics, nothing changes
        answer = client.put(
            "/admin/v1/policies", content="permit (principal, action, resource) when {", headers=AUTH
        )
        assert answer.status_code == 400 and answer.json()["error"]["details"]
        assert client.get("/admin/v1/policies", headers=AUTH).text == text
        # a good one: served at once and written to the store
        answer = client.put("/admin/v1/policies", content=text + OPEN, headers=AUTH)
        assert answer.status_code == 200 and decision(client)
        assert "erin-views-all" in (store / "policies.cedar").read_text()
        # entities: erin now owns 101 in the store
        entities = json.loads(client.get("/admin/v1/entities", headers=AUTH).text)
        client.put("/admin/v1/policies", content=text, headers=AUTH)
        assert not decision(client)
        for e in entities:
            if e["uid"] == {"type": "record", "id": "101"}:
                e["attrs"]["owner"] = {"type": "user", "id": "erin"}
        assert client.put("/admin/v1/entities", content=json.dumps(entities), headers=AUTH).status_code == 200
        assert decision(client)
        bad = client.put(
            "/admin/v1/entities", content='[{"uid": {"type": "record", "id": "1"}}]', headers=AUTH
        )
        assert bad.status_code == 400 and decision(client)
        # the schema can go (the policies still load without it) and come back
        schema = client.get("/admin/v1/schema", headers=AUTH).text
        assert client.delete("/admin/v1/schema", headers=AUTH).status_code == 200
        assert not list(store.glob("*.cedarschema"))
        assert client.put("/admin/v1/schema", content=schema, headers=AUTH).status_code == 200
        assert client.delete("/admin/v1/policies", headers=AUTH).status_code == 405
        assert client.get("/admin/v1/secrets", headers=AUTH).status_code == 404
    # off unless configured
    with serving(ServeConfig(store=str(store), reload_interval=0)) as client:
        assert client.get("/admin/v1/policies", headers=AUTH).status_code == 404


def test_decision_log(tmp_path: Path) -> None:
    log_file = tmp_path / "decisions.jsonl"
    store = copy_example("search", tmp_path)
    config = ServeConfig(store=str(store), reload_interval=0, decision_log=str(log_file))
    try:
        with serving(config) as client:
            client.post("/access/v1/evaluation", json=ERIN_VIEWS_101, headers={"X-Request-ID": "q-7"})
            body: dict[str, Any] = {
                "subject": {"type": "user", "id": "erin"},
                "action": {"name": "view"},
                "resource": {"type": "record"},
            }
            client.post("/access/v1/search/resource", json=body)
    finally:
        from cedarlang_serve import logs

        logs.configure(None)
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    first, second = lines
    assert first["kind"] == "evaluation" and first["request_id"] == "q-7" and first["decision"] is False
    assert first["subject"] == {"type": "user", "id": "erin"} and first["action"] == "view"
    assert second["kind"] == "search/resource" and second["total"] == 4
