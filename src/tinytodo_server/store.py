"""What one command reads and writes, inside its transaction.

:func:`request_entities` builds the Cedar entities one authorization needs, and
only those: the principal, the list and the entities its attributes name (owner,
reader and editor teams), the entity literals of the policies, and the complete
ancestry of all of them (one recursive query over ``todo_parents``). Because the
schema bounds every attribute chain (a list names users and teams; users and teams
name no entities), that slice answers every request exactly as the whole store
would, whatever the policies say.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from cedarlang import CedarSet, Entities, Entity, EntityUid, Record, ast, parse_entity_uid
from cedarlang.policy import PolicySet

from . import tables
from .database import SHARE_ORIGIN, Prepared, execute_prepared, insert_ignoring_duplicates
from .model import APPLICATION, LIST_TYPE, TEAM_TYPE, USER_TYPE, Task, TaskState, TodoList


@dataclass(frozen=True)
class PolicyFacts:
    """What a policy set needs from the database, found once per (re)load."""

    literals: frozenset[EntityUid]
    """Entity literals in policies and templates (their ancestry and attributes may matter)."""
    reads_tasks: bool
    """Whether any policy or template mentions an attribute called ``tasks``."""

    @classmethod
    def of(cls, policies: PolicySet) -> PolicyFacts:
        literals: set[EntityUid] = set()
        reads_tasks = False
        for item in [*policies.templates(), *policies.policies()]:
            policy_ast = item.ast
            exprs = [c.body for c in policy_ast.conditions]
            for constraint in (policy_ast.principal, policy_ast.action, policy_ast.resource):
                literals.update(_uids(getattr(constraint, "entity", None)))
            for expr in exprs:
                for node in ast.walk(expr):
                    if type(node) is ast.Lit:
                        literals.update(_uids(node.value))
                    elif isinstance(node, (ast.GetAttr, ast.HasAttr)) and node.attr == "tasks":
                        reads_tasks = True
        return cls(frozenset(literals), reads_tasks)


def _uids(value: object) -> list[EntityUid]:
    if type(value) is EntityUid:
        return [value]
    if isinstance(value, (tuple, list, frozenset, set, CedarSet)):
        return [v for v in value if type(v) is EntityUid]
    return []


# -- reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ListRow:
    uid: EntityUid
    owner: EntityUid
    name: str
    readers: EntityUid | None
    editors: EntityUid | None
    next_task: int = 0
    """The id the next task gets (so the list holds at most this many tasks)."""

    def teams(self) -> list[EntityUid]:
        return [t for t in (self.readers, self.editors) if t is not None]


def _team(team_id: str | None) -> EntityUid | None:
    return EntityUid(TEAM_TYPE, team_id) if team_id is not None else None


def _list_row(
    list_id: str, owner_id: str, name: str, readers_id: str | None, editors_id: str | None, next_task: int = 0
) -> ListRow:
    """A ``todo_lists`` row's columns as a :class:`ListRow`."""
    owner = EntityUid(USER_TYPE, owner_id)
    return ListRow(
        EntityUid(LIST_TYPE, list_id), owner, name, _team(readers_id), _team(editors_id), int(next_task)
    )


def _read_list_query(lock: bool) -> sa.Select[Any]:
    t = tables.lists
    query = sa.select(t.c.owner_id, t.c.name, t.c.readers_id, t.c.editors_id, t.c.next_task).where(
        t.c.id == sa.bindparam("id")
    )
    return query.with_for_update() if lock else query


_READ_LIST = {lock: _read_list_query(lock) for lock in (False, True)}
_READ_LIST_PG = {lock: Prepared.of(query) for lock, query in _READ_LIST.items()}


def read_list(conn: sa.Connection, list_uid: EntityUid, *, lock: bool = False) -> ListRow | None:
    """The list's row (locked until the transaction ends when ``lock``, on PostgreSQL)."""
    row: Sequence[Any] | None
    if conn.dialect.name == "postgresql":
        rows, _ = execute_prepared(conn, _READ_LIST_PG[lock], {"id": list_uid.id})
        row = rows[0] if rows else None
    else:
        row = conn.execute(_READ_LIST[False], {"id": list_uid.id}).first()
    return None if row is None else _list_row(list_uid.id, *row)


def read_lists(conn: sa.Connection, ids: list[str]) -> list[ListRow]:
    t = tables.lists
    query = sa.select(t.c.id, t.c.owner_id, t.c.name, t.c.readers_id, t.c.editors_id).where(t.c.id.in_(ids))
    rows = {r[0]: _list_row(*r) for r in conn.execute(query)}
    return [rows[i] for i in ids if i in rows]


