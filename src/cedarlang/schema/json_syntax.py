"""The JSON schema format: reading it into a :class:`Fragment` and writing a fragment back.

Reading follows the serde rules of Rust's ``json_schema.rs``: unknown keys are errors
(``deny_unknown_fields``), duplicate keys are errors, ``entityTypes`` and ``actions`` are
required, ``null`` is accepted only where Rust has a plain ``Option`` (``appliesTo``,
``memberOf``, ``attributes``, annotation values, ``memberOf[].type``), and so on. Error
messages reuse serde's wording.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Final, NoReturn

from ..errors import SchemaError
from ..source import Diagnostic, Source, Span, decode_text
from ._names import (
    CEDAR_NAMESPACE,
    RESERVED_COMMON_TYPE_NAMES,
    is_ident,
    name_error,
    name_sort_key,
)
from .fragment import (
    ActionRaw,
    ActionRefRaw,
    Annotations,
    ApplySpecRaw,
    AttrRaw,
    CommonRefRaw,
    CommonTypeRaw,
    EntityOrCommonRaw,
    EntityRaw,
    EntityTypeRaw,
    ExtensionRaw,
    Fragment,
    NamespaceRaw,
    PrimRaw,
    RawName,
    RawType,
    RecordRaw,
    SetRaw,
)

_TYPE_FIELDS: Final = ("type", "element", "attributes", "additionalAttributes", "name")
_MISSING_NAMESPACE_HELP: Final = (
    "JSON formatted schema must specify a namespace. If you want to use the empty namespace, "
    'explicitly specify it with `{ "": {..} }`'
)
_CEDAR_FORMAT_HELP: Final = (
    "this API was expecting a schema in the JSON format; did you mean to use a different "
    "function, which expects the Cedar schema format?"
)


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers the first key it saw twice."""

    duplicate: str | None = None


def _pairs_hook(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject()
    for key, value in pairs:
        if key in obj and obj.duplicate is None:
            obj.duplicate = key
        obj[key] = value
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"invalid number `{name}`")


class _Fail(Exception):
    """A JSON schema error; ``path`` locates the offending value (or key, if ``at_key``)."""

    def __init__(self, message: str, at_key: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.at_key = at_key
        self.path: list[str | int] = []


def _fail(message: str, at_key: bool = False) -> NoReturn:
    raise _Fail(message, at_key)


class _At:
    """Context manager recording that errors raised inside happened under ``key``."""

    __slots__ = ("key",)

    def __init__(self, key: str | int) -> None:
        self.key = key

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, _Fail):
            exc.path.insert(0, self.key)


def _describe(value: Any) -> str:
    """serde's description of an unexpected JSON value."""
    if value is None:
        return "null"
    if value is True or value is False:
        return f"boolean `{'true' if value else 'false'}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f"string {json.dumps(value, ensure_ascii=False)}"
    if isinstance(value, list):
        return "sequence"
    return "map"


def _invalid_type(value: Any, expected: str) -> NoReturn:
    _fail(f"invalid type: {_describe(value)}, expected {expected}")


def _check_object(value: dict[str, Any], struct: bool) -> None:
    for key in value:
        if not isinstance(key, str):
            _fail(f"key must be a string, found {_describe(key)}")
    dup = getattr(value, "duplicate", None)
    if dup is not None:
        with _At(dup):
            if struct:
                _fail(f"duplicate field `{dup}`", at_key=True)
            _fail(f"invalid entry: found duplicate key `{dup}`", at_key=True)


def _expect_map(value: Any, expected: str = "a map") -> dict[str, Any]:
    if not isinstance(value, dict):
        _invalid_type(value, expected)
    _check_object(value, struct=False)
    return value


