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
    assert rsp.errors == ()


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


_INLINED_ENTITIES = [
    {"uid": {"type": "Group", "id": "g"}, "attrs": {}, "parents": []},
    {
        "uid": {"type": "User", "id": "alice"},
        "attrs": {"level": 3, "docs": []},
        "parents": [{"type": "Group", "id": "g"}],
    },
    {"uid": {"type": "User", "id": "bob"}, "attrs": {"level": 7}, "parents": []},
    {"uid": {"type": "Admin", "id": "root"}, "attrs": {}, "parents": [{"type": "Group", "id": "g"}]},
    {"uid": {"type": "Action", "id": "readOnly"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Action", "id": "read"}, "attrs": {}, "parents": [{"type": "Action", "id": "readOnly"}]},
    {
        "uid": {"type": "Doc", "id": "d1"},
        "attrs": {
            "viewers": {"__entity": {"type": "Group", "id": "g"}},
            "owner": {"__entity": {"type": "User", "id": "alice"}},
        },
        "parents": [],
    },
    {
        "uid": {"type": "Doc", "id": "d2"},
        "attrs": {"viewers": [{"__entity": {"type": "User", "id": "bob"}}]},
        "parents": [{"type": "Doc", "id": "d1"}],
    },
    {"uid": {"type": "Doc", "id": "d3"}, "attrs": {"viewers": "everyone", "owner": "alice"}, "parents": []},
    {"uid": {"type": "Doc", "id": "d4"}, "attrs": {}, "parents": []},
]
_DEEP = "1" + " + (1" * 45 + ")" * 45
_INLINED_POLICIES = f"""
permit(principal in Group::"g", action in [Action::"view", Action::"edit"], resource is Doc) when {{ principal in resource.viewers }};
permit(principal is User in Group::"g", action == Action::"view", resource) when {{ context has level || (resource has owner && resource.owner == principal) }};
forbid(principal, action in [], resource);
forbid(principal, action == Action::"delete", resource) when {{ resource == Doc::"d4" }};
permit(principal in Group::"g", action, resource);
permit(principal, action, resource == Doc::"d1") when {{ context has level }};
permit(principal, action in Action::"readOnly", resource) when {{ context.level > 2 }};
permit(principal, action == Action::"edit", resource == Doc::"d1");
forbid(principal, action, resource) unless {{ principal.level < 5 }};
permit(principal, action, resource) when {{ {_DEEP} > 0 && resource in principal.docs }};
permit(principal, action, resource is Doc) when {{ User::"alice".level > 1 && User::"alice" in resource.viewers }};
permit(principal, action == Action::"delete", resource in Doc::"d1") when {{ principal has level }};
@id("share")
permit(principal == ?principal, action, resource in ?resource);
"""


def test_a_small_sets_inlined_policies_answer_as_the_interpreter() -> None:
    """A small set's decision function has its policies written in, sharing the request's
    entity lookups and leaving out what the index established (`is T`, the action); its
    answers, reasons and errors are the interpreter's for every subset of these policies
    (uids, sets and strings on the right of `in`, missing attributes and entities, the
    action's groups, an empty action list, `is T in E` on another type, template links,
    a policy too deep to inline)."""
    import itertools

    from cedarlang.index import SmallCandidates

    full = cedarlang.PolicySet.from_str(_INLINED_POLICIES)
    template = full.templates()[0].id
    statics = [policy.id for policy in full.policies()]
    entities = cedarlang.Entities.from_json(_INLINED_ENTITIES)
    requests = [
        cedarlang.Request(f"{p}", f'Action::"{a}"', f'Doc::"{r}"', context)
        for p in ('User::"alice"', 'User::"bob"', 'User::"ghost"', 'Admin::"root"')
        for a in ("view", "edit", "delete", "read")
        for r in ("d1", "d2", "d3", "d4", "ghost")
        for context in ({"level": 3}, {})
    ]
    compiled, interpreted = cedarlang.Authorizer(), cedarlang.Authorizer(interpret=True)
    outcomes: set[tuple[str, int, int]] = set()
    for size in (1, 2, 5, len(statics)):
        for chosen in itertools.islice(itertools.combinations(statics, size), 40):
            policies = cedarlang.PolicySet()
            for policy_id in chosen:
                policies.add(full.policy(policy_id))  # type: ignore[arg-type]
            policies.add_template(full.template(template))  # type: ignore[arg-type]
            policies.link(template, "alice-d2", {"?principal": 'User::"alice"', "?resource": 'Doc::"d2"'})
            policies.link(template, "bob-d1", {"?principal": 'User::"bob"', "?resource": 'Doc::"d1"'})
            for request in requests:
                found = policies.index().candidates(
                    request.principal, request.action, request.resource, entities
                )
                assert type(found) is SmallCandidates
                by_set = compiled.is_authorized(request, policies, entities)
                assert by_set == interpreted.is_authorized(request, policies, entities), request
                outcomes.add((by_set.decision, len(by_set.reasons), len(by_set.errors)))
    # every kind of outcome was seen: several reasons at once (more than the reason
    # tables hold, too), errors with each decision
    assert max(n for _, n, _ in outcomes) > 4
    assert {(d, n > 1, e > 0) for d, n, e in outcomes} >= {
        ("allow", True, False),
        ("allow", False, True),
        ("deny", False, True),
        ("deny", True, False),
    }