def read_tasks(conn: sa.Connection, list_ids: Collection[str]) -> dict[str, list[Task]]:
    """Each list's tasks, by id."""
    t = tables.tasks
    found: dict[str, list[Task]] = defaultdict(list)
    if not list_ids:
        return found
    query = sa.select(t.c.list_id, t.c.id, t.c.name, t.c.state).where(t.c.list_id.in_(list(list_ids)))
    for list_id, task_id, name, state in conn.execute(query.order_by(t.c.list_id, t.c.id)):
        found[list_id].append(Task(int(task_id), name, api_state(state)))
    return found


def full_list(row: ListRow, tasks: Iterable[Task]) -> TodoList:
    return TodoList(row.uid, row.owner, row.name, tuple(tasks), row.readers, row.editors)


def _ancestry_query(postgres: bool) -> sa.CompoundSelect[Any]:
    """Built once (statement construction costs more than running it): the edges above
    ``:keys`` (``(type, id)`` pairs), then the rows of the users ``:users``. On
    PostgreSQL the pairs are two arrays, ``:types`` and ``:ids``, and ``:users`` an array
    (no statement text to expand per call)."""
    p, u = tables.parents, tables.users
    columns = (p.c.child_type, p.c.child_id, p.c.parent_type, p.c.parent_id)
    keys: Any
    users: Any
    if postgres:
        texts = postgresql.ARRAY(sa.Text)
        keys = sa.select(
            sa.func.unnest(sa.bindparam("types", type_=texts)),
            sa.func.unnest(sa.bindparam("ids", type_=texts)),
        )
        users = sa.select(sa.func.unnest(sa.bindparam("users", type_=texts)))
    else:
        keys, users = sa.bindparam("keys", expanding=True), sa.bindparam("users", expanding=True)
    seed = sa.select(*columns).where(sa.tuple_(p.c.child_type, p.c.child_id).in_(keys))
    walk = seed.cte("todo_walk", recursive=True)
    parent_of = sa.and_(p.c.child_type == walk.c.parent_type, p.c.child_id == walk.c.parent_id)
    if postgres:
        # Each step probes the primary key once per entity reached. Planned as a plain
        # join, PostgreSQL guesses the walk large and hashes the whole table instead (4 ms
        # at 30,000 edges, growing with every share); OFFSET 0 keeps the lookup a
        # subquery it runs per row.
        above = sa.select(*columns).where(parent_of).offset(0).lateral("todo_above")
        step = sa.select(*above.c).select_from(walk).join(above, sa.true())
    else:
        step = sa.select(*columns).join(walk, parent_of)
    walk = walk.union(step)
    no_text, no_long = sa.cast(sa.null(), sa.Text), sa.cast(sa.null(), sa.BigInteger)
    return sa.union_all(
        sa.select(walk.c.child_type, walk.c.child_id, walk.c.parent_type, walk.c.parent_id, no_long, no_text),
        sa.select(sa.literal(USER_TYPE), u.c.id, no_text, no_text, u.c.joblevel, u.c.location).where(
            u.c.id.in_(users)
        ),
    )


_ANCESTRY = _ancestry_query(postgres=False)
_ANCESTRY_PG = Prepared.of(_ancestry_query(postgres=True))


def ancestry(
    conn: sa.Connection, starts: Iterable[EntityUid], users: Collection[str] = ()
) -> tuple[dict[EntityUid, set[EntityUid]], dict[str, Record]]:
    """The direct parents of every entity reachable upwards from ``starts`` (a recursive
    query; ``UNION`` makes cycles terminate), and the attributes of the existing users
    among ``users``: one round trip."""
    edges: dict[EntityUid, set[EntityUid]] = defaultdict(set)
    found: dict[str, Record] = {}
    keys = sorted({(x.type, x.id) for x in starts})
    if not keys:
        return edges, found
    rows: Iterable[Any]
    if conn.dialect.name == "postgresql":
        params = {"types": [k[0] for k in keys], "ids": [k[1] for k in keys], "users": sorted(users)}
        rows, _ = execute_prepared(conn, _ANCESTRY_PG, params)
    else:
        rows = conn.execute(_ANCESTRY, {"keys": keys, "users": sorted(users)})
    for child_type, child_id, parent_type, parent_id, joblevel, location in rows:
        if parent_type is None:  # a user row
            found[child_id] = Record({"joblevel": int(joblevel), "location": location})
        else:
            edges[EntityUid(child_type, child_id)].add(EntityUid(parent_type, parent_id))
    return edges, found


