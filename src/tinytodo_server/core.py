"""TinyTodo's commands: every one authorizes with Cedar first, in one database transaction.

:class:`TinyTodo` holds no application state: only configuration (the schema, the
policies of ``policies.cedar``, the limits) and the database. A command

1. opens a transaction, reads (and, to change a list, locks) the rows it needs;
2. builds the Cedar entities of that request only (:func:`store.request_entities`),
   checks the request against the schema and asks the authorizer;
3. on *Allow* writes only the rows it changes, and commits.

So any number of servers can share one PostgreSQL database, and nothing waits on a
process-wide lock. ``get_lists`` is a permission query turned into SQL
(:mod:`cedarlang_sql`): its cost follows the page of lists returned, not the number of
lists in the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa

import cedarlang
from cedarlang import Authorizer, CedarError, Entities, EntityUid, PolicySet, Schema
from cedarlang_sql import AuthorizedQuery

from . import store
from .database import Database, DatabaseError
from .directory import Directory, DirectoryError
from .model import APPLICATION, LIST_TYPE, ShareRole, TaskState, TodoList
from .policies import (
    EDITOR_TEMPLATE,
    READER_TEMPLATE,
    PolicyLoadError,
    check_policies,
    parse_policies,
    require_share_templates,
    validate_policies,
)
from .store import LinkRow, ListRow, PolicyFacts
from .tables import cedar_mapping

log = logging.getLogger("tinytodo_server")
authz_log = logging.getLogger("tinytodo_server.authz")

T = TypeVar("T")


def _action(name: str) -> EntityUid:
    return EntityUid("Action", name)


CREATE_LIST = _action("CreateList")
GET_LISTS = _action("GetLists")
GET_LIST = _action("GetList")
UPDATE_LIST = _action("UpdateList")
DELETE_LIST = _action("DeleteList")
CREATE_TASK = _action("CreateTask")
UPDATE_TASK = _action("UpdateTask")
DELETE_TASK = _action("DeleteTask")
EDIT_SHARE = _action("EditShare")


class AppError(Exception):
    """A command that failed; the HTTP layer answers ``{"error": message}`` with ``status``."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class AuthDenied(AppError):
    """Cedar said Deny. Answered as upstream does: HTTP 200, ``{"error": "Authorization Denied"}``
    (the client matches that exact text)."""

    status = 200

    def __init__(self) -> None:
        super().__init__("Authorization Denied")


class Unauthenticated(AppError):
    """No valid credentials, or the token's user no longer exists (HTTP 401)."""

    status = 401


class NoSuchEntity(AppError):
    status = 404

    def __init__(self, uid: EntityUid) -> None:
        super().__init__(f"No Such Entity: {uid}")
        self.uid = uid


class LimitReached(AppError):
    status = 409


class StartupError(Exception):
    """The schema, entities, policies or database could not be loaded."""

    def __init__(self, summary: str, details: Iterable[str] = ()) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = list(details)

    def render(self) -> str:
        return "\n".join([self.summary, *self.details])


@dataclass(frozen=True)
class Share:
    """A list shared with a user or team, as reader or editor."""

    target: EntityUid
    role: ShareRole


@dataclass(frozen=True)
class ListsPage:
    """A page of lists, where the next starts, and the request's entities and policies on
    the application (``GetLists`` authorized)."""

    lists: list[TodoList]
    next_after: str | None
    on_application: Slice


@dataclass(frozen=True)
class ListPage:
    """What the web UI's list page shows: the list, the ids of the actions the user may
    take on it (``UpdateList``, ``DeleteTask``, ...) and its shares."""

    list: TodoList
    actions: frozenset[str]
    shares: tuple[Share, ...]


ROLES: tuple[ShareRole, ...] = ("Reader", "Editor")


@dataclass(frozen=True)
class Limits:
    """How much one user may create (configurable: see ``--help``)."""

    lists_per_user: int = 1000
    tasks_per_list: int = 10_000


@dataclass(frozen=True)
class PolicyBundle:
    """A policy set in force and what it needs from the database (swapped whole on reload)."""

    policies: PolicySet
    facts: PolicyFacts

    @classmethod
    def of(cls, policies: PolicySet) -> PolicyBundle:
        policies.index  # noqa: B018 - build the scope index now, not on the first request
        return cls(policies, PolicyFacts.of(policies))


