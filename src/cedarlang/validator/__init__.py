"""Policy validation against a schema (Cedar's strict-mode validator).

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
from .validator import Validator, policy_condition, validate

__all__ = [
    "ERROR_KINDS",
    "WARNING_KINDS",
    "ValidationDiagnostic",
    "ValidationResult",
    "Validator",
    "policy_condition",
    "validate",
]
