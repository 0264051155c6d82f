"""The TinyTodo rules written by hand as one plain Python function: the physical reference
for a TinyTodo request (no policy language, no generality), to show the distance to the limit.

It takes what the engines take: the request as JSON-style dicts, and a store built once
from the same entity JSON (uids as ``(type, id)`` tuples, ancestors closed transitively).
The rules are those of ``apps.TINYTODO_POLICIES`` and its template links; an attribute
missing where a rule reads it makes that rule not apply, as an evaluation error makes
Cedar skip a policy. ``bench.py`` checks that it decides every request as cedarlang does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Uid = tuple[str, str]
Store = dict[Uid, tuple[dict[str, Any], frozenset[Uid]]]

APP: Uid = ("Application", "TinyTodo")
INTERNS: Uid = ("Team", "interns")
EDITOR_ACTIONS = frozenset({"UpdateList", "CreateTask", "UpdateTask", "DeleteTask"})
TEMPLATE_ACTIONS = {
    "reader": frozenset({"GetList"}),
    "editor": frozenset({"GetList", "UpdateList", "CreateTask", "UpdateTask", "DeleteTask"}),
}


def _value(data: Any) -> Any:
    if type(data) is dict and "__entity" in data:
        return (data["__entity"]["type"], data["__entity"]["id"])
    return data


def tinytodo_store(entities: list[dict[str, Any]]) -> Store:
    """``{uid: (attrs, ancestors)}`` from entity JSON (entity references as uid tuples)."""
    parents = {
        (e["uid"]["type"], e["uid"]["id"]): [(p["type"], p["id"]) for p in e["parents"]] for e in entities
    }
    closed: dict[Uid, frozenset[Uid]] = {}

    def ancestors(uid: Uid) -> frozenset[Uid]:
        found = closed.get(uid)
        if found is None:
            acc: set[Uid] = set()
            for parent in parents.get(uid, ()):
                acc.add(parent)
                acc |= ancestors(parent)
            found = closed[uid] = frozenset(acc)
        return found

    return {
        (e["uid"]["type"], e["uid"]["id"]): (
            {k: _value(v) for k, v in e["attrs"].items()},
            ancestors((e["uid"]["type"], e["uid"]["id"])),
        )
        for e in entities
    }


def tinytodo_by_hand(store: Store, links: list[dict[str, Any]]) -> Callable[[dict[str, Any]], bool]:
    """The TinyTodo decision for one request dict: ``True`` to allow."""
    shares: dict[Uid, list[tuple[frozenset[str], Uid]]] = {}
    for link in links:
        values = link["values"]
        target = (values["?principal"]["type"], values["?principal"]["id"])
        resource = (values["?resource"]["type"], values["?resource"]["id"])
        shares.setdefault(resource, []).append((TEMPLATE_ACTIONS[link["template_id"]], target))
    no_entity: tuple[dict[str, Any], frozenset[Uid]] = ({}, frozenset())

    def decide(request: dict[str, Any]) -> bool:
        p, a, r = request["principal"], request["action"], request["resource"]
        principal: Uid = (p["type"], p["id"])
        resource: Uid = (r["type"], r["id"])
        action = a["id"] if a["type"] == "Action" else None
        in_groups = store.get(principal, no_entity)[1]
        if resource == APP:
            if action == "CreateList" and (principal == INTERNS or INTERNS in in_groups):
                return False
            return action == "CreateList" or action == "GetLists"
        attrs = store.get(resource, no_entity)[0]
        if resource[0] == "List" and attrs.get("owner") == principal:
            return True
        if action == "GetList":
            readers, editors = attrs.get("readers"), attrs.get("editors")
            if readers is not None and (principal == readers or readers in in_groups):
                return True
            if editors is not None and (principal == editors or editors in in_groups):
                return True
        elif action in EDITOR_ACTIONS:
            editors = attrs.get("editors")
            if editors is not None and (principal == editors or editors in in_groups):
                return True
        for actions, target in shares.get(resource, ()):
            if action in actions and (principal == target or target in in_groups):
                return True
        return False

    return decide
