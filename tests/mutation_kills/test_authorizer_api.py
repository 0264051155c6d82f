"""The authorizer's public API: request forms, the decision rule, responses, batches.

The decision rule is Cedar's (docs.cedarpolicy.com, "Authorization"): any
satisfied forbid denies and its forbids are the reasons; else any satisfied
permit allows, the permits being the reasons; else deny with no reasons. A
policy that errors is skipped and reported. Answers are checked against cedarpy.
"""

from __future__ import annotations

import json
from types import MappingProxyType

import pytest

import cedarlang
from cedarlang import Authorizer, Decision, Entities, EntityUid, PolicySet, Record, Request, RequestError

from .exact import DEFAULT_ENTITIES, assert_same_as_rust

ALICE = EntityUid("User", "alice")
VIEW = EntityUid("Action", "view")
PHOTO = EntityUid("Photo", "p1")


def test_forbid_overrides_permit_and_reasons_are_the_deciding_policies() -> None:
    text = (
        "permit(principal, action, resource);\n"
        'permit(principal == User::"alice", action, resource);\n'
        "forbid(principal, action, resource) when { context.flag };\n"
        "forbid(principal, action, resource) when { principal.missing };\n"
    )
    decision, reasons, errors = assert_same_as_rust(text)
    assert (decision, reasons) == ("deny", frozenset({"policy2"}))
    assert len(errors) == 1
    decision, reasons, _ = assert_same_as_rust(text, request={**_request(), "context": {"flag": False}})
    assert (decision, reasons) == ("allow", frozenset({"policy0", "policy1"}))


def test_an_erring_policy_is_skipped_and_later_policies_still_count() -> None:
    text = (
        "forbid(principal, action, resource) when { principal.missing };\n"
        "permit(principal, action, resource) when { 1 + true };\n"
        "permit(principal, action, resource);\n"
    )
    decision, reasons, errors = assert_same_as_rust(text)
    assert (decision, reasons, len(errors)) == ("allow", frozenset({"policy2"}), 2)


def test_no_satisfied_policy_denies_with_no_reasons() -> None:
    decision, reasons, errors = assert_same_as_rust(
        'permit(principal == User::"bob", action, resource);\nforbid(principal, action, resource) when { false };'
    )
    assert (decision, reasons, errors) == ("deny", frozenset(), ())


def _request() -> dict[str, object]:
    return {
        "principal": 'User::"alice"',
        "action": 'Action::"view"',
        "resource": 'Photo::"p1"',
        "context": {"flag": True},
    }


def _decide(
    request: Request, text: str = "permit(principal, action, resource) when { context.flag };"
) -> cedarlang.Response:
    return Authorizer().is_authorized(request, PolicySet.from_str(text), Entities.from_json(DEFAULT_ENTITIES))


@pytest.mark.parametrize(
    "form",
    [
        ALICE,
        'User::"alice"',
        {"type": "User", "id": "alice"},
        MappingProxyType({"type": "User", "id": "alice"}),
        {"__entity": {"type": "User", "id": "alice"}},
    ],
    ids=["uid", "text", "dict", "mapping", "__entity"],
)
def test_uid_forms(form: object) -> None:
    request = Request(form, VIEW, PHOTO)  # type: ignore[arg-type]
    assert request.principal == ALICE
    assert type(request.principal) is EntityUid
    assert Request(ALICE, form if form is not ALICE else VIEW, PHOTO).principal == ALICE  # type: ignore[arg-type]


@pytest.mark.parametrize("role", ["principal", "action", "resource"])
@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("User::alice", "invalid {role} `User::alice`"),
        (5, "invalid {role}: expected an entity uid, got 5"),
        ({"type": "User"}, "{role}"),
        ({"type": "if", "id": "x"}, ""),
        ({"type": "User", "id": 5}, ""),
    ],
)
def test_bad_uids_are_request_errors_naming_the_role(role: str, bad: object, fragment: str) -> None:
    parts: dict[str, object] = {"principal": ALICE, "action": VIEW, "resource": PHOTO, role: bad}
    with pytest.raises(RequestError) as err:
        Request(parts["principal"], parts["action"], parts["resource"])  # type: ignore[arg-type]
    assert fragment.format(role=role) in str(err.value)


@pytest.mark.parametrize(
    "context",
    [
        {"flag": True},
        MappingProxyType({"flag": True}),
        Record({"flag": True}),
        '{"flag": true}',
        b'{"flag": true}',
    ],
    ids=["dict", "mapping", "record", "json", "bytes"],
)
def test_context_forms(context: object) -> None:
    request = Request(ALICE, VIEW, PHOTO, context)  # type: ignore[arg-type]
    assert type(request.context) is Record
    assert dict(request.context) == {"flag": True}
    assert _decide(request).decision is Decision.ALLOW


