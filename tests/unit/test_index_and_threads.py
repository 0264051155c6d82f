"""The scope index stays exact through every kind of policy-set change, and read-only
authorization gives the same answers from many threads at once."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import cedarlang
from cedarlang import Authorizer, Entities, PolicySet, Request

TYPES = ("User", "Team", "Doc", "Folder")
ACTIONS = ('Action::"view"', 'Action::"edit"', 'Action::"read"', 'Action::"all"')


def uid(rnd: random.Random, types: tuple[str, ...] = TYPES) -> str:
    return f'{rnd.choice(types)}::"{rnd.randrange(4)}"'


def scope_part(rnd: random.Random, var: str) -> str:
    choice = rnd.randrange(6)
    if choice == 0:
        return var
    if choice == 1:
        return f"{var} == {uid(rnd)}"
    if choice == 2:
        return f"{var} in {uid(rnd)}"
    if choice == 3:
        return f"{var} is {rnd.choice(TYPES)}"
    if choice == 4:
        return f"{var} is {rnd.choice(TYPES)} in {uid(rnd)}"
    return f"{var} in ?{var}"


def action_part(rnd: random.Random) -> str:
    choice = rnd.randrange(4)
    if choice == 0:
        return "action"
    if choice == 1:
        return f"action == {rnd.choice(ACTIONS)}"
    if choice == 2:
        return f"action in {rnd.choice(ACTIONS)}"
    return f"action in [{', '.join(rnd.sample(ACTIONS, rnd.randint(1, 3)))}]"


def policy_text(rnd: random.Random) -> str:
    effect = rnd.choice(["permit", "permit", "forbid"])
    condition = rnd.choice(["", " when { context.ok }", " unless { principal == resource }"])
    return (
        f"{effect}({scope_part(rnd, 'principal')}, {action_part(rnd)}, "
        f"{scope_part(rnd, 'resource')}){condition};"
    )


def entities(rnd: random.Random) -> Entities:
    items = []
    for type_name in TYPES:
        for i in range(4):
            parents = [
                {"type": rnd.choice(TYPES), "id": str(rnd.randrange(4))} for _ in range(rnd.randint(0, 2))
            ]
            parents = [p for p in parents if (p["type"], p["id"]) < (type_name, str(i))]  # acyclic
            items.append({"uid": {"type": type_name, "id": str(i)}, "attrs": {}, "parents": parents})
    items += [
        {"uid": {"type": "Action", "id": "view"}, "attrs": {}, "parents": [{"type": "Action", "id": "read"}]},
        {"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": [{"type": "Action", "id": "all"}]},
        {"uid": {"type": "Action", "id": "edit"}, "attrs": {}, "parents": [{"type": "Action", "id": "all"}]},
    ]
    return Entities.from_json(items)


def requests(rnd: random.Random, count: int) -> list[Request]:
    return [
        Request(uid(rnd), rnd.choice(ACTIONS), uid(rnd), {"ok": rnd.random() < 0.5}) for _ in range(count)
    ]


def answer(response: cedarlang.Response) -> tuple[object, frozenset[str], frozenset[str]]:
    return response.decision, response.reasons, frozenset(e.policy_id for e in response.errors)


def assert_index_exact(pset: PolicySet, es: Entities, reqs: list[Request]) -> None:
    """The indexed answer equals evaluating every policy (no index) and the interpreter."""
    authorizer, interpreter = Authorizer(), Authorizer(interpret=True)
    for req in reqs:
        indexed = answer(authorizer.is_authorized(req, pset, es))
        assert indexed == answer(authorizer.is_authorized(req, pset.policies(), es)), req
        assert indexed == answer(interpreter.is_authorized(req, pset.policies(), es)), req


def test_index_stays_exact_through_adds_removes_links_and_unlinks() -> None:
    rnd = random.Random(11)
    for _ in range(40):
        es = entities(rnd)
        reqs = requests(rnd, 25)
        pset = PolicySet.from_str("\n".join(policy_text(rnd) for _ in range(rnd.randint(1, 8))))
        assert_index_exact(pset, es, reqs)  # builds the index; every change below updates it
        for counter in range(1, 13):
            step = rnd.randrange(5)
            templates = pset.templates()
            linked = [p for p in pset.policies() if p.template_id is not None]
            static = [p for p in pset.policies() if p.template_id is None]
            if step == 0:
                text = policy_text(rnd)
                if "?" in text:
                    pset.add_template(text, f"t{counter}")
                else:
                    pset.add(text, f"p{counter}")
            elif step == 1 and templates:
                template = rnd.choice(templates)
                pset.link(template.id, f"l{counter}", {slot: uid(rnd) for slot in template.slots})
            elif step == 2 and linked:
                pset.unlink(rnd.choice(linked).id)
            elif step == 3 and static:
                pset.remove(rnd.choice(static).id)
            elif step == 4 and templates:
                template = rnd.choice(templates)
                for policy in pset.linked_policies(template.id):
                    pset.unlink(policy.id)
                pset.remove_template(template.id)
            assert_index_exact(pset, es, reqs)


def test_read_only_authorization_is_thread_safe() -> None:
    rnd = random.Random(5)
    es = entities(rnd)
    text = "\n".join(policy_text(rnd) for _ in range(30))
    pset = PolicySet.from_str(text)
    for template in pset.templates():
        for i in range(20):
            pset.link(template.id, f"{template.id}-{i}", {slot: uid(rnd) for slot in template.slots})
    reqs = requests(rnd, 400)
    expected = [answer(r) for r in Authorizer().is_authorized_batch(reqs, pset, es)]

    fresh = PolicySet.from_str(text)  # index and compiled functions are built lazily, under load
    for template in fresh.templates():
        for i in range(20):
            fresh.link(template.id, f"{template.id}-{i}", pset.policy(f"{template.id}-{i}").slot_values)  # type: ignore[union-attr]
    authorizer = Authorizer()

    def run(offset: int) -> list[tuple[object, frozenset[str], frozenset[str]]]:
        order = reqs[offset:] + reqs[:offset]
        got = [answer(authorizer.is_authorized(r, fresh, es)) for r in order]
        return got[len(reqs) - offset :] + got[: len(reqs) - offset]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, [0, 50, 100, 150, 200, 250, 300, 350] * 3))
    assert all(result == expected for result in results)
