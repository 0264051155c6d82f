"""TinyTodo's application data: lists, tasks, shares and template links.

The mutable part of the application state lives in :class:`State`. Every
command computes a list of :data:`Op` values (without touching the state),
the storage layer writes them in one transaction, and only then are they
applied to the in-memory state with :meth:`State.apply`. The same op values
therefore describe the change for memory, SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from cedarlang import EntityUid

TaskState = Literal["Checked", "Unchecked"]
ShareRole = Literal["Reader", "Editor"]

LIST_TYPE = "List"
TEAM_TYPE = "Team"
USER_TYPE = "User"
APPLICATION = EntityUid("Application", "TinyTodo")


@dataclass(frozen=True)
class Task:
    id: int
    name: str
    state: TaskState = "Unchecked"

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "state": self.state}


@dataclass(frozen=True)
class TodoList:
    """A todo list. ``readers``/``editors`` are the list's own teams (``None`` in
    template mode, where sharing links policies instead)."""

    uid: EntityUid
    owner: EntityUid
    name: str
    tasks: tuple[Task, ...] = ()
    readers: EntityUid | None = None
    editors: EntityUid | None = None

    def task(self, task_id: int) -> Task | None:
        for task in self.tasks:
            if task.id == task_id:
                return task
        return None

    def next_task_id(self) -> int:
        return max((t.id for t in self.tasks), default=-1) + 1

    def team(self, role: ShareRole) -> EntityUid | None:
        return self.readers if role == "Reader" else self.editors

    def to_json(self, with_teams: bool = True) -> dict[str, object]:
        """Upstream's List JSON; template mode has no ``readers``/``editors``."""
        data: dict[str, object] = {
            "uid": str(self.uid),
            "owner": str(self.owner),
            "name": self.name,
            "tasks": [t.to_json() for t in sorted(self.tasks, key=lambda t: t.id)],
        }
        if with_teams and self.readers is not None and self.editors is not None:
            data["readers"] = str(self.readers)
            data["editors"] = str(self.editors)
        return data


@dataclass(frozen=True)
class Link:
    """A template-linked policy that implements one share (template mode)."""

    policy_id: str
    template_id: str
    principal: EntityUid
    resource: EntityUid


# -- operations ---------------------------------------------------------------


@dataclass(frozen=True)
class SetCounter:
    value: int


@dataclass(frozen=True)
class PutList:
    """Insert or replace a list (with all of its tasks)."""

    list: TodoList


@dataclass(frozen=True)
class DeleteList:
    uid: EntityUid


@dataclass(frozen=True)
class PutTeam:
    uid: EntityUid


@dataclass(frozen=True)
class DeleteTeam:
    uid: EntityUid


@dataclass(frozen=True)
class AddParent:
    child: EntityUid
    parent: EntityUid


@dataclass(frozen=True)
class RemoveParent:
    child: EntityUid
    parent: EntityUid


@dataclass(frozen=True)
class AddLink:
    link: Link


@dataclass(frozen=True)
class RemoveLink:
    policy_id: str


Op = (
    SetCounter | PutList | DeleteList | PutTeam | DeleteTeam | AddParent | RemoveParent | AddLink | RemoveLink
)


@dataclass
class State:
    """Everything TinyTodo creates at run time (the users and named teams come
    from ``entities.json`` and never change)."""

    counter: int = 0
    lists: dict[EntityUid, TodoList] = field(default_factory=dict)
    teams: set[EntityUid] = field(default_factory=set)
    parents: set[tuple[EntityUid, EntityUid]] = field(default_factory=set)
    links: dict[str, Link] = field(default_factory=dict)

    def apply(self, ops: Iterable[Op]) -> None:
        for op in ops:
            self._apply(op)

    def _apply(self, op: Op) -> None:
        match op:
            case SetCounter(value):
                self.counter = value
            case PutList(lst):
                self.lists[lst.uid] = lst
            case DeleteList(uid):
                self.lists.pop(uid, None)
            case PutTeam(uid):
                self.teams.add(uid)
            case DeleteTeam(uid):
                self.teams.discard(uid)
            case AddParent(child, parent):
                self.parents.add((child, parent))
            case RemoveParent(child, parent):
                self.parents.discard((child, parent))
            case AddLink(link):
                self.links[link.policy_id] = link
            case RemoveLink(policy_id):
                self.links.pop(policy_id, None)


def list_sort_key(uid: EntityUid) -> tuple[int, int, str]:
    """Numeric ids in numeric order, then any others by text."""
    if uid.id.isascii() and uid.id.isdigit():
        return (0, int(uid.id), "")
    return (1, 0, uid.id)