def read_users(conn: sa.Connection, ids: Collection[str]) -> dict[str, Record]:
    """The attributes of the users that exist among ``ids``."""
    if not ids:
        return {}
    u = tables.users
    rows = conn.execute(sa.select(u.c.id, u.c.joblevel, u.c.location).where(u.c.id.in_(list(ids))))
    return {i: Record({"joblevel": int(j), "location": loc}) for i, j, loc in rows}


def user_exists(conn: sa.Connection, user: EntityUid) -> bool:
    u = tables.users
    return conn.execute(sa.select(u.c.id).where(u.c.id == user.id)).first() is not None


def is_user_or_team(conn: sa.Connection, uid: EntityUid, *, named: bool = False) -> bool:
    """Whether ``uid`` is a user or a team (with ``named``, a team of ``entities.json``, not
    a list's own reader or editor team)."""
    table = tables.users if uid.type == USER_TYPE else tables.teams if uid.type == TEAM_TYPE else None
    if table is None:
        return False
    query = sa.select(table.c.id).where(table.c.id == uid.id)
    if named and table is tables.teams:
        query = query.where(tables.teams.c.list_id.is_(None))
    return conn.execute(query).first() is not None


def request_entities(
    conn: sa.Connection,
    principal: EntityUid,
    lst: ListRow | None,
    facts: PolicyFacts,
    actions: Iterable[Entity],
    tasks: Iterable[Task] | None = None,
) -> Entities:
    """The Cedar entities an authorization of ``principal`` on ``lst`` (or on the
    application when ``None``) needs, with the schema's ``actions``; ``tasks`` are the
    list's, when the policies read them."""
    starts = {principal, APPLICATION, *facts.literals}
    if lst is not None:
        starts.update([lst.owner, *lst.teams()])
    edges, users = ancestry(conn, starts, [u.id for u in starts if u.type == USER_TYPE])
    everyone = starts | set(edges) | {p for ps in edges.values() for p in ps}
    # The schema puts nothing in a User, so users are among the starts; any other
    # user reached (a schema that allows it) is read too.
    more = [u.id for u in everyone - starts if u.type == USER_TYPE]
    if more:
        users |= read_users(conn, more)
    items: list[Entity] = list(actions)
    for uid in everyone:
        if uid.type == USER_TYPE:
            attrs = users.get(uid.id)
            if attrs is not None:
                items.append(Entity(uid, attrs, edges.get(uid, ())))
        elif uid.type in (TEAM_TYPE, APPLICATION.type):
            items.append(Entity(uid, None, edges.get(uid, ())))
    if lst is not None:
        list_attrs: dict[str, object] = {"owner": lst.owner, "name": lst.name}
        if tasks is not None:
            list_attrs["tasks"] = CedarSet(
                Record({"id": t.id, "name": t.name, "state": cedar_state(t.state)}) for t in tasks
            )
        if lst.readers is not None and lst.editors is not None:
            list_attrs["readers"] = lst.readers
            list_attrs["editors"] = lst.editors
        items.append(Entity(lst.uid, list_attrs, [APPLICATION]))
    return Entities(items)


def principal_ancestors(entities: Entities, principal: EntityUid) -> set[EntityUid]:
    entity = entities.get(principal)
    return {principal, *(entity.ancestors if entity is not None else ())}


# -- writes ----------------------------------------------------------------------------


def take_ids(conn: sa.Connection, count: int) -> int:
    """Reserve ``count`` consecutive numbers of the shared list/team counter; the first."""
    c = tables.counters
    value = conn.execute(
        sa.update(c).where(c.c.name == "ids").values(value=c.c.value + count).returning(c.c.value)
    ).scalar_one()
    return int(value) - count


def new_team(conn: sa.Connection, list_id: str) -> EntityUid:
    """A fresh team for the list (numbers already taken by a named team are skipped)."""
    while True:
        team = EntityUid(TEAM_TYPE, str(take_ids(conn, 1)))
        if insert_ignoring_duplicates(conn, tables.teams, [{"id": team.id, "list_id": list_id}]):
            return team


def count_owned_lists(conn: sa.Connection, owner: EntityUid) -> int:
    t = tables.lists
    return int(conn.execute(sa.select(sa.func.count()).where(t.c.owner_id == owner.id)).scalar_one())


def lock_user(conn: sa.Connection, user: EntityUid) -> None:
    """Serialize the user's list creations (so the per-user limit holds under concurrency)."""
    if conn.dialect.name == "postgresql":
        u = tables.users
        conn.execute(sa.select(u.c.id).where(u.c.id == user.id).with_for_update())


