"""Lexer and parser for the Cedar schema syntax (``.cedarschema``).

The grammar follows Rust's ``cedar_schema/grammar.lalrpop``; the conversion of the parse
tree into a :class:`~cedarlang.schema.fragment.Fragment` follows ``to_json_schema.rs``
(duplicate declarations, reserved names, ``appliesTo`` checks, merging of the declarations
outside any ``namespace`` block into the empty namespace).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, NoReturn

from ..errors import SchemaError
from ..lexical import CEDAR_NAMESPACE, IDENT_PATTERN, RESERVED_WORDS, UnescapeError, unescape
from ..source import Diagnostic, Source, Span, TextInput, decode_text
from ._names import RESERVED_COMMON_TYPE_NAMES
from .fragment import (
    ActionRaw,
    ActionRefRaw,
    Annotations,
    ApplySpecRaw,
    AttrRaw,
    CommonRefRaw,
    CommonTypeRaw,
    EntityOrCommonRaw,
    EntityTypeRaw,
    Fragment,
    NamespaceRaw,
    RawName,
    RawType,
    RecordRaw,
    SetRaw,
)

# --------------------------------------------------------------------------- lexer

# Rust regex `\s` is Unicode White_Space.
_WS: Final = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_TOKEN_RE: Final = re.compile(
    rf"(?P<ws>[{_WS}]+)"
    r"|(?P<com>//[^\n\r]*)"
    rf"|(?P<id>{IDENT_PATTERN})"
    r"|(?P<num>[0-9]+)"
    r'|(?P<str>"(?:\\[^\n]|[^"\\])*")'
    r"|(?P<p>::|[,;:{}\[\]<>=?@()])"
    r"|(?P<bad>.)",
    re.S,
)

ID: Final = "id"
STR: Final = "str"
NUM: Final = "num"
EOF: Final = "eof"
BAD: Final = "bad"

#: Words the grammar lexes as their own tokens (they are identifiers everywhere else).
_KEYWORDS: Final = frozenset(
    {
        "namespace",
        "entity",
        "in",
        "type",
        "Set",
        "appliesTo",
        "principal",
        "action",
        "resource",
        "context",
        "attributes",
        "tags",
        "Long",
        "String",
        "Bool",
        "enum",
    }
)
# Tokens that may follow an identifier / a string literal / a declaration / an attribute list
# anywhere in the grammar: lalrpop only runs a reduce action (and raises its error) when the
# next token is one of these.
_FOLLOW_IDENT: Final = frozenset(
    {"::", ",", ";", "{", "}", "]", ">", "=", "?", ":", "in", "enum", "tags", "appliesTo", "attributes"}
)
_FOLLOW_STR: Final = frozenset({"?", ":", ",", ";", ")", "]", "in", "appliesTo", "attributes"})
_FOLLOW_DECL: Final = frozenset({EOF, "@", "}", "entity", "action", "type", "namespace"})
_FOLLOW_RECORD: Final = frozenset({"}"})

_FRIENDLY: Final = {ID: "identifier", STR: "string literal", NUM: "number", EOF: "end of input"}


def _schema_error(
    message: str, span: Span | None, source: Source | None, help: str | None = None
) -> SchemaError:
    return SchemaError([Diagnostic(message, span, source, help)])


def tokenize(source: Source) -> tuple[list[str], list[str], list[int], list[int]]:
    """Split ``source`` into tokens: parallel lists of kinds, texts, starts and ends."""
    text = source.text
    kinds: list[str] = []
    texts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    kind_of = {"id": ID, "str": STR, "num": NUM}
    for m in _TOKEN_RE.finditer(text):
        group = m.lastgroup
        if group == "ws" or group == "com":
            continue
        tok = m.group()
        if group == "bad":
            # reported only when the parser reaches it, as lalrpop's lazy lexer does
            kinds.append(BAD)
            texts.append(tok)
            starts.append(m.start())
            ends.append(m.end())
            break
        kinds.append(tok if group == "p" else kind_of[group])  # type: ignore[index]
        texts.append(tok)
        starts.append(m.start())
        ends.append(m.end())
    n = len(text)
    kinds.append(EOF)
    texts.append("")
    starts.append(n)
    ends.append(n)
    return kinds, texts, starts, ends


# --------------------------------------------------------------------------- parse tree


@dataclass(slots=True)
class _Annotation:
    key: str
    value: str | None
    span: Span


@dataclass(slots=True)
class _Ident:
    text: str
    span: Span


@dataclass(slots=True)
class _EntityDecl:
    names: list[_Ident]
    parents: list[RawName]
    attrs: RecordRaw
    tags: RawType | None
    enum: list[str] | None
    span: Span
    annotations: Annotations = field(default_factory=dict)


@dataclass(slots=True)
class _AppDecl:
    kind: str  # "principal" | "resource" | "context"
    types: list[RawName] | None
    context: RawType | None
    span: Span


@dataclass(slots=True)
class _ActionDecl:
    names: list[_Ident]
    parents: list[ActionRefRaw] | None
    app_decls: list[_AppDecl] | None
    span: Span
    annotations: Annotations = field(default_factory=dict)


@dataclass(slots=True)
class _TypeDecl:
    name: _Ident
    type: RawType
    span: Span
    annotations: Annotations = field(default_factory=dict)


_Decl = _EntityDecl | _ActionDecl | _TypeDecl


@dataclass(slots=True)
class _Namespace:
    path: list[_Ident] | None
    decls: list[_Decl]
    annotations: Annotations
    span: Span | None


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.kinds, self.texts, self.starts, self.ends = tokenize(source)
        self.i = 0

    # -- token helpers
    def span(self) -> Span:
        return Span(self.starts[self.i], self.ends[self.i])

    def is_kw(self, word: str) -> bool:
        return self.kinds[self.i] == ID and self.texts[self.i] == word

    def error(self, message: str, span: Span | None, help: str | None = None) -> NoReturn:
        raise _schema_error(message, span, self.source, help)

    def lookahead_key(self) -> str:
        """The current token as lalrpop's grammar sees it (keywords are distinct tokens)."""
        kind = self.kinds[self.i]
        if kind == ID:
            text = self.texts[self.i]
            return text if text in _KEYWORDS else ID
        return kind

    def reduce_error(
        self, message: str, span: Span | None, follow: frozenset[str], help: str | None = None
    ) -> NoReturn:
        """Raise an error that lalrpop raises when it reduces a rule: that happens only if the
        next token may follow the rule somewhere in the grammar (``follow``); otherwise the
        next token is reported as unexpected (or invalid) instead."""
        if self.lookahead_key() in follow:
            self.error(message, span, help)
        self.unexpected()

    def advance(self, count: int = 1) -> None:
        self.i += count

    def unexpected(self, *expected: str) -> NoReturn:
        kind = self.kinds[self.i]
        if kind == BAD:
            self.error("invalid token", self.span())
        help = None
        if expected:
            names = [_FRIENDLY.get(e, f"`{e}`") for e in expected]
            if len(names) == 1:
                help = f"expected {names[0]}"
            else:
                help = "expected " + ", ".join(names[:-1]) + f" or {names[-1]}"
        if kind == EOF:
            self.error("unexpected end of input", self.span(), help)
        self.error(f"unexpected token `{self.texts[self.i]}`", self.span(), help)

    def expect(self, kind: str) -> int:
        """Consume a punctuation token of ``kind``; return its start offset."""
        if self.kinds[self.i] != kind:
            self.unexpected(kind)
        start = self.starts[self.i]
        self.advance()
        return start

    def prev_end(self) -> int:
        return self.ends[self.i - 1]

    # -- terminals
    def any_ident(self) -> _Ident:
        if self.kinds[self.i] != ID:
            self.unexpected(ID)
        tok = _Ident(self.texts[self.i], self.span())
        self.advance()
        return tok

    def ident(self) -> _Ident:
        tok = self.any_ident()
        if tok.text in RESERVED_WORDS:
            self.reduce_error(f"`{tok.text}` is a reserved identifier", tok.span, _FOLLOW_IDENT)
        return tok

    def string(self) -> tuple[str, Span]:
        if self.kinds[self.i] != STR:
            self.unexpected(STR)
        raw = self.texts[self.i]
        span = self.span()
        self.advance()
        try:
            return unescape(raw[1:-1]), span
        except UnescapeError as e:
            self.reduce_error(
                "Invalid escape codes",
                span,
                _FOLLOW_STR,
                str(e),
            )

    def name(self) -> tuple[str, Span]:
        """``Name := IDENT | STR``."""
        if self.kinds[self.i] == STR:
            return self.string()
        tok = self.ident()
        return tok.text, tok.span

    def path(self) -> tuple[list[_Ident], Span]:
        parts = [self.ident()]
        while self.kinds[self.i] == "::" and self.kinds[self.i + 1] == ID:
            self.advance()
            parts.append(self.ident())
        if self.kinds[self.i] == "::":
            # `A::` followed by something that is not an identifier
            self.advance()
            self.unexpected(ID)
        return parts, Span(parts[0].span.start, parts[-1].span.end)

    def raw_name(self) -> RawName:
        parts, span = self.path()
        return RawName("::".join(p.text for p in parts), span)

    # -- annotations
    def annotations(self) -> list[_Annotation]:
        anns: list[_Annotation] = []
        while self.kinds[self.i] == "@":
            start = self.starts[self.i]
            self.advance()
            key = self.any_ident()
            value: str | None = None
            if self.kinds[self.i] == "(":
                self.advance()
                value, _ = self.string()
                self.expect(")")
            anns.append(_Annotation(key.text, value, Span(start, self.prev_end())))
        return anns

    def dedupe(self, anns: list[_Annotation], follow: frozenset[str]) -> Annotations:
        out: Annotations = {}
        first: dict[str, _Annotation] = {}
        for ann in anns:
            if ann.key in first:
                self.reduce_error(
                    f"duplicate annotations: `{ann.key}`",
                    first[ann.key].span,
                    follow,
                    "annotation keys must be unique",
                )
            first[ann.key] = ann
            out[ann.key] = ann.value if ann.value is not None else ""
        return out

    # -- types
    def type(self) -> RawType:
        kind = self.kinds[self.i]
        if kind == "{":
            return self.record()
        if kind == ID:
            if self.texts[self.i] == "Set" and self.kinds[self.i + 1] == "<":
                start = self.starts[self.i]
                self.advance(2)
                element = self.type()
                self.expect(">")
                return SetRaw(element, span=Span(start, self.prev_end()))
            name = self.raw_name()
            return EntityOrCommonRaw(name.name, span=name.span)
        self.unexpected(ID, "Set", "{")

    def record(self) -> RecordRaw:
        start = self.expect("{")
        attrs = self.attr_decls("}")
        self.expect("}")
        return RecordRaw(attrs, span=Span(start, self.prev_end()))

    def attr_decls(self, closer: str) -> dict[str, AttrRaw]:
        """``AttrDecls``, up to (not including) ``closer``; duplicate names: the last one wins."""
        entries: list[tuple[str, list[_Annotation], bool, RawType, Span]] = []
        while self.kinds[self.i] != closer:
            start = self.starts[self.i]
            anns = self.annotations()
            name, _ = self.name()
            required = True
            if self.kinds[self.i] == "?":
                required = False
                self.advance()
            self.expect(":")
            ty = self.type()
            entries.append((name, anns, required, ty, Span(start, self.prev_end())))
            if self.kinds[self.i] == ",":
                self.advance()
                continue
            if self.kinds[self.i] != closer:
                self.unexpected(",", closer)
        # Rust's right-recursive rule checks annotations once the list is complete, last first
        deduped = [self.dedupe(e[1], _FOLLOW_RECORD) for e in reversed(entries)][::-1]
        attrs: dict[str, AttrRaw] = {}
        for (name, _, required, ty, span), attr_anns in zip(entries, deduped, strict=True):
            attrs[name] = AttrRaw(ty, required, attr_anns, span)
        return attrs

    # -- declarations
    def ent_types(self) -> list[RawName]:
        """``EntTypes := Path | '[' [Path {',' Path}] ']'``."""
        if self.kinds[self.i] != "[":
            return [self.raw_name()]
        self.advance()
        out: list[RawName] = []
        if self.kinds[self.i] == "]":
            self.advance()
            return out
        while True:
            out.append(self.raw_name())
            if self.kinds[self.i] == ",":
                self.advance()
                continue
            self.expect("]")
            return out

    def entity(self, start: int) -> _EntityDecl:
        names = [self.ident()]
        while self.kinds[self.i] == ",":
            self.advance()
            names.append(self.ident())
        if self.is_kw("enum"):
            self.advance()
            self.expect("[")
            choices = [self.string()[0]]
            while self.kinds[self.i] == ",":
                self.advance()
                choices.append(self.string()[0])
            self.expect("]")
            self.expect(";")
            return _EntityDecl(names, [], RecordRaw(), None, choices, Span(start, self.prev_end()))
        parents: list[RawName] = []
        if self.is_kw("in"):
            self.advance()
            parents = self.ent_types()
        attrs = RecordRaw(span=self.span())
        if self.kinds[self.i] == "=":
            self.advance()
            if self.kinds[self.i] != "{":
                self.unexpected("{")
            attrs = self.record()
        elif self.kinds[self.i] == "{":
            attrs = self.record()
        tags: RawType | None = None
        if self.is_kw("tags"):
            self.advance()
            tags = self.type()
        if self.kinds[self.i] != ";":
            expected = ["in", "=", "{", "tags", ";"] if not parents else ["=", "{", "tags", ";"]
            self.unexpected(*expected)
        self.advance()
        return _EntityDecl(names, parents, attrs, tags, None, Span(start, self.prev_end()))

    def qual_name(self) -> ActionRefRaw:
        """``QualName := Name | Path '::' STR``."""
        if self.kinds[self.i] == STR:
            text, span = self.string()
            return ActionRefRaw(text, None, span)
        first = self.ident()
        parts = [first]
        while self.kinds[self.i] == "::":
            if self.kinds[self.i + 1] == ID:
                self.advance()
                parts.append(self.ident())
            elif self.kinds[self.i + 1] == STR:
                self.advance()
                text, span = self.string()
                ty = "::".join(p.text for p in parts)
                return ActionRefRaw(text, ty, Span(first.span.start, span.end))
            else:
                self.advance()
                self.unexpected(ID, STR)
        if len(parts) > 1:
            self.unexpected("::")
        return ActionRefRaw(first.text, None, first.span)

    def app_decls(self) -> list[_AppDecl]:
        decls: list[_AppDecl] = []
        while True:
            start = self.starts[self.i]
            if self.is_kw("principal") or self.is_kw("resource"):
                kind = self.texts[self.i]
                self.advance()
                self.expect(":")
                types = self.ent_types()
                decls.append(_AppDecl(kind, types, None, Span(start, self.prev_end())))
            elif self.is_kw("context"):
                self.advance()
                self.expect(":")
                ctx: RawType
                if self.kinds[self.i] == "{":
                    ctx = self.record()
                else:
                    name = self.raw_name()
                    ctx = CommonRefRaw(name.name, span=name.span)
                decls.append(_AppDecl("context", None, ctx, Span(start, self.prev_end())))
            else:
                self.unexpected("principal", "resource", "context")
            if self.kinds[self.i] == ",":
                self.advance()
                if self.kinds[self.i] == "}":
                    return decls
                continue
            if self.kinds[self.i] == "}":
                return decls
            self.unexpected(",", "}")

    def action(self, start: int) -> _ActionDecl:
        names = [_Ident(*self.name())]
        while self.kinds[self.i] == ",":
            self.advance()
            names.append(_Ident(*self.name()))
        parents: list[ActionRefRaw] | None = None
        if self.is_kw("in"):
            self.advance()
            if self.kinds[self.i] == "[":
                self.advance()
                parents = [self.qual_name()]
                while self.kinds[self.i] == ",":
                    self.advance()
                    parents.append(self.qual_name())
                self.expect("]")
            else:
                parents = [self.qual_name()]
        app: list[_AppDecl] | None = None
        if self.is_kw("appliesTo"):
            self.advance()
            self.expect("{")
            app = self.app_decls()
            self.expect("}")
        if self.is_kw("attributes"):
            self.advance()
            self.expect("{")
            self.expect("}")
        if self.kinds[self.i] != ";":
            expected = []
            if parents is None and app is None:
                expected.append("in")
            if app is None:
                expected.append("appliesTo")
            expected += ["attributes", ";"]
            self.unexpected(*expected)
        self.advance()
        return _ActionDecl(names, parents, app, Span(start, self.prev_end()))

    def type_decl(self, start: int) -> _TypeDecl:
        name = self.ident()
        self.expect("=")
        ty = self.type()
        self.expect(";")
        return _TypeDecl(name, ty, Span(start, self.prev_end()))

    def decl(self, anns: list[_Annotation]) -> _Decl:
        start = self.starts[self.i]
        decl: _Decl
        if self.is_kw("entity"):
            self.advance()
            decl = self.entity(start)
        elif self.is_kw("action"):
            self.advance()
            decl = self.action(start)
        elif self.is_kw("type"):
            self.advance()
            decl = self.type_decl(start)
        else:
            self.unexpected("entity", "action", "type")
        decl.annotations = self.dedupe(anns, _FOLLOW_DECL)
        return decl

    def schema(self) -> list[_Namespace]:
        out: list[_Namespace] = []
        while self.kinds[self.i] != EOF:
            anns = self.annotations()
            if self.is_kw("namespace"):
                self.advance()
                path, path_span = self.path()
                self.expect("{")
                decls: list[_Decl] = []
                while self.kinds[self.i] != "}":
                    if self.kinds[self.i] == EOF:
                        self.unexpected("}")
                    inner = self.annotations()
                    decls.append(self.decl(inner))
                self.advance()
                out.append(_Namespace(path, decls, self.dedupe(anns, _FOLLOW_DECL), path_span))
            elif self.kinds[self.i] == ID:
                decl = self.decl(anns)
                out.append(_Namespace(None, [decl], {}, None))
            else:
                self.unexpected("namespace", "entity", "action", "type", "@")
        return out


