"""The web UI in process (Starlette's TestClient): the blog's story through the forms,
controls shown exactly when the policies allow, and the pages' security (CSRF, origin
checks, cookies, headers, malformed posts answered in words)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tinytodo_server import TinyTodo

from .conftest import AppFactory
from .helpers import Api, append_admin_policy, demo_password, policies_file

CSRF = re.compile(r'name="csrf" value="([^"]*)"')
FORM_ACTION = re.compile(r'<form method="post" action="([^"]+)"')


class Browser:
    """One user's cookie jar over the app, posting forms the way a browser does."""

    def __init__(self, api: Api) -> None:
        base = api.client
        self.client = httpx.Client(transport=base._transport, base_url=base.base_url)
        self.csrf = ""

    def get(self, path: str) -> httpx.Response:
        resp = self.client.get(path, follow_redirects=True)
        found = CSRF.search(resp.text)
        if found:
            self.csrf = found.group(1)
        return resp

    def post(self, path: str, data: dict[str, str], *, csrf: str | None = None, **kw: Any) -> httpx.Response:
        body = {"csrf": self.csrf if csrf is None else csrf, **data}
        resp = self.client.post(path, data=body, follow_redirects=True, **kw)
        found = CSRF.search(resp.text)
        if found:
            self.csrf = found.group(1)
        return resp

    def login(self, who: str, password: str | None = None) -> httpx.Response:
        self.get("/login")
        return self.post(
            "/login", {"user": who, "password": demo_password(who) if password is None else password}
        )


def controls(html: str) -> set[str]:
    """The form posts a page offers: ``rename``, ``tasks`` (add), ``task-toggle``, ..."""
    found = set()
    for action in FORM_ACTION.findall(html):
        action = re.sub(r"^/lists/[^/]+/", "", action)
        found.add(re.sub(r"^tasks/\d+/", "task-", action).lstrip("/"))
    return found


TASK_CONTROLS = {"task-toggle", "task-rename", "task-delete"}
OWNER = {"rename", "delete", "tasks", *TASK_CONTROLS, "share", "unshare", "logout"}
EDITOR = {
    "rename",
    "tasks",
    *TASK_CONTROLS,
    "logout",
}  # Policy 3: UpdateList, CreateTask, UpdateTask, DeleteTask
READER = {"logout"}


def test_blog_story_through_the_forms(make_app: AppFactory, workdir: Any, mode: str) -> None:
    api, core = make_app()
    andrew, aaron, kesha, emina = (Browser(api) for _ in range(4))
    assert andrew.login("andrew").url.path == "/lists"
    page = andrew.post("/lists", {"name": "Cedar blog post"})
    assert page.url.path == "/lists/0"
    andrew.post("/lists/0/tasks", {"name": "Draft the post"})
    page = andrew.post("/lists/0/tasks", {"name": "Get it reviewed"})
    assert page.url.fragment == "new-task"  # ready for the next one
    assert '<p class="status" role="status">Task added.</p>' in page.text
    assert controls(page.text) == OWNER - {"unshare"}
    page = andrew.post("/lists/0/share", {"kind": "Team", "name": "interns", "role": "Reader"})
    assert "team <strong>interns</strong> can read" in page.text
    assert '<p class="status" role="status">List shared.</p>' in page.text
    assert controls(page.text) == OWNER

    aaron.login("aaron")
    lists = aaron.get("/lists").text
    shared = lists[lists.index('id="shared"') :]
    assert "Cedar blog post" in shared and "by andrew" in shared
    page = aaron.get("/lists/0")
    assert page.status_code == 200 and "Get it reviewed" in page.text
    assert controls(page.text) == READER  # no rename, delete, add, toggle or share controls
    forced = aaron.post("/lists/0/rename", {"name": "pwned"})
    assert forced.status_code == 403
    assert "You may not rename this list: the policies do not allow it." in forced.text
    assert api.ok(api.get_list("andrew", 0))["name"] == "Cedar blog post"
    assert aaron.post("/lists/0/tasks/0/toggle", {}).status_code == 403

    kesha.login("kesha")
    assert "Cedar blog post" not in kesha.get("/lists").text
    denied = kesha.get("/lists/0")
    assert denied.status_code == 403 and "You may not see this list" in denied.text

    emina.login("emina")
    assert emina.get("/lists/0").status_code == 403
    append_admin_policy(workdir, mode == "templates")
    assert core.reload_policies()
    page = emina.get("/lists/0")
    assert page.status_code == 200 and controls(page.text) == OWNER
    assert emina.post("/lists/0/delete", {}).url.path == "/lists"
    assert andrew.get("/lists/0").status_code == 404