@pytest.mark.parametrize("context", [None, {}, Record(), "{}"])
def test_empty_contexts(context: object) -> None:
    request = Request(ALICE, VIEW, PHOTO, context)  # type: ignore[arg-type]
    assert type(request.context) is Record and len(request.context) == 0
    response = _decide(request)
    assert response.decision is Decision.DENY
    assert [e.kind for e in response.errors] == ["RecordAttrDoesNotExist"]


@pytest.mark.parametrize(
    ("context", "fragment"),
    [
        ("[1, 2]", "context must be a record"),
        ("{nope", "context is not valid JSON"),
        (b"\xff\xfe", "context is not valid UTF-8"),
        ([("flag", True)], "context must be a record"),
        ('{"a": {"__extn": {"fn": "nope", "arg": "1"}}}', ""),
        ("[" * 100_000 + "]" * 100_000, ""),
    ],
    ids=["json-list", "bad-json", "bad-utf8", "list", "bad-value", "deep"],
)
def test_bad_contexts_are_request_errors(context: object, fragment: str) -> None:
    with pytest.raises(RequestError) as err:
        Request(ALICE, VIEW, PHOTO, context)  # type: ignore[arg-type]
    assert fragment in str(err.value)


def test_deeply_nested_record_context_is_a_request_error() -> None:
    deep = '{"a": ' * 50_000 + "1" + "}" * 50_000
    with pytest.raises(RequestError, match="context is nested too deeply"):
        Request(ALICE, VIEW, PHOTO, deep)


def test_response_api() -> None:
    allowed = _decide(Request(ALICE, VIEW, PHOTO, {"flag": True}))
    assert allowed.allowed is True and bool(allowed) is True
    assert allowed.decision is Decision.ALLOW and str(allowed.decision) == "allow"
    assert allowed.reasons == frozenset({"policy0"}) and allowed.errors == ()
    denied = _decide(Request(ALICE, VIEW, PHOTO, {"flag": False}))
    assert denied.allowed is False and bool(denied) is False
    assert denied.decision is Decision.DENY and denied.reasons == frozenset()
    assert (
        repr(allowed)
        == f"Response(decision={Decision.ALLOW!r}, reasons={frozenset({'policy0'})!r}, errors=())"
    )
    default = cedarlang.Response(Decision.DENY)
    assert default.reasons == frozenset() and default.errors == () and not default


def test_request_repr_shows_every_part() -> None:
    request = Request(ALICE, VIEW, PHOTO, {"flag": True})
    assert repr(request) == (
        'Request(principal=User::"alice", action=Action::"view", '
        "resource=Photo::\"p1\", context={'flag': True})"
    )


def test_authorization_error_reads_like_rust() -> None:
    response = _decide(Request(ALICE, VIEW, PHOTO), "permit(principal, action, resource) when { 1 + true };")
    [error] = response.errors
    assert (error.policy_id, error.kind) == ("policy0", "TypeError")
    assert error.message == "type error: expected long, got bool"
    assert str(error) == "error while evaluating policy `policy0`: type error: expected long, got bool"


def test_batch_answers_in_order_and_accepts_a_one_shot_iterable() -> None:
    text = (
        'permit(principal == User::"alice", action, resource);\n'
        "forbid(principal, action, resource) when { context.flag };\n"
        'permit(principal in Group::"staff", action, resource) when { principal.n == 7 };'
    )
    policies = PolicySet.from_str(text)
    entities = Entities.from_json(json.dumps(DEFAULT_ENTITIES))
    requests = [
        Request(ALICE, VIEW, PHOTO, {"flag": False}),
        Request(ALICE, VIEW, PHOTO, {"flag": True}),
        Request('User::"bob"', VIEW, PHOTO, {"flag": False}),
        Request(ALICE, VIEW, PHOTO, {"flag": False}),
    ]
    want = [
        ("allow", {"policy0", "policy2"}),
        ("deny", {"policy1"}),
        ("deny", set()),
        ("allow", {"policy0", "policy2"}),
    ]
    for authorizer in (Authorizer(), Authorizer(interpret=True)):
        for given in (policies, list(policies), iter(list(policies))):
            answers = authorizer.is_authorized_batch(requests, given, entities)
            assert [(a.decision.value, set(a.reasons)) for a in answers] == want


def test_interpret_flag() -> None:
    assert Authorizer().interpret is False
    assert Authorizer(interpret=True).interpret is True
