"""TinyTodo's application data as the API shows it: lists and their tasks.

Nothing here is kept between requests: each command reads what it needs from the
database (:mod:`tinytodo_server.database`) in its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
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
