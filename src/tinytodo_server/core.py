"""TinyTodo's application logic: every command authorizes with Cedar first.

:class:`TinyTodo` owns the state, the policy set, the schema and the storage.
Its public methods are the commands of the HTTP API; each one

1. builds a Cedar request (principal, action, resource, empty context),
   checks it against the schema and asks the authorizer;
2. on *Allow* computes the change as a list of operations, commits them to
   the database in one transaction and only then applies them in memory.

All commands (and policy reloads) are serialized by one lock, as upstream's
single actor task serializes them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import cedarlang
from cedarlang import (
    Authorizer,
    CedarError,
    CedarSet,
    Entities,
    Entity,
    EntityUid,
    PolicySet,
    Record,
    Schema,
)

from .directory import Directory, DirectoryError
from .model import (
    APPLICATION,
    LIST_TYPE,
    TEAM_TYPE,
    AddLink,
    AddParent,
    DeleteList,
    DeleteTeam,
    Link,
    Op,
    PutList,
    PutTeam,
    RemoveLink,
    RemoveParent,
    SetCounter,
    ShareRole,
    State,
    Task,
    TaskState,
    TodoList,
    list_sort_key,
)
from .policies import (
    EDITOR_TEMPLATE,
    READER_TEMPLATE,
    PolicyLoadError,
    check_policies,
    link_all,
    parse_policies,
    require_share_templates,
    validate_policies,
)
from .storage import Storage, StorageError, open_storage

log = logging.getLogger("tinytodo_server")
authz_log = logging.getLogger("tinytodo_server.authz")


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


class NoSuchEntity(AppError):
    status = 404

    def __init__(self, uid: EntityUid) -> None:
        super().__init__(f"No Such Entity: {uid}")


class StartupError(Exception):
    """The schema, entities, policies or database could not be loaded."""

    def __init__(self, summary: str, details: Iterable[str] = ()) -> None:
        super().__init__(summary)
        self.summary = summary
        self.details = list(details)

    def render(self) -> str:
        return "\n".join([self.summary, *self.details])


@dataclass(frozen=True)
class FileSignature:
    """What the policy watcher compares to notice an edit."""

    mtime_ns: int
    size: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileSignature | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return cls(st.st_mtime_ns, st.st_size, st.st_ino)


class TinyTodo:
    def __init__(
        self,
        *,
        schema: Schema,
        directory: Directory,
        policies: PolicySet,
        storage: Storage,
        state: State,
        templates: bool = False,
        policies_path: Path | None = None,
    ) -> None:
        self.schema = schema
        self.directory = directory
        self.policies = policies
        self.storage = storage
        self.state = state
        self.templates = templates
        self.policies_path = policies_path
        self.policies_signature = FileSignature.of(policies_path) if policies_path else None
        self._authorizer = Authorizer()
        self._lock = threading.RLock()
        self._version = 0
        self._entities: Entities | None = None
        self._entities_version = -1

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
    ) -> TinyTodo:
        """Read the schema, entities and policies, open the database and validate
        the policies against the schema (raises StartupError with rendered errors)."""
        schema_text = _read(schema_path, "schema")
        try:
            schema = Schema.from_str(schema_text, str(schema_path))
        except cedarlang.SchemaError as err:
            raise StartupError(f"Error Parsing Schema {schema_path}", [err.render()]) from err
        except CedarError as err:
            raise StartupError(f"Error Parsing Schema {schema_path}: {err}") from err
        try:
            directory = Directory.from_json_text(_read(entities_path, "entities"), str(entities_path))
        except DirectoryError as err:
            raise StartupError(f"Error Deserializing Json: {err}") from err
        if directory.ignored_lists:
            log.warning(
                "%s: ignoring %d list(s) under `lists` (lists live in the database)",
                entities_path,
                directory.ignored_lists,
            )
        policy_text = _read(policies_path, "policies")
        signature = FileSignature.of(policies_path)
        try:
            policies = parse_policies(policy_text, str(policies_path))
        except PolicyLoadError as err:
            raise StartupError(err.summary, err.details) from err
        try:
            storage = open_storage(db)
        except StorageError as err:
            raise StartupError(f"Error opening the database: {err}") from err
        try:
            state = storage.load()
            if templates:
                require_share_templates(policies)
                link_all(policies, state.links.values())
            check_policies(schema, policies)
        except StorageError as err:
            storage.close()
            raise StartupError(f"Error reading the database: {err}") from err
        except PolicyLoadError as err:
            storage.close()
            raise StartupError(err.summary, err.details) from err
        app = cls(
            schema=schema,
            directory=directory,
            policies=policies,
            storage=storage,
            state=state,
            templates=templates,
            policies_path=policies_path,
        )
        app.policies_signature = signature
        try:
            app.entities()
        except CedarError as err:
            storage.close()
            raise StartupError(f"Error building the Cedar entities: {err}") from err
        log.info("Loaded %s; using %s", policies_path, storage.description)
        return app

    def close(self) -> None:
        with self._lock:
            self.storage.close()

    # -- Cedar ---------------------------------------------------------------------

    def entities(self) -> Entities:
        """All users, teams, lists and the application as Cedar entities (cached
        until the state changes), checked against the schema."""
        if self._entities is not None and self._entities_version == self._version:
            return self._entities
        extra_parents: dict[EntityUid, set[EntityUid]] = defaultdict(set)
        for child, parent in self.state.parents:
            extra_parents[child].add(parent)
        items: list[Entity] = []
        for user in self.directory.users.values():
            attrs = {"joblevel": user.joblevel, "location": user.location}
            items.append(Entity(user.uid, attrs, user.parents | extra_parents[user.uid]))
        for team, parents in self.directory.teams.items():
            items.append(Entity(team, {}, parents | extra_parents[team]))
        for team in self.state.teams:
            if team not in self.directory.teams:
                items.append(Entity(team, {}, {APPLICATION} | extra_parents[team]))
        for lst in self.state.lists.values():
            items.append(Entity(lst.uid, self._list_attrs(lst), [APPLICATION]))
        items.append(Entity(APPLICATION))
        self._entities = Entities(items, schema=self.schema)
        self._entities_version = self._version
        return self._entities

    def _list_attrs(self, lst: TodoList) -> dict[str, object]:
        tasks = CedarSet(Record({"id": t.id, "name": t.name, "state": t.state.lower()}) for t in lst.tasks)
        attrs: dict[str, object] = {"owner": lst.owner, "name": lst.name, "tasks": tasks}
        if not self.templates and lst.readers is not None and lst.editors is not None:
            attrs["readers"] = lst.readers
            attrs["editors"] = lst.editors
        return attrs

    def is_authorized(
        self, principal: EntityUid, action: EntityUid, resource: EntityUid
    ) -> cedarlang.Response:
        """Ask Cedar (request checked against the schema; context always empty)."""
        with self._lock:
            try:
                request = cedarlang.Request(principal, action, resource, None, schema=self.schema)
            except CedarError as err:
                raise AppError(f"Error constructing authorization request: {err}") from err
            authz_log.info(
                "is_authorized request: principal: %s, action: %s, resource: %s",
                principal,
                action,
                resource,
            )
            response = self._authorizer.is_authorized(request, self.policies, self.entities())
            authz_log.info(
                "Auth response: decision: %s, reasons: %s, errors: %s",
                response.decision,
                sorted(response.reasons),
                [str(e) for e in response.errors],
            )
            return response

    def _authorize(self, principal: EntityUid, action: EntityUid, resource: EntityUid) -> None:
        if not self.is_authorized(principal, action, resource).allowed:
            raise AuthDenied

    def _authorize_list(self, principal: EntityUid, action: EntityUid, list_uid: EntityUid) -> TodoList:
        """Authorize first, always. A list that does not exist is then a 404 (nothing
        to protect: list ids are sequential), otherwise Deny is Authorization Denied."""
        allowed = self.is_authorized(principal, action, list_uid).allowed
        lst = self.state.lists.get(list_uid)
        if lst is None:
            raise NoSuchEntity(list_uid)
        if not allowed:
            raise AuthDenied
        return lst

    # -- state changes ---------------------------------------------------------------

    def _commit(self, ops: list[Op]) -> None:
        try:
            self.storage.commit(ops)
        except StorageError as err:
            log.error("%s", err)
            raise AppError(f"Storage Error: {err}", 503) from err
        self.state.apply(ops)
        self._version += 1

    def _exists(self, uid: EntityUid) -> bool:
        return (
            uid in self.state.lists
            or uid in self.state.teams
            or self.directory.has_user_or_team(uid)
            or uid == APPLICATION
        )

    def _fresh(self, entity_type: str, counter: int) -> tuple[EntityUid, int]:
        """Upstream's shared counter: the next number that is not yet an entity's id."""
        while True:
            uid = EntityUid(entity_type, str(counter))
            counter += 1
            if not self._exists(uid):
                return uid, counter

    def _is_user_or_team(self, uid: EntityUid) -> bool:
        return self.directory.has_user_or_team(uid) or uid in self.state.teams

    def _ancestors(self, uid: EntityUid) -> set[EntityUid]:
        parents: dict[EntityUid, set[EntityUid]] = defaultdict(set)
        for user in self.directory.users.values():
            parents[user.uid] |= user.parents
        for team, team_parents in self.directory.teams.items():
            parents[team] |= team_parents
        for child, parent in self.state.parents:
            parents[child].add(parent)
        seen: set[EntityUid] = set()
        todo = [uid]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        return seen

    # -- commands ----------------------------------------------------------------------

    def create_list(self, principal: EntityUid, name: str) -> EntityUid:
        with self._lock:
            self._authorize(principal, CREATE_LIST, APPLICATION)
            list_uid, counter = self._fresh(LIST_TYPE, self.state.counter)
            ops: list[Op] = []
            readers = editors = None
            if not self.templates:
                readers, counter = self._fresh(TEAM_TYPE, counter)
                editors, counter = self._fresh(TEAM_TYPE, counter)
                ops += [PutTeam(readers), PutTeam(editors)]
            lst = TodoList(list_uid, principal, name, (), readers, editors)
            ops += [PutList(lst), SetCounter(counter)]
            self._commit(ops)
            log.info("%s created %s", principal, list_uid)
            return list_uid

    def get_list(self, principal: EntityUid, list_uid: EntityUid) -> TodoList:
        with self._lock:
            return self._authorize_list(principal, GET_LIST, list_uid)

    def get_lists(self, principal: EntityUid) -> list[TodoList]:
        """Every list the principal may ``GetList``: a permission query, so the cost follows
        the answer (the lists owned or shared), not the number of lists, and the answer is
        exactly what authorizing each list would give, whatever the policies say."""
        with self._lock:
            self._authorize(principal, GET_LISTS, APPLICATION)
            try:
                found = self._authorizer.query_resources(
                    principal, GET_LIST, LIST_TYPE, self.policies, self.entities(), schema=self.schema
                )
            except CedarError as err:
                raise AppError(f"Error constructing authorization request: {err}") from err
            authz_log.info(
                "query_resources: principal: %s, action: %s -> %d lists", principal, GET_LIST, len(found)
            )
            lists = self.state.lists
            return [lists[uid] for uid in sorted(found, key=list_sort_key) if uid in lists]

    def update_list(self, principal: EntityUid, list_uid: EntityUid, name: str) -> None:
        with self._lock:
            lst = self._authorize_list(principal, UPDATE_LIST, list_uid)
            self._commit([PutList(replace(lst, name=name))])

    def delete_list(self, principal: EntityUid, list_uid: EntityUid) -> None:
        with self._lock:
            lst = self._authorize_list(principal, DELETE_LIST, list_uid)
            ops: list[Op] = [DeleteList(list_uid)]
            teams = {t for t in (lst.readers, lst.editors) if t is not None}
            teams &= self.state.teams
            ops += [DeleteTeam(t) for t in sorted(teams)]
            ops += [RemoveParent(c, p) for c, p in sorted(self.state.parents) if c in teams or p in teams]
            links = [link for link in self.state.links.values() if link.resource == list_uid]
            ops += [RemoveLink(link.policy_id) for link in links]
            self._unlink(links)
            try:
                self._commit(ops)
            except AppError:
                self._relink(links)
                raise
            log.info("%s deleted %s", principal, list_uid)

    def create_task(self, principal: EntityUid, list_uid: EntityUid, name: str) -> int:
        with self._lock:
            lst = self._authorize_list(principal, CREATE_TASK, list_uid)
            task = Task(lst.next_task_id(), name)
            self._commit([PutList(replace(lst, tasks=(*lst.tasks, task)))])
            return task.id

    def update_task(
        self,
        principal: EntityUid,
        list_uid: EntityUid,
        task_id: int,
        name: str | None = None,
        state: TaskState | None = None,
    ) -> None:
        with self._lock:
            lst = self._authorize_list(principal, UPDATE_TASK, list_uid)
            task = self._task(lst, task_id)
            new = replace(
                task,
                name=task.name if name is None else name,
                state=task.state if state is None else state,
            )
            tasks = tuple(new if t is task else t for t in lst.tasks)
            self._commit([PutList(replace(lst, tasks=tasks))])

    def delete_task(self, principal: EntityUid, list_uid: EntityUid, task_id: int) -> None:
        with self._lock:
            lst = self._authorize_list(principal, DELETE_TASK, list_uid)
            task = self._task(lst, task_id)
            tasks = tuple(t for t in lst.tasks if t is not task)
            self._commit([PutList(replace(lst, tasks=tasks))])

    @staticmethod
    def _task(lst: TodoList, task_id: int) -> Task:
        task = lst.task(task_id)
        if task is None:
            raise AppError(f"The list {lst.uid} does not contain a task with id {task_id}", 404)
        return task

    def share(self, principal: EntityUid, list_uid: EntityUid, target: EntityUid, role: ShareRole) -> None:
        with self._lock:
            lst = self._authorize_list(principal, EDIT_SHARE, list_uid)
            if not self._is_user_or_team(target):
                raise NoSuchEntity(target)
            if self.templates:
                self._share_template(lst, target, role)
                return
            team = lst.team(role)
            if team is None:
                raise AppError(f"{lst.uid} has no {role.lower()} team", 409)
            if (target, team) in self.state.parents:
                return  # already shared: nothing to do
            if target == team or target in self._ancestors(team):
                raise AppError(
                    f"Cannot share {lst.uid} with {target}: it would become a member of itself",
                    409,
                )
            self._commit([AddParent(target, team)])

    def unshare(self, principal: EntityUid, list_uid: EntityUid, target: EntityUid, role: ShareRole) -> None:
        with self._lock:
            lst = self._authorize_list(principal, EDIT_SHARE, list_uid)
            if not self._is_user_or_team(target):
                raise NoSuchEntity(target)
            if self.templates:
                self._unshare_template(lst, target, role)
                return
            team = lst.team(role)
            if team is not None and (target, team) in self.state.parents:
                self._commit([RemoveParent(target, team)])

    # -- template mode -------------------------------------------------------------------

    @staticmethod
    def linked_policy_id(role: ShareRole, target: EntityUid, list_uid: EntityUid) -> str:
        """E.g. ``reader[Team::"interns"][0]``. Upstream uses only the target's id
        (``reader[interns][0]``), so a user and a team with the same name collide;
        the full uid keeps the id injective."""
        prefix = "reader" if role == "Reader" else "editor"
        return f"{prefix}[{target}][{list_uid.id}]"

    def _share_template(self, lst: TodoList, target: EntityUid, role: ShareRole) -> None:
        pid = self.linked_policy_id(role, target, lst.uid)
        if pid in self.state.links:
            return  # already shared: nothing to do
        tid = READER_TEMPLATE if role == "Reader" else EDITOR_TEMPLATE
        link = Link(pid, tid, target, lst.uid)
        try:
            self.policies.link(tid, pid, {"?principal": target, "?resource": lst.uid})
        except CedarError as err:
            raise AppError(f"Error updating PolicySet: {err}", 409) from err
        try:
            self._commit([AddLink(link)])
        except AppError:
            self.policies.unlink(pid)
            raise
        log.info("Created policy %s", pid)

    def _unshare_template(self, lst: TodoList, target: EntityUid, role: ShareRole) -> None:
        pid = self.linked_policy_id(role, target, lst.uid)
        link = self.state.links.get(pid)
        if link is None:
            return  # never shared: nothing to do
        self._unlink([link])
        try:
            self._commit([RemoveLink(pid)])
        except AppError:
            self._relink([link])
            raise
        log.info("Removed policy %s", pid)

    def _unlink(self, links: Iterable[Link]) -> None:
        for link in links:
            if self.policies.policy(link.policy_id) is not None:
                self.policies.unlink(link.policy_id)

    def _relink(self, links: Iterable[Link]) -> None:
        link_all(self.policies, links)

    # -- policy reload ---------------------------------------------------------------------

    def reload_policies(self) -> bool:
        """Re-read the policies file: parse, re-link the shares' templates, validate;
        swap the policy set only if all of that worked (else keep the old one).
        Returns whether the new set is in force."""
        if self.policies_path is None:
            return False
        path = self.policies_path
        with self._lock:
            self.policies_signature = FileSignature.of(path)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                log.error("Error reloading policies: cannot read %s: %s", path, err)
                return False
            try:
                new = parse_policies(text, str(path))
                if self.templates:
                    require_share_templates(new)
                    link_all(new, self.state.links.values())
            except PolicyLoadError as err:
                log.error("Error reloading policies: %s; keeping the old policies", err.render())
                return False
            errors = validate_policies(self.schema, new)
            if errors:
                for error in errors:
                    log.error("Error validating policies: %s", error)
                log.error("Error reloading policies: validation failed; keeping the old policies")
                return False
            self.policies = new
            log.info("Reloaded policy set from %s (%d policies)", path, len(new))
            return True


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise StartupError(f"Cannot read the {what} file {path}: {err}") from err
