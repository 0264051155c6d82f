"""cedarlang: the Cedar authorization policy language in pure Python.

Quick start::

    import cedarlang
    policies = cedarlang.PolicySet.from_str('permit(principal == User::"alice", action, resource);')
    entities = cedarlang.Entities.from_json([])
    request = cedarlang.Request('User::"alice"', 'Action::"view"', 'Photo::"1"')
    response = cedarlang.Authorizer().is_authorized(request, policies, entities)
    assert response.allowed
"""

from .ast import Effect
from .authorizer import AuthorizationError, Authorizer, Decision, Request, Response
from .entities import Entities, Entity
from .errors import (
    CedarError,
    DiagnosticError,
    EntitiesError,
    EvaluationError,
    ExtensionError,
    ParseError,
    PolicySetError,
    RequestError,
    SchemaError,
)
from .parser import parse_entity_uid, parse_expression
from .policy import Policy, PolicySet, Template
from .schema import Schema
from .source import Diagnostic, Span
from .validator import ValidationDiagnostic, ValidationResult, Validator
from .values import CedarSet, EntityUid, Record

__version__ = "0.1.0"

__all__ = [
    "AuthorizationError",
    "Authorizer",
    "CedarError",
    "CedarSet",
    "Decision",
    "Diagnostic",
    "DiagnosticError",
    "Effect",
    "Entities",
    "EntitiesError",
    "Entity",
    "EntityUid",
    "EvaluationError",
    "ExtensionError",
    "ParseError",
    "Policy",
    "PolicySet",
    "PolicySetError",
    "Record",
    "Request",
    "RequestError",
    "Response",
    "Schema",
    "SchemaError",
    "Span",
    "Template",
    "ValidationDiagnostic",
    "ValidationResult",
    "Validator",
    "parse_entity_uid",
    "parse_expression",
]

# Tooling: the JSON policy format (EST) and the formatter (``cedar`` CLI: ``cedarlang.cli``).
from .est import PolicyJsonError, policy_set_from_json, policy_set_to_json
from .formatter import format_policies

__all__ += ["PolicyJsonError", "format_policies", "policy_set_from_json", "policy_set_to_json"]

LANG_VERSION = (4, 5, 0)
"""The Cedar language version implemented (Rust's ``get_lang_version()``, cedar-policy 4.12)."""

__all__ += ["LANG_VERSION"]