def insert_list(conn: sa.Connection, row: ListRow) -> None:
    conn.execute(
        sa.insert(tables.lists).values(
            id=row.uid.id,
            owner_id=row.owner.id,
            name=row.name,
            readers_id=row.readers.id if row.readers else None,
            editors_id=row.editors.id if row.editors else None,
        )
    )


def rename_list(conn: sa.Connection, list_uid: EntityUid, name: str) -> None:
    t = tables.lists
    conn.execute(sa.update(t).where(t.c.id == list_uid.id).values(name=name))


def delete_list(conn: sa.Connection, row: ListRow) -> None:
    """The list, its tasks, its teams and every share edge into them, its template links."""
    lists, tasks, teams, parents, links = (
        tables.lists, tables.tasks, tables.teams, tables.parents, tables.links
    )  # fmt: skip
    conn.execute(sa.delete(tasks).where(tasks.c.list_id == row.uid.id))
    conn.execute(sa.delete(links).where(links.c.resource_id == row.uid.id))
    owned = [t.id for t in row.teams()]
    if owned:
        conn.execute(
            sa.delete(parents).where(
                sa.or_(
                    sa.and_(parents.c.parent_type == TEAM_TYPE, parents.c.parent_id.in_(owned)),
                    sa.and_(parents.c.child_type == TEAM_TYPE, parents.c.child_id.in_(owned)),
                )
            )
        )
        conn.execute(sa.delete(teams).where(teams.c.id.in_(owned), teams.c.list_id == row.uid.id))
    conn.execute(sa.delete(lists).where(lists.c.id == row.uid.id))


def count_tasks(conn: sa.Connection, list_uid: EntityUid) -> int:
    t = tables.tasks
    return int(conn.execute(sa.select(sa.func.count()).where(t.c.list_id == list_uid.id)).scalar_one())


def _insert_task_queries() -> tuple[sa.Insert, sa.Update, sa.Insert]:
    # Parameters are named unlike any column: an UPDATE would take `id` or `name` given at
    # execution as more columns to set.
    lists, tasks = tables.lists, tables.tasks
    list_id = sa.bindparam("p_list", type_=sa.Text)
    bump = sa.update(lists).where(lists.c.id == list_id).values(next_task=lists.c.next_task + 1)
    values = (list_id, sa.bindparam("p_task", type_=sa.BigInteger), sa.bindparam("p_name", type_=sa.Text))
    insert = sa.insert(tasks).from_select(
        ["list_id", "id", "name", "state"], sa.select(*values, sa.literal("unchecked"))
    )
    bumped = bump.returning(lists.c.id).cte("todo_bump")
    both = sa.insert(tasks).from_select(
        ["list_id", "id", "name", "state"], sa.select(*values, sa.literal("unchecked")).select_from(bumped)
    )
    return both, bump, insert


_BUMP_AND_INSERT, _BUMP, _INSERT_TASK = _insert_task_queries()
_BUMP_AND_INSERT_PG = Prepared.of(_BUMP_AND_INSERT)


def insert_task(conn: sa.Connection, lst: ListRow, name: str) -> int:
    """A new unchecked task with the list's next id (ids are never reused); the list's
    row is locked, so ``lst.next_task`` is current. On PostgreSQL one statement."""
    params = {"p_list": lst.uid.id, "p_task": lst.next_task, "p_name": name}
    if conn.dialect.name == "postgresql":
        execute_prepared(conn, _BUMP_AND_INSERT_PG, params)
    else:
        conn.execute(_BUMP, {"p_list": lst.uid.id})
        conn.execute(_INSERT_TASK, params)
    return lst.next_task


def _update_task_query() -> sa.Update:
    """One statement for every change: a new name and/or state, or a toggle (built once)."""
    t = tables.tasks
    name = sa.bindparam("p_name", type_=sa.Text)
    state = sa.bindparam("p_state", type_=sa.Text)
    flipped = sa.case((t.c.state == "checked", "unchecked"), else_="checked")
    return (
        sa.update(t)
        .where(t.c.list_id == sa.bindparam("p_list", type_=sa.Text), t.c.id == sa.bindparam("p_task"))
        .values(
            name=sa.func.coalesce(name, t.c.name),
            state=sa.case(
                (sa.bindparam("p_toggle", type_=sa.Boolean), flipped),
                else_=sa.func.coalesce(state, t.c.state),
            ),
        )
    )


_UPDATE_TASK = _update_task_query()
_UPDATE_TASK_PG = Prepared.of(_UPDATE_TASK)