@dataclass(frozen=True)
class Slice:
    """One request's Cedar entities and the policies that can apply to it."""

    entities: Entities
    policies: PolicySet


class TinyTodo:
    def __init__(
        self,
        *,
        schema: Schema,
        policies: PolicySet,
        database: Database,
        templates: bool = False,
        policies_path: Path | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.schema = schema
        self.database = database
        self.templates = templates
        self.policies_path = policies_path
        self.limits = limits or Limits()
        self.bundle = PolicyBundle.of(policies)
        self.mapping = cedar_mapping(templates)
        self.mapping.check(schema)
        self._actions = [e for e in Entities([], schema=schema) if e.uid.type.endswith("Action")]
        self._authorizer = Authorizer()

    @property
    def policies(self) -> PolicySet:
        return self.bundle.policies

    # -- start-up ----------------------------------------------------------------

    @classmethod
    def load(
        cls,
        *,
        schema_path: Path,
        entities_path: Path,
        policies_path: Path,
        db: str | None = None,
        templates: bool = False,
        limits: Limits | None = None,
    ) -> TinyTodo:
        """Read the schema, users and teams, and policies; validate the policies against
        the schema; open the database and make its users and teams those of the entities
        file. Raises StartupError with rendered errors."""
        schema_text = read_text(schema_path, "schema")
        try:
            schema = Schema.from_str(schema_text, str(schema_path))
        except cedarlang.SchemaError as err:
            raise StartupError(f"Error Parsing Schema {schema_path}", [err.render()]) from err
        except CedarError as err:
            raise StartupError(f"Error Parsing Schema {schema_path}: {err}") from err
        try:
            directory = Directory.from_json_text(read_text(entities_path, "entities"), str(entities_path))
        except DirectoryError as err:
            raise StartupError(f"Error Deserializing Json: {err}") from err
        if directory.ignored_lists:
            log.warning(
                "%s: ignoring %d list(s) under `lists` (lists live in the database)",
                entities_path,
                directory.ignored_lists,
            )
        try:
            policies = parse_policies(read_text(policies_path, "policies"), str(policies_path))
            if templates:
                require_share_templates(policies)
            check_policies(schema, policies)
        except PolicyLoadError as err:
            raise StartupError(err.summary, err.details) from err
        try:
            database = Database(db)
        except DatabaseError as err:
            raise StartupError(f"Error opening the database: {err}") from err
        try:
            database.prepare(directory)
            app = cls(
                schema=schema,
                policies=policies,
                database=database,
                templates=templates,
                policies_path=policies_path,
                limits=limits,
            )
        except DatabaseError as err:
            database.close()
            raise StartupError(f"Error preparing the database {database.description}: {err}") from err
        except CedarError as err:
            database.close()
            raise StartupError(f"Error mapping the schema to the database: {err}") from err
        log.info("Loaded %s; using %s", policies_path, database.description)
        return app

    def close(self) -> None:
        self.database.close()

    # -- transactions and authorization -------------------------------------------------

    def _run(self, work: Callable[[sa.Connection], T]) -> T:
        try:
            return self.database.run(work)
        except DatabaseError as err:
            log.error("%s", err)
            raise AppError("Storage Error: the database is unavailable, try again", 503) from err

    def _slice(
        self, conn: sa.Connection, principal: EntityUid, lst: ListRow | None, resource: EntityUid | None
    ) -> Slice:
        """Entities and policies for ``principal`` acting on ``lst`` (``resource`` is the
        list's uid, or ``None`` for a request on the application or a permission query)."""
        bundle = self.bundle
        tasks = None
        if lst is not None and bundle.facts.reads_tasks:
            tasks = store.read_tasks(conn, [lst.uid.id]).get(lst.uid.id, [])
        entities = store.request_entities(conn, principal, lst, bundle.facts, self._actions, tasks)
        if principal not in entities:
            raise Unauthenticated(f"unknown user {principal}")
        policies = bundle.policies
        if self.templates and resource is not None:
            links = store.read_links(conn, store.principal_ancestors(entities, principal), resource)
            policies = _with_links(policies, links)
        return Slice(entities, policies)

    def _authorize(
        self,
        conn: sa.Connection,
        principal: EntityUid,
        action: EntityUid,
        resource: EntityUid,
        lst: ListRow | None,
    ) -> Slice:
        on_list = resource if resource.type == LIST_TYPE else None
        found = self._slice(conn, principal, lst, on_list)
        try:
            request = cedarlang.Request(principal, action, resource, None, schema=self.schema)
        except CedarError as err:
            raise AppError(f"Error constructing authorization request: {err}") from err
        response = self._authorizer.is_authorized(request, found.policies, found.entities)
        if authz_log.isEnabledFor(logging.DEBUG):
            authz_log.debug(
                "principal: %s, action: %s, resource: %s -> %s, reasons: %s, errors: %s",
                principal,
                action,
                resource,
                response.decision,
                sorted(response.reasons),
                [str(e) for e in response.errors],
            )
        if not response.allowed:
            raise AuthDenied
        return found

    def _list(
        self, conn: sa.Connection, principal: EntityUid, action: EntityUid, list_uid: EntityUid
    ) -> ListRow:
        """Lock the list's row, then authorize. A list that does not exist is a 404 (nothing
        to protect: list ids are sequential); otherwise Deny is Authorization Denied."""
        return self._list_and_slice(conn, principal, action, list_uid)[0]

    def _list_and_slice(
        self, conn: sa.Connection, principal: EntityUid, action: EntityUid, list_uid: EntityUid
    ) -> tuple[ListRow, Slice]:
        """:meth:`_list`, with the entities and policies it authorized with."""
        row = store.read_list(conn, list_uid, lock=action != GET_LIST)
        if row is None:
            if not store.user_exists(conn, principal):
                raise Unauthenticated(f"unknown user {principal}")
            raise NoSuchEntity(list_uid)
        return row, self._authorize(conn, principal, action, list_uid, row)

    def _allowed(self, principal: EntityUid, resource: EntityUid, found: Slice) -> frozenset[str]:
        """The ids of the actions ``principal`` may take on ``resource`` (a permission query
        on the request's entities: exactly those ``is_authorized`` would allow)."""
        actions = self._authorizer.query_actions(
            principal, resource, found.policies, found.entities, schema=self.schema
        )
        return frozenset(a.id for a in actions)

    # -- commands ----------------------------------------------------------------------

    def create_list(self, principal: EntityUid, name: str) -> EntityUid:
        def work(conn: sa.Connection) -> EntityUid:
            self._authorize(conn, principal, CREATE_LIST, APPLICATION, None)
            store.lock_user(conn, principal)
            if store.count_owned_lists(conn, principal) >= self.limits.lists_per_user:
                raise LimitReached(f"{principal} already owns {self.limits.lists_per_user} lists (the limit)")
            list_uid = EntityUid(LIST_TYPE, str(store.take_ids(conn, 1)))
            readers = editors = None
            if not self.templates:
                readers = store.new_team(conn, list_uid.id)
                editors = store.new_team(conn, list_uid.id)
            store.insert_list(conn, ListRow(list_uid, principal, name, readers, editors))
            return list_uid

        list_uid = self._run(work)
        log.debug("%s created %s", principal, list_uid)
        return list_uid

    def get_list(self, principal: EntityUid, list_uid: EntityUid) -> TodoList:
        def work(conn: sa.Connection) -> TodoList:
            row = self._list(conn, principal, GET_LIST, list_uid)
            return store.full_list(row, store.read_tasks(conn, [row.uid.id]).get(row.uid.id, []))

        return self._run(work)

    def get_lists(
        self, principal: EntityUid, after: str | None = None, limit: int = 100
    ) -> tuple[list[TodoList], str | None]:
        """A page of the lists the principal may ``GetList``, in id order (as text), and
        where the next page starts (``None``: this was the last). One SQL query decides
        which: exactly the lists authorizing each would allow, whatever the policies say."""
        page = self._run(lambda conn: self._lists(conn, principal, after, limit))
        return page.lists, page.next_after

    def _lists(self, conn: sa.Connection, principal: EntityUid, after: str | None, limit: int) -> ListsPage:
        known = self._authorize(conn, principal, GET_LISTS, APPLICATION, None)
        on_application = known
        if self.templates:
            links = store.read_links(conn, store.principal_ancestors(known.entities, principal), None)
            known = Slice(known.entities, _with_links(self.bundle.policies, links))
        try:
            query = AuthorizedQuery.resources(
                self.mapping, principal, GET_LIST, LIST_TYPE, known.policies, known.entities,
                dialect=conn.dialect.name, schema=self.schema,
            )  # fmt: skip
        except CedarError as err:
            raise AppError(f"Error constructing authorization request: {err}") from err
        page = query.page(conn, after=after, limit=limit)
        rows = store.read_lists(conn, page.ids)
        tasks = store.read_tasks(conn, page.ids)
        lists = [store.full_list(r, tasks.get(r.uid.id, [])) for r in rows]
        return ListsPage(lists, page.next_after, on_application)

    def update_list(self, principal: EntityUid, list_uid: EntityUid, name: str) -> None:
        def work(conn: sa.Connection) -> None:
            self._list(conn, principal, UPDATE_LIST, list_uid)
            store.rename_list(conn, list_uid, name)

        self._run(work)

    def delete_list(self, principal: EntityUid, list_uid: EntityUid) -> None:
        def work(conn: sa.Connection) -> None:
            store.delete_list(conn, self._list(conn, principal, DELETE_LIST, list_uid))

        self._run(work)
        log.debug("%s deleted %s", principal, list_uid)

    def create_task(self, principal: EntityUid, list_uid: EntityUid, name: str) -> int:
        def work(conn: sa.Connection) -> int:
            row = self._list(conn, principal, CREATE_TASK, list_uid)
            limit = self.limits.tasks_per_list
            # A list holds at most next_task tasks: count only when that could reach the limit.
            if row.next_task >= limit and store.count_tasks(conn, list_uid) >= limit:
                raise LimitReached(f"{list_uid} already has {self.limits.tasks_per_list} tasks (the limit)")
            return store.insert_task(conn, row, name)

        return self._run(work)

    def update_task(
        self,
        principal: EntityUid,
        list_uid: EntityUid,
        task_id: int,
        name: str | None = None,
        state: TaskState | None = None,
        toggle: bool = False,
    ) -> None:
        """Rename a task, set its state, or ``toggle`` it (atomically, on the server)."""

        def work(conn: sa.Connection) -> None:
            self._list(conn, principal, UPDATE_TASK, list_uid)
            if not store.update_task(conn, list_uid, task_id, name, state, toggle):
                raise _no_task(list_uid, task_id)

        self._run(work)

    def delete_task(self, principal: EntityUid, list_uid: EntityUid, task_id: int) -> None:
        def work(conn: sa.Connection) -> None:
            self._list(conn, principal, DELETE_TASK, list_uid)
            if not store.delete_task(conn, list_uid, task_id):
                raise _no_task(list_uid, task_id)

        self._run(work)

    def share(self, principal: EntityUid, list_uid: EntityUid, target: EntityUid, role: ShareRole) -> None:
        def work(conn: sa.Connection) -> None:
            row = self._list(conn, principal, EDIT_SHARE, list_uid)
            # Only users and named teams: a list's own reader/editor team is not a share target.
            if not store.is_user_or_team(conn, target, named=True):
                raise NoSuchEntity(target)
            if self.templates:
                store.add_link(conn, _link(role, target, list_uid))
                return
            team = _team_of(row, role)
            if target == team or target in _ancestors(conn, team):
                raise AppError(
                    f"Cannot share {list_uid} with {target}: it would become a member of itself", 409
                )
            store.add_member(conn, target, team)  # already shared: nothing changes

        self._run(work)

    def unshare(self, principal: EntityUid, list_uid: EntityUid, target: EntityUid, role: ShareRole) -> None:
        def work(conn: sa.Connection) -> None:
            row = self._list(conn, principal, EDIT_SHARE, list_uid)
            if not store.is_user_or_team(conn, target):
                raise NoSuchEntity(target)
            if self.templates:
                store.remove_link(conn, linked_policy_id(role, target, list_uid))
            else:
                store.remove_member(conn, target, _team_of(row, role))

        self._run(work)

    # -- what a user may do: the web UI shows exactly these controls -------------------------

    def lists_page(
        self, principal: EntityUid, after: str | None = None, limit: int = 100
    ) -> tuple[list[TodoList], str | None, frozenset[str]]:
        """:meth:`get_lists`, and the actions ``principal`` may take on the application
        (``CreateList``, ``GetLists``), in one transaction."""

        def work(conn: sa.Connection) -> tuple[list[TodoList], str | None, frozenset[str]]:
            page = self._lists(conn, principal, after, limit)
            return page.lists, page.next_after, self._allowed(principal, APPLICATION, page.on_application)

        return self._run(work)

    def list_page(self, principal: EntityUid, list_uid: EntityUid) -> ListPage:
        """The list (``GetList`` authorized), the actions ``principal`` may take on it and
        whom it is shared with, read in one transaction."""

        def work(conn: sa.Connection) -> ListPage:
            row, found = self._list_and_slice(conn, principal, GET_LIST, list_uid)
            tasks = store.read_tasks(conn, [row.uid.id]).get(row.uid.id, [])
            if self.templates:
                links = store.read_links(conn, None, list_uid)
                shares = [Share(link.principal, _role_of_template(link.template_id)) for link in links]
            else:
                shares = [
                    Share(member, role)
                    for role in ROLES
                    for member in store.shared_members(conn, _team_of(row, role))
                ]
            return ListPage(
                store.full_list(row, tasks), self._allowed(principal, list_uid, found), tuple(shares)
            )

        return self._run(work)

    def share_targets(self, limit: int = 500) -> tuple[list[EntityUid], list[EntityUid]]:
        """Up to ``limit`` users and named teams (not lists' own teams), for a share form's
        suggestions."""
        return self._run(lambda conn: store.directory_names(conn, limit))

    # -- policy reload ---------------------------------------------------------------------

    def reload_policies(self) -> bool:
        """Re-read the policies file: parse, check the share templates, validate; put the new
        set in force only if all of that worked (else keep the old one). Whether it did."""
        if self.policies_path is None:
            return False
        path = self.policies_path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            log.error("Error reloading policies: cannot read %s: %s; keeping the old policies", path, err)
            return False
        try:
            new = parse_policies(text, str(path))
            if self.templates:
                require_share_templates(new)
        except PolicyLoadError as err:
            log.error("Error reloading policies: %s; keeping the old policies", err.render())
            return False
        errors = validate_policies(self.schema, new)
        if errors:
            for error in errors:
                log.error("Error validating policies: %s", error)
            log.error("Error reloading policies: validation failed; keeping the old policies")
            return False
        self.bundle = PolicyBundle.of(new)
        log.info("Reloaded policy set from %s (%d policies)", path, len(new))
        return True


def linked_policy_id(role: ShareRole, target: EntityUid, list_uid: EntityUid) -> str:
    """E.g. ``reader[Team::"interns"][0]``. Upstream uses only the target's id
    (``reader[interns][0]``), so a user and a team with the same name collide;
    the full uid keeps the id injective."""
    prefix = "reader" if role == "Reader" else "editor"
    return f"{prefix}[{target}][{list_uid.id}]"


def _link(role: ShareRole, target: EntityUid, list_uid: EntityUid) -> LinkRow:
    template = READER_TEMPLATE if role == "Reader" else EDITOR_TEMPLATE
    return LinkRow(linked_policy_id(role, target, list_uid), template, target, list_uid)


def _with_links(policies: PolicySet, links: list[LinkRow]) -> PolicySet:
    """``policies`` plus the template-linked policies of ``links``."""
    if not links:
        return policies
    combined = PolicySet()
    for template in policies.templates():
        combined.add_template(template)
    for policy in policies.policies():
        combined.add(policy)
    for link in links:
        try:
            combined.link(
                link.template_id, link.policy_id, {"?principal": link.principal, "?resource": link.resource}
            )
        except CedarError as err:  # a template removed from the file: the share grants nothing
            log.error("Cannot link %s: %s", link.policy_id, err)
    return combined


def _role_of_template(template_id: str) -> ShareRole:
    return "Editor" if template_id == EDITOR_TEMPLATE else "Reader"


def _team_of(row: ListRow, role: ShareRole) -> EntityUid:
    team = row.readers if role == "Reader" else row.editors
    if team is None:
        raise AppError(f"{row.uid} has no {role.lower()} team", 409)
    return team


def _ancestors(conn: sa.Connection, uid: EntityUid) -> set[EntityUid]:
    edges, _users = store.ancestry(conn, [uid])
    return {p for ps in edges.values() for p in ps}


def _no_task(list_uid: EntityUid, task_id: int) -> AppError:
    return AppError(f"The list {list_uid} does not contain a task with id {task_id}", 404)


def read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StartupError(f"Cannot read the {what} file {path}: {err}") from err
