"""A seeded generator of (entities, requests, policies) whose policies dereference entities at
every depth, for the level-slicing property (:mod:`tests.validator.test_level_slicing`).

The schema chains entity references through attributes (``manager``, ``owner.team.lead``),
records (``info.best``, ``context.meta.who``), sets (``friends``, ``context.many``) and tags
(``getTag("k")``), with ancestors (``in``). Policies are type-directed random expressions
over it: attribute and tag chains of random length, ``in``, ``has`` / ``hasTag`` guards,
``if``, record literals read back (``{a: e}.a``), short-circuits that skip a deep operand,
and now and then an entity literal (compared, or, rarely, dereferenced, which no level
accepts). Entities reference each other at random, sometimes through a uid that does not
exist.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

SCHEMA = """
entity Group in [Group] { name: String, lead: User };
entity User in [Group] {
    name: String, age: Long, manager: User, team: Group, friends: Set<User>,
    info: { best: User, n: Long }, nick?: String,
} tags User;
entity Doc in [Group] { owner: User, title: String, parent: Doc, readers: Set<User> };
action view appliesTo {
    principal: User, resource: Doc,
    context: { actor: User, meta: { who: User, k: Long }, many: Set<User> },
};
action manage appliesTo {
    principal: User, resource: Group,
    context: { actor: User, meta: { who: User, k: Long }, many: Set<User> },
};
"""

USERS = [f"u{i}" for i in range(7)]
GROUPS = [f"g{i}" for i in range(4)]
DOCS = [f"d{i}" for i in range(4)]
NAMES = ("a", "b", "c")


def _uid(t: str, i: str) -> dict[str, str]:
    return {"type": t, "id": i}


@dataclass
class LevelCase:
    entities: list[dict[str, Any]]
    requests: list[dict[str, Any]]
    policies: str

    def __repr__(self) -> str:
        return (
            f"LevelCase(policies={self.policies!r}, requests={json.dumps(self.requests)}, "
            f"entities={json.dumps(self.entities)})"
        )


class _Gen:
    def __init__(self, rng: random.Random, resource: str) -> None:
        self.rng = rng
        self.resource = resource  # "Doc" or "Group": the type of `resource` in the policies

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # -- entity-typed expressions ---------------------------------------------------------

    def entity(self, t: str, depth: int) -> str:
        """An expression of entity type ``t``: longer attribute chains as ``depth`` grows."""
        rng = self.rng
        if depth <= 0 or self.chance(0.2):
            return self.base(t)
        if t == "User":
            choice = rng.randrange(8)
            if choice == 0:
                return f"{self.entity('User', depth - 1)}.manager"
            if choice == 1:
                return f"{self.entity('Doc', depth - 1)}.owner" if self.resource == "Doc" else self.base(t)
            if choice == 2:
                return f"{self.entity('Group', depth - 1)}.lead"
            if choice == 3:
                return f"{self.entity('User', depth - 1)}.info.best"
            if choice == 4:
                return f"(if {self.boolean(depth - 1)} then {self.entity('User', depth - 1)} else {self.entity('User', depth - 1)})"
            if choice == 5:
                return f"{{a: {self.entity('User', depth - 1)}, b: {self.entity('User', depth - 1)}}}.a"
            if choice == 6:
                return f"{self.entity('User', depth - 1)}.manager.manager"
            return f'{self.entity("User", depth - 1)}["manager"]'
        if t == "Group":
            if self.chance(0.6):
                return f"{self.entity('User', depth - 1)}.team"
            return self.base(t)
        if self.chance(0.6):
            return f"{self.entity('Doc', depth - 1)}.parent"
        return self.base(t)

    def base(self, t: str) -> str:
        rng = self.rng
        if t == "User":
            return rng.choice(["principal", "principal", "context.actor", "context.meta.who"])
        if t == self.resource:
            return "resource"
        assert t == "Group", t  # Doc expressions are only asked for when `resource` is a Doc
        return "principal.team"

    def literal(self, t: str) -> str:
        pool = {"User": USERS, "Group": GROUPS, "Doc": DOCS}[t]
        return f'{t}::"{self.rng.choice(pool)}"'

    # -- boolean expressions --------------------------------------------------------------

    def boolean(self, depth: int) -> str:
        rng = self.rng
        d = max(0, depth)
        choice = rng.randrange(16)
        if choice == 0:
            return f"{self.entity('User', d)}.age > {rng.randrange(5)}"
        if choice == 1:
            return f'{self.entity("User", d)}.name == "{rng.choice(NAMES)}"'
        if choice == 2:
            return f"{self.entity('User', d)} in {self.entity('Group', d)}"
        if choice == 3:
            return f"{self.entity('User', d)} in {self.literal('Group')}"
        if choice == 4:
            return f"{self.entity('User', d)}.friends.contains({self.entity('User', d)})"
        if choice == 5:
            return f"{self.entity('User', d)} == {self.entity('User', d) if self.chance(0.7) else self.literal('User')}"
        if choice == 6:
            u = self.entity("User", d)
            return f'{u}.hasTag("k") && {u}.getTag("k").age > {rng.randrange(5)}'
        if choice == 7:
            u = self.entity("User", d)
            return f'{u} has nick && {u}.nick == "{rng.choice(NAMES)}"'
        if choice == 8:
            return f"({self.boolean(d - 1)} || {self.boolean(d - 1)})"
        if choice == 9:
            return f"({self.boolean(d - 1)} && {self.boolean(d - 1)})"
        if choice == 10:
            return (
                f"(true || {self.boolean(d + 1)})"
                if self.chance(0.5)
                else f"(false && {self.boolean(d + 1)})"
            )
        if choice == 11:
            return f"(if {self.boolean(d - 1)} then {self.boolean(d - 1)} else {self.boolean(d - 1)})"
        if choice == 12:
            return f"{self.entity('User', d)}.info.n < {rng.randrange(4)}"
        if choice == 13:
            return f"context.many.containsAny({self.entity('User', d)}.friends)"
        if choice == 14:
            return f"{self.entity(self.resource, d)} in {self.entity('Group', d)}"
        if self.chance(0.1):
            return f"{self.literal('User')}.age > 1"  # a literal dereferenced: no level accepts it
        return f"!({self.boolean(d - 1)})"

    def policy(self, index: int) -> str:
        rng = self.rng
        effect = "permit" if rng.random() < 0.7 else "forbid"
        action = 'Action::"view"' if self.resource == "Doc" else 'Action::"manage"'
        scope_p = rng.choice(["principal", "principal", f"principal in {self.literal('Group')}"])
        conditions = []
        for _ in range(rng.choice((1, 1, 2))):
            keyword = "when" if rng.random() < 0.8 else "unless"
            conditions.append(f"{keyword} {{ {self.boolean(rng.randrange(4))} }}")
        return (
            f'@id("p{index}")\n{effect}({scope_p}, action == {action}, resource)\n'
            + "\n".join(conditions)
            + ";"
        )


def _entities(rng: random.Random) -> list[dict[str, Any]]:
    def user_ref() -> dict[str, str]:
        # now and then a reference to an entity that does not exist
        return _uid("User", rng.choice(USERS) if rng.random() < 0.95 else "ghost")

    out: list[dict[str, Any]] = []
    for i, g in enumerate(GROUPS):
        parents = [_uid("Group", p) for p in GROUPS[i + 1 :] if rng.random() < 0.4]
        out.append(
            {
                "uid": _uid("Group", g),
                "attrs": {"name": rng.choice(NAMES), "lead": user_ref()},
                "parents": parents,
            }
        )
    for u in USERS:
        attrs: dict[str, Any] = {
            "name": rng.choice(NAMES),
            "age": rng.randrange(5),
            "manager": user_ref(),
            "team": _uid("Group", rng.choice(GROUPS)),
            "friends": [user_ref() for _ in range(rng.randrange(3))],
            "info": {"best": user_ref(), "n": rng.randrange(4)},
        }
        if rng.random() < 0.5:
            attrs["nick"] = rng.choice(NAMES)
        tags = {"k": user_ref()} if rng.random() < 0.6 else {}
        parents = [_uid("Group", g) for g in GROUPS if rng.random() < 0.3]
        out.append({"uid": _uid("User", u), "attrs": attrs, "parents": parents, "tags": tags})
    for d in DOCS:
        attrs = {
            "owner": user_ref(),
            "title": rng.choice(NAMES),
            "parent": _uid("Doc", rng.choice(DOCS)),
            "readers": [user_ref() for _ in range(rng.randrange(3))],
        }
        parents = [_uid("Group", g) for g in GROUPS if rng.random() < 0.3]
        out.append({"uid": _uid("Doc", d), "attrs": attrs, "parents": parents})
    # a few entities are not in the store at all
    return [e for e in out if rng.random() < 0.93]


def _request(rng: random.Random, resource: str) -> dict[str, Any]:
    def user() -> dict[str, str]:
        return _uid("User", rng.choice(USERS))

    return {
        "principal": user(),
        "action": _uid("Action", "view" if resource == "Doc" else "manage"),
        "resource": _uid(resource, rng.choice(DOCS if resource == "Doc" else GROUPS)),
        "context": {
            "actor": user(),
            "meta": {"who": user(), "k": rng.randrange(3)},
            "many": [user() for _ in range(rng.randrange(3))],
        },
    }


def level_case(rng: random.Random) -> LevelCase:
    resource = rng.choice(("Doc", "Group"))
    gen = _Gen(rng, resource)
    policies = "\n".join(gen.policy(i) for i in range(rng.randrange(1, 5)))
    requests = [_request(rng, resource) for _ in range(3)]
    return LevelCase(_entities(rng), requests, policies)