def update_task(
    conn: sa.Connection,
    list_uid: EntityUid,
    task_id: int,
    name: str | None,
    state: TaskState | None,
    toggle: bool,
) -> bool:
    """Change one task in place (``toggle`` flips its state atomically); whether it exists."""
    params = {
        "p_list": list_uid.id,
        "p_task": task_id,
        "p_name": name,
        "p_state": None if state is None else cedar_state(state),
        "p_toggle": toggle,
    }
    if conn.dialect.name == "postgresql":
        return bool(execute_prepared(conn, _UPDATE_TASK_PG, params)[1])
    return bool(conn.execute(_UPDATE_TASK, params).rowcount)


def delete_task(conn: sa.Connection, list_uid: EntityUid, task_id: int) -> bool:
    t = tables.tasks
    return bool(conn.execute(sa.delete(t).where(t.c.list_id == list_uid.id, t.c.id == task_id)).rowcount)


def add_member(conn: sa.Connection, member: EntityUid, team: EntityUid) -> None:
    row = {
        "child_type": member.type,
        "child_id": member.id,
        "parent_type": team.type,
        "parent_id": team.id,
        "origin": SHARE_ORIGIN,
    }
    insert_ignoring_duplicates(conn, tables.parents, [row])


def remove_member(conn: sa.Connection, member: EntityUid, team: EntityUid) -> None:
    p = tables.parents
    conn.execute(
        sa.delete(p).where(
            p.c.child_type == member.type,
            p.c.child_id == member.id,
            p.c.parent_type == team.type,
            p.c.parent_id == team.id,
            p.c.origin == SHARE_ORIGIN,
        )
    )


# -- template mode ------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRow:
    policy_id: str
    template_id: str
    principal: EntityUid
    resource: EntityUid


def read_links(
    conn: sa.Connection, principals: Collection[EntityUid] | None, resource: EntityUid | None
) -> list[LinkRow]:
    """The links whose principal slot is among ``principals`` (any principal, when
    ``None``: a list's shares) and whose resource is ``resource`` (any list, when
    ``None``). With the principal and its ancestors: the links that can apply to a request."""
    t = tables.links
    query = sa.select(t.c.policy_id, t.c.template_id, t.c.principal, t.c.resource_id)
    if principals is not None:
        query = query.where(t.c.principal.in_(sorted(str(p) for p in principals)))
    if resource is not None:
        query = query.where(t.c.resource_id == resource.id)
    return [
        LinkRow(pid, tid, parse_entity_uid(principal), EntityUid(LIST_TYPE, rid))
        for pid, tid, principal, rid in conn.execute(query.order_by(t.c.policy_id))
    ]


def add_link(conn: sa.Connection, link: LinkRow) -> bool:
    row = {
        "policy_id": link.policy_id,
        "template_id": link.template_id,
        "principal": str(link.principal),
        "resource_id": link.resource.id,
    }
    return insert_ignoring_duplicates(conn, tables.links, [row]) > 0


def remove_link(conn: sa.Connection, policy_id: str) -> None:
    t = tables.links
    conn.execute(sa.delete(t).where(t.c.policy_id == policy_id))


# -- task states: the API says "Checked", Cedar and the table say "checked" ------------------


def cedar_state(state: TaskState) -> str:
    return state.lower()


def api_state(stored: str) -> TaskState:
    return "Checked" if stored == "checked" else "Unchecked"


# -- what the web UI shows: shares and share targets ------------------------------------------


def shared_members(conn: sa.Connection, team: EntityUid) -> list[EntityUid]:
    """The users and teams a share made members of ``team`` (a list's reader or editor team)."""
    p = tables.parents
    query = (
        sa.select(p.c.child_type, p.c.child_id)
        .where(p.c.parent_type == team.type, p.c.parent_id == team.id, p.c.origin == SHARE_ORIGIN)
        .order_by(p.c.child_type, p.c.child_id)
    )
    return [EntityUid(kind, ident) for kind, ident in conn.execute(query)]


def directory_names(conn: sa.Connection, limit: int) -> tuple[list[EntityUid], list[EntityUid]]:
    """Up to ``limit`` users and up to ``limit`` named teams (not lists' own teams), by id."""
    u, t = tables.users, tables.teams
    users = conn.execute(sa.select(u.c.id).order_by(u.c.id).limit(limit)).scalars()
    teams = conn.execute(
        sa.select(t.c.id).where(t.c.list_id.is_(None)).order_by(t.c.id).limit(limit)
    ).scalars()
    return [EntityUid(USER_TYPE, i) for i in users], [EntityUid(TEAM_TYPE, i) for i in teams]
