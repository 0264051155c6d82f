"""The request path's shortcuts give what the general path gives: uids of ``{"type", "id"}``
dicts seen before (``authorizer._UIDS``), plain contexts (``authorizer._plain_context``) and
extension values read once per ``(fn, arg)`` (``cedar_json._EXTENSION_VALUES``)."""

from __future__ import annotations

from typing import Any

import pytest

import cedarlang
from cedarlang.authorizer import _plain_context, build_context
from cedarlang.cedar_json import JsonValueError, value_from_json
from cedarlang.errors import RequestError
from cedarlang.values import EntityUid

ACTION = {"type": "Action", "id": "view"}
DOC = {"type": "Doc", "id": "d"}


def test_a_uid_seen_before_is_the_same_uid() -> None:
    first = cedarlang.Request({"type": "User", "id": "alice"}, ACTION, DOC)
    second = cedarlang.Request({"type": "User", "id": "alice"}, ACTION, DOC)
    assert type(second.principal) is EntityUid
    assert second.principal == EntityUid("User", "alice") == first.principal
    assert (second.action, second.resource) == (EntityUid("Action", "view"), EntityUid("Doc", "d"))


@pytest.mark.parametrize(
    "principal",
    [
        {"type": "User", "id": 1},
        {"type": "User", "id": ["alice"]},
        {"type": ["User"], "id": "alice"},
        {"type": "User"},
        {"id": "alice"},
        {"type": "Us er", "id": "alice"},
        {"type": "User::", "id": "alice"},
        {"type": "__cedar::User", "id": "alice"},
    ],
)
def test_malformed_uid_dicts_are_rejected_even_after_good_ones(principal: dict[str, Any]) -> None:
    cedarlang.Request({"type": "User", "id": "alice"}, ACTION, DOC)
    with pytest.raises(RequestError, match="principal"):
        cedarlang.Request(principal, ACTION, DOC)


CONTEXTS: list[dict[str, Any]] = [
    {"flag": True, "n": 3, "s": "x"},
    {"n": -(2**63), "m": 2**63 - 1},
    {"set": [1, 2], "rec": {"a": {"b": 1}}, "empty": [], "none": {}},
    {"who": {"__entity": {"type": "User", "id": "alice"}}},
    {"ip": {"__extn": {"fn": "ip", "arg": "10.0.0.1"}}, "d": {"__extn": {"fn": "decimal", "arg": "1.5"}}},
    {"odd": {"__entity": 'User::"alice"'}},
]


@pytest.mark.parametrize("context", CONTEXTS)
def test_plain_contexts_decode_as_values_do(context: dict[str, Any]) -> None:
    expected = value_from_json(context, None, "context")
    assert _plain_context(context) == expected
    assert build_context(context, None, EntityUid("Action", "view")) == expected


BAD_CONTEXTS: list[dict[str, Any]] = [
    {"n": 2**63},
    {"ok": 1, "n": -(2**63) - 1},
    {"x": None},
    {"x": 1.5},
    {"ip": {"__extn": {"fn": "ip", "arg": "300.0.0.1"}}},
    {"f": {"__extn": {"fn": "nope", "arg": "1"}}},
    {"a": [1, None]},
]


@pytest.mark.parametrize("context", BAD_CONTEXTS)
def test_bad_plain_contexts_fail_as_values_do(context: dict[str, Any]) -> None:
    with pytest.raises(JsonValueError) as general:
        value_from_json(context, None, "context")
    for _ in range(2):  # a failed extension call is not kept: the second fails alike
        with pytest.raises(RequestError) as fast:
            build_context(context, None, EntityUid("Action", "view"))
        assert str(fast.value) == str(general.value)


def test_an_extension_value_read_twice_is_equal() -> None:
    escape = {"__extn": {"fn": "ip", "arg": "192.168.0.1/24"}}
    first, second = value_from_json(escape), value_from_json(escape)
    assert first == second and first is second
    assert value_from_json({"__extn": {"fn": "decimal", "arg": "192.1"}}) != first


# -- requests in their JSON form (``Authorizer.is_authorized`` on a dict) ------------------

_POLICIES = cedarlang.PolicySet.from_str(
    'permit(principal == User::"alice", action == Action::"view", resource == Doc::"d") when { context.ok };\n'
    'permit(principal == User::"alice", action == Action::"edit", resource);'
)
_ENTITIES = cedarlang.Entities.from_json([])


def _decide(request: Any) -> cedarlang.Response:
    return cedarlang.Authorizer().is_authorized(request, _POLICIES, _ENTITIES)


