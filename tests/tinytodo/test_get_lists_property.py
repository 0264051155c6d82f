"""get_lists returns exactly the lists the user may GetList, whatever the share graph
and whatever the policies: checked against per-list authorization (the public
/api/list/get) and, for the shipped policies, against an independent
reachability model of the share graph."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cedarlang import EntityUid, parse_entity_uid
from tinytodo_server import AppError, AuthDenied, TinyTodo, store, tables
from tinytodo_server.directory import Directory
from tinytodo_server.model import APPLICATION

from .helpers import ADMIN_POLICY, MODES, copy_tinytodo, policies_file

USERS = ["emina", "aaron", "andrew", "kesha"]
TEAMS = ["admin", "interns", "temp"]

EXTRA_POLICIES = {
    "shipped": "",
    "admin": ADMIN_POLICY,
    "forbid-interns-read": (
        '\nforbid (principal in Team::"interns", action == Action::"GetList", resource);\n'
    ),
    # Upstream's policy 6 (ABAC): no access unless high rank at DEF or same location.
    "abac": """
forbid (principal, action, resource is List)
unless {
    principal.joblevel > 6 && principal.location like "DEF*" ||
    principal.location == resource.owner.location
};
""",
    # Reads the tasks (a RecordSet in the SQL mapping: checked in Python after the query).
    "tasks": (
        '\nforbid (principal, action == Action::"GetList", resource is List) when '
        '{ resource.tasks.contains({"id": 0, "name": "secret", "state": "unchecked"}) && '
        "!(principal == resource.owner) };\n"
    ),
    "readers-only": (
        '\nforbid (principal, action == Action::"GetList", resource is List)'
        " when { principal == resource.owner };\n"
    ),
}


VARIANTS = [(mode, name) for mode in MODES for name in EXTRA_POLICIES]


@pytest.fixture(scope="module")
def variant_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    dirs = {}
    for mode, name in VARIANTS:
        d = copy_tinytodo(tmp_path_factory.mktemp(f"{mode}-{name}"))
        path = policies_file(d, mode == "templates")
        path.write_text(path.read_text() + EXTRA_POLICIES[name])
        dirs[(mode, name)] = d
    return dirs


def load(workdir: Path, templates: bool) -> TinyTodo:
    return TinyTodo.load(
        schema_path=workdir / ("tinytodo-templates.cedarschema" if templates else "tinytodo.cedarschema"),
        entities_path=workdir / "entities.json",
        policies_path=policies_file(workdir, templates),
        templates=templates,
    )


def uid(kind: str, name: str) -> EntityUid:
    return EntityUid(kind, name)


# -- the database's content, read directly (the server keeps no state) -------------------


def list_row(core: TinyTodo, lst: EntityUid) -> store.ListRow | None:
    return core.database.run(lambda conn: store.read_list(conn, lst))


def all_lists(core: TinyTodo) -> list[EntityUid]:
    ids = core.database.run(lambda conn: list(conn.execute(sa.select(tables.lists.c.id)).scalars()))
    return sorted((EntityUid("List", i) for i in ids), key=lambda u: int(u.id))


def all_edges(core: TinyTodo) -> list[tuple[EntityUid, EntityUid]]:
    p = tables.parents
    rows = core.database.run(
        lambda conn: list(
            conn.execute(sa.select(p.c.child_type, p.c.child_id, p.c.parent_type, p.c.parent_id))
        )
    )
    return [(EntityUid(ct, ci), EntityUid(pt, pi)) for ct, ci, pt, pi in rows]


def all_links(core: TinyTodo) -> list[tuple[EntityUid, EntityUid]]:
    t = tables.links
    rows = core.database.run(lambda conn: list(conn.execute(sa.select(t.c.principal, t.c.resource_id))))
    return [(parse_entity_uid(p), EntityUid("List", r)) for p, r in rows]


def get_lists(core: TinyTodo, user: EntityUid, page: int) -> list[EntityUid]:
    """Every page of get_lists (pages of ``page`` lists)."""
    found: list[EntityUid] = []
    after = None
    while True:
        lists, after = core.get_lists(user, after, page)
        assert len(lists) <= page
        found += [lst.uid for lst in lists]
        if after is None:
            return found


# A scenario: lists (owner), then share/unshare steps, then some deletions.
# Targets: named users and teams, plus (team mode) other lists' own teams,
# which makes deep and tangled share graphs.
step = st.tuples(
    st.sampled_from(["share", "share", "share", "unshare"]),
    st.integers(0, 5),  # list index
    st.one_of(
        st.sampled_from([("User", u) for u in USERS] + [("Team", t) for t in TEAMS]),
        st.tuples(st.just("list-team"), st.integers(0, 11)),
    ),
    st.sampled_from(["Reader", "Editor"]),
)
scenario = st.fixed_dictionaries(
    {
        "owners": st.lists(st.sampled_from(USERS), min_size=1, max_size=6),
        "steps": st.lists(step, max_size=14),
        "deletes": st.lists(st.integers(0, 5), max_size=2),
    }
)


def run_scenario(core: TinyTodo, data: dict[str, Any]) -> list[EntityUid]:
    lists = [core.create_list(uid("User", owner), f"list{i}") for i, owner in enumerate(data["owners"])]
    for i, (owner, lst) in enumerate(zip(data["owners"], lists, strict=True)):
        core.create_task(uid("User", owner), lst, "secret" if i % 2 == 0 else "plain")
    list_teams: list[EntityUid] = []
    for lst in lists:
        record = list_row(core, lst)
        assert record is not None
        list_teams += record.teams()
    for action, index, (kind, name), role in data["steps"]:
        lst = lists[index % len(lists)]
        found = list_row(core, lst)
        assert found is not None
        owner = found.owner
        if kind == "list-team":
            if not list_teams:
                continue
            target = list_teams[name % len(list_teams)]
        else:
            target = uid(kind, name)
        try:
            if action == "share":
                core.share(owner, lst, target, role)
            else:
                core.unshare(owner, lst, target, role)
        except AppError as err:
            # a list's own team is not a share target (unsharing one is a no-op)
            assert err.status == 404 and kind == "list-team" and action == "share", err
    for index in data["deletes"]:
        lst = lists[index % len(lists)]
        found = list_row(core, lst)
        if found is not None:
            core.delete_list(found.owner, lst)
    return lists


def per_list_oracle(core: TinyTodo, user: EntityUid) -> list[EntityUid]:
    """The lists that GetList (the single-list command) lets ``user`` see."""
    visible: list[EntityUid] = []
    for lst in all_lists(core):
        try:
            core.get_list(user, lst)
        except AuthDenied:
            continue
        visible.append(lst)
    return visible


def graph_oracle(core: TinyTodo, directory: Directory, user: EntityUid) -> list[EntityUid]:
    """The shipped policies by hand: owner, or a member (transitively) of the
    list's readers/editors team, or (template mode) a linked share's target."""
    parents: defaultdict[EntityUid, set[EntityUid]] = defaultdict(set)
    for u in directory.users.values():
        parents[u.uid] |= u.parents
    for t, ps in directory.teams.items():
        parents[t] |= ps
    for child, parent in all_edges(core):
        parents[child].add(parent)
    ancestors, todo = {user}, [user]
    while todo:
        for p in parents[todo.pop()]:
            if p not in ancestors:
                ancestors.add(p)
                todo.append(p)
    visible: list[EntityUid] = []
    links = all_links(core)
    for lst_uid in all_lists(core):
        lst = list_row(core, lst_uid)
        assert lst is not None
        ok = lst.owner == user or lst.readers in ancestors or lst.editors in ancestors
        ok = ok or any(resource == lst_uid and principal in ancestors for principal, resource in links)
        if ok:
            visible.append(lst_uid)
    return visible


@pytest.mark.parametrize(("mode", "policy"), VARIANTS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenario, page=st.integers(1, 4))
def test_get_lists_is_exact(
    variant_dirs: dict[tuple[str, str], Path], mode: str, policy: str, data: dict[str, Any], page: int
) -> None:
    templates = mode == "templates"
    core = load(variant_dirs[(mode, policy)], templates)
    directory = Directory.from_json_text((variant_dirs[(mode, policy)] / "entities.json").read_text())
    try:
        run_scenario(core, data)
        for name in USERS:
            user = uid("User", name)
            got = get_lists(core, user, page)
            # The pages hold real lists in key (text) order, without repeats.
            assert got == sorted(got, key=lambda u: u.id)
            assert len(set(got)) == len(got)
            got = sorted(got, key=lambda u: int(u.id))
            assert got == per_list_oracle(core, user)
            if policy == "shipped":
                assert got == graph_oracle(core, directory, user)
    finally:
        core.close()


def test_get_lists_denied_when_get_lists_is_forbidden(tmp_path: Path) -> None:
    d = copy_tinytodo(tmp_path)
    path = policies_file(d, False)
    path.write_text(
        path.read_text() + '\nforbid (principal == User::"kesha", action == Action::"GetLists", resource);\n'
    )
    core = load(d, False)
    core.create_list(uid("User", "kesha"), "mine")
    with pytest.raises(AuthDenied):
        core.get_lists(uid("User", "kesha"))
    assert core.get_list(uid("User", "kesha"), uid("List", "0")).name == "mine"
    assert uid("Application", "TinyTodo") == APPLICATION
    core.close()