def test_editor_controls_match_policy_3(make_app: AppFactory) -> None:
    api, _core = make_app()
    andrew, aaron = Browser(api), Browser(api)
    andrew.login("andrew")
    andrew.post("/lists", {"name": "shared for editing"})
    andrew.post("/lists/0/tasks", {"name": "one"})
    andrew.post("/lists/0/share", {"kind": "User", "name": "aaron", "role": "Editor"})
    aaron.login("aaron")
    page = aaron.get("/lists/0")
    assert controls(page.text) == EDITOR
    assert aaron.post("/lists/0/tasks/0/toggle", {}).status_code == 200
    assert api.ok(api.get_list("andrew", 0))["tasks"][0]["state"] == "Checked"
    assert aaron.post("/lists/0/delete", {}).status_code == 403
    assert (
        aaron.post("/lists/0/share", {"kind": "User", "name": "kesha", "role": "Reader"}).status_code == 403
    )


def test_controls_equal_what_the_authorizer_allows(make_app: AppFactory, mode: str) -> None:
    """For every user and list of a shared set-up, the list page's controls are exactly the
    actions ``is_authorized`` allows (asked through the JSON API, action by action)."""
    api, core = make_app(admin_policy=True)
    owner = Browser(api)
    owner.login("andrew")
    owner.post("/lists", {"name": "a"})
    owner.post("/lists/0/tasks", {"name": "t"})
    owner.post("/lists/0/share", {"kind": "Team", "name": "interns", "role": "Reader"})
    owner.post("/lists/0/share", {"kind": "User", "name": "kesha", "role": "Editor"})
    for who in ("andrew", "aaron", "kesha", "emina"):
        page = Browser(api)
        page.login(who)
        allowed = _allowed_actions(core, who, "0")
        html = page.get("/lists/0").text
        if "GetList" not in allowed:
            assert "You may not see this list" in html
            continue
        shown = controls(html) - {"logout"}
        expected = set()
        if "UpdateList" in allowed:
            expected.add("rename")
        if "DeleteList" in allowed:
            expected.add("delete")
        if "CreateTask" in allowed:
            expected.add("tasks")
        if "UpdateTask" in allowed:
            expected |= {"task-toggle", "task-rename"}
        if "DeleteTask" in allowed:
            expected.add("task-delete")
        if "EditShare" in allowed:
            expected |= {"share", "unshare"}
        assert shown == expected, who


def _allowed_actions(core: TinyTodo, who: str, list_id: str) -> set[str]:
    """Brute force: ``is_authorized`` for every action of the schema on the list."""
    import cedarlang
    from cedarlang import EntityUid

    principal, resource = EntityUid("User", who), EntityUid("List", list_id)
    allowed = set()

    def work(conn: Any) -> None:
        row = __import__("tinytodo_server.store", fromlist=["read_list"]).read_list(conn, resource)
        found = core._slice(conn, principal, row, resource)
        for action in core._actions:
            request = cedarlang.Request(principal, action.uid, resource, None)
            if core._authorizer.is_authorized(request, found.policies, found.entities).allowed:
                allowed.add(action.uid.id)

    core.database.run(work)
    return allowed


# -- security -------------------------------------------------------------------------------


