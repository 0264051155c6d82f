"""Queries on hand-written schemas and policies: every query kind proved and refuted,
every counterexample replayed through the authorizer; errors, the hierarchy, strings,
sets, records, tags and extension values; what is not encoded is reported."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import pytest

from cedarlang import EntityUid, Policy, PolicySet, Schema
from cedarlang.analysis import AnalysisError, Analyzer, Counterexample, Outcome, QueryResult
from cedarlang.analysis.solver import Backend

from .soundness import CLAIMS, replays

pytest.importorskip("cvc5")

SCHEMA = Schema.from_str("""
entity Org;
entity Team in [Team, Org];
entity User in [Team] {
  level: Long,
  name: String,
  nick?: String,
  manager?: User,
  roles: Set<String>,
  profile: { email: String, phone?: String },
  since: datetime,
  budget: decimal,
} tags Long;
entity Doc in [Org] { owner: User, public: Bool, readers: Set<User>, history: Set<{ at: Long }> };
action read, write appliesTo { principal: User, resource: Doc, context: { mfa?: Bool, ip: ipaddr } };
action admin appliesTo { principal: User, resource: Org };
""")

EMPTY = PolicySet.from_str("")


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(SCHEMA)


def ps(text: str) -> PolicySet:
    return PolicySet.from_str(text)


def check_counterexamples(result: QueryResult, a: PolicySet, b: PolicySet = EMPTY) -> int:
    """Every counterexample replays with the claimed result; returns how many there are."""
    n = 0
    for r in result.envs:
        if r.outcome is Outcome.FAILS:
            assert r.counterexample is not None
            assert replays(result, r.counterexample, a, b), r.counterexample.to_json()
            n += 1
    return n


def test_every_query_kind_refuted_with_a_counterexample_that_replays(analyzer: Analyzer) -> None:
    a = ps('permit(principal, action == Action::"read", resource) when { resource.owner == principal };')
    b = ps("permit(principal, action, resource is Doc) when { resource.public };")
    errs = ps("permit(principal, action, resource is Doc) when { principal.level + 1 > 0 };")
    results = {
        "never-errors": (analyzer.never_errors(errs), errs, EMPTY),
        "always-allows": (analyzer.always_allows(a), a, EMPTY),
        "always-denies": (analyzer.always_denies(a), a, EMPTY),
        "implies": (analyzer.implies(a, b), a, b),
        "equivalent": (analyzer.equivalent(a, b), a, b),
        "disjoint": (analyzer.disjoint(a, b), a, b),
    }
    assert set(results) == set(CLAIMS)
    for name, (result, x, y) in results.items():
        assert result.query == name
        assert result.outcome is Outcome.FAILS, name
        assert check_counterexamples(result, x, y) >= 1, name


def test_every_query_kind_proved(analyzer: Analyzer) -> None:
    everything = ps("permit(principal, action, resource);")
    owner = ps("permit(principal, action, resource is Doc) when { resource.owner == principal };")
    owner_read = ps(
        'permit(principal, action == Action::"read", resource is Doc) when { resource.owner == principal };'
    )
    not_owner = ps("permit(principal, action, resource is Doc) when { resource.owner != principal };")
    assert analyzer.never_errors(owner).holds
    assert analyzer.always_allows(everything).holds
    assert analyzer.always_denies(EMPTY).holds
    assert analyzer.implies(owner_read, owner).holds
    swapped = ps(
        "permit(principal, action, resource) when { resource is Doc && principal == resource.owner };"
    )
    assert analyzer.equivalent(owner, swapped).holds
    assert analyzer.disjoint(owner, not_owner).holds


def test_per_environment_answers(analyzer: Analyzer) -> None:
    result = analyzer.always_denies(ps('permit(principal, action == Action::"admin", resource);'))
    by_action = {r.env.action.id: r.outcome for r in result.envs}
    assert by_action == {"read": Outcome.HOLDS, "write": Outcome.HOLDS, "admin": Outcome.FAILS}


def test_overflow_is_an_error(analyzer: Analyzer) -> None:
    p = ps("permit(principal, action, resource is Doc) when { principal.level * 2 > principal.level };")
    result = analyzer.never_errors(p)
    assert result.outcome is Outcome.FAILS
    assert check_counterexamples(result, p) == 2
    cex = next(result.counterexamples())
    level = next(e for e in cex.entities if e["uid"] == cex.principal)["attrs"]["level"]
    assert not -(2**62) <= level < 2**62
    # guarded, it never errors; and negation overflows only at the minimum
    guarded = ps(
        "permit(principal, action, resource is Doc) when "
        "{ principal.level < 1000 && principal.level > -1000 && principal.level * 2 > principal.level };"
    )
    assert analyzer.never_errors(guarded).holds
    neg = ps("permit(principal, action, resource is Doc) when { -principal.level > 0 };")
    cex = next(analyzer.never_errors(neg).counterexamples())
    assert next(e for e in cex.entities if e["uid"] == cex.principal)["attrs"]["level"] == -(2**63)


def test_optional_attributes_and_tags(analyzer: Analyzer) -> None:
    # validation requires `has`/`hasTag` guards (unguarded reads are reported, below), so
    # guarded reads never error; absent attributes and tags are part of the counterexamples
    guarded = ps(
        'permit(principal, action, resource is Doc) when { principal has nick && principal.nick == "x" };'
    )
    assert analyzer.never_errors(guarded).holds
    result = analyzer.always_denies(guarded)
    assert check_counterexamples(result, guarded) == 2
    tag = ps(
        'permit(principal, action, resource is Doc) when { principal.hasTag("k") && principal.getTag("k") > 3 };'
    )
    tag4 = ps(
        'permit(principal, action, resource is Doc) when { principal.hasTag("k") && principal.getTag("k") >= 4 };'
    )
    tag3 = ps(
        'permit(principal, action, resource is Doc) when { principal.hasTag("k") && principal.getTag("k") >= 3 };'
    )
    assert analyzer.never_errors(tag).holds
    assert analyzer.equivalent(tag, tag4).holds
    result = analyzer.equivalent(tag, tag3)
    assert result.outcome is Outcome.FAILS
    assert check_counterexamples(result, tag, tag3) == 2
    cex = next(result.counterexamples())
    assert next(e for e in cex.entities if e["uid"] == cex.principal)["tags"] == {"k": 3}


def test_hierarchy_is_transitive(analyzer: Analyzer) -> None:
    via_team = ps('permit(principal in Team::"t", action, resource);')
    via_org = ps('permit(principal in Org::"o", action, resource);')
    # principals in the team are not all in the org: a counterexample
    result = analyzer.implies(via_team, via_org)
    assert result.outcome is Outcome.FAILS
    check_counterexamples(result, via_team, via_org)
    # but if the team is in the org, every member is
    both = ps('permit(principal in Team::"t", action, resource) when { Team::"t" in Org::"o" };')
    assert analyzer.implies(both, via_org).holds
    # a Doc is never in a Team: the schema's memberOf rules it out
    assert analyzer.always_denies(ps('permit(principal, action, resource in Team::"t");')).holds


def test_strings_sets_records_and_extensions(analyzer: Analyzer) -> None:
    like = ps('permit(principal, action, resource is Doc) when { principal.name like "a*b" };')
    prefix = ps('permit(principal, action, resource is Doc) when { principal.name like "a*" };')
    assert analyzer.implies(like, prefix).holds
    result = analyzer.implies(prefix, like)
    assert result.outcome is Outcome.FAILS
    check_counterexamples(result, prefix, like)

    sets = ps('permit(principal, action, resource is Doc) when { principal.roles.containsAll(["a", "b"]) };')
    one = ps('permit(principal, action, resource is Doc) when { principal.roles.contains("a") };')
    assert analyzer.implies(sets, one).holds
    result = analyzer.equivalent(sets, one)
    check_counterexamples(result, sets, one)
    assert result.outcome is Outcome.FAILS

    readers = ps("permit(principal, action, resource is Doc) when { resource.readers.contains(principal) };")
    result = analyzer.always_denies(readers)
    assert check_counterexamples(result, readers) == 2

    rec = ps(
        "permit(principal, action, resource is Doc) when "
        "{ principal.profile has phone && principal.profile.phone == principal.profile.email && context has mfa && context.mfa };"
    )
    result = analyzer.always_denies(rec)
    assert check_counterexamples(result, rec) == 2

    dates = ps(
        "permit(principal, action, resource is Doc) when "
        '{ principal.since.offset(duration("1d")) > datetime("2024-01-01") && principal.budget.lessThan(decimal("1.5")) };'
    )
    result = analyzer.always_denies(dates)
    assert check_counterexamples(result, dates) == 2
    result = analyzer.never_errors(dates)  # offset overflows near the end of time
    assert check_counterexamples(result, dates) == 2


def test_features_not_encoded_are_reported_never_a_wrong_holds(analyzer: Analyzer) -> None:
    recent = "forbid(principal, action, resource is Doc) when { resource.history.contains({at: 1}) };"
    both = ps("permit(principal, action, resource);\n" + recent)
    result = analyzer.always_allows(both)
    by_action = {r.env.action.id: r for r in result.envs}
    assert by_action["admin"].outcome is Outcome.HOLDS  # resources are Orgs there: the forbid is false
    for action in ("read", "write"):
        assert by_action[action].outcome is Outcome.UNKNOWN
        assert any("Set<{at: Long,}>" in reason for reason in by_action[action].reasons), by_action[
            action
        ].reasons
    assert result.outcome is Outcome.UNKNOWN
    # a counterexample that replays is still reported, with the reasons
    result = analyzer.always_denies(both)
    assert result.outcome is Outcome.FAILS
    check_counterexamples(result, both)
    assert analyzer.never_errors(ps(recent)).outcome is Outcome.UNKNOWN


def test_ip_addresses(analyzer: Analyzer) -> None:
    def policy(cond: str) -> PolicySet:
        return ps(f'permit(principal, action == Action::"read", resource) when {{ {cond} }};')

    loopback = policy("context.ip.isLoopback()")
    in_127 = policy('context.ip.isInRange(ip("127.0.0.0/8"))')
    v4 = policy("context.ip.isIpv4()")
    multicast = policy("context.ip.isMulticast()")
    assert analyzer.implies(in_127, loopback).holds
    assert analyzer.implies(in_127, v4).holds
    assert analyzer.disjoint(loopback, multicast).holds
    assert analyzer.equivalent(
        policy('context.ip == ip("::1")'), policy("context.ip.isLoopback() && context.ip.isIpv6()")
    ).holds
    in_224 = policy('context.ip.isInRange(ip("224.0.0.0/4"))')
    wide = policy('ip("10.0.0.0/8").isInRange(context.ip) && context.ip != ip("0.0.0.0/0")')
    for result, a, b in (
        (analyzer.implies(loopback, in_127), loopback, in_127),  # ::1 is a loopback too
        (analyzer.implies(v4, in_127), v4, in_127),
        (analyzer.equivalent(multicast, in_224), multicast, in_224),  # ff00::/8 is multicast too
        (analyzer.always_denies(wide), wide, EMPTY),  # e.g. 10.0.0.0/7
    ):
        assert result.outcome is Outcome.FAILS, result.query
        assert check_counterexamples(result, a, b) == 1  # in the `read` environment


def test_policies_failing_validation_are_reported(analyzer: Analyzer) -> None:
    bad = ps('permit(principal, action, resource is Doc) when { principal.nick == "x" };')
    result = analyzer.never_errors(bad)
    assert result.outcome is Outcome.UNKNOWN
    assert any("fails validation" in reason for r in result.envs for reason in r.reasons)
    # a link of a template that fails validation, too (validated as the static policy it makes)
    bad_links = ps('permit(principal == ?principal, action, resource) when { principal.nick == "x" };')
    bad_links.link("policy0", "link0", {"?principal": EntityUid("User", "alice")})
    assert analyzer.never_errors(bad_links).outcome is Outcome.UNKNOWN


def test_templates_decide_nothing_their_links_are_analysed(analyzer: Analyzer) -> None:
    tpl = ps('permit(principal in ?principal, action == Action::"read", resource == ?resource);')
    assert analyzer.always_denies(tpl).holds  # no link: no policy
    tpl.link(
        "policy0", "alice-doc", {"?principal": EntityUid("User", "alice"), "?resource": EntityUid("Doc", "d")}
    )
    result = analyzer.always_denies(tpl)
    assert result.outcome is Outcome.FAILS
    assert check_counterexamples(result, tpl) == 1
    cex = next(result.counterexamples())
    assert (cex.principal, cex.resource) == ({"type": "User", "id": "alice"}, {"type": "Doc", "id": "d"})
    static = ps('permit(principal == User::"alice", action == Action::"read", resource == Doc::"d");')
    assert analyzer.equivalent(tpl, static).holds


def test_json_form(analyzer: Analyzer) -> None:
    p = ps('permit(principal, action == Action::"read", resource);')
    out: dict[str, Any] = analyzer.always_denies(p).to_json()
    assert out["query"] == "always-denies" and out["outcome"] == "fails"
    read = next(e for e in out["envs"] if e["action"] == 'Action::"read"')
    assert read["outcome"] == "fails"
    assert read["counterexample"]["request"]["action"] == {"type": "Action", "id": "read"}


def test_missing_solver_is_a_cedar_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_cvc5(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "cvc5":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cvc5)
    with pytest.raises(AnalysisError, match=r"pip install 'cedarlang\[analysis\]'"):
        Backend()


def test_policy_match_queries(analyzer: Analyzer) -> None:
    [gt] = ps("permit(principal, action, resource is Doc) when { principal.level > 3 };").policies()
    [ge] = ps("forbid(principal, action, resource is Doc) when { principal.level >= 3 };").policies()
    [lt] = ps("permit(principal, action, resource is Doc) when { principal.level < 3 };").policies()
    [anyone] = ps("permit(principal, action, resource);").policies()
    assert analyzer.matches_implies(gt, ge).holds
    assert analyzer.matches_disjoint(gt, lt).holds
    assert analyzer.always_matches(anyone).holds
    assert analyzer.never_matches(ps('permit(principal, action, resource in Team::"t");').policies()[0]).holds
    refuted: dict[str, tuple[QueryResult, Callable[[bool, bool], bool]]] = {
        "matches-implies": (analyzer.matches_implies(ge, gt), lambda a, b: a and not b),
        "matches-equivalent": (analyzer.matches_equivalent(ge, gt), lambda a, b: a != b),
        "matches-disjoint": (analyzer.matches_disjoint(ge, anyone), lambda a, b: a and b),
        "always-matches": (analyzer.always_matches(gt), lambda a, b: not a),
        "never-matches": (analyzer.never_matches(ge), lambda a, b: a),
    }
    pairs = {"matches-implies": (ge, gt), "matches-equivalent": (ge, gt), "matches-disjoint": (ge, anyone)}
    for name, (result, violated) in refuted.items():
        assert result.query == name and result.outcome is Outcome.FAILS, name
        first, second = pairs.get(name, (gt if name == "always-matches" else ge, anyone))
        for cex in result.counterexamples():  # replayed: the authorizer finds the policies (un)satisfied
            assert violated(matches(first, cex), matches(second, cex)), (name, cex.to_json())


def matches(policy: Policy, cex: Counterexample) -> bool:
    alone = PolicySet()
    alone.add(policy)
    return policy.id in cex.replay(alone).reasons


def test_one_environment(analyzer: Analyzer) -> None:
    from cedarlang.analysis import AnalysisError as Error

    env = Analyzer.environment(SCHEMA, "User", EntityUid("Action", "read"), "Doc")
    only = Analyzer(SCHEMA, env)
    result = only.always_denies(ps('permit(principal, action == Action::"read", resource);'))
    assert [r.env for r in result.envs] == [env] and result.outcome is Outcome.FAILS
    with pytest.raises(Error, match="no request environment"):
        Analyzer.environment(SCHEMA, "Doc", EntityUid("Action", "read"), "Doc")
