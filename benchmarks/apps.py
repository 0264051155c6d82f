"""Workload generators modelled on the Cedar OOPSLA'24 benchmark apps.

Each app builds entity JSON, policy text (a few static policies plus templates),
template links, and requests over existing principals and resources, all
deterministic for a seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


def uid(type_: str, id_: str) -> dict[str, str]:
    return {"type": type_, "id": id_}


def ent(
    type_: str, id_: str, attrs: dict[str, Any] | None = None, parents: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {"uid": uid(type_, id_), "attrs": attrs or {}, "parents": parents or []}


def ref(type_: str, id_: str) -> dict[str, Any]:
    return {"__entity": uid(type_, id_)}


@dataclass
class Workload:
    name: str
    entities: list[dict[str, Any]]
    policies: str
    links: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)


TINYTODO_POLICIES = """
permit (principal, action in [Action::"CreateList", Action::"GetLists"], resource == Application::"TinyTodo");
permit (principal, action, resource is List) when { resource.owner == principal };
permit (principal, action == Action::"GetList", resource)
when { principal in resource.readers || principal in resource.editors };
permit (principal, action in [Action::"UpdateList", Action::"CreateTask", Action::"UpdateTask", Action::"DeleteTask"], resource)
when { principal in resource.editors };
forbid (principal in Team::"interns", action == Action::"CreateList", resource == Application::"TinyTodo");
@id("reader")
permit (principal in ?principal, action == Action::"GetList", resource == ?resource);
@id("editor")
permit (principal in ?principal, action in [Action::"GetList", Action::"UpdateList", Action::"CreateTask", Action::"UpdateTask", Action::"DeleteTask"], resource == ?resource);
"""
TINYTODO_ACTIONS = [
    "CreateList",
    "GetLists",
    "GetList",
    "UpdateList",
    "CreateTask",
    "UpdateTask",
    "DeleteTask",
    "DeleteList",
    "EditShare",
]


def tinytodo(n_entities: int, n_policies: int, n_requests: int, seed: int = 1) -> Workload:
    rnd = random.Random(seed)
    n_users = max(2, n_entities * 5 // 10)
    n_teams = max(2, n_entities * 2 // 10)
    n_lists = max(2, n_entities - n_users - n_teams - 1)
    app = uid("Application", "TinyTodo")
    entities = [ent("Application", "TinyTodo")]
    teams = ["interns", "temp", "admin"] + [f"t{i}" for i in range(n_teams)]
    for i, t in enumerate(teams):
        parents = [app]
        if i > 0 and rnd.random() < 0.3:
            parents.append(uid("Team", teams[rnd.randrange(i)]))
        entities.append(ent("Team", t, parents=parents))
    for i in range(n_users):
        parents = [app] + [uid("Team", rnd.choice(teams)) for _ in range(rnd.randint(0, 3))]
        entities.append(
            ent("User", f"u{i}", {"joblevel": rnd.randint(1, 9), "location": f"L{i % 7}"}, parents)
        )
    for i in range(n_lists):
        entities.append(
            ent(
                "List",
                str(i),
                {
                    "owner": ref("User", f"u{rnd.randrange(n_users)}"),
                    "readers": ref("Team", rnd.choice(teams)),
                    "editors": ref("Team", rnd.choice(teams)),
                    "name": f"list {i}",
                    "tasks": [],
                },
                [app],
            )
        )
    links = [
        {
            "template_id": rnd.choice(["reader", "editor"]),
            "new_id": f"link{i}",
            "values": {
                "?principal": uid("Team", rnd.choice(teams)),
                "?resource": uid("List", str(rnd.randrange(n_lists))),
            },
        }
        for i in range(max(0, n_policies - 5))
    ]
    requests = []
    for _ in range(n_requests):
        action = rnd.choice(TINYTODO_ACTIONS)
        resource = (
            uid("Application", "TinyTodo")
            if action in ("CreateList", "GetLists")
            else uid("List", str(rnd.randrange(n_lists)))
        )
        requests.append(
            {
                "principal": uid("User", f"u{rnd.randrange(n_users)}"),
                "action": uid("Action", action),
                "resource": resource,
                "context": {},
            }
        )
    return Workload("tinytodo", entities, TINYTODO_POLICIES, links, requests)


GDRIVE_POLICIES = """
permit (principal, action, resource is Document) when { resource.owner == principal };
permit (principal, action, resource is Folder) when { resource.owner == principal };
permit (principal, action == Action::"view", resource is Document) when { resource.public };
permit (principal, action == Action::"view", resource) when { principal in resource.viewers };
forbid (principal, action == Action::"delete", resource is Document) when { resource.locked };
@id("share-view")
permit (principal in ?principal, action == Action::"view", resource in ?resource);
@id("share-edit")
permit (principal in ?principal, action in [Action::"view", Action::"edit"], resource in ?resource);
"""


def gdrive(n_entities: int, n_policies: int, n_requests: int, seed: int = 2) -> Workload:
    rnd = random.Random(seed)
    n_users = max(2, n_entities * 4 // 10)
    n_groups = max(2, n_entities // 10)
    n_folders = max(2, n_entities // 10)
    n_docs = max(2, n_entities - n_users - n_groups - n_folders)
    entities = []
    for i in range(n_groups):
        entities.append(ent("Group", f"g{i}", {"viewers": ref("Group", f"g{i}")}))
    for i in range(n_users):
        entities.append(
            ent(
                "User",
                f"u{i}",
                {},
                [uid("Group", f"g{rnd.randrange(n_groups)}") for _ in range(rnd.randint(0, 3))],
            )
        )
    for i in range(n_folders):
        parents = [uid("Folder", f"f{rnd.randrange(i)}")] if i and rnd.random() < 0.6 else []
        entities.append(
            ent(
                "Folder",
                f"f{i}",
                {
                    "owner": ref("User", f"u{rnd.randrange(n_users)}"),
                    "viewers": ref("Group", f"g{rnd.randrange(n_groups)}"),
                },
                parents,
            )
        )
    for i in range(n_docs):
        entities.append(
            ent(
                "Document",
                f"d{i}",
                {
                    "owner": ref("User", f"u{rnd.randrange(n_users)}"),
                    "public": rnd.random() < 0.1,
                    "locked": rnd.random() < 0.05,
                    "viewers": ref("Group", f"g{rnd.randrange(n_groups)}"),
                },
                [uid("Folder", f"f{rnd.randrange(n_folders)}")],
            )
        )
    links = [
        {
            "template_id": rnd.choice(["share-view", "share-edit"]),
            "new_id": f"link{i}",
            "values": {
                "?principal": rnd.choice(
                    [uid("User", f"u{rnd.randrange(n_users)}"), uid("Group", f"g{rnd.randrange(n_groups)}")]
                ),
                "?resource": rnd.choice(
                    [
                        uid("Folder", f"f{rnd.randrange(n_folders)}"),
                        uid("Document", f"d{rnd.randrange(n_docs)}"),
                    ]
                ),
            },
        }
        for i in range(max(0, n_policies - 5))
    ]
    requests = [
        {
            "principal": uid("User", f"u{rnd.randrange(n_users)}"),
            "action": uid("Action", rnd.choice(["view", "edit", "delete", "share"])),
            "resource": uid("Document", f"d{rnd.randrange(n_docs)}"),
            "context": {},
        }
        for _ in range(n_requests)
    ]
    return Workload("gdrive", entities, GDRIVE_POLICIES, links, requests)


GITHUB_POLICIES = """
permit (principal, action == Action::"pull", resource is Repository) when { principal in resource.readers };
permit (principal, action in [Action::"pull", Action::"fork"], resource is Repository) when { principal in resource.triagers };
permit (principal, action in [Action::"pull", Action::"fork", Action::"push"], resource is Repository) when { principal in resource.writers };
permit (principal, action in [Action::"pull", Action::"fork", Action::"push", Action::"add_reader"], resource is Repository)
when { principal in resource.maintainers };
permit (principal, action, resource is Repository) when { principal in resource.admins };
permit (principal, action == Action::"pull", resource is Repository) when { resource.org.base_permission == "read" && principal in resource.org.members };
@id("collaborator")
permit (principal == ?principal, action in [Action::"pull", Action::"push"], resource == ?resource);
@id("team-access")
permit (principal in ?principal, action == Action::"pull", resource in ?resource);
"""


def github(n_entities: int, n_policies: int, n_requests: int, seed: int = 3) -> Workload:
    rnd = random.Random(seed)
    n_orgs = max(1, n_entities // 50)
    n_users = max(2, n_entities * 4 // 10)
    n_teams = max(2, n_entities // 10)
    n_repos = max(2, (n_entities - n_orgs * 2 - n_users - n_teams) // 6)
    entities = []
    for i in range(n_orgs):
        entities.append(ent("Team", f"org{i}-members"))
        entities.append(
            ent(
                "Organization",
                f"org{i}",
                {"base_permission": rnd.choice(["read", "none"]), "members": ref("Team", f"org{i}-members")},
            )
        )
    for i in range(n_teams):
        parents = [uid("Team", f"t{rnd.randrange(i)}")] if i and rnd.random() < 0.3 else []
        entities.append(ent("Team", f"t{i}", {}, parents))
    for i in range(n_users):
        parents = [uid("Team", f"t{rnd.randrange(n_teams)}") for _ in range(rnd.randint(0, 2))]
        parents.append(uid("Team", f"org{rnd.randrange(n_orgs)}-members"))
        entities.append(ent("User", f"u{i}", {}, parents))
    roles = ["readers", "triagers", "writers", "maintainers", "admins"]
    for i in range(n_repos):
        org = rnd.randrange(n_orgs)
        attrs: dict[str, Any] = {"org": ref("Organization", f"org{org}")}
        for role in roles:
            team = f"repo{i}-{role}"
            parents = [uid("Team", f"t{rnd.randrange(n_teams)}")] if rnd.random() < 0.5 else []
            entities.append(ent("Team", team, {}, parents))
            attrs[role] = ref("Team", team)
        entities.append(ent("Repository", f"r{i}", attrs, [uid("Organization", f"org{org}")]))
    links = [
        {
            "template_id": "collaborator",
            "new_id": f"link{i}",
            "values": {
                "?principal": uid("User", f"u{rnd.randrange(n_users)}"),
                "?resource": uid("Repository", f"r{rnd.randrange(n_repos)}"),
            },
        }
        if rnd.random() < 0.7
        else {
            "template_id": "team-access",
            "new_id": f"link{i}",
            "values": {
                "?principal": uid("Team", f"t{rnd.randrange(n_teams)}"),
                "?resource": uid("Organization", f"org{rnd.randrange(n_orgs)}"),
            },
        }
        for i in range(max(0, n_policies - 6))
    ]
    requests = [
        {
            "principal": uid("User", f"u{rnd.randrange(n_users)}"),
            "action": uid("Action", rnd.choice(["pull", "fork", "push", "add_reader", "delete"])),
            "resource": uid("Repository", f"r{rnd.randrange(n_repos)}"),
            "context": {},
        }
        for _ in range(n_requests)
    ]
    return Workload("github", entities, GITHUB_POLICIES, links, requests)


MIXED_GLOBAL_POLICIES = """
permit (principal, action, resource) when { principal.admin };
forbid (principal, action, resource) when { context.risk > 8 } unless { principal.admin };
permit (principal is User, action in Action::"read", resource is Doc) when { resource.public };
permit (principal, action in [Action::"edit", Action::"delete"], resource is Doc) when { resource.owner == principal };
forbid (principal, action == Action::"delete", resource is Doc) when { resource.locked };
permit (principal is User in Group::"g0", action == Action::"comment", resource is Doc in Folder::"f0");
"""
MIXED_ACTIONS = ["view", "list", "edit", "delete", "comment", "share"]
MIXED_ACTION_GROUPS = {"read": ["view", "list"], "write": ["edit", "delete", "comment"]}
MIXED_CONDITIONS = [
    "",
    " when { context.risk < 5 }",
    " when { resource.owner == principal }",
    " when { principal.level >= resource.level }",
    " unless { resource.locked }",
    " when { principal.dept == resource.dept && context.mfa }",
    ' when { context.ip.isInRange(ip("10.0.0.0/8")) }',
]


def mixed(n_entities: int, n_policies: int, n_requests: int, seed: int = 4) -> Workload:
    """Many static policies mixing every scope form (``==``, ``in``, ``is``, ``is ... in``,
    ``action in [...]``, unconstrained), most with conditions, as a set grown by hand: a few
    global rules, then per-user, per-group, per-folder and per-document rules, each
    constraining the principal or the resource (or both) to an entity and the other
    sides in any form."""
    rnd = random.Random(seed)
    n_groups = max(2, n_entities // 20)
    n_folders = max(2, n_entities // 20)
    n_users = max(2, n_entities * 4 // 10)
    n_docs = max(2, n_entities - n_groups - n_folders - n_users - len(MIXED_ACTIONS) - 2)
    entities = []
    for name in MIXED_ACTION_GROUPS:
        entities.append(ent("Action", name))
    group_of = {m: g for g, ms in MIXED_ACTION_GROUPS.items() for m in ms}
    for name in MIXED_ACTIONS:
        parents = [uid("Action", group_of[name])] if name in group_of else []
        entities.append(ent("Action", name, parents=parents))
    for i in range(n_groups):
        parents = [uid("Group", f"g{rnd.randrange(i)}")] if i and rnd.random() < 0.4 else []
        entities.append(ent("Group", f"g{i}", parents=parents))
    depts = ["eng", "ops", "sales", "legal"]
    for i in range(n_users):
        parents = [uid("Group", f"g{rnd.randrange(n_groups)}") for _ in range(rnd.randint(0, 3))]
        attrs = {"admin": rnd.random() < 0.001, "level": rnd.randint(1, 9), "dept": rnd.choice(depts)}
        entities.append(ent("User", f"u{i}", attrs, parents))
    for i in range(n_folders):
        parents = [uid("Folder", f"f{rnd.randrange(i)}")] if i and rnd.random() < 0.7 else []
        entities.append(ent("Folder", f"f{i}", parents=parents))
    for i in range(n_docs):
        attrs = {
            "owner": ref("User", f"u{rnd.randrange(n_users)}"),
            "public": rnd.random() < 0.1,
            "locked": rnd.random() < 0.05,
            "level": rnd.randint(1, 9),
            "dept": rnd.choice(depts),
        }
        entities.append(ent("Doc", f"d{i}", attrs, [uid("Folder", f"f{rnd.randrange(n_folders)}")]))

    def user() -> str:
        return f'User::"u{rnd.randrange(n_users)}"'

    def group() -> str:
        return f'Group::"g{rnd.randrange(n_groups)}"'

    def doc() -> str:
        return f'Doc::"d{rnd.randrange(n_docs)}"'

    def folder() -> str:
        return f'Folder::"f{rnd.randrange(n_folders)}"'

    def principal(anchored: bool) -> str:
        forms = [f"principal == {user()}", f"principal in {group()}", f"principal is User in {group()}"]
        if not anchored:
            forms += ["principal", "principal is User"]
        return rnd.choice(forms)

    def resource(anchored: bool) -> str:
        forms = [f"resource == {doc()}", f"resource in {folder()}", f"resource is Doc in {folder()}"]
        if not anchored:
            forms += ["resource", "resource is Doc"]
        return rnd.choice(forms)

    def action() -> str:
        choice = rnd.randrange(4)
        if choice == 0:
            return "action"
        if choice == 1:
            return f'action == Action::"{rnd.choice(MIXED_ACTIONS)}"'
        if choice == 2:
            return f'action in Action::"{rnd.choice(list(MIXED_ACTION_GROUPS))}"'
        names = rnd.sample(MIXED_ACTIONS, rnd.randint(2, 4))
        return "action in [" + ", ".join(f'Action::"{n}"' for n in names) + "]"

    lines = [MIXED_GLOBAL_POLICIES.strip()]
    for _ in range(max(0, n_policies - MIXED_GLOBAL_POLICIES.count(";"))):
        anchor = rnd.randrange(3)  # 0: the principal, 1: the resource, 2: both
        effect = "forbid" if rnd.random() < 0.1 else "permit"
        scope = f"{principal(anchor != 1)}, {action()}, {resource(anchor != 0)}"
        lines.append(f"{effect} ({scope}){rnd.choice(MIXED_CONDITIONS)};")
    requests = [
        {
            "principal": uid("User", f"u{rnd.randrange(n_users)}"),
            "action": uid("Action", rnd.choice(MIXED_ACTIONS)),
            "resource": uid("Doc", f"d{rnd.randrange(n_docs)}"),
            "context": {
                "risk": rnd.randint(0, 9),
                "mfa": rnd.random() < 0.7,
                "ip": {"__extn": {"fn": "ip", "arg": f"10.{rnd.randrange(256)}.0.{rnd.randrange(256)}"}},
            },
        }
        for _ in range(n_requests)
    ]
    return Workload("mixed", entities, "\n".join(lines), [], requests)


APPS = {"tinytodo": tinytodo, "gdrive": gdrive, "github": github, "mixed": mixed}
