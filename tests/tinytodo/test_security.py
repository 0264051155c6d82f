"""Who may call what: tokens, uids, cross-site requests, hosts, and an IDOR matrix
checked against Cedar's answer on the whole store (not the server's per-request slice)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa

import cedarlang
from cedarlang import Authorizer, Entities, Entity, EntityUid, Record, parse_entity_uid
from tinytodo_server import TinyTodo, TokenIssuer, auth, store, tables
from tinytodo_server.core import _with_links
from tinytodo_server.model import APPLICATION

from .conftest import TEST_SECRET, AppFactory
from .helpers import DENIED, Api, L, T, U

USERS = ["emina", "aaron", "andrew", "kesha"]

# endpoint name -> (method, path, JSON body or query for list `lst`, Cedar action)
Endpoint = tuple[str, str, Callable[[str], dict[str, Any]], str]
ENDPOINTS: dict[str, Endpoint] = {
    "get_list": ("GET", "/api/list/get", lambda lst: {"list": L(lst)}, "GetList"),
    "update_list": ("POST", "/api/list/update", lambda lst: {"list": L(lst), "name": "x"}, "UpdateList"),
    "delete_list": ("DELETE", "/api/list/delete", lambda lst: {"list": L(lst)}, "DeleteList"),
    "create_task": ("POST", "/api/task/create", lambda lst: {"list": L(lst), "name": "t"}, "CreateTask"),
    "update_task": (
        "POST", "/api/task/update", lambda lst: {"list": L(lst), "task": 0, "name": "y"}, "UpdateTask",
    ),
    "toggle_task": (
        "POST", "/api/task/update", lambda lst: {"list": L(lst), "task": 0, "toggle": True}, "UpdateTask",
    ),
    "delete_task": ("DELETE", "/api/task/delete", lambda lst: {"list": L(lst), "task": 0}, "DeleteTask"),
    "share": (
        "POST", "/api/share", lambda lst: {"list": L(lst), "share_with": T("temp"), "role": "Reader"},
        "EditShare",
    ),
    "unshare": (
        "DELETE", "/api/share", lambda lst: {"list": L(lst), "unshare_with": U("kesha"), "role": "Editor"},
        "EditShare",
    ),
    "create_list": ("POST", "/api/list/create", lambda lst: {"name": "n"}, "CreateList"),
    "get_lists": ("GET", "/api/lists/get", lambda lst: {}, "GetLists"),
}  # fmt: skip

TOKENS: dict[str, str] = {}  # every app here signs with TEST_SECRET: log in once per user


def call(api: Api, token: str | None, endpoint: str, lst: str, **extra: Any) -> httpx.Response:
    method, path, make, _action = ENDPOINTS[endpoint]
    data = {**make(lst), **extra}
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if method == "GET":
        return api.client.get(path, params=data, headers=headers)
    return api.client.request(method, path, json=data, headers=headers)


def logged_in(api: Api) -> Api:
    api.tokens = TOKENS
    return api


def dump(core: TinyTodo) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what "nothing changed" compares."""

    def read(conn: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
        return {
            t.name: sorted(tuple(r) for r in conn.execute(sa.select(t)))
            for t in tables.metadata.sorted_tables
        }

    return core.database.run(read)


@pytest.fixture
def app(make_app: AppFactory) -> tuple[Api, TinyTodo, str]:
    api, core = make_app()
    api = logged_in(api)
    lst = api.new_list("andrew", "private")
    api.ok(api.create_task("andrew", lst, "t0"))
    api.ok(api.share("andrew", lst, "kesha", "Editor"))
    return api, core, lst


def _expired_token() -> str:
    return TokenIssuer(TEST_SECRET, ttl=60).issue(EntityUid("User", "andrew"), now=time.time() - 3600)


BAD_TOKENS: dict[str, Callable[[], str | None]] = {
    "none": lambda: None,
    "garbage": lambda: "not-a-token",
    "wrong-signature": lambda: TokenIssuer(b"another-secret-" + b"y" * 32).issue(EntityUid("User", "andrew")),
    "expired": _expired_token,
    "alg-none": lambda: jwt.encode(
        {"sub": U("andrew"), "iss": "tinytodo", "iat": int(time.time()), "exp": int(time.time()) + 60},
        key=None,
        algorithm="none",
    ),
    "unknown-user": lambda: TokenIssuer(TEST_SECRET).issue(EntityUid("User", "ghost")),
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("variant", list(BAD_TOKENS))
def test_bad_tokens_are_401_and_change_nothing(
    app: tuple[Api, TinyTodo, str], endpoint: str, variant: str
) -> None:
    api, core, lst = app
    before = dump(core)
    resp = call(api, BAD_TOKENS[variant](), endpoint, lst)
    assert resp.status_code == 401, resp.text
    assert resp.headers["www-authenticate"].startswith("Bearer")
    assert isinstance(resp.json()["error"], str)
    assert dump(core) == before


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_uid_must_match_the_token(app: tuple[Api, TinyTodo, str], endpoint: str) -> None:
    api, core, lst = app
    before = dump(core)
    # andrew's own token, someone else's uid; kesha's token, andrew's uid.
    for who, claimed in (("andrew", "kesha"), ("kesha", "andrew"), ("aaron", "andrew")):
        resp = call(api, api.token(who), endpoint, lst, uid=U(claimed))
        assert resp.status_code == 403, resp.text
        assert resp.json() == {"error": "the `uid` field does not match the logged-in user"}
    assert dump(core) == before


def test_login(app: tuple[Api, TinyTodo, str]) -> None:
    api, _core, _lst = app
    ok = api.login("kesha")
    assert ok.status_code == 200 and "set-cookie" not in ok.headers  # bearer only: no CSRF
    body = ok.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    claims = jwt.decode(body["token"], TEST_SECRET, algorithms=["HS256"], issuer="tinytodo")
    assert claims["sub"] == U("kesha") and claims["exp"] - claims["iat"] == 3600
    for who, password in (("kesha", "wrong"), ("kesha", ""), ("ghost", "ghost-tinytodo-demo")):
        resp = api.login(who, password)
        assert resp.status_code == 401 and resp.json() == {"error": "wrong user or password"}
    resp = api.client.post("/api/login", json={"uid": T("admin"), "password": "x"})
    assert resp.status_code == 400


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_a_verified_token_is_remembered_but_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    issuer = TokenIssuer(TEST_SECRET, ttl=60)
    issued = time.time()
    token = issuer.issue(EntityUid("User", "andrew"), now=issued)
    assert issuer.subject(token) == EntityUid("User", "andrew")
    # The signature is not checked again: a second call with a decoder that always
    # fails still answers, from what the first call verified.
    with monkeypatch.context() as m:
        m.setattr(jwt, "decode", lambda *a, **k: pytest.fail("verified twice"))
        assert issuer.subject(token) == EntityUid("User", "andrew")
        # Any other string (one character changed, a longer token) is verified afresh.
        for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x"):
            with pytest.raises(pytest.fail.Exception):
                issuer.subject(forged)
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x"):
        with pytest.raises(auth.AuthError, match="invalid token"):
            issuer.subject(forged)
    clock = _Clock(int(issued) + 59)
    monkeypatch.setattr(auth, "time", clock)
    assert issuer.subject(token) == EntityUid("User", "andrew")
    clock.now = int(issued) + 60  # `exp` itself: expired, as PyJWT says
    with pytest.raises(auth.AuthError, match="expired"):
        issuer.subject(token)


def test_remembered_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "VERIFIED_TOKENS", 3)
    issuer = TokenIssuer(TEST_SECRET)
    tokens = [issuer.issue(EntityUid("User", u), now=time.time() - i) for i, u in enumerate(USERS)]
    for token in tokens:
        issuer.subject(token)
    assert list(issuer._verified) == tokens[1:]  # the least recently used went first
    issuer.subject(tokens[1])
    issuer.subject(tokens[0])
    assert list(issuer._verified) == [tokens[3], tokens[1], tokens[0]]


def test_cross_site_requests_and_hosts(app: tuple[Api, TinyTodo, str]) -> None:
    api, core, _lst = app
    before = dump(core)
    # A form or fetch from another site: no token (browsers never attach one), text/plain.
    evil = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    resp = api.client.post("/api/list/create", content=b'{"name": "csrf"}', headers=evil)
    assert resp.status_code == 401
    # Even with a token, a JSON body must be declared as JSON.
    resp = api.client.post(
        "/api/list/create", content=b'{"name": "x"}', headers={**evil, **api.headers("andrew")}
    )
    assert resp.status_code == 415
    # DNS rebinding: a Host other than the allowed ones is refused.
    resp = api.client.post(
        "/api/list/create", json={"name": "x"}, headers={"Host": "evil.example", **api.headers("andrew")}
    )
    assert resp.status_code == 400
    resp = api.client.post(
        "/api/login",
        json={"uid": U("andrew"), "password": "andrew-tinytodo-demo"},
        headers={"Host": "evil.example:8080"},
    )
    assert resp.status_code == 400
    assert dump(core) == before


# -- IDOR matrix: every endpoint x every demo user x lists owned / shared / not shared --------


def whole_store(core: TinyTodo) -> tuple[Entities, cedarlang.PolicySet]:
    """All users, teams, lists (with tasks) and links from the tables, as one store."""

    def read(conn: sa.Connection) -> tuple[Entities, cedarlang.PolicySet]:
        edges: dict[EntityUid, set[EntityUid]] = {}
        p = tables.parents
        for ct, ci, pt, pi in conn.execute(
            sa.select(p.c.child_type, p.c.child_id, p.c.parent_type, p.c.parent_id)
        ):
            edges.setdefault(EntityUid(ct, ci), set()).add(EntityUid(pt, pi))
        items = [Entity(APPLICATION)]
        u = tables.users
        for i, joblevel, location in conn.execute(sa.select(u.c.id, u.c.joblevel, u.c.location)):
            uid = EntityUid("User", i)
            items.append(Entity(uid, {"joblevel": joblevel, "location": location}, edges.get(uid, ())))
        for (i,) in conn.execute(sa.select(tables.teams.c.id)):
            uid = EntityUid("Team", i)
            items.append(Entity(uid, None, edges.get(uid, ())))
        ids = list(conn.execute(sa.select(tables.lists.c.id)).scalars())
        tasks = store.read_tasks(conn, ids)
        for row in store.read_lists(conn, ids):
            attrs: dict[str, object] = {
                "owner": row.owner,
                "name": row.name,
                "tasks": cedarlang.CedarSet(
                    Record({"id": t.id, "name": t.name, "state": t.state.lower()})
                    for t in tasks.get(row.uid.id, [])
                ),
            }
            if row.readers is not None and row.editors is not None:
                attrs |= {"readers": row.readers, "editors": row.editors}
            items.append(Entity(row.uid, attrs, [APPLICATION]))
        lk = tables.links
        links = [
            store.LinkRow(pid, tid, parse_entity_uid(principal), EntityUid("List", rid))
            for pid, tid, principal, rid in conn.execute(sa.select(lk))
        ]
        return Entities(items, schema=core.schema), _with_links(core.policies, links)

    return core.database.run(read)


def policies_allow(core: TinyTodo, user: str, action: str, resource: EntityUid) -> bool:
    entities, policies = whole_store(core)
    request = cedarlang.Request(
        EntityUid("User", user), EntityUid("Action", action), resource, None, schema=core.schema
    )
    return Authorizer().is_authorized(request, policies, entities).allowed


@pytest.mark.parametrize("admin_policy", [False, True], ids=["shipped", "admin"])
@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e not in ("create_list", "get_lists")])
@pytest.mark.parametrize("user", USERS)
def test_idor_matrix(make_app: AppFactory, endpoint: str, user: str, admin_policy: bool) -> None:
    api, core = make_app(admin_policy=admin_policy)
    api = logged_in(api)
    owned = api.new_list(user, "owned")  # the caller's own list
    other = "emina" if user != "emina" else "andrew"
    shared_read = api.new_list(other, "shared as reader")
    shared_edit = api.new_list(other, "shared as editor")
    not_shared = api.new_list(other, "not shared")
    for lst in (owned, shared_read, shared_edit, not_shared):
        api.ok(api.create_task(user if lst == owned else other, lst, "t0"))
    api.ok(api.share(other, shared_read, user, "Reader"))
    api.ok(api.share(other, shared_edit, user, "Editor"))
    api.ok(api.share(other, shared_edit, "kesha", "Editor"))
    checked = 0
    for lst in (owned, shared_read, shared_edit, not_shared):
        action = ENDPOINTS[endpoint][3]
        allowed = policies_allow(core, user, action, EntityUid("List", lst))
        before = dump(core)
        resp = call(api, api.token(user), endpoint, lst)
        assert resp.status_code == 200, resp.text
        if allowed:
            assert resp.json() != DENIED, (endpoint, user, lst)
        else:
            assert resp.json() == DENIED, (endpoint, user, lst)
            assert dump(core) == before
        checked += 1
    assert checked == 4


def test_get_lists_and_create_list_follow_the_policies(make_app: AppFactory) -> None:
    api, core = make_app(admin_policy=True)
    api = logged_in(api)
    lists = [api.new_list(owner, f"l{i}") for i, owner in enumerate(USERS)]
    api.ok(api.share("kesha", lists[3], "interns", "Reader"))
    for user in USERS:
        expected = sorted(
            L(lst) for lst in lists if policies_allow(core, user, "GetList", EntityUid("List", lst))
        )
        assert sorted(x["uid"] for x in api.all_lists(user, limit=1)) == expected
    for user in USERS:
        assert policies_allow(core, user, "CreateList", APPLICATION) == (
            api.create_list(user, "n").json() != DENIED
        )
