"""The level-slicing property: policies valid at level N decide alike on the whole entity store
and on :func:`cedarlang.validator.slice_entities` of it to N hops from the request.

Cases come from :mod:`tests.validator.level_cases` (seeded). For each case the policies that
validate are kept, N is the least level they all validate at (found by validating at
0, 1, 2, ...; the policy must fail at every lower level), and each request is authorized
against the whole store and against the slices at N and N + 1: decision, determining
policies and erroring policies must be equal. As a control, the slice at N - 1 must change
some answers (else the property would hold for any slicing); and the cases must exercise
levels 0 to 4 at least.
"""

from __future__ import annotations

import random
from collections import Counter

import cedarlang
from cedarlang import Authorizer, Decision, Entities, PolicySet, Request, Schema
from cedarlang.authorizer import Response
from cedarlang.validator import Validator, entities_for_request, slice_entities

from .level_cases import SCHEMA, LevelCase, level_case

CASES = 2100
SEED = 20261201
MAX_LEVEL = 8


def _answer(response: Response) -> tuple[Decision, list[str], list[str]]:
    return (response.decision, sorted(response.reasons), sorted(e.policy_id for e in response.errors))


def _least_level(validator: Validator, policy: cedarlang.Policy) -> int | None:
    for level in range(MAX_LEVEL + 1):
        if validator.validate_policy(policy, level=level).passed:
            return level
    return None


def test_sliced_entities_decide_like_all_entities() -> None:
    schema = Schema.from_str(SCHEMA)
    validator = Validator(schema)
    authorizer = Authorizer()
    rng = random.Random(SEED)
    stats: Counter[str] = Counter()
    failures: list[str] = []
    for _ in range(CASES):
        case: LevelCase = level_case(rng)
        entities = Entities.from_json(case.entities, schema=schema)
        kept, levels = [], []
        for policy in PolicySet.from_str(case.policies).policies():
            if not validator.validate_policy(policy).passed:
                stats["ill-typed policies"] += 1
                continue
            level = _least_level(validator, policy)
            if level is None:
                stats["policies no level accepts"] += 1
                continue
            kept.append(policy)
            levels.append(level)
        if not kept:
            continue
        n = max(levels)
        stats[f"level {n}"] += 1
        stats["cases"] += 1
        for r in case.requests:
            request = Request(r["principal"], r["action"], r["resource"], r["context"], schema)
            expected = _answer(authorizer.is_authorized(request, kept, entities))
            stats["requests"] += 1
            stats[expected[0].value] += 1
            for level in (n, n + 1):
                sliced = slice_entities(entities, request, level)
                stats["entities left out"] += len(entities) - len(sliced)
                got = _answer(authorizer.is_authorized(request, kept, sliced))
                if got != expected:
                    failures.append(f"level {level}: {got} != {expected}\n{case!r}\nrequest {r}")
            if n > 0:
                below = _answer(
                    authorizer.is_authorized(request, kept, slice_entities(entities, request, n - 1))
                )
                stats["changed below the level"] += below != expected
    assert not failures, f"{len(failures)} failures; {stats}\n" + "\n".join(failures[:3])
    assert stats["cases"] >= 2000, stats  # cases with at least one policy some level accepts
    assert stats["requests"] >= 2000, stats
    for level in range(5):
        assert stats[f"level {level}"] >= CASES // 100, stats
    assert stats["allow"] >= stats["requests"] // 10 and stats["deny"] >= stats["requests"] // 10, stats
    assert stats["changed below the level"] >= stats["requests"] // 20, stats
    assert stats["entities left out"] > 0, stats


def _u(i: str) -> dict[str, str]:
    return {"type": "User", "id": i}


def _g(i: str) -> dict[str, str]:
    return {"type": "Group", "id": i}


def _user(i: str, manager: str, tag: str | None = None, parents: tuple[str, ...] = ()) -> dict[str, object]:
    return {
        "uid": _u(i),
        "attrs": {
            "name": "a",
            "age": 1,
            "manager": _u(manager),
            "team": _g("g0"),
            "friends": [],
            "info": {"best": _u(i), "n": 0},
        },
        "parents": [_g(p) for p in parents],
        "tags": {"k": _u(tag)} if tag else {},
    }


def test_slice_contents() -> None:
    schema = Schema.from_str(SCHEMA)
    data = [
        _user("p", "m1", parents=("g1",)),
        _user("m1", "m2", tag="t1"),
        _user("m2", "m3"),
        _user("m3", "m3"),
        _user("t1", "t1"),
        _user("ctx", "m3"),
        {"uid": _g("g0"), "attrs": {"name": "a", "lead": _u("m3")}, "parents": []},
        {"uid": _g("g1"), "attrs": {"name": "a", "lead": _u("m3")}, "parents": [_g("g2")]},
        {"uid": _g("g2"), "attrs": {"name": "a", "lead": _u("m3")}, "parents": []},
    ]
    store = Entities.from_json(data, schema=schema)
    ctx = {"actor": _u("ctx"), "meta": {"who": _u("ctx"), "k": 0}, "many": []}
    request = Request(_u("p"), {"type": "Action", "id": "manage"}, _g("g0"), ctx, schema)

    def ids(level: int) -> list[str]:
        return sorted(e.uid.id for e in slice_entities(store, request, level))

    assert ids(0) == []
    assert ids(1) == ["ctx", "g0", "manage", "p"]
    assert ids(2) == ["ctx", "g0", "m1", "m3", "manage", "p"]
    assert ids(3) == ["ctx", "g0", "m1", "m2", "m3", "manage", "p", "t1"]
    # the whole ancestor set travels with the entity; the ancestors themselves are not loaded
    p = slice_entities(store, request, 1)[cedarlang.EntityUid("User", "p")]
    assert p.ancestors == {cedarlang.EntityUid("Group", "g1"), cedarlang.EntityUid("Group", "g2")}
    # a loader is asked once per needed uid
    asked: list[str] = []

    def load(uid: cedarlang.EntityUid) -> cedarlang.Entity | None:
        asked.append(uid.id)
        return store.get(uid)

    assert sorted(e.uid.id for e in entities_for_request(request, 2, load)) == ids(2)
    assert sorted(asked) == sorted(set(asked))
