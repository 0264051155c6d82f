"""The soundness cross-check: the analysis against exhaustive evaluation.

Each case draws a schema, entities conforming to it and a pair of policy sets with
``tests/differential/schemacases.py``'s generator, runs every query, and checks each
answer against the authorizer on every request over the case's entities (at most
three per entity type, with generated attributes) and a few generated contexts:

* a "holds" must hold on every one of those requests;
* a "fails" must come with a counterexample that replays with the claimed result;
* every lint of the first set (vacuous, shadowed, ...) must hold on those requests.

``python -m tests.analysis.soundness N`` runs N cases and prints the tally.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from hypothesis import strategies as st

from cedarlang import Authorizer, Entities, PolicySet, Request, Response, Schema
from cedarlang.analysis import Analyzer, Counterexample, Outcome, QueryResult
from cedarlang.analysis.lints import lint
from cedarlang.analysis.queries import policy_name
from cedarlang.errors import CedarError
from cedarlang.validator.schema_info import RequestEnv
from tests.differential.schemacases import SCHEMA, SchemaGen, schema_json, value_json
from tests.differential.strategies import uid_text

Decide = Callable[[Request, PolicySet], Response]


@dataclass
class Tally:
    cases: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    contradictions: list[str] = field(default_factory=list)


def _no_draw_fn(strategy: st.SearchStrategy[Any], label: object = None) -> Any:
    raise AssertionError("the generator runs on its random.Random")


_no_draw = cast(st.DrawFn, _no_draw_fn)


def _policy_set(g: SchemaGen, prefix: str) -> PolicySet:
    specs = [g.policy() for _ in range(g.weighted([(2, 1), (4, 2), (2, 3)]))]
    text = "\n".join(f'@id("{prefix}{i}")\n{spec.render()}' for i, spec in enumerate(specs))
    return PolicySet.from_str(text)


# Each query: what it claims about one request's decisions under (A, B).
CLAIMS: dict[str, Callable[[Response, Response], bool]] = {
    "never-errors": lambda a, b: not a.errors,
    "always-allows": lambda a, b: a.allowed,
    "always-denies": lambda a, b: not a.allowed,
    "implies": lambda a, b: not a.allowed or b.allowed,
    "equivalent": lambda a, b: a.allowed == b.allowed,
    "disjoint": lambda a, b: not (a.allowed and b.allowed),
}


def run_queries(analyzer: Analyzer, a: PolicySet, b: PolicySet) -> list[QueryResult]:
    return [
        analyzer.never_errors(a),
        analyzer.always_allows(a),
        analyzer.always_denies(a),
        analyzer.implies(a, b),
        analyzer.equivalent(a, b),
        analyzer.disjoint(a, b),
    ]


def replays(result: QueryResult, cex: Counterexample, a: PolicySet, b: PolicySet) -> bool:
    """The counterexample violates the query when decided by the authorizer."""
    return not CLAIMS[result.query](cex.replay(a), cex.replay(b))


def check_case(seed: int, tally: Tally) -> None:
    rng = random.Random(seed)
    g = SchemaGen(_no_draw, SCHEMA, rng)
    w = g.world()
    requests = [g.request() for _ in range(2)]
    g.setup_focus(requests)
    try:  # a generated input the engine rejects is no case for the analysis
        a, b = _policy_set(g, "a"), _policy_set(g, "b")
        schema = Schema.from_json(schema_json(w))
        entities = Entities.from_json(g.entity_json(with_schema=False))
    except CedarError as err:
        tally.outcomes[f"skipped: {type(err).__name__}"] += 1
        return
    contexts = [value_json(g.attr_values(w.context)) for _ in range(2)]
    analyzer = Analyzer(schema)
    results = run_queries(analyzer, a, b)
    authorizer = Authorizer()

    def universe(env: RequestEnv) -> list[Request]:
        """Every request of the environment over the case's entities and contexts."""
        principals, resources = w.types[env.principal], w.types[env.resource]
        action = uid_text(env.action.type, env.action.id)
        return [
            Request(uid_text(principals.name, pid), action, uid_text(resources.name, rid), ctx)
            for pid in principals.ids
            for rid in resources.ids
            for ctx in contexts
        ]

    decided: dict[int, list[tuple[Response, Response]]] = {}
    for result in results:
        for ei, r in enumerate(result.envs):
            tally.outcomes[f"{result.query} {r.outcome}"] += 1
            where = f"seed {seed}, {result.query}, {r.env.principal}/{r.env.action}/{r.env.resource}"
            if r.outcome is Outcome.FAILS:
                assert r.counterexample is not None
                if not replays(result, r.counterexample, a, b):
                    tally.contradictions.append(f"{where}: the counterexample does not replay")
            elif r.outcome is Outcome.HOLDS:
                if ei not in decided:
                    decided[ei] = [
                        (
                            authorizer.is_authorized(req, a, entities),
                            authorizer.is_authorized(req, b, entities),
                        )
                        for req in universe(r.env)
                    ]
                pairs = decided[ei]
                tally.requests += len(pairs)
                for ra, rb in pairs:
                    if not CLAIMS[result.query](ra, rb):
                        tally.contradictions.append(f"{where}: holds, but a request violates it")
                        break
    check_lints(seed, analyzer, a, [req for env in analyzer.envs for req in universe(env)], entities, tally)
    tally.cases += 1


def check_lints(
    seed: int,
    analyzer: Analyzer,
    policies: PolicySet,
    requests: list[Request],
    entities: Entities,
    tally: Tally,
) -> None:
    """Every lint holds on every request of the universe."""
    report = lint(analyzer, policies)
    by_name = {policy_name(p): p for p in policies.policies()}
    authorizer = Authorizer()
    satisfied: dict[str, list[bool]] = {}
    for name, p in by_name.items():
        alone = PolicySet()
        alone.add(p)
        satisfied[name] = [p.id in authorizer.is_authorized(req, alone, entities).reasons for req in requests]
    for x in report.lints:
        tally.outcomes[f"lint {x.kind}"] += 1
        mine = satisfied[x.policy]
        if x.kind == "vacuous":
            ok = not any(mine)
        elif x.kind == "redundant":
            rest = PolicySet()
            for p in policies.policies():
                if policy_name(p) != x.policy:
                    rest.add(p)
            ok = all(
                authorizer.is_authorized(req, policies, entities).allowed
                == authorizer.is_authorized(req, rest, entities).allowed
                for req in requests
            )
        else:  # shadowed or overridden: whenever it is satisfied, the other one is
            assert x.other is not None
            ok = all(o for m, o in zip(mine, satisfied[x.other], strict=True) if m)
        if not ok:
            tally.contradictions.append(f"seed {seed}, lint {x.kind} {x.policy}: a request violates it")


def run(seeds: range) -> Tally:
    tally = Tally()
    for seed in seeds:
        check_case(seed, tally)
    return tally


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    t = run(range(n))
    print(f"cases {t.cases}, requests evaluated {t.requests}, contradictions {len(t.contradictions)}")
    for k, v in sorted(t.outcomes.items()):
        print(f"  {k}: {v}")
    for c in t.contradictions[:20]:
        print("  ", c)
