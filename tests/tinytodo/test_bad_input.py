"""Malformed requests get a 4xx with a clear JSON error: never a 500, never a traceback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import AppFactory
from .helpers import Api, L, T, U

ANDREW = U("andrew")

BODY_ENDPOINTS = [
    ("POST", "/api/list/create"),
    ("POST", "/api/list/update"),
    ("DELETE", "/api/list/delete"),
    ("POST", "/api/task/create"),
    ("POST", "/api/task/update"),
    ("DELETE", "/api/task/delete"),
    ("POST", "/api/share"),
    ("DELETE", "/api/share"),
]

# (method, path, body, expected status, words the error must contain)
CASES: list[tuple[str, str, Any, int, str]] = [
    ("POST", "/api/list/create", b"{not json", 400, "deserialize"),
    ("POST", "/api/list/create", b"", 400, "empty"),
    ("POST", "/api/list/create", b"\xff\xfe", 400, "deserialize"),
    ("POST", "/api/list/create", [1, 2], 400, "JSON object"),
    ("POST", "/api/list/create", "just a string", 400, "JSON object"),
    ("POST", "/api/list/create", {}, 400, "missing field `name`"),
    ("POST", "/api/list/create", {"uid": ANDREW}, 400, "missing field `name`"),
    ("POST", "/api/list/create", {"uid": ANDREW, "name": 7}, 400, "expected a string"),
    ("POST", "/api/list/create", {"uid": ANDREW, "name": "a\x00b"}, 400, "NUL"),
    ("POST", "/api/list/create", {"uid": ANDREW, "name": "\ud800"}, 400, "Unicode"),
    (
        "POST",
        "/api/list/create",
        {"uid": T("admin"), "name": "x"},
        400,
        'Expected an entity of type User, got: Team::"admin"',
    ),
    ("POST", "/api/list/create", {"uid": "andrew", "name": "x"}, 400, "not an entity uid"),
    ("POST", "/api/list/create", {"uid": None, "name": "x"}, 400, "expected a string"),
    (
        "POST",
        "/api/task/create",
        {"uid": ANDREW, "list": U("andrew"), "name": "x"},
        400,
        "Expected an entity of type List",
    ),
    ("POST", "/api/task/create", {"uid": ANDREW, "name": "x"}, 400, "missing field `list`"),
    ("POST", "/api/task/update", {"uid": ANDREW, "list": L(0)}, 400, "missing field `task`"),
    ("POST", "/api/task/update", {"uid": ANDREW, "list": L(0), "task": "0"}, 400, "expected an integer"),
    ("POST", "/api/task/update", {"uid": ANDREW, "list": L(0), "task": True}, 400, "expected an integer"),
    ("POST", "/api/task/update", {"uid": ANDREW, "list": L(0), "task": 1.5}, 400, "expected an integer"),
    ("POST", "/api/task/update", {"uid": ANDREW, "list": L(0), "task": 2**64}, 400, "out of range"),
    ("POST", "/api/task/update", {"uid": ANDREW, "list": L(0), "task": 2**70}, 400, "22 digits is too large"),
    (
        "POST",
        "/api/task/update",
        b'{"list": "List::\\"0\\"", "task": ' + b"9" * 5000 + b"}",
        400,
        "5000 digits",
    ),
    (
        "POST",
        "/api/task/update",
        {"uid": ANDREW, "list": L(0), "task": 0, "state": "done"},
        400,
        '"Checked" or "Unchecked"',
    ),
    ("DELETE", "/api/task/delete", {"uid": ANDREW, "list": L(0)}, 400, "missing field `task`"),
    (
        "POST",
        "/api/share",
        {"uid": ANDREW, "list": L(0), "role": "Reader"},
        400,
        "missing field `share_with`",
    ),
    (
        "POST",
        "/api/share",
        {"uid": ANDREW, "list": L(0), "share_with": L(0), "role": "Reader"},
        400,
        "Expected one of the following entity types: Team,User",
    ),
    (
        "POST",
        "/api/share",
        {"uid": ANDREW, "list": L(0), "share_with": T("temp"), "role": "Owner"},
        400,
        '"Reader" or "Editor"',
    ),
    (
        "DELETE",
        "/api/share",
        {"uid": ANDREW, "list": L(0), "share_with": T("temp"), "role": "Reader"},
        400,
        "missing field `unshare_with`",
    ),
    # Unknown ids (checked after authorization).
    (
        "POST",
        "/api/task/create",
        {"uid": ANDREW, "list": L(99), "name": "x"},
        404,
        'No Such Entity: List::"99"',
    ),
    (
        "POST",
        "/api/task/update",
        {"uid": ANDREW, "list": L(0), "task": 5, "state": "Checked"},
        404,
        'The list List::"0" does not contain a task with id 5',
    ),
    (
        "DELETE",
        "/api/task/delete",
        {"uid": ANDREW, "list": L(0), "task": 5},
        404,
        "does not contain a task with id 5",
    ),
    ("DELETE", "/api/list/delete", {"uid": ANDREW, "list": L("nope")}, 404, "No Such Entity"),
    (
        "POST",
        "/api/share",
        {"uid": ANDREW, "list": L(0), "share_with": T("bogus"), "role": "Reader"},
        404,
        'No Such Entity: Team::"bogus"',
    ),
    (
        "DELETE",
        "/api/share",
        {"uid": ANDREW, "list": L(0), "unshare_with": U("nobody"), "role": "Editor"},
        404,
        'No Such Entity: User::"nobody"',
    ),
]


@pytest.fixture
def api(make_app: AppFactory) -> Api:
    api, _core = make_app()
    assert api.ok(api.create_list("andrew", "l")) == L(0)
    return api


def send(api: Api, method: str, path: str, body: Any) -> httpx.Response:
    """``body`` as andrew (logged in), raw bytes or JSON."""
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": "application/json", **api.headers("andrew")}
    return api.client.request(method, path, content=content, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "status", "words"), CASES)
def test_bad_body(api: Api, method: str, path: str, body: Any, status: int, words: str) -> None:
    resp = send(api, method, path, body)
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert words in error
    assert "Traceback" not in resp.text


@pytest.mark.parametrize(
    ("path", "params", "words"),
    [
        ("/api/list/get", {"uid": ANDREW}, "missing field `list`"),
        ("/api/list/get", {"uid": ANDREW, "list": "0"}, "not an entity uid"),
        ("/api/list/get", {"uid": ANDREW, "list": T("x")}, "Expected an entity of type List"),
        ("/api/lists/get", {"uid": 'User::"unterminated'}, "not an entity uid"),
        ("/api/lists/get", {"limit": "0"}, "out of range"),
        ("/api/lists/get", {"limit": "ten"}, "expected an integer"),
        ("/api/lists/get", {"limit": "9" * 30}, "expected an integer"),
    ],
)
def test_bad_query(api: Api, path: str, params: dict[str, str], words: str) -> None:
    resp = api.get("andrew", path, params)
    assert resp.status_code == 400
    assert words in resp.json()["error"]


def test_huge_query_and_uid(api: Api) -> None:
    """A huge query string is refused before parsing; a long uid is not echoed back."""
    resp = api.get("andrew", "/api/list/get", {"list": "x" * 5_000})
    assert resp.status_code == 414
    bad = 'List::"' + "a" * 200 + "\\"
    resp = api.get("andrew", "/api/list/get", {"list": bad})
    assert resp.status_code == 400 and len(resp.text) < 200, resp.text
    resp = send(api, "POST", "/api/list/create", {"name": "n" * 1001})
    assert resp.status_code == 400 and "longer than 1000" in resp.json()["error"]


def test_unknown_list_get(api: Api) -> None:
    resp = api.get_list("andrew", 42)
    assert resp.status_code == 404
    assert resp.json() == {"error": 'No Such Entity: List::"42"'}


def test_routing_errors_are_json(api: Api) -> None:
    resp = api.client.get("/api/list/create")
    assert resp.status_code == 405
    assert resp.json() == {"error": "Method Not Allowed"}
    resp = api.client.get("/api/nothing")
    assert resp.status_code == 404
    assert resp.json() == {"error": "Not Found"}
    # Upstream serves /api/lists/get for any method.
    resp = api.client.post("/api/lists/get", params={"uid": ANDREW}, headers=api.headers("andrew"))
    assert resp.status_code == 200


@pytest.mark.parametrize("mode", ["teams"])  # template mode has no per-list teams to share with
def test_share_with_a_lists_own_team_is_refused(make_app: AppFactory, mode: str) -> None:
    """A list's reader and editor teams are not share targets (nobody can see who is in
    them, and sharing one into another could make a team its own ancestor)."""
    api, _core = make_app()
    api.ok(api.create_list("andrew", "l"))  # List 0, readers Team 1, editors Team 2
    api.ok(api.create_list("kesha", "k"))  # List 3, readers Team 4, editors Team 5
    for owner, lst, team in (("andrew", 0, "1"), ("andrew", 0, "2"), ("kesha", 3, "2")):
        resp = api.share(owner, lst, T(team), "Editor")
        assert resp.status_code == 404 and resp.json() == {"error": f'No Such Entity: Team::"{team}"'}
    api.ok(api.share("andrew", 0, T("interns"), "Reader"))  # a team of entities.json: fine
    assert api.ok(api.get_list("andrew", 0))


def test_huge_body_rejected(api: Api) -> None:
    resp = send(api, "POST", "/api/list/create", {"uid": ANDREW, "name": "x" * (2 << 20)})
    assert resp.status_code == 413


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
field_values = json_values | st.sampled_from(
    [ANDREW, U("kesha"), L(0), L(1), T("interns"), "Reader", "Checked", 0, 1]
)
bodies = st.dictionaries(
    st.sampled_from(["uid", "list", "name", "task", "state", "role", "share_with", "unshare_with", "extra"]),
    field_values,
    max_size=7,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(BODY_ENDPOINTS), body=bodies | json_values)
def test_fuzzed_bodies_never_500(api: Api, endpoint: tuple[str, str], body: Any) -> None:
    method, path = endpoint
    resp = send(api, method, path, body)
    assert resp.status_code < 500, resp.text
    data = resp.json()
    if resp.status_code != 200 or (isinstance(data, dict) and "error" in data):
        assert isinstance(data, dict) and isinstance(data["error"], str)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/api/list/get", "/api/lists/get"]),
    params=st.dictionaries(
        st.sampled_from(["uid", "list", "x"]),
        st.text(max_size=12) | st.sampled_from([ANDREW, L(0)]),
        max_size=3,
    ),
)
def test_fuzzed_queries_never_500(api: Api, path: str, params: dict[str, str]) -> None:
    resp = api.get("andrew", path, params)
    assert resp.status_code < 500, resp.text
    assert resp.json() is not None


def test_limits_per_user_and_per_list(make_app: AppFactory) -> None:
    from tinytodo_server import Limits

    api, _core = make_app(limits=Limits(lists_per_user=2, tasks_per_list=3))
    first = api.new_list("andrew", "a")
    api.new_list("andrew", "b")
    resp = api.create_list("andrew", "c")
    assert resp.status_code == 409 and "2 lists (the limit)" in resp.json()["error"]
    api.new_list("kesha", "kesha's")  # the limit is per user
    for n in range(3):
        assert api.ok(api.create_task("andrew", first, f"t{n}")) == n
    resp = api.create_task("andrew", first, "too many")
    assert resp.status_code == 409 and "3 tasks (the limit)" in resp.json()["error"]
    api.ok(api.delete_task("andrew", first, 0))
    assert api.ok(api.create_task("andrew", first, "room again")) == 3  # ids are never reused
