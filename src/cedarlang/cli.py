"""``cedar``: the command-line interface, modelled on Rust's ``cedar`` CLI.

Commands: ``authorize``, ``partially-authorize``, ``evaluate``, ``validate``, ``check-parse``,
``format``, ``link``, ``translate-policy``, ``translate-schema``, ``visualize``, ``new``,
``run-tests``, ``language-version`` and ``license`` (docs/cli-parity.md maps Rust's flags).
In Cedar syntax, a policy's ``@id`` annotation is its id, as in Rust's CLI. Exit codes
follow Rust's: 0 success (ALLOW), 1 failure, 2 DENY, 3 validation failure, 4 UNKNOWN (a
partial authorization the unknowns leave open).

Output is coloured on a terminal (with ``rich``, if installed) and plain when piped;
``--error-format plain`` (or ``NO_COLOR``) turns colour off, ``--error-format json``
prints errors as JSON objects. Parse errors show the source line with a caret.

Needs the ``cli`` extra: ``pip install cedarlang[cli]``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import click

from . import est
from .authorizer import Authorizer, Decision, Request, to_uid
from .entities import Entities
from .errors import CedarError, DiagnosticError, EvaluationError
from .evaluator import Interpreter
from .formatter import format_policies
from .parser import parse_expression
from .policy import PolicySet
from .schema import Schema
from .source import Diagnostic
from .values import EntityUid, Record, to_cedar

__all__ = ["main"]

SUCCESS = 0
FAILURE = 1
AUTHORIZE_DENY = 2
VALIDATION_FAILURE = 3
UNKNOWN = 4  # `partially-authorize`: the unknowns leave the decision open


class CliFailure(Exception):
    """Stop the command with exit code 1 after reporting ``error``."""

    def __init__(self, error: BaseException | str) -> None:
        super().__init__(str(error))
        self.error = error


# ---------------------------------------------------------------------------
# Output


@dataclass
class Output:
    """Where and how to print: colour only on a terminal, never for ``plain``/``NO_COLOR``."""

    error_format: str = "human"
    color: bool = False
    err_color: bool = False

    @classmethod
    def detect(cls, error_format: str) -> Output:
        allowed = error_format == "human" and "NO_COLOR" not in os.environ
        return cls(error_format, allowed and _is_tty(sys.stdout), allowed and _is_tty(sys.stderr))

    def echo(self, text: str = "", style: str | None = None, *, err: bool = False, nl: bool = True) -> None:
        color = self.err_color if err else self.color
        if style and color:
            _print_rich(text, style, err, nl)
        else:
            click.echo(text, err=err, nl=nl)

    def error(self, error: BaseException | str) -> None:
        """Report an error on stderr (parse errors with their source line and caret)."""
        if self.error_format == "json":
            for item in _error_json(error):
                click.echo(json.dumps(item, ensure_ascii=False), err=True)
            return
        if isinstance(error, DiagnosticError) and error.diagnostics:
            click.echo(error.render(color=self.err_color), err=True)
        else:  # the same renderer, for an error without a source position
            click.echo(Diagnostic(str(error)).render(color=self.err_color), err=True)


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _print_rich(text: str, style: str, err: bool, nl: bool) -> None:
    try:
        from rich.console import Console
        from rich.text import Text
    except ImportError:  # rich is optional: fall back to click's styling
        click.echo(click.style(text, bold="bold" in style, fg=style.split()[-1]), err=err, nl=nl)
        return
    console = Console(stderr=err, soft_wrap=True, highlight=False, force_terminal=True)
    console.print(Text(text, style=style), end="\n" if nl else "")


def _error_json(error: BaseException | str) -> Iterator[dict[str, Any]]:
    if isinstance(error, DiagnosticError) and error.diagnostics:
        for d in error.diagnostics:
            yield {
                "message": d.message,
                "severity": d.severity,
                "file": d.source.name if d.source is not None else None,
                "line": d.line,
                "column": d.column,
                "help": d.help,
            }
    else:
        yield {"message": str(error), "severity": "error"}


def _out(ctx: click.Context) -> Output:
    out = ctx.find_object(Output)
    return out if out is not None else Output()


def _finish(ctx: click.Context, code: int) -> NoReturn:
    ctx.exit(code)
    raise AssertionError("unreachable")  # pragma: no cover


# ---------------------------------------------------------------------------
# Inputs


def _read(path: str | None, what: str) -> tuple[str, str]:
    """(text, name) of a file, or of stdin for ``None`` / ``-``."""
    if path is None or path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        return Path(path).read_text(encoding="utf-8"), path
    except OSError as err:
        raise CliFailure(f"failed to read {what} file `{path}`: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise CliFailure(f"{what} file `{path}` is not UTF-8: {err}") from None


def _load_json(path: str, what: str) -> Any:
    text, _ = _read(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise CliFailure(f"failed to parse {what} file `{path}` as JSON: {err}") from None


def _load_policies(path: str | None, policy_format: str) -> PolicySet:
    """A policy file; in Cedar syntax, a policy or template with an ``@id`` annotation takes
    it as its id (Rust's ``rename_from_id_annotation``), in JSON the ids are the keys."""
    text, name = _read(path, "policies")
    if policy_format == "json":
        return est.policy_set_from_json(text)
    return PolicySet.from_str(text, name, ids_from_annotation=True)


def _load_schema(path: str, schema_format: str | None) -> Schema:
    text, name = _read(path, "schema")
    fmt = schema_format or ("json" if path.endswith(".json") or text.lstrip().startswith("{") else "cedar")
    if fmt == "json":
        return Schema.from_json(text, name)
    return Schema.from_str(text, name)


def _add_links(pset: PolicySet, path: str | None, *, allow_missing: bool = False) -> None:
    """Apply the links of a ``--template-linked`` file (empty: none). A missing file is an
    error, as in Rust, except for ``link`` (``allow_missing``), which creates it."""
    for link in _read_links(path, allow_missing=allow_missing):
        try:
            pset.link(link["template_id"], link["link_id"], link["args"])
        except (KeyError, TypeError):
            raise CliFailure(
                f'malformed template link in `{path}`: expected {{"template_id", "link_id", "args"}}'
            ) from None


def _read_links(path: str | None, *, allow_missing: bool = False) -> list[dict[str, Any]]:
    if path is None or (allow_missing and not Path(path).exists()):
        return []
    text, _ = _read(path, "template-linked")
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise CliFailure(f"failed to parse template-linked file `{path}`: {err}") from None
    if not isinstance(data, list):
        raise CliFailure(f"template-linked file `{path}` must hold a JSON list")
    return data


@dataclass
class RequestParts:
    principal: EntityUid | None = None
    action: EntityUid | None = None
    resource: EntityUid | None = None
    context: Any = None  # none given: empty (unknown for `partially-authorize`)


def _request_parts(
    principal: str | None,
    action: str | None,
    resource: str | None,
    context_file: str | None,
    request_json: str | None,
) -> RequestParts:
    if request_json is not None:
        if any(x is not None for x in (principal, action, resource, context_file)):
            raise CliFailure(
                "--request-json cannot be combined with --principal/--action/--resource/--context"
            )
        data = _load_json(request_json, "request-json")
        if not isinstance(data, dict):
            raise CliFailure(f"request-json file `{request_json}` must hold a JSON object")
        parts = RequestParts(context=data.get("context"))
        for role in ("principal", "action", "resource"):
            if data.get(role) is not None:
                setattr(parts, role, to_uid(data[role], role))
        return parts
    parts = RequestParts()
    for role, value in (("principal", principal), ("action", action), ("resource", resource)):
        if value is not None:
            setattr(parts, role, to_uid(value, role))
    if context_file is not None:
        parts.context = _load_json(context_file, "context")
    return parts


def _build_request(parts: RequestParts, schema: Schema | None, validate: bool) -> Request:
    missing = [r for r in ("principal", "action", "resource") if getattr(parts, r) is None]
    if missing:
        raise CliFailure(f"the request needs a {', '.join(missing)} (--{missing[0]} or --request-json)")
    assert parts.principal and parts.action and parts.resource
    if validate or schema is None:
        return Request(parts.principal, parts.action, parts.resource, parts.context, schema=schema)
    # `--request-validation false` skips the scope checks, but as in Rust the context is
    # still read and checked with the schema (`Context::from_json_value(.., Some(schema))`)
    from .authorizer import build_context
    from .conformance import validate_context

    context = build_context(parts.context, schema, parts.action)
    validate_context(schema, parts.action, context)
    return Request.checked(parts.principal, parts.action, parts.resource, context)


def _validator_class() -> Any:
    """``cedarlang.Validator`` (``Validator(schema).validate(pset)`` → ``.passed``, ``.errors``,
    ``.warnings``, each diagnostic with ``.render()``)."""
    import cedarlang

    validator_class = getattr(cedarlang, "Validator", None)
    if validator_class is None:
        raise CliFailure("policy validation is not available in this version of cedarlang")
    return validator_class


def _run(ctx: click.Context, body: Any) -> NoReturn:
    """Run a command body returning an exit code; report errors and exit 1 on failure."""
    out = _out(ctx)
    try:
        code = body(out)
    except CliFailure as failure:
        out.error(failure.error)
        code = FAILURE
    except CedarError as err:
        out.error(err)
        code = FAILURE
    _finish(ctx, code)


# ---------------------------------------------------------------------------
# Options shared by several commands

_policies_option = click.option(
    "-p", "--policies", "policies_file", metavar="FILE", help="Policy file (default: standard input)."
)
_policy_format_option = click.option(
    "--policy-format",
    type=click.Choice(["cedar", "human", "json"]),
    default="cedar",
    show_default=True,
    help="Format of the policy file.",
)
_schema_format_option = click.option(
    "--schema-format",
    type=click.Choice(["cedar", "human", "json"]),
    default=None,
    help="Format of the schema file (default: JSON if it looks like JSON).",
)


def _norm_format(fmt: str | None) -> str | None:
    return "cedar" if fmt == "human" else fmt


def _request_options(f: Any) -> Any:
    options = [
        click.option("-l", "--principal", help='Principal of the request, e.g. User::"alice".'),
        click.option("-a", "--action", help='Action of the request, e.g. Action::"view".'),
        click.option("-r", "--resource", help='Resource of the request, e.g. File::"a.txt".'),
        click.option(
            "-c", "--context", "context_file", metavar="FILE", help="JSON file with the context record."
        ),
        click.option(
            "--request-json",
            metavar="FILE",
            help="JSON file with the whole request (principal, action, resource, context).",
        ),
        click.option(
            "--request-validation",
            type=bool,
            default=True,
            show_default=True,
            help="Validate the request against the schema (if one is given).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


# ---------------------------------------------------------------------------
# Commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(None, "-V", "--version", package_name="cedarlang", prog_name="cedar")
@click.option(
    "-f",
    "--error-format",
    type=click.Choice(["human", "plain", "json"]),
    default="human",
    envvar="CEDAR_ERROR_FORMAT",
    show_default=True,
    help="How to report errors: human (colour on a terminal), plain, or json.",
)
@click.pass_context
def main(ctx: click.Context, error_format: str) -> None:
    """Cedar policy tools: authorize requests, evaluate expressions, validate, format,
    link templates, translate policies and schemas, and run tests."""
    ctx.obj = Output.detect(error_format)


@main.command()
@_request_options
@_policies_option
@_policy_format_option
@click.option("-k", "--template-linked", "links_file", metavar="FILE", help="JSON file of template links.")
@click.option("-s", "--schema", "schema_file", metavar="FILE", help="Schema file (Cedar or JSON syntax).")
@_schema_format_option
@click.option("--entities", "entities_file", metavar="FILE", required=True, help="Entities JSON file.")
@click.option("-v", "--verbose", is_flag=True, help="Also say when no policy applied.")
@click.option("-t", "--timing", is_flag=True, help="Report how long authorization took.")
@click.pass_context
def authorize(
    ctx: click.Context,
    principal: str | None,
    action: str | None,
    resource: str | None,
    context_file: str | None,
    request_json: str | None,
    request_validation: bool,
    policies_file: str | None,
    policy_format: str,
    links_file: str | None,
    schema_file: str | None,
    schema_format: str | None,
    entities_file: str,
    verbose: bool,
    timing: bool,
) -> None:
    """Decide an authorization request: prints ALLOW or DENY (exit 0 or 2)."""

    def body(out: Output) -> int:
        schema = _load_schema(schema_file, _norm_format(schema_format)) if schema_file else None
        parts = _request_parts(principal, action, resource, context_file, request_json)
        request = _build_request(parts, schema, request_validation)
        pset = _load_policies(policies_file, _norm_format(policy_format) or "cedar")
        _add_links(pset, links_file)
        entities_text, _ = _read(entities_file, "entities")
        entities = Entities.from_json(entities_text, schema=schema)
        start = time.perf_counter()
        response = Authorizer().is_authorized(request, pset, entities)
        elapsed = time.perf_counter() - start
        if response.allowed:
            out.echo("ALLOW", "bold green")
        else:
            out.echo("DENY", "bold red")
        if response.reasons:
            out.echo()
            out.echo("note: this decision was due to the following policies:")
            for reason in sorted(response.reasons):
                out.echo(f"  {reason}")
        elif verbose:
            out.echo()
            out.echo("note: no policies applied to this request")
        if response.errors:
            out.echo()
            for error in response.errors:
                out.echo(str(error), "yellow")
        if timing:
            out.echo()
            out.echo(f"Authorization Time (micro seconds) : {int(elapsed * 1_000_000)}")
        return SUCCESS if response.allowed else AUTHORIZE_DENY

    _run(ctx, body)


@main.command("partially-authorize")
@click.option("-l", "--principal", help='Principal of the request, e.g. User::"alice" (default: unknown).')
@click.option("-a", "--action", help='Action of the request, e.g. Action::"view" (default: unknown).')
@click.option("-r", "--resource", help='Resource of the request, e.g. File::"a.txt" (default: unknown).')
@click.option(
    "-c", "--context", "context_file", metavar="FILE", help="JSON file with the context (default: unknown)."
)
@click.option(
    "--request-json",
    metavar="FILE",
    help="JSON file with the request; a missing principal, action, resource or context is unknown.",
)
@_policies_option
@_policy_format_option
@click.option("-k", "--template-linked", "links_file", metavar="FILE", help="JSON file of template links.")
@click.option("-s", "--schema", "schema_file", metavar="FILE", help="Schema file (Cedar or JSON syntax).")
@_schema_format_option
@click.option("--entities", "entities_file", metavar="FILE", required=True, help="Entities JSON file.")
@click.option("-t", "--timing", is_flag=True, help="Report how long authorization took.")
@click.pass_context
def partially_authorize(
    ctx: click.Context,
    principal: str | None,
    action: str | None,
    resource: str | None,
    context_file: str | None,
    request_json: str | None,
    policies_file: str | None,
    policy_format: str,
    links_file: str | None,
    schema_file: str | None,
    schema_format: str | None,
    entities_file: str,
    timing: bool,
) -> None:
    """Authorize a request whose principal, action, resource or context may be unknown:
    prints ALLOW or DENY (exit 0 or 2) if the unknowns cannot change the decision, else
    UNKNOWN and the residual policies (exit 4)."""
    from .partial import PartialRequest
    from .partial import partially_authorize as authorize_partially

    def body(out: Output) -> int:
        out.echo()
        pset = _load_policies(policies_file, _norm_format(policy_format) or "cedar")
        _add_links(pset, links_file)
        schema = _load_schema(schema_file, _norm_format(schema_format)) if schema_file else None
        entities_text, _ = _read(entities_file, "entities")
        entities = Entities.from_json(entities_text, schema=schema)
        parts = _request_parts(principal, action, resource, context_file, request_json)
        request = PartialRequest(parts.principal, parts.action, parts.resource, parts.context, schema)
        start = time.perf_counter()
        response = authorize_partially(request, pset, entities, partial_entities=False)
        elapsed = time.perf_counter() - start
        if timing:
            out.echo(f"Authorization Time (micro seconds) : {int(elapsed * 1_000_000)}")
        if response.decision is Decision.ALLOW:
            out.echo("ALLOW", "bold green")
            return SUCCESS
        if response.decision is Decision.DENY:
            out.echo("DENY", "bold red")
            return AUTHORIZE_DENY
        out.echo("UNKNOWN", "bold yellow")
        out.echo("All policy residuals:")
        residuals = response.residuals
        for policy_id in response.nontrivial_residuals:
            out.echo(str(residuals[policy_id]))
        return UNKNOWN

    _run(ctx, body)


@main.command()
@_request_options
@click.option("-s", "--schema", "schema_file", metavar="FILE", help="Schema file (Cedar or JSON syntax).")
@_schema_format_option
@click.option("--entities", "entities_file", metavar="FILE", help="Entities JSON file (default: none).")
@click.argument("expression")
@click.pass_context
def evaluate(
    ctx: click.Context,
    principal: str | None,
    action: str | None,
    resource: str | None,
    context_file: str | None,
    request_json: str | None,
    request_validation: bool,
    schema_file: str | None,
    schema_format: str | None,
    entities_file: str | None,
    expression: str,
) -> None:
    """Evaluate a Cedar EXPRESSION against a request and entities; print its value."""

    def body(out: Output) -> int:
        schema = _load_schema(schema_file, _norm_format(schema_format)) if schema_file else None
        parts = _request_parts(principal, action, resource, context_file, request_json)
        expr = parse_expression(expression, "<expression>")
        entities = Entities()
        if entities_file is not None:
            text, _ = _read(entities_file, "entities")
            entities = Entities.from_json(text, schema=schema)
        names = {"principal": parts.principal, "action": parts.action, "resource": parts.resource}
        from .ast import Var, walk

        for node in walk(expr):
            if isinstance(node, Var) and node.name in names and names[node.name] is None:
                raise CliFailure(
                    f"the expression uses `{node.name}`, but the request has none (--{node.name})"
                )
        placeholder = EntityUid("__cedar::Unknown", "")
        context: Record = Record()
        if all(names.values()):
            context = _build_request(parts, schema, request_validation).context
        elif parts.context:
            context = Request(placeholder, placeholder, placeholder, parts.context).context
        interpreter = Interpreter(
            parts.principal or placeholder,
            parts.action or placeholder,
            parts.resource or placeholder,
            context,
            entities,
        )
        try:
            value = interpreter.evaluate(expr)
        except EvaluationError as err:
            raise CliFailure(f"failed to evaluate the expression: {err.message}") from None
        out.echo(to_cedar(value))
        return SUCCESS

    _run(ctx, body)


@main.command()
@_policies_option
@_policy_format_option
@click.option("-k", "--template-linked", "links_file", metavar="FILE", help="JSON file of template links.")
@click.option("-s", "--schema", "schema_file", metavar="FILE", required=True, help="Schema file.")
@_schema_format_option
@click.option("--deny-warnings", is_flag=True, help="Fail validation on warnings too.")
@click.option(
    "--validation-mode",
    type=click.Choice(["strict", "permissive", "partial"]),
    default="strict",
    show_default=True,
    help="Validate in this mode (`partial` is an experimental Rust feature, not available).",
)
@click.option(
    "--level",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Also check that no policy reads entities more than N hops from the request (RFC 76).",
)
@click.pass_context
def validate(
    ctx: click.Context,
    policies_file: str | None,
    policy_format: str,
    links_file: str | None,
    schema_file: str,
    schema_format: str | None,
    deny_warnings: bool,
    validation_mode: str,
    level: int | None,
) -> None:
    """Validate policies against a schema (exit 3 if validation fails)."""

    def body(out: Output) -> int:
        if validation_mode == "partial":
            # what the Rust CLI says when built without the experimental feature
            raise CliFailure(
                "arguments include the experimental option `--validation-mode partial`, but this "
                "executable was not built with `partial-validate` experimental feature enabled"
            )
        validator_class = _validator_class()
        schema = _load_schema(schema_file, _norm_format(schema_format))
        pset = _load_policies(policies_file, _norm_format(policy_format) or "cedar")
        _add_links(pset, links_file)
        result = validator_class(schema).validate(pset, mode=validation_mode, level=level)
        for diagnostic in [*result.errors, *result.warnings]:
            click.echo(diagnostic.render(color=out.color))
            click.echo()
        failed = not result.passed or (deny_warnings and bool(result.warnings))
        if failed:
            out.echo("policy set validation failed", "bold red")
            return VALIDATION_FAILURE
        out.echo("policy set validation passed", "bold green")
        return SUCCESS

    _run(ctx, body)


@main.command("check-parse")
@_policies_option
@_policy_format_option
@click.option("-k", "--template-linked", "links_file", metavar="FILE", help="JSON file of template links.")
@click.option("--expression", help="A Cedar expression to check.")
@click.option("-s", "--schema", "schema_file", metavar="FILE", help="Schema file to check.")
@_schema_format_option
@click.option("--entities", "entities_file", metavar="FILE", help="Entities JSON file to check.")
@click.pass_context
def check_parse(
    ctx: click.Context,
    policies_file: str | None,
    policy_format: str,
    links_file: str | None,
    expression: str | None,
    schema_file: str | None,
    schema_format: str | None,
    entities_file: str | None,
) -> None:
    """Check that policies, an expression, a schema and/or entities parse (exit 0) or
    report every error (exit 1). With none of them, reads policies from standard input."""

    def body(out: Output) -> int:
        fmt = _norm_format(policy_format) or "cedar"
        if policies_file is None and expression is None and schema_file is None and entities_file is None:
            _add_links(_load_policies(None, fmt), links_file)
            return SUCCESS
        code = SUCCESS
        schema: Schema | None = None
        checks: list[Any] = []
        if policies_file is not None:
            checks.append(lambda: _add_links(_load_policies(policies_file, fmt), links_file))
        if expression is not None:
            checks.append(lambda: parse_expression(expression, "<expression>"))
        for check in checks:
            try:
                check()
            except (CedarError, CliFailure) as err:
                out.error(err.error if isinstance(err, CliFailure) else err)
                code = FAILURE
        if schema_file is not None:
            try:
                schema = _load_schema(schema_file, _norm_format(schema_format))
            except (CedarError, CliFailure) as err:
                out.error(err.error if isinstance(err, CliFailure) else err)
                code = FAILURE
        if entities_file is not None:
            try:
                Entities.from_json(_read(entities_file, "entities")[0], schema=schema)
            except (CedarError, CliFailure) as err:
                out.error(err.error if isinstance(err, CliFailure) else err)
                code = FAILURE
        return code

    _run(ctx, body)


# ---------------------------------------------------------------------------
# `cedar visualize`, `cedar new`, `cedar language-version`, `cedar license`


@main.command()
@click.option("--entities", "entities_file", metavar="FILE", required=True, help="Entities JSON file.")
@click.pass_context
def visualize(ctx: click.Context, entities_file: str) -> None:
    """Print the entities as a Graphviz DOT graph (Rust's ``to_dot_str``)."""

    def body(out: Output) -> int:
        click.echo(Entities.from_json(_read(entities_file, "entities")[0]).to_dot())
        return SUCCESS

    _run(ctx, body)


# Rust's `cedar new` writes these three files (cedar-policy-cli/src/command/new.rs)
_NEW_SCHEMA: dict[str, Any] = {
    "": {
        "entityTypes": {
            "A": {"memberOfTypes": ["B"]},
            "B": {"memberOfTypes": []},
            "C": {"memberOfTypes": []},
        },
        "actions": {"action": {"appliesTo": {"resourceTypes": ["C"], "principalTypes": ["A", "B"]}}},
    }
}
_NEW_POLICY = """permit (
  principal in A::"a",
  action == Action::"action",
  resource == C::"c"
) when { true };
"""
_NEW_ENTITIES: list[dict[str, Any]] = [
    {"uid": {"type": "A", "id": "a"}, "attrs": {}, "parents": [{"type": "B", "id": "b"}]},
    {"uid": {"type": "B", "id": "b"}, "attrs": {}, "parents": []},
    {"uid": {"type": "C", "id": "c"}, "attrs": {}, "parents": []},
]


@main.command()
@click.option("-n", "--name", required=True, metavar="DIR", help="Directory of the new project.")
@click.pass_context
def new(ctx: click.Context, name: str) -> None:
    """Create a Cedar project: DIR with a schema, a policy and entities."""

    def body(out: Output) -> int:
        directory = Path.cwd() / name
        try:
            directory.mkdir()
            (directory / "schema.cedarschema.json").write_text(
                json.dumps(_NEW_SCHEMA, indent=2), encoding="utf-8"
            )
            (directory / "policy.cedar").write_text(_NEW_POLICY, encoding="utf-8")
            (directory / "entities.json").write_text(json.dumps(_NEW_ENTITIES, indent=2), encoding="utf-8")
        except OSError as err:
            raise CliFailure(f"cannot create the project `{name}`: {err.strerror or err}") from None
        return SUCCESS

    _run(ctx, body)


@main.command("language-version")
def language_version() -> None:
    """Print the Cedar language version."""
    from . import LANG_VERSION

    click.echo(f"Cedar language version: {LANG_VERSION[0]}.{LANG_VERSION[1]}")


@main.command("license")
def license_command() -> None:
    """Print the license."""
    click.echo(
        "cedarlang is licensed under the Apache License, Version 2.0.\n"
        "See https://www.apache.org/licenses/LICENSE-2.0 for the full text.\n\n"
        "It has no required third-party dependencies; the optional extras keep their own licenses."
    )


@main.command("format")
@_policies_option
@click.option("-l", "--line-width", default=80, show_default=True, type=click.IntRange(min=1))
@click.option("-i", "--indent-width", default=2, show_default=True, type=click.IntRange(min=0))
@click.option("-w", "--write", is_flag=True, help="Rewrite the policy file in place.")
@click.option("-c", "--check", is_flag=True, help="Only check: exit 1 if the file is not formatted.")
@click.pass_context
def format_command(
    ctx: click.Context,
    policies_file: str | None,
    line_width: int,
    indent_width: int,
    write: bool,
    check: bool,
) -> None:
    """Format policies (to standard output, or in place with --write)."""

    def body(out: Output) -> int:
        if write and check:
            raise CliFailure("--write and --check cannot be used together")
        if write and policies_file in (None, "-"):
            raise CliFailure("--write needs a policy file (--policies FILE)")
        text, _ = _read(policies_file, "policies")
        formatted = format_policies(text, line_width, indent_width)
        if check:
            if formatted != text:
                out.echo(f"{policies_file or '<stdin>'} is not formatted", "bold red", err=True)
                return FAILURE
            return SUCCESS
        if write:
            assert policies_file is not None
            if formatted != text:
                Path(policies_file).write_text(formatted, encoding="utf-8")
            return SUCCESS
        click.echo(formatted, nl=False)
        return SUCCESS

    _run(ctx, body)


@main.command()
@_policies_option
@_policy_format_option
@click.option(
    "-k", "--template-linked", "links_file", metavar="FILE", help="Links file to read and update (optional)."
)
@click.option("--template-id", required=True, help="Id of the template to link (its @id, if it has one).")
@click.option("-n", "--new-id", required=True, help="Id of the new template-linked policy.")
@click.option(
    "-a",
    "--arguments",
    required=True,
    help='Slot values as JSON, e.g. \'{"?principal": "User::\\"alice\\""}\'.',
)
@click.pass_context
def link(
    ctx: click.Context,
    policies_file: str | None,
    policy_format: str,
    links_file: str | None,
    template_id: str,
    new_id: str,
    arguments: str,
) -> None:
    """Link a template and record the link in the --template-linked file (if given)."""

    def body(out: Output) -> int:
        try:
            args = json.loads(arguments)
        except json.JSONDecodeError as err:
            raise CliFailure(f"--arguments is not valid JSON: {err}") from None
        if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
            raise CliFailure('--arguments must be a JSON object like {"?principal": "User::\\"alice\\""}')
        for key in args:
            if key not in ("?principal", "?resource"):
                raise CliFailure(f"invalid slot `{key}`: expected ?principal or ?resource")
        pset = _load_policies(policies_file, _norm_format(policy_format) or "cedar")
        existing = _read_links(links_file, allow_missing=True)
        _add_links(pset, links_file, allow_missing=True)
        linked = pset.link(template_id, new_id, args)
        out.echo(f"Template-linked policy added: {est.policy_to_cedar(linked)}")
        if links_file is not None:
            existing.append({"template_id": template_id, "link_id": new_id, "args": args})
            Path(links_file).write_text(json.dumps(existing, ensure_ascii=False), encoding="utf-8")
        return SUCCESS

    _run(ctx, body)


@main.command("translate-policy")
@click.option(
    "--direction",
    type=click.Choice(["cedar-to-json", "json-to-cedar"]),
    required=True,
    help="cedar-to-json or json-to-cedar.",
)
@_policies_option
@click.pass_context
def translate_policy(ctx: click.Context, direction: str, policies_file: str | None) -> None:
    """Translate policies between Cedar syntax and the JSON (EST) format."""

    def body(out: Output) -> int:
        if direction == "cedar-to-json":
            pset = _load_policies(policies_file, "cedar")
            click.echo(est.policy_set_to_json_text(pset))
            return SUCCESS
        pset = _load_policies(policies_file, "json")
        if any(p.template_id is not None for p in pset.policies()):
            raise CliFailure("Unable to translate policy set containing template linked policies.")
        click.echo(est.policy_set_to_cedar(pset))
        return SUCCESS

    _run(ctx, body)


_SCHEMA_DIRECTIONS = {
    "cedar-to-json": "cedar-to-json",
    "natural-to-json": "cedar-to-json",
    "json-to-cedar": "json-to-cedar",
    "json-to-natural": "json-to-cedar",
    "cedar-to-json-with-resolved-types": "cedar-to-json-with-resolved-types",
}


def _schema_warnings(out: Output, warnings: tuple[Diagnostic, ...] | list[Diagnostic]) -> None:
    """Schema warnings go to stderr, as the Rust CLI prints them."""
    for warning in warnings:
        out.echo(warning.render(color=out.err_color), err=True)


@main.command("translate-schema")
@click.option(
    "--direction",
    type=click.Choice(list(_SCHEMA_DIRECTIONS)),
    required=True,
    help="cedar-to-json, json-to-cedar, or cedar-to-json-with-resolved-types (every type "
    "reference resolved to an entity or common type; every referenced type must be defined).",
)
@click.option("-s", "--schema", "schema_file", metavar="FILE", help="Schema file (default: standard input).")
@click.pass_context
def translate_schema(ctx: click.Context, direction: str, schema_file: str | None) -> None:
    """Translate a schema between the Cedar schema syntax and JSON."""

    def body(out: Output) -> int:
        text, name = _read(schema_file, "schema")
        target = _SCHEMA_DIRECTIONS[direction]
        if target == "cedar-to-json":
            schema = Schema.from_str(text, name)
            _schema_warnings(out, schema.warnings)
            click.echo(schema.to_json_str(indent=2))
        elif target == "cedar-to-json-with-resolved-types":
            from .schema import schema_str_to_json_with_resolved_types

            data, warnings = schema_str_to_json_with_resolved_types(text, name)
            _schema_warnings(out, warnings)
            click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        else:
            click.echo(Schema.from_json(text, name).to_cedarschema(), nl=False)
        return SUCCESS

    _run(ctx, body)


# ---------------------------------------------------------------------------
# run-tests


@dataclass
class TestTally:
    passed: int = 0
    failed: int = 0
    messages: list[str] = field(default_factory=list)


def _resolve(test_file: Path, relative: str) -> Path:
    """Walk up from the test file's folder until ``ancestor / relative`` exists."""
    path = Path(relative)
    if path.is_absolute():
        return path
    for ancestor in test_file.parents:
        candidate = ancestor / relative
        if candidate.is_file():
            return candidate
    raise CliFailure(f"{test_file}: cannot find `{relative}`")


def _conformance_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.json") if not p.name.endswith(".entities.json"))


class _Cache:
    def __init__(self) -> None:
        self.schemas: dict[Path, Schema] = {}
        self.entities: dict[tuple[Path, int], Entities] = {}

    def schema(self, path: Path) -> Schema:
        if path not in self.schemas:
            self.schemas[path] = _load_schema(str(path), None)
        return self.schemas[path]

    def entity_store(self, path: Path, schema: Schema | None) -> Entities:
        key = (path, id(schema))
        if key not in self.entities:
            self.entities[key] = Entities.from_json(path.read_text(encoding="utf-8"), schema=schema)
        return self.entities[key]


def _run_conformance_file(path: Path, cache: _Cache, tally: TestTally, check_validation: bool) -> None:
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return
    if not isinstance(spec, dict) or "requests" not in spec or "policies" not in spec:
        return  # not a test file (entities, schemas, ...)
    requests = spec["requests"]
    try:
        policies_path = _resolve(path, spec["policies"])
        text = policies_path.read_text(encoding="utf-8")
        if spec.get("policyFormat") == "json":
            pset = est.policy_set_from_json(text)
        else:
            pset = PolicySet.from_str(text, str(policies_path))
        schema = cache.schema(_resolve(path, spec["schema"])) if spec.get("schema") else None
        entities = cache.entity_store(_resolve(path, spec["entities"]), schema)
    except (CedarError, CliFailure) as err:
        tally.failed += len(requests)
        tally.messages.append(f"{path}: {err}")
        return
    if check_validation and schema is not None and "shouldValidate" in spec:
        passed = _validator_class()(schema).validate(pset).passed
        if passed != spec["shouldValidate"]:
            tally.messages.append(
                f"{path}: validation {'passed' if passed else 'failed'}, expected the opposite"
            )
    authorizer = Authorizer()
    for req in requests:
        label = f"{path.name} [{req.get('description', '')}]"
        try:
            request = Request(
                req["principal"],
                req["action"],
                req["resource"],
                req.get("context", {}),
                schema=schema if req.get("validateRequest", True) else None,
            )
            response = authorizer.is_authorized(request, pset, entities)
        except (CedarError, KeyError) as err:
            tally.failed += 1
            tally.messages.append(f"{label}: {type(err).__name__}: {err}")
            continue
        got = (response.decision.value, set(response.reasons), {e.policy_id for e in response.errors})
        want = (req["decision"], set(req["reason"]), set(req["errors"]))
        if got == want:
            tally.passed += 1
        else:
            tally.failed += 1
            tally.messages.append(f"{label}: expected {want}, got {got}")


def _run_cli_tests(
    tests_file: str, pset: PolicySet, schema: Schema | None, out: Output, tally: TestTally
) -> None:
    """Rust ``cedar run-tests`` format: a list of
    ``{name, request: {principal, action, resource, context}, entities, decision, reason, num_errors}``."""
    tests = _load_json(tests_file, "tests")
    if not isinstance(tests, list):
        raise CliFailure(f"tests file `{tests_file}` must hold a JSON list")
    base = Path(tests_file).parent
    # with a schema, Rust's run-tests first validates the policy set (strict, no warnings)
    invalid = None
    if schema is not None:
        result = _validator_class()(schema).validate(pset)
        if not result.passed or result.warnings:
            invalid = "; ".join(d.message for d in [*result.errors, *result.warnings])
    out.echo(f"running {len(tests)} test(s)")
    for test in tests:
        name = test.get("name", "(unnamed)") if isinstance(test, dict) else "(unnamed)"
        out.echo(f"  test {name} ... ", nl=False)
        if invalid is not None:
            tally.failed += 1
            out.echo("error", "red", nl=False)
            out.echo(f": policy set validation failed: {invalid}")
            continue
        try:
            req = test["request"]
            request = Request(
                req["principal"], req["action"], req["resource"], req.get("context", {}), schema=schema
            )
            ents = test["entities"]
            if isinstance(ents, str):
                entities = Entities.from_json((base / ents).read_text(encoding="utf-8"), schema=schema)
            else:
                entities = Entities.from_json(ents, schema=schema)
            response = Authorizer().is_authorized(request, pset, entities)
        except (CedarError, KeyError, TypeError, OSError) as err:
            tally.failed += 1
            out.echo("error", "red", nl=False)
            out.echo(f": {err}")
            continue
        problems = []
        if response.decision.value != test["decision"]:
            problems.append(f"expected {test['decision']}, got {response.decision.value}")
        else:
            missing = [r for r in test.get("reason", []) if r not in response.reasons]
            if missing:
                problems.append("missing reason(s): " + ", ".join(f"`{r}`" for r in missing))
            if len(response.errors) != test.get("num_errors", 0):
                expected = test.get("num_errors", 0)
                problems.append(
                    f"expected {expected} error(s), but got {len(response.errors)} runtime error(s)"
                )
        if problems:
            tally.failed += 1
            out.echo("fail", "red", nl=False)
            out.echo(": " + "; ".join(problems))
        else:
            tally.passed += 1
            out.echo("ok", "green")


@main.command("run-tests")
@click.option(
    "--conformance",
    "conformance_dirs",
    metavar="DIR",
    multiple=True,
    type=click.Path(exists=True),
    help="Run every test file (shared conformance JSON format) under DIR.",
)
@click.option(
    "--tests", "tests_file", metavar="FILE", help="Tests in the Rust `cedar run-tests` JSON format."
)
@_policies_option
@_policy_format_option
@click.option(
    "-k", "--template-linked", "links_file", metavar="FILE", help="JSON file of template links (for --tests)."
)
@click.option("-s", "--schema", "schema_file", metavar="FILE", help="Schema for --tests.")
@_schema_format_option
@click.option("--check-validation", is_flag=True, help="Also check each file's `shouldValidate`.")
@click.option("-v", "--verbose", is_flag=True, help="Show every failure (not only the first 20).")
@click.pass_context
def run_tests(
    ctx: click.Context,
    conformance_dirs: tuple[str, ...],
    tests_file: str | None,
    policies_file: str | None,
    policy_format: str,
    links_file: str | None,
    schema_file: str | None,
    schema_format: str | None,
    check_validation: bool,
    verbose: bool,
) -> None:
    """Run authorization tests; prints `N passed, M failed` (exit 1 on any failure)."""

    def body(out: Output) -> int:
        if not conformance_dirs and tests_file is None:
            raise CliFailure("give --conformance DIR or --tests FILE")
        tally = TestTally()
        cache = _Cache()
        for directory in conformance_dirs:
            for path in _conformance_files(Path(directory)):
                _run_conformance_file(path, cache, tally, check_validation)
        for message in tally.messages[: None if verbose else 20]:
            out.echo(f"FAIL {message}", "red")
        if len(tally.messages) > 20 and not verbose:
            out.echo(f"... and {len(tally.messages) - 20} more (use --verbose to see all)")
        if tests_file is not None:
            pset = _load_policies(policies_file, _norm_format(policy_format) or "cedar")
            _add_links(pset, links_file)
            schema = _load_schema(schema_file, _norm_format(schema_format)) if schema_file else None
            _run_cli_tests(tests_file, pset, schema, out, tally)
        style = "bold green" if tally.failed == 0 else "bold red"
        out.echo(f"{tally.passed} passed, {tally.failed} failed", style)
        return SUCCESS if tally.failed == 0 else FAILURE

    _run(ctx, body)


# ---------------------------------------------------------------------------
# Permission queries: `cedar query resources|principals|actions`


@main.group()
def query() -> None:
    """Which resources, principals or actions a request allows (one uid per line)."""


def _query_options(f: Any) -> Any:
    for option in reversed(
        [
            _policies_option,
            _policy_format_option,
            click.option(
                "-k", "--template-linked", "links_file", metavar="FILE", help="JSON file of template links."
            ),
            click.option("-s", "--schema", "schema_file", metavar="FILE", help="Schema file."),
            _schema_format_option,
            click.option(
                "--entities", "entities_file", metavar="FILE", required=True, help="Entities JSON file."
            ),
            click.option(
                "-c", "--context", "context_file", metavar="FILE", help="JSON file with the context record."
            ),
            click.option("--json", "as_json", is_flag=True, help="Print a JSON list of uids."),
        ]
    ):
        f = option(f)
    return f


def _run_query(
    ctx: click.Context,
    ask: Any,
    policies_file: str | None,
    policy_format: str,
    links_file: str | None,
    schema_file: str | None,
    schema_format: str | None,
    entities_file: str,
    context_file: str | None,
    as_json: bool,
) -> NoReturn:
    def body(out: Output) -> int:
        schema = _load_schema(schema_file, _norm_format(schema_format)) if schema_file else None
        pset = _load_policies(policies_file, _norm_format(policy_format) or "cedar")
        _add_links(pset, links_file)
        entities_text, _ = _read(entities_file, "entities")
        entities = Entities.from_json(entities_text, schema=schema)
        context = _load_json(context_file, "context") if context_file is not None else None
        found: list[EntityUid] = ask(Authorizer(), pset, entities, context, schema)
        if as_json:
            out.echo(json.dumps([uid.to_json() for uid in found], ensure_ascii=False))
        else:
            for uid in found:
                out.echo(str(uid))
        return SUCCESS

    _run(ctx, body)


@query.command("resources")
@click.option("-l", "--principal", required=True, help='The principal, e.g. User::"alice".')
@click.option("-a", "--action", required=True, help='The action, e.g. Action::"view".')
@click.option("--resource-type", required=True, help="The entity type of the resources to list.")
@_query_options
@click.pass_context
def query_resources(
    ctx: click.Context, /, principal: str, action: str, resource_type: str, **options: Any
) -> None:
    """The resources of a type that the principal may act on with the action."""
    _run_query(
        ctx,
        lambda az, ps, es, c, s: az.query_resources(
            principal, action, resource_type, ps, es, context=c, schema=s
        ),
        **options,
    )


@query.command("principals")
@click.option("-a", "--action", required=True, help='The action, e.g. Action::"view".')
@click.option("-r", "--resource", required=True, help='The resource, e.g. File::"a.txt".')
@click.option("--principal-type", required=True, help="The entity type of the principals to list.")
@_query_options
@click.pass_context
def query_principals(
    ctx: click.Context, /, action: str, resource: str, principal_type: str, **options: Any
) -> None:
    """The principals of a type that may act on the resource with the action."""
    _run_query(
        ctx,
        lambda az, ps, es, c, s: az.query_principals(
            action, resource, principal_type, ps, es, context=c, schema=s
        ),
        **options,
    )


@query.command("actions")
@click.option("-l", "--principal", required=True, help='The principal, e.g. User::"alice".')
@click.option("-r", "--resource", required=True, help='The resource, e.g. File::"a.txt".')
@_query_options
@click.pass_context
def query_actions(ctx: click.Context, /, principal: str, resource: str, **options: Any) -> None:
    """The actions the principal may take on the resource."""
    _run_query(
        ctx,
        lambda az, ps, es, c, s: az.query_actions(principal, resource, ps, es, context=c, schema=s),
        **options,
    )


# ---------------------------------------------------------------------------
# `cedar tpe`: typed partial evaluation (Rust's cedar-policy-cli/src/command/tpe.rs)

TPE_UNKNOWN = 4
"""Exit code of ``cedar tpe`` when no decision could be reached (Rust's ``CedarExitCode::Unknown``)."""


@main.command("tpe")
@click.option("--principal-type", help="Principal type of the request, e.g. User.")
@click.option("--principal-eid", help="Principal id (omit: unknown).")
@click.option("-a", "--action", help='Action of the request, e.g. Action::"view".')
@click.option("--resource-type", help="Resource type of the request, e.g. File.")
@click.option("--resource-eid", help="Resource id (omit: unknown).")
@click.option(
    "-c", "--context", "context_file", metavar="FILE", help="JSON file with the context (omit: unknown)."
)
@click.option(
    "--request-json",
    metavar="FILE",
    help="JSON file with principal_type, principal_eid?, action, resource_type, resource_eid?, context?.",
)
@_policies_option
@_policy_format_option
@click.option("-k", "--template-linked", "links_file", metavar="FILE", help="JSON file of template links.")
@click.option("-s", "--schema", "schema_file", metavar="FILE", required=True, help="Schema file.")
@_schema_format_option
@click.option(
    "--entities", "entities_file", metavar="FILE", required=True, help="Partial entities JSON file."
)
@click.option("-t", "--timing", is_flag=True, help="Report how long partial evaluation took.")
@click.pass_context
def tpe_command(
    ctx: click.Context,
    principal_type: str | None,
    principal_eid: str | None,
    action: str | None,
    resource_type: str | None,
    resource_eid: str | None,
    context_file: str | None,
    request_json: str | None,
    policies_file: str | None,
    policy_format: str,
    links_file: str | None,
    schema_file: str,
    schema_format: str | None,
    entities_file: str,
    timing: bool,
) -> None:
    """Typed partial evaluation: prints ALLOW (exit 0), DENY (exit 2), or UNKNOWN and every
    policy's residual (exit 4)."""
    from .authorizer import Decision
    from .tpe import PartialEntities, PartialEntityUid, PartialRequest, residual_policy_text, tpe

    def body(out: Output) -> int:
        if request_json is not None:
            if any(
                v is not None for v in (principal_type, principal_eid, action, resource_type, resource_eid)
            ) or (context_file is not None):
                raise CliFailure("--request-json cannot be used with the other request options")
            data = _load_json(request_json, "request-json")
            if not isinstance(data, dict):
                raise CliFailure(f"request-json file `{request_json}` must hold a JSON object")
            keys = ("principal_type", "principal_eid", "action", "resource_type", "resource_eid", "context")
            fields: dict[str, Any] = {k: data.get(k) for k in keys}
        else:
            context = _load_json(context_file, "context") if context_file is not None else None
            fields = {
                "principal_type": principal_type,
                "principal_eid": principal_eid,
                "action": action,
                "resource_type": resource_type,
                "resource_eid": resource_eid,
                "context": context,
            }
        for key, what in (
            ("principal_type", "principal type"),
            ("action", "action"),
            ("resource_type", "resource type"),
        ):
            if not isinstance(fields[key], str):
                raise CliFailure(f"{what} must be specified")
        schema = _load_schema(schema_file, _norm_format(schema_format))
        pset = _load_policies(policies_file, _norm_format(policy_format) or "cedar")
        _add_links(pset, links_file)
        entities_text, _ = _read(entities_file, "entities")
        entities = PartialEntities.from_json(entities_text, schema)
        request = PartialRequest(
            PartialEntityUid(fields["principal_type"], fields["principal_eid"]),
            fields["action"],
            PartialEntityUid(fields["resource_type"], fields["resource_eid"]),
            fields["context"],
            schema,
        )
        start = time.perf_counter()
        response = tpe(pset, request, entities, schema)
        elapsed = time.perf_counter() - start
        out.echo()
        if timing:
            out.echo(f"Authorization Time (micro seconds) : {int(elapsed * 1_000_000)}")
        if response.decision is Decision.ALLOW:
            out.echo("ALLOW", "bold green")
            return SUCCESS
        if response.decision is Decision.DENY:
            out.echo("DENY", "bold red")
            return AUTHORIZE_DENY
        out.echo("UNKNOWN", "bold yellow")
        out.echo("All policy residuals:")
        for policy in response.policies():
            out.echo(residual_policy_text(policy))
        return TPE_UNKNOWN

    _run(ctx, body)


# ---------------------------------------------------------------------------
# `cedar serve`: the AuthZEN 1.0 policy decision point (package cedarlang_serve; its
# server dependencies come with the `serve` extra and are imported only when it runs).
try:
    from cedarlang_serve.cli import serve as _serve
except ImportError:  # pragma: no cover - cedarlang_serve is shipped with cedarlang
    pass
else:
    main.add_command(_serve)


# ---------------------------------------------------------------------------
# cedar analyze (symbolic policy analysis: cedarlang.analysis, needs cvc5)


@main.group()
def analyze() -> None:
    """Prove what policies do for every request the schema allows (needs cvc5).

    Exit codes: 0 no findings / equivalent, 2 findings / decisions change,
    4 incomplete (some policy could not be analysed), 1 error.
    """


@analyze.command("policies")
@_policies_option
@_policy_format_option
@click.option("-s", "--schema", "schema_file", metavar="FILE", required=True, help="Schema file.")
@_schema_format_option
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def analyze_policies(
    ctx: click.Context,
    policies_file: str | None,
    policy_format: str,
    schema_file: str,
    schema_format: str | None,
    as_json: bool,
) -> None:
    """Lint a policy set: vacuous, redundant, shadowed and overridden policies; errors."""

    def body(out: Output) -> int:
        from .analysis import report

        schema = _load_schema(schema_file, _norm_format(schema_format))
        pset = _load_policies(policies_file, _norm_format(policy_format) or "cedar")
        result = report.analyze_policies(schema, pset)
        click.echo(result.text(as_json))
        return result.code

    _run(ctx, body)


@analyze.command("compare")
@click.argument("old_file", metavar="OLD")
@click.argument("new_file", metavar="NEW")
@_policy_format_option
@click.option("-s", "--schema", "schema_file", metavar="FILE", required=True, help="Schema file.")
@_schema_format_option
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
@click.pass_context
def analyze_compare(
    ctx: click.Context,
    old_file: str,
    new_file: str,
    policy_format: str,
    schema_file: str,
    schema_format: str | None,
    as_json: bool,
) -> None:
    """Compare two policy sets: equivalent, more/less permissive or incomparable."""

    def body(out: Output) -> int:
        from .analysis import report

        schema = _load_schema(schema_file, _norm_format(schema_format))
        fmt = _norm_format(policy_format) or "cedar"
        result = report.compare(schema, _load_policies(old_file, fmt), _load_policies(new_file, fmt))
        click.echo(result.text(as_json))
        return result.code

    _run(ctx, body)


class _SymccGroup(click.Group):
    """``cedar symcc``'s subcommands, built from ``cedarlang.analysis.symcc.COMMANDS`` on
    first use (so that other commands do not import the analysis)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from .analysis.symcc import COMMANDS

        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from .analysis.symcc import COMMANDS

        spec = COMMANDS.get(cmd_name)
        if spec is None:
            return None
        # Rust's flags: -p/--policies and --policy-format; --policy1/--policy2 (one policy
        # each) or --policies1/--policies2 (policy sets), each with its -format
        if spec.arity == 1:
            inputs = [("policies", ["-p", "--policies"], "policy_format", "--policy-format")]
        else:
            stem = "policy" if spec.takes == "policy" else "policies"
            inputs = [
                (f"{stem}{i}", [f"--{stem}{i}"], f"{stem}{i}_format", f"--{stem}{i}-format") for i in (1, 2)
            ]
        params: list[click.Parameter] = []
        for name, flags, fmt_name, fmt_flag in inputs:
            params.append(
                click.Option(flags, name, metavar="FILE", help="Policy file (default: standard input).")
            )
            params.append(
                click.Option(
                    [fmt_flag], fmt_name, type=click.Choice(["cedar", "human", "json"]), default="cedar"
                )
            )

        @click.pass_context
        def callback(ctx: click.Context, /, **kwargs: Any) -> None:
            assert ctx.parent is not None
            env = ctx.parent.params

            def body(out: Output) -> int:
                from .analysis import symcc as run_symcc

                schema = _load_schema(env["schema_file"], _norm_format(env["schema_format"]))
                psets = [
                    _load_policies(kwargs[n], _norm_format(kwargs[f]) or "cedar") for n, _, f, _ in inputs
                ]
                report = run_symcc.run(
                    cmd_name,
                    schema,
                    psets,
                    env["principal_type"],
                    env["action"],
                    env["resource_type"],
                    counterexample=env["counterexample"],
                    verbose=env["verbose"],
                )
                click.echo(report.text(False))
                return report.code

            _run(ctx, body)

        return click.Command(cmd_name, params=params, callback=callback, help=f"Check: {spec.prop}.")


@main.group(cls=_SymccGroup)
@click.option(
    "--cvc5-path",
    envvar="CVC5",
    metavar="PATH",
    help="Accepted for compatibility with Rust's CLI (the cvc5 Python bindings are used).",
)
@click.option("--principal-type", required=True, help="Principal entity type (e.g., 'User').")
@click.option("--action", required=True, help="Action entity UID (e.g., 'Action::\"view\"').")
@click.option("--resource-type", required=True, help="Resource entity type (e.g., 'Photo').")
@click.option("-s", "--schema", "schema_file", metavar="FILE", required=True, help="Schema file.")
@_schema_format_option
@click.option(
    "--counterexample/--no-counterexample",
    default=True,
    help="Print a counterexample when the property does not hold.",
)
@click.option("-v", "--verbose", is_flag=True, help="Also say so when the property holds.")
def symcc(**_: object) -> None:
    """Rust's `cedar symcc` single-query commands, for one request environment (needs cvc5).

    Exit 0 whether the property holds or not (like Rust), 4 if incomplete, 1 on error.
    """


if __name__ == "__main__":  # pragma: no cover
    main()
