"""Policy validation against a schema (Cedar's validator: strict or permissive, with levels).

>>> from cedarlang import PolicySet, Schema, Validator
>>> schema = Schema.from_str('''
...     entity User { name: String, age?: Long };
...     action view appliesTo { principal: User, resource: User };
... ''')
>>> result = Validator(schema).validate(PolicySet.from_str(
...     'permit(principal, action, resource) when { principal.age > 18 };'))
>>> result.passed
False
>>> result.errors[0].kind
'UnsafeOptionalAttributeAccess'
"""

from .diagnostics import ERROR_KINDS, WARNING_KINDS, ValidationDiagnostic, ValidationResult
from .slicing import entities_for_request, slice_entities
from .validator import VALIDATION_MODES, ValidationMode, Validator, policy_condition, validate

__all__ = [
    "ERROR_KINDS",
    "VALIDATION_MODES",
    "WARNING_KINDS",
    "ValidationDiagnostic",
    "ValidationMode",
    "ValidationResult",
    "Validator",
    "entities_for_request",
    "policy_condition",
    "slice_entities",
    "validate",
]
