"""Partial requests (Rust's ``cedar-policy-core/src/tpe/request.rs``).

The principal and resource have a known entity type and a possibly unknown id; the action
is concrete; the context is known as a whole or unknown (``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..authorizer import Request, UidLike, build_context, to_uid
from ..conformance import type_mismatch, validate_context
from ..errors import CedarError, ReauthorizationError, RequestError, TpeRequestError
from ..lexical import is_entity_type_name
from ..schema import Schema
from ..schema.types import EntityRefType
from ..values import EntityUid, Record

__all__ = ["PartialEntityUid", "PartialRequest"]


@dataclass(frozen=True)
class PartialEntityUid:
    """An entity uid whose id may be unknown (``id is None``)."""

    type: str
    id: str | None = None

    @classmethod
    def of(cls, value: PartialEntityUid | UidLike, role: str = "entity") -> PartialEntityUid:
        """A partial uid from a partial uid, or from any form ``Request`` accepts for a uid."""
        if isinstance(value, PartialEntityUid):
            return value
        uid = to_uid(value, role)
        return cls(uid.type, uid.id)

    @property
    def uid(self) -> EntityUid | None:
        """The concrete uid, if the id is known."""
        return None if self.id is None else EntityUid(self.type, self.id)

    def __str__(self) -> str:
        return f"{self.type}::?" if self.id is None else str(EntityUid(self.type, self.id))


def _request_error(kind: str, message: str) -> TpeRequestError:
    return TpeRequestError(kind, message)


class PartialRequest:
    """A request whose principal / resource ids and context may be unknown, validated against
    ``schema`` on construction (Rust's ``PartialRequest::new``).

    ``principal`` and ``resource`` are :class:`PartialEntityUid` or anything
    :class:`~cedarlang.Request` accepts for a uid; ``context`` is ``None`` (unknown) or a
    record in any form ``Request`` accepts.
    """

    __slots__ = ("action", "context", "principal", "resource", "schema")

    def __init__(
        self,
        principal: PartialEntityUid | UidLike,
        action: UidLike,
        resource: PartialEntityUid | UidLike,
        context: Mapping[str, Any] | Record | str | bytes | None,
        schema: Schema,
    ) -> None:
        try:
            self.principal = PartialEntityUid.of(principal, "principal")
            self.action = to_uid(action, "action")
            self.resource = PartialEntityUid.of(resource, "resource")
        except RequestError as err:
            raise _request_error("RequestValidation", str(err)) from None
        try:
            self.context: Record | None = (
                None if context is None else build_context(context, schema, self.action)
            )
        except RequestError as err:
            raise _request_error("InvalidContext", str(err)) from None
        self.schema = schema
        self._validate()

    def _validate(self) -> None:
        schema = self.schema
        decl = schema.action(self.action)
        if decl is None:
            raise _request_error(
                "UndeclaredAction", f"request's action `{self.action}` is not declared in the schema"
            )
        for role, part, allowed in (
            ("principal", self.principal, decl.principal_types),
            ("resource", self.resource, decl.resource_types),
        ):
            if not isinstance(part.id, (str, type(None))):
                raise _request_error("InvalidEntityId", f"{role} id must be a string, got {part.id!r}")
            if not isinstance(part.type, str) or not is_entity_type_name(part.type):
                raise _request_error(
                    "InvalidEntityType", f"{role} type `{part.type}` is not an entity type name"
                )
            if part.type not in allowed:
                raise _request_error(
                    f"Invalid{role.capitalize()}Type",
                    f"{role} type `{part.type}` is not valid for `{self.action}`"
                    + (f": it applies to {', '.join(f'`{t}`' for t in allowed)}" if allowed else ""),
                )
            if schema.entity_type(part.type) is None:
                raise _request_error(
                    f"Undeclared{role.capitalize()}Type",
                    f"{role} type `{part.type}` is not declared in the schema",
                )
            uid = part.uid
            if uid is not None:
                problem = type_mismatch(uid, EntityRefType(uid.type), schema)
                if problem:
                    raise _request_error("InvalidEnumEntity", f"{role}: {problem}")
        if self.context is not None:
            try:
                validate_context(schema, self.action, self.context)
            except RequestError as err:
                raise _request_error("InvalidContext", str(err)) from None

    def __repr__(self) -> str:
        context = "?" if self.context is None else dict(self.context)
        return (
            f"PartialRequest(principal={self.principal}, action={self.action}, "
            f"resource={self.resource}, context={context!r})"
        )

    def concrete(self) -> Request | None:
        """The request, if every part is known (Rust's ``RequestBuilder::get_request``)."""
        p, r = self.principal.uid, self.resource.uid
        if p is None or r is None or self.context is None:
            return None
        return Request(p, self.action, r, self.context)

    def check_consistency(self, request: Request) -> None:
        """Raise :class:`ReauthorizationError` unless ``request`` is one of the requests this
        partial request stands for (Rust's ``PartialRequest::check_consistency``)."""
        for role, part, uid in (
            ("principal", self.principal, request.principal),
            ("resource", self.resource, request.resource),
        ):
            if part.type != uid.type:
                raise ReauthorizationError(
                    f"Inconsistent{role.capitalize()}Type",
                    f"partial request {role} type `{part.type}` does not match concrete request "
                    f"{role} type `{uid.type}`",
                )
            if part.id is not None and part.id != uid.id:
                raise ReauthorizationError(
                    f"Inconsistent{role.capitalize()}Eid",
                    f"partial request {role} id `{part.id}` does not match "
                    f"concrete request {role} id `{uid.id}`",
                )
        if request.action != self.action:
            raise ReauthorizationError(
                "InconsistentAction",
                f"partial request action `{self.action}` does not match "
                f"concrete request action `{request.action}`",
            )
        if self.context is not None and request.context != self.context:
            raise ReauthorizationError(
                "InconsistentContext", "the partial and concrete request contexts do not match"
            )


def validate_concrete_request(request: Request, schema: Schema) -> None:
    """Raise :class:`ReauthorizationError` if ``request`` does not conform to ``schema``."""
    try:
        Request(request.principal, request.action, request.resource, request.context, schema)
    except CedarError as err:
        raise ReauthorizationError("RequestValidation", str(err)) from None
