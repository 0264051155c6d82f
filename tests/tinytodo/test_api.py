"""Every endpoint, allowed and denied, for owner, reader, editor, team members,
non-members and admins (with and without the admin policy), in both sharing
modes (team membership and Cedar templates)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import cedarlang
from tinytodo_server import TinyTodo

from .conftest import AppFactory
from .helpers import DENIED, Api, L, U

# kesha owns the list; the other users get access only through the setups below.
OWNER = "kesha"


@dataclass(frozen=True)
class Role:
    name: str
    actor: str
    shares: tuple[tuple[str, str], ...] = ()  # (target, role) shared by the owner
    admin_policy: bool = False


ROLES = {
    r.name: r
    for r in [
        Role("owner", OWNER),
        Role("reader", "andrew", (("andrew", "Reader"),)),
        Role("editor", "andrew", (("andrew", "Editor"),)),
        # aaron is in interns; interns is in temp.
        Role("team-reader", "aaron", (("interns", "Reader"),)),
        Role("team-editor", "aaron", (("interns", "Editor"),)),
        Role("nested-team-editor", "aaron", (("temp", "Editor"),)),
        # andrew is in temp but not in interns (kesha's case in the blog).
        Role("non-member", "andrew", (("interns", "Editor"),)),
        Role("admin-without-policy", "emina"),
        Role("admin", "emina", admin_policy=True),
    ]
}

READ = {"owner", "reader", "editor", "team-reader", "team-editor", "nested-team-editor", "admin"}
WRITE = {"owner", "editor", "team-editor", "nested-team-editor", "admin"}
OWNERISH = {"owner", "admin"}  # DeleteList and EditShare

ACTIONS = {
    "get_list": READ,
    "update_list": WRITE,
    "create_task": WRITE,
    "update_task": WRITE,
    "toggle_task": WRITE,
    "delete_task": WRITE,
    "delete_list": OWNERISH,
    "share": OWNERISH,
    "unshare": OWNERISH,
}


def setup(make_app: AppFactory, role: Role) -> tuple[Api, TinyTodo, str]:
    api, core = make_app(admin_policy=role.admin_policy)
    lst = api.new_list(OWNER, "Groceries")
    assert api.ok(api.create_task(OWNER, lst, "milk")) == 0
    assert api.ok(api.create_task(OWNER, lst, "eggs")) == 1
    for who, share_role in role.shares:
        assert api.ok(api.share(OWNER, lst, who, share_role)) == {"message": "ok"}
    return api, core, lst


def owner_view(api: Api, lst: str) -> Any:
    return api.ok(api.get_list(OWNER, lst))


def perform(api: Api, action: str, actor: str, lst: str) -> httpx.Response:
    if action == "get_list":
        return api.get_list(actor, lst)
    if action == "update_list":
        return api.update_list(actor, lst, "Renamed")
    if action == "create_task":
        return api.create_task(actor, lst, "bread")
    if action == "update_task":
        return api.update_task(actor, lst, 0, name="oat milk")
    if action == "toggle_task":
        return api.update_task(actor, lst, 1, state="Checked")
    if action == "delete_task":
        return api.delete_task(actor, lst, 0)
    if action == "delete_list":
        return api.delete_list(actor, lst)
    if action == "share":
        return api.share(actor, lst, "emina", "Reader")
    if action == "unshare":
        return api.unshare(actor, lst, "emina", "Reader")
    raise AssertionError(action)


def check_effect(api: Api, action: str, lst: str, before: dict[str, Any]) -> None:
    """The change an allowed action made, seen by the owner."""
    if action == "delete_list":
        assert api.get_list(OWNER, lst).status_code == 404
        return
    after = owner_view(api, lst)
    tasks = {t["id"]: t for t in after["tasks"]}
    if action == "get_list":
        assert after == before
    elif action == "update_list":
        assert after["name"] == "Renamed"
    elif action == "create_task":
        assert tasks[2] == {"id": 2, "name": "bread", "state": "Unchecked"}
    elif action == "update_task":
        assert tasks[0]["name"] == "oat milk"
    elif action == "toggle_task":
        assert tasks[1]["state"] == "Checked"
    elif action == "delete_task":
        assert 0 not in tasks and 1 in tasks
    elif action == "share":
        assert api.ok(api.get_list("emina", lst))["uid"] == L(lst)
    elif action == "unshare":
        assert after == before


@pytest.mark.parametrize("role_name", list(ROLES))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_by_role(make_app: AppFactory, action: str, role_name: str) -> None:
    role = ROLES[role_name]
    api, _core, lst = setup(make_app, role)
    before = owner_view(api, lst)
    resp = perform(api, action, role.actor, lst)
    assert resp.status_code == 200, resp.text
    if role_name in ACTIONS[action]:
        body = resp.json()
        assert body != DENIED
        if action == "get_list":
            assert body == before
        check_effect(api, action, lst, before)
    else:
        assert resp.json() == DENIED
        if action != "delete_list":
            assert owner_view(api, lst) == before  # nothing changed
        else:
            assert api.get_list(OWNER, lst).status_code == 200


@pytest.mark.parametrize("role_name", list(ROLES))
def test_get_lists_by_role(make_app: AppFactory, role_name: str) -> None:
    role = ROLES[role_name]
    api, _core, lst = setup(make_app, role)
    other = api.new_list("emina", "emina's own")
    names = [x["name"] for x in api.ok(api.get_lists(role.actor))]
    expected = []
    if role_name in READ:
        expected.append("Groceries")
    if role.actor == "emina":
        expected.append("emina's own")
    assert names == expected
    assert other != lst


@pytest.mark.parametrize("role_name", list(ROLES))
def test_create_list_allowed_for_everyone(make_app: AppFactory, role_name: str) -> None:
    api, _core, _lst = setup(make_app, ROLES[role_name])
    actor = ROLES[role_name].actor
    uid = api.ok(api.create_list(actor, "mine"))
    lst = uid[len('List::"') : -1]
    body = api.ok(api.get_list(actor, lst))
    assert body["owner"] == U(actor)
    assert body["name"] == "mine"


def test_list_json_shape_and_ids(make_app: AppFactory, mode: str) -> None:
    api, _core = make_app()
    assert api.ok(api.create_list("andrew", "first")) == 'List::"0"'
    # Upstream's shared counter: List 0 takes Teams 1 and 2 (team mode only).
    second = "3" if mode == "teams" else "1"
    assert api.ok(api.create_list("andrew", "second")) == L(second)
    assert api.ok(api.create_task("andrew", 0, "a")) == 0
    body = api.ok(api.get_list("andrew", 0))
    expected = {
        "uid": 'List::"0"',
        "owner": 'User::"andrew"',
        "name": "first",
        "tasks": [{"id": 0, "name": "a", "state": "Unchecked"}],
    }
    if mode == "teams":
        expected |= {"readers": 'Team::"1"', "editors": 'Team::"2"'}
    assert body == expected
    assert list(body) == list(expected)  # upstream's field order
    lists = api.ok(api.get_lists("andrew"))
    assert [x["uid"] for x in lists] == ['List::"0"', L(second)]


def test_messages_and_task_ids(make_app: AppFactory) -> None:
    api, _core = make_app()
    lst = api.new_list("andrew", "l")
    assert [api.ok(api.create_task("andrew", lst, n)) for n in "abc"] == [0, 1, 2]
    assert api.ok(api.update_task("andrew", lst, 1, state="Checked")) == {"message": "ok"}
    assert api.ok(api.update_task("andrew", lst, 1, name="B", state="Unchecked"))
    assert api.ok(api.delete_task("andrew", lst, 0)) == {"message": "ok"}
    # Ids are never reused while the list has a higher one (upstream used len(tasks)).
    assert api.ok(api.create_task("andrew", lst, "d")) == 3
    tasks = api.ok(api.get_list("andrew", lst))["tasks"]
    assert tasks == [
        {"id": 1, "name": "B", "state": "Unchecked"},
        {"id": 2, "name": "c", "state": "Unchecked"},
        {"id": 3, "name": "d", "state": "Unchecked"},
    ]
    assert api.ok(api.update_list("andrew", lst, "new name")) == {"message": "ok"}
    assert api.ok(api.delete_list("andrew", lst)) == {"message": "ok"}
    assert api.get_list("andrew", lst).status_code == 404


def test_unshare_revokes(make_app: AppFactory) -> None:
    api, _core = make_app()
    lst = api.new_list("andrew", "l")
    api.ok(api.share("andrew", lst, "interns", "Reader"))
    api.ok(api.share("andrew", lst, "kesha", "Editor"))
    assert api.ok(api.get_list("aaron", lst))["name"] == "l"
    assert api.ok(api.create_task("kesha", lst, "x")) == 0
    # Sharing twice and unsharing something never shared are harmless no-ops.
    api.ok(api.share("andrew", lst, "interns", "Reader"))
    api.ok(api.unshare("andrew", lst, "emina", "Editor"))
    api.ok(api.unshare("andrew", lst, "interns", "Reader"))
    api.ok(api.unshare("andrew", lst, "kesha", "Editor"))
    assert api.get_list("aaron", lst).json() == DENIED
    assert api.create_task("kesha", lst, "y").json() == DENIED
    assert api.get_list("kesha", lst).json() == DENIED
    # The reader role does not grant editing; the editor role does not grant sharing.
    api.ok(api.share("andrew", lst, "kesha", "Reader"))
    assert api.update_task("kesha", lst, 0, state="Checked").json() == DENIED
    api.ok(api.share("andrew", lst, "kesha", "Editor"))
    assert api.share("kesha", lst, "aaron", "Reader").json() == DENIED
    assert api.delete_list("kesha", lst).json() == DENIED


def test_shares_are_per_list(make_app: AppFactory) -> None:
    api, _core = make_app()
    a = api.new_list("andrew", "a")
    b = api.new_list("andrew", "b")
    api.ok(api.share("andrew", a, "kesha", "Editor"))
    assert api.ok(api.get_list("kesha", a))
    assert api.get_list("kesha", b).json() == DENIED
    assert [x["name"] for x in api.ok(api.get_lists("kesha"))] == ["a"]
    api.ok(api.delete_list("andrew", a))
    assert api.ok(api.get_lists("kesha")) == []


def test_admin_policy_only_when_loaded(make_app: AppFactory) -> None:
    api, _core = make_app(admin_policy=True)
    lst = api.new_list("kesha", "k")
    # andrew is in Team::"admin" too.
    for admin in ("emina", "andrew"):
        assert api.ok(api.get_list(admin, lst))["name"] == "k"
    assert api.get_list("aaron", lst).json() == DENIED
    assert api.ok(api.delete_list("emina", lst)) == {"message": "ok"}


def test_authorization_happens_before_anything(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command asks Cedar first, with the action of the endpoint."""
    api, core = make_app()
    calls: list[tuple[str, str, str]] = []
    real = core._authorizer.is_authorized

    def spy(request: cedarlang.Request, policies: Any, entities: Any) -> cedarlang.Response:
        calls.append((str(request.principal), str(request.action), str(request.resource)))
        return real(request, policies, entities)

    monkeypatch.setattr(core._authorizer, "is_authorized", spy)
    lst = api.new_list("andrew", "l")
    api.ok(api.create_task("andrew", lst, "t"))
    expected = {
        "get_list": "GetList",
        "update_list": "UpdateList",
        "create_task": "CreateTask",
        "update_task": "UpdateTask",
        "delete_task": "DeleteTask",
        "share": "EditShare",
        "unshare": "EditShare",
        "delete_list": "DeleteList",
    }
    for action, cedar_action in expected.items():
        calls.clear()
        perform(api, action, "kesha", lst)  # kesha: denied
        assert calls and calls[0] == ('User::"kesha"', f'Action::"{cedar_action}"', L(lst))
    calls.clear()
    api.get_lists("kesha")
    assert calls[0] == ('User::"kesha"', 'Action::"GetLists"', 'Application::"TinyTodo"')
    calls.clear()
    api.create_list("kesha", "x")
    assert calls[0] == ('User::"kesha"', 'Action::"CreateList"', 'Application::"TinyTodo"')


def test_denied_before_task_lookup(make_app: AppFactory) -> None:
    """An unauthorized caller learns nothing about task ids."""
    api, _core = make_app()
    lst = api.new_list("andrew", "l")
    assert api.update_task("kesha", lst, 99, state="Checked").json() == DENIED
    assert api.delete_task("kesha", lst, 99).json() == DENIED
    resp = api.update_task("andrew", lst, 99, state="Checked")
    assert resp.status_code == 404
    assert resp.json() == {"error": 'The list List::"0" does not contain a task with id 99'}


def test_forbid_policy_overrides(make_app: AppFactory, mode: str, workdir: Path) -> None:
    """Policy 5 of upstream (interns may not create lists), enabled by editing the file."""
    from .helpers import policies_file

    path = policies_file(workdir, mode == "templates")
    path.write_text(
        path.read_text() + '\nforbid (principal in Team::"interns", action == Action::"CreateList",'
        ' resource == Application::"TinyTodo");\n'
    )
    api, _core = make_app()
    assert api.create_list("aaron", "nope").json() == DENIED
    assert api.ok(api.create_list("emina", "fine")) == 'List::"0"'