def test_pages_carry_security_headers_and_cookies(make_app: AppFactory) -> None:
    api, _ = make_app()
    browser = Browser(api)
    login = browser.client.get("/login")
    assert "HttpOnly" in login.headers["set-cookie"] and "SameSite=strict" in login.headers["set-cookie"]
    browser.login("andrew")
    for path in ("/login", "/lists", "/lists/0", "/lists/nope"):
        resp = browser.client.get(path)
        csp = resp.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["cache-control"] == "no-store"
        assert (
            "<script>" not in resp.text
            and " style=" not in resp.text
            and " on" not in re.sub(r">[^<]*<", "><", resp.text)
        )
    static = browser.client.get("/static/tinytodo.js")
    assert static.status_code == 200 and static.headers["content-type"].startswith("text/javascript")
    assert browser.client.get("/static/..%2Fcore.py").status_code == 404


def test_secure_cookies_use_the_host_prefix(workdir: Any, mode: str) -> None:
    import warnings

    from tinytodo_server import Credentials, Security, TokenIssuer, create_app
    from tinytodo_server.ui import UiConfig

    from .conftest import TEST_SECRET

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    templates = mode == "templates"
    core = TinyTodo.load(
        schema_path=workdir / ("tinytodo-templates.cedarschema" if templates else "tinytodo.cedarschema"),
        entities_path=workdir / "entities.json",
        policies_path=policies_file(workdir, templates),
        templates=templates,
    )
    security = Security(Credentials.load(workdir / "credentials.json"), TokenIssuer(TEST_SECRET))
    app = create_app(core, security, reload_interval=0, ui=UiConfig(secure_cookies=True))
    with TestClient(app, base_url="https://localhost") as client:
        cookie = client.get("/login").headers["set-cookie"]
        assert cookie.startswith("__Host-tinytodo_login=") and "Secure" in cookie
        token = CSRF.search(client.get("/login").text)
        assert token is not None
        resp = client.post(
            "/login",
            data={"csrf": token.group(1), "user": "aaron", "password": demo_password("aaron")},
            follow_redirects=False,
        )
        assert resp.status_code == 303
        session = resp.headers.get_list("set-cookie")[0]
        assert (
            session.startswith("__Host-tinytodo_session=") and "Secure" in session and "HttpOnly" in session
        )


def test_form_posts_need_the_sessions_csrf_token(make_app: AppFactory) -> None:
    api, _ = make_app()
    andrew, aaron = Browser(api), Browser(api)
    andrew.login("andrew")
    andrew.post("/lists", {"name": "mine"})
    aaron.login("aaron")
    for csrf in ("", "0" * 64, aaron.csrf):  # missing, forged, another user's
        resp = andrew.post("/lists/0/rename", {"name": "changed"}, csrf=csrf)
        assert resp.status_code == 403 and "did not come from this site" in resp.text
    resp = andrew.client.post("/lists/0/rename", data={"name": "changed"})
    assert resp.status_code == 403
    assert api.ok(api.get_list("andrew", 0))["name"] == "mine"
    assert andrew.post("/lists/0/rename", {"name": "changed"}).status_code == 200
    assert api.ok(api.get_list("andrew", 0))["name"] == "changed"


