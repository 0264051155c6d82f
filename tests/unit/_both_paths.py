"""Run one request through both evaluation paths: compiled policies and the
reference interpreter (``cedarlang.evaluator``), for tests that must hold on each."""

from __future__ import annotations

from typing import Any

import pytest

import cedarlang

PATHS = pytest.mark.parametrize("interpret", [False, True], ids=["compiled", "interpreter"])


def authorize(
    policies: str,
    entities: list[dict[str, Any]],
    interpret: bool,
    principal: str = 'User::"alice"',
    action: str = 'Action::"view"',
    resource: str = 'Doc::"d"',
    context: dict[str, Any] | None = None,
) -> cedarlang.Response:
    request = cedarlang.Request(principal, action, resource, context or {})
    return cedarlang.Authorizer(interpret=interpret).is_authorized(
        request, cedarlang.PolicySet.from_str(policies), cedarlang.Entities.from_json(entities)
    )


def holds(expr: str, interpret: bool, entities: list[dict[str, Any]] | None = None) -> bool:
    """Whether the boolean ``expr`` is true (it must evaluate without error)."""
    rsp = authorize(f"permit(principal, action, resource) when {{ {expr} }};", entities or [], interpret)
    assert not rsp.errors, rsp.errors
    return rsp.allowed
