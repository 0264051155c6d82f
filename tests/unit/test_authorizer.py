"""Combining policy results: forbid overrides permit, on both evaluation paths.

https://docs.cedarpolicy.com/auth/authorization.html ("Request authorization"):
"If any `forbid` policy evaluates to `true`, then the final result is `Deny`." and
"**forbid overrides permit**: even if a `permit` policy is satisfied, any satisfied
`forbid` policy *overrides* it, producing a `Deny` decision." -- "Otherwise, the
determining policies are the `forbid` policies, if any, that satisfy the request".
"""

from __future__ import annotations

import cedarlang

from ._both_paths import PATHS, authorize

ENTITIES = [
    {"uid": {"type": "User", "id": "alice"}, "attrs": {"suspended": True, "level": 3}, "parents": []},
    {"uid": {"type": "Doc", "id": "d"}, "attrs": {"private": True}, "parents": []},
]
PERMIT = 'permit(principal == User::"alice", action, resource) when { principal.level > 2 };'


@PATHS
def test_a_satisfied_forbid_with_a_when_overrides_a_satisfied_permit(interpret: bool) -> None:
    policies = PERMIT + "\nforbid(principal, action, resource) when { principal.suspended };"
    rsp = authorize(policies, ENTITIES, interpret)
    assert rsp.decision is cedarlang.Decision.DENY
    assert rsp.reasons == {"policy1"}
    assert rsp.errors == []


@PATHS
def test_forbid_overrides_every_satisfied_permit_and_all_satisfied_forbids_determine(interpret: bool) -> None:
    policies = "\n".join(
        [
            PERMIT,
            "permit(principal, action, resource);",
            "forbid(principal, action, resource) when { resource.private };",
            'forbid(principal, action == Action::"view", resource) unless { principal.level > 5 };',
        ]
    )
    rsp = authorize(policies, ENTITIES, interpret)
    assert rsp.decision is cedarlang.Decision.DENY
    assert rsp.reasons == {"policy2", "policy3"}


@PATHS
def test_an_unsatisfied_forbid_leaves_the_permit_in_charge(interpret: bool) -> None:
    policies = PERMIT + "\nforbid(principal, action, resource) when { !principal.suspended };"
    rsp = authorize(policies, ENTITIES, interpret)
    assert rsp.decision is cedarlang.Decision.ALLOW
    assert rsp.reasons == {"policy0"}


@PATHS
def test_the_order_of_policies_does_not_matter(interpret: bool) -> None:
    forbid = "forbid(principal, action, resource) when { principal.suspended };"
    for policies in (f"{PERMIT}\n{forbid}", f"{forbid}\n{PERMIT}"):
        assert authorize(policies, ENTITIES, interpret).decision is cedarlang.Decision.DENY


def test_a_small_sets_decider_answers_as_the_policy_loop() -> None:
    """A small set is decided by one generated function per candidate list
    (``authorizer.decider``); its answer, reasons and errors (in order) are the loop's."""
    import itertools

    from cedarlang.index import SmallCandidates

    texts = [
        "permit(principal, action, resource) when { principal.level > 2 };",
        "permit(principal, action, resource) when { principal.level > 5 };",
        "permit(principal, action, resource) when { principal.nope == 1 };",
        "forbid(principal, action, resource) when { principal.suspended };",
        "forbid(principal, action, resource) when { resource.nope };",
        'forbid(principal == User::"alice", action, resource) when { context.off };',
    ]
    authorizer = cedarlang.Authorizer()
    entities = cedarlang.Entities.from_json(ENTITIES)
    seen = 0
    for size in (1, 2, 3, 6):
        for chosen in itertools.combinations(texts, size):
            policies = cedarlang.PolicySet.from_str("\n".join(chosen))
            for suspended, level, off in itertools.product((True, False), (1, 3, 7), (True, False)):
                store = entities.overlaid(
                    [
                        cedarlang.Entity(
                            cedarlang.EntityUid("User", "alice"),
                            {"suspended": suspended, "level": level},
                        )
                    ]
                )
                request = cedarlang.Request('User::"alice"', 'Action::"view"', 'Doc::"d"', {"off": off})
                found = policies.index().candidates(
                    request.principal, request.action, request.resource, store
                )
                assert type(found) is SmallCandidates
                by_set = authorizer.is_authorized(request, policies, store)
                by_loop = authorizer.is_authorized(request, list(policies.policies()), store)
                assert by_set == by_loop
                seen += by_set.allowed
    assert seen > 0
