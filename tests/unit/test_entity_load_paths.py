"""Loading entities without a schema reads common shapes inline (``_plain_store``) and
leaves the rest to ``entity_from_json``; ancestors are closed once per parent set. The
result, or the error, must be what the general path gives for every input."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from cedarlang import Entities
from cedarlang.entities import Entity, Interner, _close_ancestors_in_order, entity_from_json
from cedarlang.errors import CedarError

TYPES = ("User", "Group", "App::Doc", "Action", "NS::Action")


def uid(rnd: random.Random, types: tuple[str, ...] = TYPES) -> dict[str, Any]:
    choice = rnd.randrange(150)
    if choice == 0:
        return {"type": "not a type", "id": "x"}
    if choice == 1:
        return {"type": "User", "id": 7}
    if choice == 2:
        return {"__entity": {"type": "User", "id": "u0"}}
    return {"type": rnd.choice(types), "id": f"e{rnd.randrange(12)}"}


BAD_VALUES = [None, 2**63, -(2**63) - 1, {"__extn": {"fn": "ip", "arg": "not an ip"}}, 1.5]


def value(rnd: random.Random, depth: int = 0) -> Any:
    if rnd.random() < 0.01:
        return rnd.choice(BAD_VALUES)
    choice = rnd.randrange(15 if depth < 2 else 7)
    if choice == 0:
        return rnd.choice(["short", "a much longer string value, more than thirty-two characters"])
    if choice == 1:
        return rnd.random() < 0.5
    if choice == 2:
        return rnd.choice([0, -5, 2**63 - 1, -(2**63)])
    if choice == 3:
        return {"__entity": uid(rnd)}
    if choice == 4:
        return []
    if choice == 5:
        return {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}
    if choice == 6:
        return {"__extn": {"fn": "unknown", "arg": "u"}} if rnd.random() < 0.2 else "s"
    if choice < 10:
        return [value(rnd, depth + 1) for _ in range(rnd.randint(1, 3))]
    if choice < 13:
        return {f"k{i}": value(rnd, depth + 1) for i in range(rnd.randint(0, 3))}
    return {"__entity": uid(rnd), "extra": 1}


def item(rnd: random.Random) -> Any:
    if rnd.random() < 0.01:
        return rnd.choice([[], "entity", 3])
    entity = uid(rnd)
    is_action = str(entity.get("type", "")).endswith("Action") and rnd.random() < 0.95
    parent_types = ("Action", "NS::Action") if is_action else TYPES
    data: dict[str, Any] = {
        "uid": entity,
        "attrs": {f"a{i}": value(rnd) for i in range(rnd.randint(0, 4))},
        "parents": [uid(rnd, parent_types) for _ in range(rnd.randint(0, 3))],
    }
    if rnd.random() < 0.1:
        data["tags"] = {"t": value(rnd)}
    if rnd.random() < 0.01:
        del data[rnd.choice(["uid", "attrs", "parents"])]
    if rnd.random() < 0.01:
        data["parents"] = rnd.choice([{}, "p", [3]])
    return data


def general(data: list[Any]) -> Entities:
    interner = Interner()
    return Entities(entity_from_json(item, None, interner) for item in data)


def outcome(load: Any, data: list[Any] | str | bytes) -> Any:
    try:
        entities = load(data)
    except (CedarError, ValueError) as err:
        return ("error", type(err).__name__, str(err))
    return sorted(
        (repr(e.uid), e.to_json(), sorted(map(repr, e.ancestors)), sorted(map(repr, e.parents)))
        for e in entities
    )


def test_inline_reading_equals_the_general_path() -> None:
    rnd = random.Random(19)
    errors = 0
    for _ in range(600):
        data = [item(rnd) for _ in range(rnd.randint(1, 12))]
        data = json.loads(json.dumps(data))  # only JSON types
        expected = outcome(general, data)
        errors += expected[0] == "error"
        text = json.dumps(data)
        assert outcome(Entities.from_json, data) == expected, data
        assert json.dumps(data) == text  # the caller's list is left as it was
        assert outcome(Entities.from_json, text) == expected, data
        if expected[0] != "error":  # and the text's entities come in the text's order
            in_order = [e.uid for e in Entities.from_json(data)]
            assert [e.uid for e in Entities.from_json(text)] == in_order
    assert 50 < errors < 500  # both outcomes were exercised


def test_closure_by_parent_set_equals_the_in_order_closure() -> None:
    rnd = random.Random(20)
    for _ in range(200):
        n = rnd.randint(1, 40)
        items = []
        for i in range(n):
            parents = [f"e{rnd.randrange(n)}" for _ in range(rnd.randint(0, 3))]
            if rnd.random() < 0.9:
                parents = [p for p in parents if int(p[1:]) < i]  # mostly acyclic
            items.append(
                {
                    "uid": {"type": "T", "id": f"e{i}"},
                    "attrs": {},
                    "parents": [{"type": "T", "id": p} for p in parents],
                }
            )
        try:
            loaded = {e.uid: e.ancestors for e in Entities.from_json(items)}
        except CedarError as err:
            with pytest.raises(CedarError) as again:
                failing = {e.uid: e for e in (entity_from_json(x) for x in items)}
                _close_ancestors_in_order(failing)
            assert str(err) == str(again.value)
            continue
        store: dict[Any, Entity] = {e.uid: e for e in (entity_from_json(x) for x in items)}
        _close_ancestors_in_order(store)
        assert loaded == {uid: e.ancestors for uid, e in store.items()}


def render(rnd: random.Random, data: Any) -> str:
    """JSON text of ``data`` where some objects repeat a key (with another value) and some
    colons are written as ``\\u003a``."""
    if type(data) is dict:
        pairs = list(data.items())
        if pairs and rnd.random() < 0.02:
            key, _ = rnd.choice(pairs)
            pairs.insert(rnd.randrange(len(pairs) + 1), (key, value(rnd)))
        return "{" + ", ".join(f"{render(rnd, k)}: {render(rnd, v)}" for k, v in pairs) + "}"
    if type(data) is list:
        return "[" + ", ".join(render(rnd, v) for v in data) + "]"
    text = json.dumps(data)
    if type(data) is str and ":" in data and rnd.random() < 0.3:
        text = text.replace(":", "\\u003a", 1)
    return text


def with_colons(rnd: random.Random, data: Any) -> Any:
    """``data`` with colons put in some strings (ids, attribute names and values)."""
    if type(data) is dict:
        return {
            (k + ":x" if rnd.random() < 0.05 and k.startswith("a") else k): with_colons(rnd, v)
            for k, v in data.items()
        }
    if type(data) is list:
        return [with_colons(rnd, v) for v in data]
    if type(data) is str and rnd.random() < 0.1:
        return data + rnd.choice([":", "::", ":::", "http://h:1"])
    return data


def test_duplicate_keys_are_found_as_by_the_checking_parser() -> None:
    """The text is parsed without the duplicate-key check when the keys and colons read
    match the colons of the text; the outcome is always that of the checking parser."""
    from cedarlang.cedar_json import load_json_text

    rnd = random.Random(21)
    duplicates = 0
    for _ in range(600):
        data = json.loads(json.dumps([item(rnd) for _ in range(rnd.randint(1, 12))]))
        if rnd.random() < 0.5:
            data = with_colons(rnd, data)
        text = render(rnd, data)
        expected = outcome(lambda t: general(load_json_text(t, "entities")), text)
        duplicates += "duplicate key" in str(expected)
        assert outcome(Entities.from_json, text) == expected, text
        assert outcome(Entities.from_json, text.encode()) == expected, text
    assert duplicates > 50