def _expect_struct(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _invalid_type(value, f"struct {name}")
    _check_object(value, struct=True)
    return value


def _expect_str(value: Any, expected: str = "a string") -> str:
    if not isinstance(value, str):
        _invalid_type(value, expected)
    return value


def _expect_bool(value: Any) -> bool:
    if value is not True and value is not False:
        _invalid_type(value, "a boolean")
    return bool(value)


def _expect_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        _invalid_type(value, "a sequence")
    return value


def _unknown_field(key: str, expected: Iterable[str]) -> NoReturn:
    exp = [f"`{e}`" for e in expected]
    with _At(key):
        if not exp:
            _fail(f"unknown field `{key}`, there are no fields", at_key=True)
        if len(exp) == 1:
            _fail(f"unknown field `{key}`, expected {exp[0]}", at_key=True)
        if len(exp) == 2:
            _fail(f"unknown field `{key}`, expected {exp[0]} or {exp[1]}", at_key=True)
        _fail(f"unknown field `{key}`, expected one of {', '.join(exp)}", at_key=True)


# --------------------------------------------------------------------------- names


def _raw_name(value: Any) -> RawName:
    text = _expect_str(value, "a name consisting of an optional namespace and id")
    err = name_error(text)
    if err is not None:
        _fail(f"invalid name `{text}`: {err}")
    return RawName(text)


def _names(value: Any) -> list[RawName]:
    out: list[RawName] = []
    for i, item in enumerate(_expect_list(value)):
        with _At(i):
            out.append(_raw_name(item))
    return out


def _unreserved_id(key: str) -> str:
    with _At(key):
        err = name_error(key, single=True, kind="Id")
        if err is not None:
            _fail(f"invalid id `{key}`: {err}", at_key=True)
        if key == CEDAR_NAMESPACE:
            _fail(f"The name `{key}` contains `{CEDAR_NAMESPACE}`, which is reserved", at_key=True)
    return key


def _annotations(value: Any) -> Annotations:
    obj = _expect_map(value)
    out: Annotations = {}
    for key, val in obj.items():
        with _At(key):
            if not is_ident(key):
                err = name_error(key, single=True, kind="AnyId") or "invalid identifier"
                _fail(f"invalid id `{key}`: {err}", at_key=True)
            out[key] = None if val is None else _expect_str(val)
    return out


# --------------------------------------------------------------------------- types


def _type(value: Any, extra: tuple[str, ...] = (), what: str = "") -> tuple[RawType, bool, Annotations]:
    """Parse a type object; ``extra`` lists accepted sibling keys (``required``, ``annotations``)."""
    if not isinstance(value, dict):
        _invalid_type(value, what or "builtin type or reference to type defined in commonTypes")
    _check_object(value, struct=True)
    type_name: str | None = None
    element: RawType | None = None
    attributes: dict[str, AttrRaw] | None = None
    additional: bool | None = None
    name: str | None = None
    required = True
    annotations: Annotations = {}
    for key, val in value.items():
        with _At(key):
            if key == "required" and "required" in extra:
                required = _expect_bool(val)
            elif key == "annotations" and "annotations" in extra:
                annotations = _annotations(val)
            elif key == "type":
                type_name = _expect_str(val)
            elif key == "element":
                element = _type(val)[0]
            elif key == "attributes":
                attributes = _attributes(val)
            elif key == "additionalAttributes":
                additional = _expect_bool(val)
            elif key == "name":
                name = _expect_str(val)
        if key not in _TYPE_FIELDS and key not in extra:
            _unknown_field(key, _TYPE_FIELDS)
    present = {
        "element": element is not None,
        "attributes": attributes is not None,
        "additionalAttributes": additional is not None,
        "name": name is not None,
    }

    def forbid(fields: tuple[str, ...], expected: tuple[str, ...]) -> None:
        for f in fields:
            if present[f]:
                _unknown_field(f, expected)

    everything = ("element", "attributes", "additionalAttributes", "name")
    if type_name is None:
        _fail("missing field `type`")
    ty: RawType
    if type_name in ("String", "Long", "Boolean"):
        forbid(everything, ())
        ty = PrimRaw(type_name)
    elif type_name == "Set":
        forbid(("attributes", "additionalAttributes", "name"), ("element",))
        if element is None:
            _fail("missing field `element`")
        ty = SetRaw(element)
    elif type_name == "Record":
        forbid(("element", "name"), ("attributes", "additionalAttributes"))
        if attributes is None:
            _fail("missing field `attributes`")
        ty = RecordRaw(attributes, bool(additional))
    elif type_name in ("Entity", "EntityOrCommon", "Extension"):
        forbid(("element", "attributes", "additionalAttributes"), ("name",))
        if name is None:
            _fail("missing field `name`")
        with _At("name"):
            if type_name == "Extension":
                err = name_error(name, single=True, kind="UnreservedId")
                if err is not None:
                    _fail(f"invalid extension type `{name}`: {err}")
                ty = ExtensionRaw(name)
            else:
                err = name_error(name)
                if err is not None:
                    what_ = "entity type" if type_name == "Entity" else "entity or common type"
                    _fail(f"invalid {what_} `{name}`: {err}")
                ty = EntityRaw(name) if type_name == "Entity" else EntityOrCommonRaw(name)
    else:
        forbid(everything, ())
        err = name_error(type_name)
        if err is not None:
            with _At("type"):
                _fail(f"invalid common type `{type_name}`: {err}")
        ty = CommonRefRaw(type_name)
    return ty, required, annotations


def _attributes(value: Any) -> dict[str, AttrRaw]:
    obj = _expect_map(value)
    out: dict[str, AttrRaw] = {}
    for key, val in obj.items():
        with _At(key):
            ty, required, annotations = _type(val, ("required", "annotations"), "struct TypeOfAttribute")
        out[key] = AttrRaw(ty, required, annotations)
    return out


# --------------------------------------------------------------------------- declarations


def _entity_type(value: Any) -> EntityTypeRaw:
    obj = _expect_struct(value, "EntityType")
    fields = ("memberOfTypes", "shape", "tags", "enum", "annotations")
    member_of: list[RawName] | None = None
    shape: RawType | None = None
    tags: RawType | None = None
    enum: list[str] | None = None
    annotations: Annotations = {}
    for key, val in obj.items():
        if key not in fields:
            _unknown_field(key, fields)
        with _At(key):
            if key == "memberOfTypes":
                member_of = _names(val)
            elif key == "shape":
                shape = _type(val)[0]
            elif key == "tags":
                tags = _type(val)[0]
            elif key == "enum":
                items = _expect_list(val)
                if not items:
                    _fail("the vector provided was empty, NonEmpty needs at least one element")
                enum = []
                for i, item in enumerate(items):
                    with _At(i):
                        enum.append(_expect_str(item))
            else:
                annotations = _annotations(val)
    if enum is not None:
        unexpected = [
            n for n, v in (("memberOfTypes", member_of), ("shape", shape), ("tags", tags)) if v is not None
        ]
        if unexpected:
            _fail(f"unexpected field: {', '.join(unexpected)}")
        return EntityTypeRaw(enum=enum, annotations=annotations)
    return EntityTypeRaw(
        member_of_types=member_of or [],
        shape=shape if shape is not None else RecordRaw(),
        tags=tags,
        annotations=annotations,
    )


def _apply_spec(value: Any) -> ApplySpecRaw:
    obj = _expect_struct(value, "ApplySpec")
    fields = ("resourceTypes", "principalTypes", "context")
    resources: list[RawName] | None = None
    principals: list[RawName] | None = None
    context: RawType = RecordRaw()
    for key, val in obj.items():
        if key not in fields:
            _unknown_field(key, fields)
        with _At(key):
            if key == "resourceTypes":
                resources = _names(val)
            elif key == "principalTypes":
                principals = _names(val)
            else:
                context = _type(val)[0]
    if resources is None:
        _fail("missing field `resourceTypes`")
    if principals is None:
        _fail("missing field `principalTypes`")
    return ApplySpecRaw(principals, resources, context)


def _action_ref(value: Any) -> ActionRefRaw:
    obj = _expect_struct(value, "ActionEntityUID")
    ident: str | None = None
    ty: str | None = None
    for key, val in obj.items():
        if key not in ("id", "type"):
            _unknown_field(key, ("id", "type"))
        with _At(key):
            if key == "id":
                ident = _expect_str(val)
            else:
                ty = None if val is None else _raw_name(val).name
    if ident is None:
        _fail("missing field `id`")
    return ActionRefRaw(ident, ty)


def _action(value: Any) -> ActionRaw:
    obj = _expect_struct(value, "ActionType")
    fields = ("attributes", "appliesTo", "memberOf", "annotations")
    out = ActionRaw()
    for key, val in obj.items():
        if key not in fields:
            _unknown_field(key, fields)
        with _At(key):
            if key == "attributes":
                if val is not None:
                    _expect_map(val)
                    out.has_attributes = True
            elif key == "appliesTo":
                out.applies_to = None if val is None else _apply_spec(val)
            elif key == "memberOf":
                if val is None:
                    out.member_of = None
                else:
                    refs: list[ActionRefRaw] = []
                    for i, item in enumerate(_expect_list(val)):
                        with _At(i):
                            refs.append(_action_ref(item))
                    out.member_of = refs
            else:
                out.annotations = _annotations(val)
    return out


def _common_type_name(key: str) -> str:
    _unreserved_id(key)
    if key in RESERVED_COMMON_TYPE_NAMES:
        with _At(key):
            _fail(
                f"this is reserved and cannot be the basename of a common-type declaration: {key}",
                at_key=True,
            )
    return key


def _namespace(value: Any, name: str | None) -> NamespaceRaw:
    if isinstance(value, list) and len(value) < 4:
        _fail(f"invalid length {len(value)}, expected struct NamespaceDefinition with 4 elements")
    obj = _expect_struct(value, "NamespaceDefinition")
    fields = ("commonTypes", "entityTypes", "actions", "annotations")
    out = NamespaceRaw(name)
    for key, val in obj.items():
        if key not in fields:
            _unknown_field(key, fields)
        with _At(key):
            if key == "commonTypes":
                for ct_name, ct in _expect_map(val).items():
                    _common_type_name(ct_name)
                    with _At(ct_name):
                        ty, _, annotations = _type(ct, ("annotations",), "struct CommonType")
                    out.common_types[ct_name] = CommonTypeRaw(ty, annotations)
            elif key == "entityTypes":
                for et_name, et in _expect_map(val).items():
                    _unreserved_id(et_name)
                    with _At(et_name):
                        out.entity_types[et_name] = _entity_type(et)
            elif key == "actions":
                for a_name, action in _expect_map(val).items():
                    with _At(a_name):
                        out.actions[a_name] = _action(action)
            else:
                out.annotations = _annotations(val)
    if "entityTypes" not in obj:
        _fail("missing field `entityTypes`")
    if "actions" not in obj:
        _fail("missing field `actions`")
    return out


def _fragment(value: Any) -> Fragment:
    obj = _expect_map(value)
    namespaces: list[tuple[str, NamespaceRaw]] = []
    for key, val in obj.items():
        with _At(key):
            namespaces.append((key, _namespace(val, key or None)))
    fragment = Fragment()
    for key, ns in sorted(namespaces, key=lambda kv: kv[0]):
        with _At(key):
            if key == "":
                if ns.annotations:
                    with _At("annotations"):
                        _fail("annotations are not allowed on the empty namespace")
            else:
                err = name_error(key, kind="Name")
                if err is not None:
                    _fail(f"invalid namespace `{key}`: {err}", at_key=True)
                if CEDAR_NAMESPACE in key.split("::"):
                    _fail(
                        f"invalid namespace `{key}`: The name `{key}` contains "
                        f"`{CEDAR_NAMESPACE}`, which is reserved",
                        at_key=True,
                    )
    for key, ns in namespaces:
        fragment.namespaces[key or None] = ns
    return fragment


def _locate(text: str, path: list[str | int], at_key: bool) -> Span | None:
    """The span of the value (or key) at ``path`` in the JSON ``text``, if it can be found."""
    decoder = json.JSONDecoder()
    ws = " \t\n\r"

    def skip(pos: int) -> int:
        while pos < len(text) and text[pos] in ws:
            pos += 1
        return pos

    pos = skip(0)
    try:
        for depth, comp in enumerate(path):
            last = depth == len(path) - 1
            if pos >= len(text):
                return None
            if text[pos] == "{" and isinstance(comp, str):
                pos = skip(pos + 1)
                while text[pos] != "}":
                    key, key_end = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
                    key_start = pos
                    pos = skip(skip(key_end) + 1)  # past ':'
                    if key == comp:
                        if last and at_key:
                            return Span(key_start, key_end)
                        break
                    _, pos = decoder.raw_decode(text, pos)
                    pos = skip(pos)
                    if text[pos] == ",":
                        pos = skip(pos + 1)
                else:
                    return None
            elif text[pos] == "[" and isinstance(comp, int):
                pos = skip(pos + 1)
                for _ in range(comp):
                    _, pos = decoder.raw_decode(text, pos)
                    pos = skip(pos)
                    if text[pos] != ",":
                        return None
                    pos = skip(pos + 1)
            else:
                return None
        _, end = decoder.raw_decode(text, pos)
        return Span(pos, end)
    except (ValueError, IndexError):
        return None


def parse_json_schema(data: Any, name: str = "<schema>") -> Fragment:
    """Read a JSON schema (a parsed JSON value, or JSON text) into a :class:`Fragment`."""
    text: str | None = None
    if isinstance(data, bytes | bytearray | memoryview):
        data = decode_text(data, "schema JSON", SchemaError)
    if isinstance(data, str):
        text = data
        try:
            data = json.loads(text, object_pairs_hook=_pairs_hook, parse_constant=_reject_constant)
        except json.JSONDecodeError as e:
            source = Source(text, name)
            help = None if text.lstrip().startswith("{") or not text.strip() else _CEDAR_FORMAT_HELP
            raise SchemaError(
                [Diagnostic(e.msg, Span(e.pos, min(e.pos + 1, len(text))), source, help)]
            ) from None
        except ValueError as e:
            raise SchemaError([Diagnostic(str(e))]) from None
    try:
        return _fragment(data)
    except _Fail as e:
        help = None
        if isinstance(data, dict) and any(k in data for k in ("entityTypes", "actions", "commonTypes")):
            help = _MISSING_NAMESPACE_HELP
        span = None if text is None else _locate(text, e.path, e.at_key)
        where = None if span is None or text is None else Source(text, name)
        raise SchemaError([Diagnostic(e.message, span, where, help)]) from None


# --------------------------------------------------------------------------- writing


def _annotations_json(annotations: Annotations) -> dict[str, str | None]:
    return {k: annotations[k] for k in sorted(annotations)}


def type_to_json(ty: RawType) -> dict[str, Any]:
    """The JSON form of a type (as Rust serializes ``json_schema::Type``)."""
    if isinstance(ty, PrimRaw):
        return {"type": ty.name}
    if isinstance(ty, SetRaw):
        return {"type": "Set", "element": type_to_json(ty.element)}
    if isinstance(ty, RecordRaw):
        out: dict[str, Any] = {
            "type": "Record",
            "attributes": {k: _attr_to_json(ty.attributes[k]) for k in sorted(ty.attributes)},
        }
        if ty.additional_attributes:
            out["additionalAttributes"] = True
        return out
    if isinstance(ty, EntityRaw):
        return {"type": "Entity", "name": ty.name}
    if isinstance(ty, EntityOrCommonRaw):
        return {"type": "EntityOrCommon", "name": ty.name}
    if isinstance(ty, ExtensionRaw):
        return {"type": "Extension", "name": ty.name}
    assert isinstance(ty, CommonRefRaw)
    return {"type": ty.name}


def _attr_to_json(attr: AttrRaw) -> dict[str, Any]:
    out = type_to_json(attr.type)
    if attr.annotations:
        out["annotations"] = _annotations_json(attr.annotations)
    if not attr.required:
        out["required"] = False
    return out


def _entity_type_to_json(et: EntityTypeRaw) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if et.enum is not None:
        out["enum"] = list(et.enum)
    else:
        if et.member_of_types:
            out["memberOfTypes"] = [n.name for n in et.member_of_types]
        if not (isinstance(et.shape, RecordRaw) and et.shape.is_empty()):
            out["shape"] = type_to_json(et.shape)
        if et.tags is not None:
            out["tags"] = type_to_json(et.tags)
    if et.annotations:
        out["annotations"] = _annotations_json(et.annotations)
    return out


def _action_to_json(action: ActionRaw) -> dict[str, Any]:
    out: dict[str, Any] = {}
    spec = action.applies_to
    if spec is not None:
        applies: dict[str, Any] = {
            "resourceTypes": [n.name for n in spec.resource_types],
            "principalTypes": [n.name for n in spec.principal_types],
        }
        if not (isinstance(spec.context, RecordRaw) and spec.context.is_empty()):
            applies["context"] = type_to_json(spec.context)
        out["appliesTo"] = applies
    if action.member_of is not None:
        refs: list[dict[str, str]] = []
        for ref in action.member_of:
            entry = {"id": ref.id}
            if ref.type is not None:
                entry["type"] = ref.type
            refs.append(entry)
        out["memberOf"] = refs
    if action.annotations:
        out["annotations"] = _annotations_json(action.annotations)
    return out


def namespace_to_json(ns: NamespaceRaw) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if ns.common_types:
        commons: dict[str, Any] = {}
        for name in sorted(ns.common_types):
            ct = ns.common_types[name]
            entry = type_to_json(ct.type)
            if ct.annotations:
                entry["annotations"] = _annotations_json(ct.annotations)
            commons[name] = entry
        out["commonTypes"] = commons
    out["entityTypes"] = {
        name: _entity_type_to_json(ns.entity_types[name]) for name in sorted(ns.entity_types)
    }
    out["actions"] = {name: _action_to_json(ns.actions[name]) for name in sorted(ns.actions)}
    if ns.annotations:
        out["annotations"] = _annotations_json(ns.annotations)
    return out


def sorted_namespaces(fragment: Fragment) -> list[NamespaceRaw]:
    """Namespaces in Rust's order: the empty namespace first, then by ``InternalName``."""
    keys = sorted(
        fragment.namespaces,
        key=lambda k: (k is not None, name_sort_key(k) if k is not None else ("", ())),
    )
    return [fragment.namespaces[k] for k in keys]


def fragment_to_json(fragment: Fragment) -> dict[str, Any]:
    """The JSON schema format of ``fragment`` (as Rust's ``translate-schema`` prints it)."""
    return {
        (ns.name if ns.name is not None else ""): namespace_to_json(ns) for ns in sorted_namespaces(fragment)
    }