def test_posts_from_another_site_are_refused(make_app: AppFactory) -> None:
    api, _ = make_app()
    andrew = Browser(api)
    andrew.login("andrew")
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {"Origin": "null"}):
        resp = andrew.post("/lists", {"name": "x"}, headers=headers)
        assert resp.status_code == 403 and "sent from another site" in resp.text
    assert andrew.post("/lists", {"name": "x"}, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_login_without_its_cookie_is_refused_whatever_the_token(make_app: AppFactory) -> None:
    api, _ = make_app()
    for token in ("-", "", "x" * 64):
        resp = api.client.post(
            "/login", data={"csrf": token, "user": "kesha", "password": demo_password("kesha")}
        )
        assert resp.status_code == 403 and "tinytodo_session" not in resp.headers.get("set-cookie", "")


def test_two_login_tabs_both_work(make_app: AppFactory) -> None:
    api, _ = make_app()
    browser = Browser(api)
    browser.get("/login")
    first_tab = browser.csrf
    browser.get("/login")  # a second tab: the same nonce cookie is kept
    resp = browser.post("/login", {"user": "aaron", "password": demo_password("aaron")}, csrf=first_tab)
    assert resp.status_code == 200 and resp.url.path == "/lists"


def test_password_checks_at_once_are_bounded(workdir: Any) -> None:
    from cedarlang import EntityUid
    from tinytodo_server import Credentials, Security, TokenIssuer
    from tinytodo_server.inputs import TooManyLogins

    from .conftest import TEST_SECRET

    security = Security(
        Credentials.load(workdir / "credentials.json"),
        TokenIssuer(TEST_SECRET),
        password_checks=1,
        login_queue=1,
        login_wait=0.05,
    )
    user = EntityUid("User", "aaron")
    assert security.verify_password(user, demo_password("aaron"))
    security._slots.acquire()  # another login holds the only check
    try:
        with pytest.raises(TooManyLogins) as waited:  # waits login_wait, then 429
            security.verify_password(user, demo_password("aaron"))
        assert waited.value.status == 429
        security._queue.acquire()  # ... and another waits in the only queue place
        try:
            with pytest.raises(TooManyLogins):  # refused at once
                security.verify_password(user, demo_password("aaron"))
        finally:
            security._queue.release()
    finally:
        security._slots.release()
    assert not security.verify_password(user, "wrong")
    assert security.verify_password(user, demo_password("aaron"))


def test_nul_in_ids_is_refused_before_the_database(make_app: AppFactory) -> None:
    api, _ = make_app()
    andrew = Browser(api)
    andrew.login("andrew")
    andrew.post("/lists", {"name": "mine"})
    assert andrew.get("/lists/%00").status_code == 404
    assert andrew.get("/lists?after=%00").status_code == 400
    assert andrew.post("/lists/%00/rename", {"name": "x"}).status_code == 404
    resp = andrew.post("/lists/0/unshare", {"target": 'User::"a\\0b"', "role": "Reader"})
    assert resp.status_code == 400 and "NUL" in resp.text
    api_resp = api.get("andrew", "/api/list/get", {"list": 'List::"\\0"'})
    assert api_resp.status_code == 400 and "NUL" in api_resp.json()["error"]


def test_login_needs_its_own_token_and_the_right_password(make_app: AppFactory) -> None:
    api, _ = make_app()
    browser = Browser(api)
    browser.get("/login")
    good = browser.csrf
    wrong = browser.post("/login", {"user": "andrew", "password": "guess"})
    assert wrong.status_code == 401 and "Wrong user name or password." in wrong.text
    assert browser.post("/login", {"user": "nobody", "password": "x"}).status_code == 401
    fresh = Browser(api)  # a token without the cookie it is bound to
    resp = fresh.post("/login", {"user": "andrew", "password": demo_password("andrew")}, csrf=good)
    assert resp.status_code == 403
    assert browser.login("andrew").url.path == "/lists"


def test_logout_and_bad_sessions_lead_to_the_login_page(make_app: AppFactory) -> None:
    api, _ = make_app()
    browser = Browser(api)
    browser.login("andrew")
    assert browser.get("/").url.path == "/lists"
    assert browser.post("/logout", {}).url.path == "/login"
    assert browser.get("/lists").url.path == "/login"
    browser.client.cookies.set("tinytodo_session", "not-a-token")
    assert browser.get("/lists/0").url.path == "/login"
    resp = browser.post("/lists", {"name": "x"})
    assert resp.status_code == 401 and "log in again" in resp.text


MALFORMED: list[tuple[str, dict[str, Any]]] = [
    ("/lists", {"content": b'{"name": "x"}', "headers": {"Content-Type": "application/json"}}),
    ("/lists", {"content": b"name=%ff", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    (
        "/lists",
        {"content": b"name=a&name=b", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
    ),
    (
        "/lists",
        {
            "content": b"name=" + b"x" * 70_000,
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
    ),
    ("/lists", {"data": {"name": ""}}),
    ("/lists", {"data": {"name": "x" * 1001}}),
    ("/lists", {"data": {"name": "a\x00b"}}),
    ("/lists/0/tasks/99999999999999999999999/toggle", {"data": {}}),
    ("/lists/0/tasks/-1/delete", {"data": {}}),
    ("/lists/" + "9" * 300 + "/rename", {"data": {"name": "x"}}),
    ("/lists/0/share", {"data": {"kind": "Admin", "name": "x", "role": "Reader"}}),
    ("/lists/0/share", {"data": {"kind": "User", "name": "nobody", "role": "Reader"}}),
    ("/lists/0/share", {"data": {"kind": "Team", "name": "interns", "role": "Owner"}}),
    ("/lists/0/unshare", {"data": {"target": "not a uid", "role": "Reader"}}),
    ("/lists/0/unshare", {"data": {"target": 'List::"0"', "role": "Reader"}}),
    ("/lists/0/tasks/7/rename", {"data": {"name": "x"}}),
    ("/lists/0/share", {"data": {"kind": "Team", "name": "1", "role": "Editor"}}),  # the list's own team
]


@pytest.mark.parametrize("path,request_args", MALFORMED)
def test_malformed_posts_are_answered_in_words(
    make_app: AppFactory, path: str, request_args: dict[str, Any]
) -> None:
    api, _ = make_app()
    andrew = Browser(api)
    andrew.login("andrew")
    andrew.post("/lists", {"name": "mine"})
    args = dict(request_args)
    if "data" in args:
        args["data"] = {"csrf": andrew.csrf, **args["data"]}
    elif b"name=" in args["content"] and b"%ff" not in args["content"]:
        args["content"] = b"csrf=" + andrew.csrf.encode() + b"&" + args["content"]
    resp = andrew.client.post(path, **args)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.headers["content-type"].startswith("text/html")
    assert 'class="error" role="alert"' in resp.text and "Traceback" not in resp.text
    assert api.ok(api.get_list("andrew", 0))["name"] == "mine"


def test_a_mistake_in_a_lists_form_links_back_to_the_list(make_app: AppFactory) -> None:
    api, _ = make_app()
    andrew = Browser(api)
    andrew.login("andrew")
    andrew.post("/lists", {"name": "mine"})
    resp = andrew.post("/lists/0/share", {"kind": "Team", "name": "", "role": "Reader"})
    assert resp.status_code == 400 and '<a href="/lists/0">Back to the list</a>' in resp.text
    assert "Name the team to share with." in resp.text


def test_unknown_pages_are_answered_in_words(make_app: AppFactory) -> None:
    api, _ = make_app()
    browser = Browser(api)
    browser.login("andrew")
    missing = browser.client.get("/lists/0/nothing-here")
    assert missing.status_code == 404 and "There is no such page." in missing.text
    assert "Signed in as" in missing.text and "content-security-policy" in missing.headers
    wrong_method = browser.client.get("/lists/0/rename")
    assert wrong_method.status_code == 405 and "cannot be used that way" in wrong_method.text
    api_missing = browser.client.get("/api/nothing")
    assert api_missing.status_code == 404 and api_missing.json() == {"error": "Not Found"}


def test_an_unexpected_error_is_a_page_too(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    api, core = make_app()
    andrew = Browser(api)
    andrew.login("andrew")

    def broken(*args: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(core, "list_page", broken)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient
    client = TestClient(api.client.app, base_url="http://localhost", raise_server_exceptions=False)  # type: ignore[attr-defined]
    client.cookies = andrew.client.cookies
    resp = client.get("/lists/0")
    assert resp.status_code == 500 and resp.headers["content-type"].startswith("text/html")
    assert "Something went wrong on the server" in resp.text and "a bug" not in resp.text
    assert "content-security-policy" in resp.headers


def test_names_are_escaped(make_app: AppFactory) -> None:
    api, _ = make_app()
    andrew = Browser(api)
    andrew.login("andrew")
    page = andrew.post("/lists", {"name": '<script>alert("x")</script>'})
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text


def test_names_cannot_reorder_the_delete_question(make_app: AppFactory) -> None:
    """A right-to-left override in a list name stays inside the name in the confirm dialog."""
    api, _ = make_app()
    andrew = Browser(api)
    andrew.login("andrew")
    page = andrew.post("/lists", {"name": "evil\u202eTXT"})
    assert 'data-confirm="Delete the list “\u2068evil\u202eTXT\u2069” and its tasks?"' in page.text
