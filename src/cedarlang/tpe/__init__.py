"""Typed partial evaluation (Cedar RFC 95) and authorization with on-demand entity loading.

A port of Rust Cedar 4.12's experimental ``tpe`` feature (``cedar-policy-core/src/tpe*``,
``batched_evaluator.rs``, ``cedar-policy/src/api/tpe.rs``), stable here.

:func:`tpe` evaluates policies against a :class:`PartialRequest` (principal / resource ids
and the context may be unknown) and :class:`PartialEntities` (each entity's attributes,
ancestors and tags known or unknown), using the schema's types: the result is a
:class:`TpeResponse` with a decision if the known parts suffice, and otherwise the residual
policies, which :meth:`TpeResponse.reauthorize` evaluates once everything is known.

>>> from cedarlang import PolicySet, Schema
>>> schema = Schema.from_str('''
...     entity User;
...     entity Document = { isPublic: Bool, owner: User };
...     action View appliesTo { principal: [User], resource: [Document], context: { hasMFA: Bool } };
... ''')
>>> policies = PolicySet.from_str('''
...     permit (principal, action == Action::"View", resource) when { resource.isPublic };
...     permit (principal, action == Action::"View", resource)
...     when { context.hasMFA && resource.owner == principal };
... ''')
>>> request = PartialRequest('User::"alice"', 'Action::"View"', PartialEntityUid("Document"),
...                          {"hasMFA": True}, schema)
>>> response = tpe(policies, request, PartialEntities.from_json([], schema), schema)
>>> print(response.decision)
None
>>> for policy in response.residual_policies():
...     print(residual_policy_text(policy))
permit(principal, action, resource) when { resource.isPublic };
permit(principal, action, resource) when { resource.owner == User::"alice" };
"""

from __future__ import annotations

from collections.abc import Iterable

from ..policy import Policy, PolicySet
from ..schema import Schema
from .batched import EntityLoader, InMemoryEntityLoader, is_authorized_batched
from .entities import PartialEntities, PartialEntity
from .evaluator import Evaluator, policy_residuals
from .request import PartialEntityUid, PartialRequest
from .response import ResidualPolicy, TpeResponse, residual_policy_text

__all__ = [
    "EntityLoader",
    "InMemoryEntityLoader",
    "PartialEntities",
    "PartialEntity",
    "PartialEntityUid",
    "PartialRequest",
    "ResidualPolicy",
    "TpeResponse",
    "is_authorized_batched",
    "residual_policy_text",
    "tpe",
]


def tpe(
    policies: PolicySet | Iterable[Policy],
    request: PartialRequest,
    entities: PartialEntities,
    schema: Schema,
) -> TpeResponse:
    """Typed partial evaluation of ``policies`` (Rust's ``PolicySet::tpe``).

    Every policy must validate against ``schema`` in the request's environment, else
    :class:`~cedarlang.errors.TpePolicyValidationError`; ``request`` and ``entities`` were
    validated when they were built.
    """
    evaluator = Evaluator(request, entities)
    residuals = [
        ResidualPolicy(p, evaluator.interpret(r)) for p, r in policy_residuals(policies, request, schema)
    ]
    return TpeResponse(residuals, request, entities, schema)