# --------------------------------------------------------------------------- conversion


class _Converter:
    """Parse tree → :class:`Fragment`, with the checks of Rust's ``to_json_schema.rs``."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def error(self, message: str, span: Span | None, help: str | None = None) -> SchemaError:
        return _schema_error(message, span, self.source, help)

    def convert(self, namespaces: list[_Namespace]) -> Fragment:
        qualified = [ns for ns in namespaces if ns.path is not None]
        unqualified_decls = [d for ns in namespaces if ns.path is None for d in ns.decls]
        all_ns = list(qualified)
        if unqualified_decls:
            all_ns.append(_Namespace(None, unqualified_decls, {}, None))

        # build_namespace_bindings: reserved namespace names and duplicate declarations
        errors: list[SchemaError] = []
        for ns in all_ns:
            err = self.check_namespace_record(ns)
            if err is not None:
                errors.append(err)
        if errors:
            raise errors[0]
        seen: dict[str | None, _Namespace] = {}
        for ns in all_ns:
            key = self.ns_name(ns)
            if key in seen:
                raise self.error(
                    f"duplicate namespace id: `{key or ''}`",
                    ns.span,
                    "a namespace may only be declared once",
                )
            seen[key] = ns

        fragment = Fragment(source=self.source)
        for ns in all_ns:
            fragment.namespaces[self.ns_name(ns)] = self.convert_namespace(ns)
        return fragment

    @staticmethod
    def ns_name(ns: _Namespace) -> str | None:
        return None if ns.path is None else "::".join(p.text for p in ns.path)

    def check_namespace_record(self, ns: _Namespace) -> SchemaError | None:
        if ns.path is not None and any(p.text == CEDAR_NAMESPACE for p in ns.path):
            return self.reserved_name(ns.span)
        entities: dict[str, Span] = {}
        actions: dict[str, Span] = {}
        commons: dict[str, Span] = {}
        for decl in ns.decls:
            if isinstance(decl, _EntityDecl):
                for ident in decl.names:
                    if ident.text in entities:
                        return self.duplicate(ident)
                    entities[ident.text] = ident.span
        for decl in ns.decls:
            if isinstance(decl, _ActionDecl):
                for ident in decl.names:
                    if ident.text in actions:
                        return self.duplicate(ident)
                    actions[ident.text] = ident.span
        for decl in ns.decls:
            if isinstance(decl, _TypeDecl):
                if decl.name.text in commons:
                    return self.duplicate(decl.name)
                commons[decl.name.text] = decl.name.span
        return None

    def duplicate(self, ident: _Ident) -> SchemaError:
        return self.error(f"`{ident.text}` is declared twice", ident.span, "remove one of the declarations")

    def reserved_name(self, span: Span | None) -> SchemaError:
        return self.error(
            "use of the reserved `__cedar` namespace",
            span,
            "Names containing `__cedar` (for example: `__cedar::A`, `A::__cedar`, or "
            "`A::__cedar::B`) are reserved",
        )

    def convert_namespace(self, ns: _Namespace) -> NamespaceRaw:
        out = NamespaceRaw(self.ns_name(ns), annotations=ns.annotations, span=ns.span)
        entity_errors: list[SchemaError] = []
        action_errors: list[SchemaError] = []
        for decl in ns.decls:
            if isinstance(decl, _EntityDecl):
                for ident in decl.names:
                    if ident.text == CEDAR_NAMESPACE:
                        entity_errors.append(self.reserved_name(ident.span))
                        continue
                    out.entity_types[ident.text] = EntityTypeRaw(
                        member_of_types=list(decl.parents) if decl.enum is None else [],
                        shape=decl.attrs,
                        tags=decl.tags,
                        enum=None if decl.enum is None else list(decl.enum),
                        annotations=dict(decl.annotations),
                        span=ident.span,
                    )
        if entity_errors:
            raise entity_errors[0]
        for decl in ns.decls:
            if isinstance(decl, _ActionDecl):
                try:
                    spec = self.convert_app_decls(decl)
                except SchemaError as e:
                    action_errors.append(e)
                    continue
                for ident in decl.names:
                    out.actions[ident.text] = ActionRaw(
                        applies_to=_copy_spec(spec),
                        member_of=None if decl.parents is None else list(decl.parents),
                        annotations=dict(decl.annotations),
                        span=ident.span,
                    )
        if action_errors:
            raise action_errors[0]
        for decl in ns.decls:
            if isinstance(decl, _TypeDecl):
                name = decl.name.text
                if name == CEDAR_NAMESPACE:
                    raise self.reserved_name(decl.name.span)
                if name in RESERVED_COMMON_TYPE_NAMES:
                    raise self.error(
                        f"this uses a reserved schema keyword: `{name}`",
                        decl.name.span,
                        "Keywords such as `entity`, `extension`, `set` and `record` cannot be "
                        "used as common type names",
                    )
                out.common_types[name] = CommonTypeRaw(decl.type, dict(decl.annotations), decl.name.span)
        return out

    def convert_app_decls(self, decl: _ActionDecl) -> ApplySpecRaw:
        name = decl.names[0]
        if decl.app_decls is None:
            return ApplySpecRaw()
        principals: _AppDecl | None = None
        resources: _AppDecl | None = None
        context: _AppDecl | None = None
        for app in decl.app_decls:
            if app.kind == "context":
                if context is not None:
                    raise self.error(
                        f"duplicate context declaration in action `{name.text}`",
                        app.span,
                        "Try either deleting one of the declarations, or merging into a single declaration",
                    )
                context = app
                continue
            existing = principals if app.kind == "principal" else resources
            if existing is not None:
                raise self.error(
                    f"duplicate `{app.kind}` declaration in action `{name.text}`",
                    app.span,
                    f"Actions may only have a single {app.kind} declaration, but a {app.kind} "
                    f"declaration may specify a list of entity types like "
                    f"`{app.kind}: [X, Y, Z]`",
                )
            if not app.types:
                raise self.error(
                    f"for action `{name.text}`, `{app.kind}` is `[]`, which is invalid",
                    app.span,
                    _NO_PR_HELP,
                )
            if app.kind == "principal":
                principals = app
            else:
                resources = app
        if resources is None:
            raise self.error(f"missing `resource` declaration for `{name.text}`", name.span, _NO_PR_HELP)
        if principals is None:
            raise self.error(f"missing `principal` declaration for `{name.text}`", name.span, _NO_PR_HELP)
        ctx: RawType = RecordRaw() if context is None else (context.context or RecordRaw())
        return ApplySpecRaw(list(principals.types or []), list(resources.types or []), ctx)


_NO_PR_HELP: Final = (
    "Every action must define both `principal` and `resource` targets, and the `principal` "
    "and `resource` lists must not be `[]`."
)


def _copy_spec(spec: ApplySpecRaw) -> ApplySpecRaw:
    return ApplySpecRaw(list(spec.principal_types), list(spec.resource_types), spec.context)


def parse_cedar_schema(text: TextInput, name: str = "<schema>") -> Fragment:
    """Parse Cedar schema syntax (text or UTF-8 bytes) into a :class:`Fragment` (raises
    :class:`SchemaError`)."""
    text = decode_text(text, "schema text", SchemaError)
    source = Source(text, name)
    parser = _Parser(source)
    try:
        namespaces = parser.schema()
    except SchemaError as e:
        if text.lstrip().startswith("{"):
            d = e.diagnostics[0]
            hint = (
                "this API was expecting a schema in the Cedar schema format; did you mean to "
                "use a different function, which expects a JSON-format Cedar schema"
            )
            help = f"{d.help}\n{hint}" if d.help else hint
            raise SchemaError([Diagnostic(d.message, d.span, d.source, help)]) from None
        raise
    return _Converter(source).convert(namespaces)
