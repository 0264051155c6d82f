"""The reference interpreter and the compiled evaluator agree on every conformance request."""

from __future__ import annotations

import json

import pytest

import cedarlang

from .runner import conformance_files, resolve

FILES = conformance_files()
CHUNK = 800


@pytest.mark.parametrize("start", range(0, len(FILES), CHUNK), ids=lambda s: f"files{s}")
def test_interpreter_matches_compiled(start: int) -> None:
    compiled, interpreted = cedarlang.Authorizer(), cedarlang.Authorizer(interpret=True)
    for path in FILES[start : start + CHUNK]:
        spec = json.loads(path.read_text(encoding="utf-8"))
        policies = cedarlang.PolicySet.from_str(resolve(path, spec["policies"]).read_text())
        entities = cedarlang.Entities.from_json(resolve(path, spec["entities"]).read_text())
        for req in spec["requests"]:
            request = cedarlang.Request(req["principal"], req["action"], req["resource"], req["context"])
            a = compiled.is_authorized(request, policies, entities)
            b = interpreted.is_authorized(request, policies, entities)
            assert (a.decision, a.reasons, [e.policy_id for e in a.errors]) == (
                b.decision,
                b.reasons,
                [e.policy_id for e in b.errors],
            ), f"{path.name}: {req['description']}"
