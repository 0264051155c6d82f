"""Search equals brute force: on generated stores (without and with a schema), every search
answer (read page by page through its tokens) is exactly the candidates for which the
evaluation endpoint's code says ``"decision": true``."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from cedarlang_serve.pages import PageTokens
from cedarlang_serve.pdp import PDP, Options
from cedarlang_serve.store import Snapshot, Sources, build_snapshot

CASES = 1200
ACTIONS = ("view", "edit", "delete", "share")
ROLES = ("manager", "employee", "guest")
DEPTS = ("sales", "legal", "ops")

POLICY_POOL = (
    'permit (principal, action == Action::"view", resource) when { resource.owner == principal };',
    'permit (principal in group::"$G", action, resource in folder::"$F");',
    'permit (principal, action == Action::"edit", resource) when { principal.role == "manager" && resource.dept == principal.dept };',
    'forbid (principal, action == Action::"delete", resource) when { resource.public };',
    "permit (principal, action, resource) when { resource.tags.contains(principal.dept) };",
    'permit (principal == user::"$U", action in [Action::"view", Action::"share"], resource);',
    'permit (principal, action == Action::"$A", resource) when { context has level && context.level > 2 };',
    'permit (principal is user, action == Action::"delete", resource) unless { principal.role == "guest" };',
    'permit (principal, action == Action::"share", resource) when { resource.nope == 1 };',
    'forbid (principal in group::"$G", action == Action::"edit", resource) when { principal.role != "manager" };',
    'permit (principal, action in Action::"write", resource == record::"$R");',
    'permit (principal, action, resource) when { principal.dept like "s*" && resource has public };',
)


# the same stores with a schema: contexts and properties typed by it, policies validated
SCHEMA = """
entity group in [group];
entity folder;
entity user in [group] = { role: String, dept: String };
entity record in [folder] = { owner: user, dept: String, tags: Set<String>, public?: Bool };
action write;
action view, share appliesTo { principal: user, resource: record, context: { level?: Long } };
action edit, delete in [write] appliesTo { principal: user, resource: record, context: { level?: Long } };
"""
TYPED_POOL = tuple(
    p.replace("when { resource.public }", "when { resource has public && resource.public }")
    for p in POLICY_POOL
    if "resource.nope" not in p  # the validator refuses it (as it should)
)


def _store(rng: random.Random, typed: bool) -> tuple[Snapshot, list[str], list[str]]:
    users = [f"u{i}" for i in range(rng.randint(1, 8))]
    records = [f"r{i}" for i in range(rng.randint(1, 12))]
    groups, folders = ["g0", "g1", "g2"], ["f0", "f1"]
    entities: list[dict[str, Any]] = [
        {
            "uid": {"type": "group", "id": g},
            "attrs": {},
            "parents": [{"type": "group", "id": "g0"}] if g == "g2" else [],
        }
        for g in groups
    ]
    entities += [{"uid": {"type": "folder", "id": f}, "attrs": {}, "parents": []} for f in folders]
    for u in users:
        user_attrs = {"role": rng.choice(ROLES), "dept": rng.choice(DEPTS)}
        parents = [{"type": "group", "id": g} for g in groups if rng.random() < 0.3]
        entities.append({"uid": {"type": "user", "id": u}, "attrs": user_attrs, "parents": parents})
    for r in records:
        attrs: dict[str, Any] = {
            "owner": {"__entity": {"type": "user", "id": rng.choice(users)}},
            "dept": rng.choice(DEPTS),
            "tags": rng.sample(DEPTS, rng.randint(0, 2)),
        }
        if rng.random() < 0.5:
            attrs["public"] = rng.random() < 0.5
        parents = [{"type": "folder", "id": f} for f in folders if rng.random() < 0.4]
        entities.append({"uid": {"type": "record", "id": r}, "attrs": attrs, "parents": parents})
    write = {"type": "Action", "id": "write"}
    for a in ACTIONS:
        parents = [write] if a in ("edit", "delete") else []
        entities.append({"uid": {"type": "Action", "id": a}, "attrs": {}, "parents": parents})
    entities.append({"uid": write, "attrs": {}, "parents": []})
    policies = []
    pool = TYPED_POOL if typed else POLICY_POOL
    for i, template in enumerate(rng.sample(pool, rng.randint(1, 5))):
        picks = {"$G": groups, "$F": folders, "$U": users, "$R": records, "$A": list(ACTIONS)}
        text = template
        for placeholder, choices in picks.items():
            text = text.replace(placeholder, rng.choice(choices))
        policies.append(f'@id("p{i}")\n{text}')
    sources = Sources(
        {"policies.cedar": "\n".join(policies)}, SCHEMA if typed else None, json.dumps(entities), None
    )
    return build_snapshot(sources), users, records


def _read_all(pdp: PDP, kind: str, body: dict[str, Any], limit: int) -> tuple[list[Any], int]:
    """Every page of a search; (results, pages)."""
    body = {**body, "page": {"limit": limit}}
    results: list[Any] = []
    pages = 0
    while True:
        answer = pdp.search(kind, body)
        pages += 1
        page = answer["page"]
        assert page["count"] == len(answer["results"]) <= limit
        results += answer["results"]
        if not page["next_token"]:
            assert page["total"] == len(results)
            return results, pages
        body = {**body, "page": {"limit": limit, "token": page["next_token"]}}


@pytest.mark.parametrize("typed", [False, True], ids=["no-schema", "schema"])
def test_search_equals_brute_force_evaluation(typed: bool, capsys: Any) -> None:
    rng = random.Random(20261130 + typed)
    multi_page = nonempty = 0
    for case in range(CASES):
        snapshot, users, records = _store(rng, typed)
        pdp = PDP(lambda current=snapshot: current, PageTokens(b"k" * 32), Options(max_page_size=50))  # type: ignore[misc]
        kind = rng.choice(("subject", "resource", "action"))
        user, record = rng.choice([*users, "nobody"]), rng.choice([*records, "r99"])
        action = rng.choice([*ACTIONS, "unknown"])
        subject: dict[str, Any] = {"type": "user", "id": user}
        resource: dict[str, Any] = {"type": "record", "id": record}
        if rng.random() < 0.3:
            subject["properties"] = {"role": rng.choice(ROLES), "dept": rng.choice(DEPTS)}
        if rng.random() < 0.3:
            resource["properties"] = {"public": rng.random() < 0.5, "dept": rng.choice(DEPTS)}
        context = {"level": rng.randint(0, 5)} if rng.random() < 0.5 else {}
        limit = rng.randint(1, 4)

        def allowed(
            s: dict[str, Any], a: str, r: dict[str, Any], pdp: PDP = pdp, context: dict[str, Any] = context
        ) -> bool:
            body = {"subject": s, "action": {"name": a}, "resource": r, "context": context}
            return bool(pdp.evaluation(body)["decision"])

        if kind == "subject":
            query = {
                "subject": {"type": "user"},
                "action": {"name": action},
                "resource": resource,
                "context": context,
            }
            found, pages = _read_all(pdp, kind, query, limit)
            expected = [
                {"type": "user", "id": u}
                for u in sorted(users)
                if allowed({"type": "user", "id": u}, action, resource)
            ]
        elif kind == "resource":
            query = {
                "subject": subject,
                "action": {"name": action},
                "resource": {"type": "record"},
                "context": context,
            }
            found, pages = _read_all(pdp, kind, query, limit)
            expected = [
                {"type": "record", "id": r}
                for r in sorted(records)
                if allowed(subject, action, {"type": "record", "id": r})
            ]
        else:
            query = {"subject": subject, "resource": resource, "context": context}
            found, pages = _read_all(pdp, kind, query, limit)
            expected = [{"name": a} for a in sorted([*ACTIONS, "write"]) if allowed(subject, a, resource)]
        assert sorted(found, key=json.dumps) == sorted(expected, key=json.dumps), (case, kind, query)
        assert len(found) == len({json.dumps(x) for x in found})  # no result twice across pages
        multi_page += pages > 1
        nonempty += bool(found)
    with capsys.disabled():
        print(
            f"\nsearch = brute force ({'schema' if typed else 'no schema'}): {CASES}/{CASES} cases ({multi_page} read over several pages, {nonempty} non-empty)"
        )
    assert multi_page > CASES // 10 and nonempty > CASES // 4