@pytest.mark.parametrize(
    "request_json",
    [
        {"principal": {"type": "User", "id": "alice"}, "action": ACTION, "resource": DOC, "context": {}},
        {"principal": {"type": "User", "id": "alice"}, "action": ACTION, "resource": DOC, "context": None},
        {"principal": {"type": "User", "id": "alice"}, "action": ACTION, "resource": DOC},
        {"principal": 'User::"alice"', "action": 'Action::"view"', "resource": 'Doc::"d"', "context": {}},
        {
            "principal": {"type": "User", "id": "alice"},
            "action": ACTION,
            "resource": DOC,
            "context": {"ok": 1},
        },
        {
            "principal": {"type": "User", "id": "alice"},
            "action": ACTION,
            "resource": DOC,
            "context": '{"ok":1}',
        },
        {
            "principal": {"type": "User", "id": "bob"},
            "action": ACTION,
            "resource": DOC,
            "context": {"ok": True},
        },
        {
            "principal": {"type": "User", "id": "alice"},
            "action": ACTION,
            "resource": DOC,
            "context": {"ok": True},
        },
        {
            "principal": {"type": "User", "id": "alice"},
            "action": {"type": "Action", "id": "edit"},
            "resource": DOC,
        },
    ],
)
def test_a_request_as_a_dict_is_decided_as_its_request_object(request_json: dict[str, Any]) -> None:
    for _ in range(2):  # the first time the uids are new to the cache, the second they are not
        by_object = _decide(cedarlang.Request.from_json(request_json))
        assert _decide(request_json) == by_object
    text = cedarlang.Request.from_json(__import__("json").dumps(request_json))
    assert _decide(text) == by_object


@pytest.mark.parametrize(
    ("request_json", "message"),
    [
        (
            {"principal": {"type": "User", "id": "alice"}, "action": ACTION, "resource": DOC, "extra": 1},
            "extra",
        ),
        (
            {"principal": {"type": "User", "id": "alice"}, "action": ACTION, "context": {}, "x": 1},
            "unexpected",
        ),
        (
            {
                "principal": {"type": "User", "id": "alice"},
                "action": ACTION,
                "resource": DOC,
                "context": {},
                "x": 1,
            },
            "unexpected request field `x`",
        ),
        ({"principal": {"type": "User", "id": "alice"}, "action": ACTION, "context": {}}, "no `resource`"),
        (  # uids not seen before: the checked path reads the fields too
            {
                "principal": {"type": "User", "id": "not-seen-before"},
                "action": ACTION,
                "resource": DOC,
                "x": 1,
            },
            "unexpected request field `x`",
        ),
        ({"principal": {"type": "User", "id": "not-seen-either"}, "action": ACTION}, "no `resource`"),
        ({"action": ACTION, "resource": DOC}, "no `principal`"),
        (
            {"principal": {"type": "User", "id": 1}, "action": ACTION, "resource": DOC, "context": {}},
            "principal",
        ),
        (
            {"principal": {"type": "User", "id": "alice"}, "action": ACTION, "resource": DOC, "context": []},
            "record",
        ),
        (
            {"principal": {"type": "User", "id": "alice"}, "action": ACTION, "resource": DOC, "context": "{"},
            "JSON",
        ),
        ({"principal": ["User", "alice"], "action": ACTION, "resource": DOC, "context": {}}, "principal"),
    ],
)
def test_a_malformed_request_dict_is_a_request_error(request_json: dict[str, Any], message: str) -> None:
    _decide({"principal": {"type": "User", "id": "alice"}, "action": ACTION, "resource": DOC, "context": {}})
    with pytest.raises(RequestError, match=message):
        _decide(request_json)


@pytest.mark.parametrize("text", ["[]", "{", '{"principal": 1}', b"\xff"])
def test_request_text_that_is_not_a_request_object_is_a_request_error(text: str | bytes) -> None:
    with pytest.raises(RequestError):
        cedarlang.Request.from_json(text)


def test_the_uid_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from cedarlang import authorizer

    monkeypatch.setattr(authorizer, "UID_CACHE_SIZE", 8)
    monkeypatch.setattr(authorizer, "_TYPES_PER_ID", 4)
    for n in range(50):
        request = cedarlang.Request({"type": f"T{n}", "id": "same"}, {"type": "User", "id": f"u{n}"}, DOC)
        assert request.principal == EntityUid(f"T{n}", "same")
        assert request.action == EntityUid("User", f"u{n}")
        assert len(authorizer._UIDS) <= 8 and len(authorizer._UIDS.get("same", {})) <= 4


def test_a_request_as_another_mapping_or_text_is_decided_too() -> None:
    from types import MappingProxyType

    as_dict = {
        "principal": {"type": "User", "id": "alice"},
        "action": ACTION,
        "resource": DOC,
        "context": {"ok": True},
    }
    expected = _decide(as_dict)
    assert expected.allowed
    assert _decide(MappingProxyType(as_dict)) == expected
    assert _decide(__import__("json").dumps(as_dict)) == expected
    assert cedarlang.Authorizer().is_authorized_batch(
        [as_dict, MappingProxyType(as_dict)], _POLICIES, _ENTITIES
    ) == [
        expected,
        expected,
    ]


@pytest.mark.parametrize("request_value", [None, 3, ["principal"], object(), b"\xff"])
def test_what_is_not_a_request_is_a_request_error(request_value: Any) -> None:
    with pytest.raises(RequestError):
        _decide(request_value)


def test_a_mapping_with_an_unhashable_key_is_a_request_error() -> None:
    from collections.abc import Iterator, Mapping

    class Odd(Mapping[Any, Any]):
        def __getitem__(self, key: Any) -> Any:
            raise KeyError(key)

        def __iter__(self) -> Iterator[Any]:
            return iter([["principal"]])

        def __len__(self) -> int:
            return 1

    with pytest.raises(RequestError, match="unexpected request field"):
        _decide(Odd())
