"""The ```` ```sh ```` blocks of the docs: every command is checked against the real thing,
and the blocks that can run on 127.0.0.1 in bounded time are run.

Each line of a block (``\\`` continuations joined, ``#`` comments dropped) is split into
simple commands at ``&&`` and ``;``, and each is checked without running it:

* ``pip install ...``: each requirement is ``cedarlang`` or ``cedarlang[X,...]``, or a
  checkout (``-e ".[X]"``, the directory holding cedarlang's pyproject.toml), and every
  extra ``X`` is one of pyproject.toml's ``[project.optional-dependencies]``.
* ``cedar ...`` and ``mkdocs ...``: parsed by click with the real command objects (the
  group, each subcommand, every option and argument, their types), nothing invoked.
* ``python [-i] SCRIPT ARGS``: the script exists; if it uses argparse, it runs up to its
  ``parse_args`` (which must accept ``ARGS``) and stops there; without argparse, no ``ARGS``.
* ``python -m MODULE ARGS``: the module is importable from this checkout and its package
  parses its arguments with argparse; it runs up to ``parse_args`` (which must accept
  ``ARGS``) and stops there.
* ``bash SCRIPT``: the script exists. ``cd DIR``: the directory exists, and the block's
  later commands are checked from it.
* ``export NAME=VALUE``: ``NAME`` is the environment variable of an option of a ``cedar``
  command of the block.

Any other command fails the check, as do other shell operators (pipes, ``||``,
redirections), unless the block runs:

* A block with ``cedar serve DIR`` (``DIR`` a store directory) and ``curl`` commands runs:
  the server is started on a free port of 127.0.0.1 (the block's ``--port`` replaced, in the
  ``curl`` URLs too), each ``curl`` is sent to it, and what they print is the block's output.
* A block right after an HTML comment ``<!-- run: DEST=SRC ... status=N -->`` runs with
  ``bash -eo pipefail`` in a temporary directory holding a copy of each repository file
  ``SRC`` at ``DEST``, with ``cedar`` on the ``PATH``; it must exit with status ``N``
  (default 0). Its commands are checked as above too (those the list does not know are
  run, not checked), from that directory.

A run block followed by a ```` ```text title="Output" ```` block must print exactly that;
one without must print nothing. A ``curl`` must have its response shown.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[2]
CLI = "from cedarlang.cli import main; main(prog_name='cedar')"
# Separators between the commands of a line that a check can follow (the rest need a run).
SEQUENCE = {"&&", ";"}
OPERATORS = {"&&", "||", ";", "|", "&", ">", ">>", "<", "2>", "&>", "(", ")"}
_REQUIREMENT = re.compile(r"^(?P<target>[^\[\]]+)(?:\[(?P<extras>[^\]]*)\])?$")
_DIRECTIVE = re.compile(r"^<!-- run:(?P<spec>.*)-->$")
_PARSE_ONLY = """
import argparse, os, runpy, sys

class Parsed(BaseException):
    pass

parse_args = argparse.ArgumentParser.parse_args

def parse_only(self, args=None, namespace=None):
    parse_args(self, args, namespace)
    raise Parsed

argparse.ArgumentParser.parse_args = parse_only
sys.argv = sys.argv[1:]
try:
    if sys.argv[0] == "-m":
        sys.argv = sys.argv[1:]
        sys.path[0] = os.getcwd()
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
        runpy.run_path(sys.argv[0], run_name="__main__")
except Parsed:
    sys.exit(0)
sys.exit(f"{sys.argv[0]} ended without parsing its arguments")
"""
# Where a module's source is (``python -m MODULE``), found without importing it.
_FIND_MODULE = """
import importlib.util, sys
spec = importlib.util.find_spec(sys.argv[1])
print(spec.origin if spec is not None and spec.origin else "")
"""


class ShellCheckError(AssertionError):
    """A command of a ```sh block that its check (or its run) rejects."""


@dataclass
class Directive:
    """``<!-- run: DEST=SRC ... status=N -->``: run the next block in a temporary directory."""

    files: dict[str, str]
    status: int = 0

    @classmethod
    def parse(cls, comment: str) -> Directive | None:
        match = _DIRECTIVE.match(comment.strip())
        if match is None:
            return None
        files: dict[str, str] = {}
        status = 0
        for item in match["spec"].split():
            key, eq, value = item.partition("=")
            if not eq:
                raise ShellCheckError(f"run directive: `{item}` is not DEST=SRC or status=N")
            if key == "status":
                status = int(value)
            else:
                files[key] = value
        return cls(files, status)


@dataclass
class Outcome:
    """What checking (and maybe running) a block did."""

    ran: bool = False
    checked: int = 0  # commands checked without running them
    output: str = ""


@dataclass
class State:
    """What the checks of a block's commands learned so far."""

    cwd: Path  # where the next command runs (``cd`` changes it)
    envvars: set[str] = field(default_factory=set)
    exported: list[str] = field(default_factory=list)
    serve: list[str] | None = None
    curls: list[list[str]] = field(default_factory=list)
    checked: int = 0


def lines(body: str) -> list[str]:
    """The block's command lines, with ``\\`` continuations joined."""
    joined: list[str] = []
    pending = ""
    for line in body.split("\n"):
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    if pending:
        joined.append(pending)
    return [line for line in joined if line.strip()]


def tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def commands(line: str, *, run: bool) -> list[list[str]]:
    """A line's simple commands (redirections dropped when the block runs)."""
    found: list[list[str]] = [[]]
    words = tokens(line)
    i = 0
    while i < len(words):
        word = words[i]
        if word in OPERATORS:
            if word not in SEQUENCE and not run:
                raise ShellCheckError(
                    f"`{line.strip()}`: `{word}` cannot be checked without running the block "
                    "(precede it with a `<!-- run: ... -->` comment)"
                )
            if word in {">", ">>", "<", "2>", "&>"}:
                i += 2  # the redirection and its file
                continue
            found.append([])
        else:
            found[-1].append(word)
        i += 1
    return [argv for argv in found if argv]


# ---------------------------------------------------------------------------
# The checks


def _pyproject(directory: Path) -> dict[str, object] | None:
    path = directory / "pyproject.toml"
    if not path.is_file():
        return None
    project: dict[str, object] = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    return project


def _extras(requirement: str, project: dict[str, object], where: str) -> None:
    match = _REQUIREMENT.match(requirement)
    assert match is not None
    defined = project.get("optional-dependencies", {})
    assert isinstance(defined, dict)
    for extra in (match["extras"] or "").split(","):
        if extra.strip() and extra.strip() not in defined:
            raise ShellCheckError(
                f"{where}: `{requirement}`: pyproject.toml has no extra `{extra.strip()}` "
                f"(it has {', '.join(sorted(defined))})"
            )


def check_pip(argv: list[str], state: State) -> None:
    where = f"`{shlex.join(argv)}`"
    if argv[1:2] != ["install"] or len(argv) < 3:
        raise ShellCheckError(f"{where}: only `pip install REQUIREMENT...` is checked")
    ours = _pyproject(ROOT)
    assert ours is not None
    args = argv[2:]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-e", "--editable"):
            if i + 1 == len(args):
                raise ShellCheckError(f"{where}: `{arg}` needs a path")
            i += 1
            match = _REQUIREMENT.match(args[i])
            project = _pyproject(state.cwd / match["target"]) if match else None
            if match is None or project is None or project.get("name") != ours["name"]:
                raise ShellCheckError(f"{where}: `{args[i]}` is not a checkout of {ours['name']}")
            _extras(args[i], project, where)
        elif arg.startswith("-"):
            raise ShellCheckError(f"{where}: `{arg}` is not a checked pip option")
        else:
            match = _REQUIREMENT.match(arg)
            if match is None or match["target"] != ours["name"]:
                raise ShellCheckError(f"{where}: `{arg}` is not {ours['name']} (or {ours['name']}[EXTRA])")
            _extras(arg, ours, where)
        i += 1


def parse_click(root: click.Command, argv: list[str], cwd: Path) -> list[click.Context]:
    """Parse ``argv`` with ``root`` (a click command or group) as click does before invoking
    it: the group's options, each subcommand and its parameters, types and callbacks
    included. Nothing is invoked. The contexts, outermost first."""
    try:
        with contextlib.chdir(cwd), contextlib.redirect_stdout(io.StringIO()):
            ctx = root.make_context(argv[0], argv[1:])
            chain = [ctx]
            while isinstance(ctx.command, click.Group):
                # what click.Group.invoke does (it reads the same private attribute)
                rest = [*ctx._protected_args, *ctx.args]
                if not rest:
                    raise click.UsageError("Missing command.", ctx)
                name, command, rest = ctx.command.resolve_command(ctx, rest)
                assert name is not None and command is not None
                ctx = command.make_context(name, rest, parent=ctx)
                chain.append(ctx)
    except click.exceptions.Exit:  # --help, --version: they parse
        return []
    except click.ClickException as error:
        raise ShellCheckError(f"`{shlex.join(argv)}`: {error.format_message()}") from error
    return chain


def _cedar() -> click.Command:
    from cedarlang.cli import main

    return main


def _mkdocs() -> click.Command:
    try:
        from mkdocs.__main__ import cli
    except ImportError as error:
        raise ShellCheckError(
            f'checking `mkdocs` needs the docs extra: pip install -e ".[docs]" ({error})'
        ) from error
    return cli


def check_click(root: Callable[[], click.Command], argv: list[str], state: State) -> None:
    chain = parse_click(root(), argv, state.cwd)
    for ctx in chain:
        for param in ctx.command.params:
            if isinstance(param, click.Option) and param.envvar:
                names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
                state.envvars.update(names)
    if argv[0] == "cedar" and [ctx.info_name for ctx in chain[1:]] == ["serve"]:
        store = chain[-1].params["store"]
        if isinstance(store, str) and (state.cwd / store).is_dir():
            state.serve = argv


def _module_uses_argparse(argv: list[str], module: str, cwd: Path) -> bool:
    """Whether ``python -m module`` can be checked: it exists, and its package (or the
    module itself) parses arguments with argparse, so the check stops it at ``parse_args``."""
    found = subprocess.run(
        [sys.executable, "-c", _FIND_MODULE, module],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if found.returncode != 0 or not found.stdout.strip():
        raise ShellCheckError(f"`{shlex.join(argv)}`: no module {module} in this checkout")
    origin = Path(found.stdout.strip())
    sources = origin.parent.glob("*.py") if origin.name in ("__init__.py", "__main__.py") else [origin]
    return any("ArgumentParser" in source.read_text(encoding="utf-8") for source in sources)


def check_python(argv: list[str], state: State) -> None:
    args = argv[1:]
    while args and args[0] == "-i":
        args = args[1:]
    if args[:1] == ["-m"] and len(args) > 1:
        if not _module_uses_argparse(argv, args[1], state.cwd):
            raise ShellCheckError(
                f"`{shlex.join(argv)}`: `python -m` is checked only for a module that parses "
                "its arguments with argparse"
            )
    elif not args or args[0].startswith("-"):
        raise ShellCheckError(
            f"`{shlex.join(argv)}`: only `python [-i] SCRIPT ARGS...` and `python -m MODULE ARGS...` are checked"
        )
    else:
        script = state.cwd / args[0]
        if not script.is_file():
            raise ShellCheckError(f"`{shlex.join(argv)}`: no file {args[0]} in {state.cwd}")
        if "ArgumentParser" not in script.read_text(encoding="utf-8"):
            if args[1:]:
                raise ShellCheckError(f"`{shlex.join(argv)}`: {args[0]} takes no arguments (no argparse)")
            return
    done = subprocess.run(
        [sys.executable, "-c", _PARSE_ONLY, *args],
        cwd=state.cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise ShellCheckError(f"`{shlex.join(argv)}`: its argument parser says\n{done.stderr}")


def check_file(argv: list[str], state: State) -> None:
    if len(argv) != 2 or not (state.cwd / argv[1]).is_file():
        raise ShellCheckError(f"`{shlex.join(argv)}`: not `{argv[0]} SCRIPT` with a SCRIPT in {state.cwd}")


def check_cd(argv: list[str], state: State) -> None:
    if len(argv) != 2 or not (state.cwd / argv[1]).is_dir():
        raise ShellCheckError(f"`{shlex.join(argv)}`: no directory {argv[1:]} in {state.cwd}")
    state.cwd = (state.cwd / argv[1]).resolve()


def check_export(argv: list[str], state: State) -> None:
    for assignment in argv[1:]:
        name, eq, _ = assignment.partition("=")
        if not eq:
            raise ShellCheckError(f"`{shlex.join(argv)}`: `{assignment}` is not NAME=VALUE")
        state.exported.append(name)


def check_curl(argv: list[str], state: State) -> None:
    if state.serve is None:
        raise ShellCheckError(f"`{shlex.join(argv)}`: a curl needs a `cedar serve DIR` before it")
    state.curls.append(argv)


CHECKS: dict[str, Callable[[list[str], State], None]] = {
    "pip": check_pip,
    "cedar": lambda argv, state: check_click(_cedar, argv, state),
    "mkdocs": lambda argv, state: check_click(_mkdocs, argv, state),
    "python": check_python,
    "python3": check_python,
    "bash": check_file,
    "cd": check_cd,
    "export": check_export,
    "curl": check_curl,
}


# ---------------------------------------------------------------------------
# Running


def cli_env() -> dict[str, str]:
    """The environment of the commands the docs run: this checkout's ``src`` first."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env["NO_COLOR"] = "1"
    env["COLUMNS"] = "88"
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(argv: list[str], cwd: Path) -> Iterator[tuple[int, int]]:
    """Start ``cedar serve`` (``argv``) on a free port; yield (the block's port, the real one)."""
    args = list(argv[1:])
    shown = 8180
    if "--port" in args:
        at = args.index("--port") + 1
        shown = int(args[at])
        del args[at - 1 : at + 1]
    port = _free_port()
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [sys.executable, "-c", CLI, *args, "--host", "127.0.0.1", "--port", str(port)],
            cwd=cwd,
            env=cli_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise ShellCheckError(f"`{shlex.join(argv)}` did not start:\n{log.read()}")
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                        break
                except (urllib.error.URLError, OSError):
                    time.sleep(0.1)
            yield shown, port
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def run_serve(state: State) -> str:
    assert state.serve is not None
    if shutil.which("curl") is None:
        raise ShellCheckError("the block uses curl, which is not installed")
    output = []
    with serving(state.serve, state.cwd) as (shown, port):
        for argv in state.curls:
            args = [
                arg.replace(f"localhost:{shown}", f"localhost:{port}").replace(
                    f"127.0.0.1:{shown}", f"127.0.0.1:{port}"
                )
                for arg in argv
            ]
            done = subprocess.run(args, capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                raise ShellCheckError(f"`{shlex.join(argv)}` exited {done.returncode}: {done.stderr}")
            output.append(done.stdout)
    return "\n".join(output)


def run_in_temp_dir(body: str, directive: Directive, check: Callable[[Path], int]) -> tuple[int, str]:
    """Check, then run, a block in a temporary directory laid out as ``directive`` says;
    return (the number of commands checked, what the block printed)."""
    with tempfile.TemporaryDirectory(prefix="cedarlang-docs-") as name:
        tmp = Path(name)
        for dest, src in directive.files.items():
            source = ROOT / src
            if not source.is_file():
                raise ShellCheckError(f"run directive: no file {src} in the repository")
            (tmp / dest).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, tmp / dest)
        checked = check(tmp)
        bin_dir = tmp / ".bin"
        bin_dir.mkdir()
        cedar = bin_dir / "cedar"
        cedar.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -c "{CLI}" "$@"\n', encoding="utf-8")
        cedar.chmod(0o755)
        env = cli_env()
        env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", body],
            cwd=tmp,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        if done.returncode != directive.status:
            raise ShellCheckError(
                f"the block exited {done.returncode}, its run comment says {directive.status}:\n{done.stdout}"
            )
        return checked, done.stdout


def _check_all(body: str, cwd: Path, *, run: bool) -> State:
    state = State(cwd=cwd)
    for line in lines(body):
        for argv in commands(line, run=run):
            check = CHECKS.get(argv[0])
            if check is None:
                if run:
                    continue  # run for real below
                raise ShellCheckError(f"`{shlex.join(argv)}`: no check knows `{argv[0]}`")
            check(argv, state)
            if argv[0] != "curl":
                state.checked += 1
    unknown = [name for name in state.exported if name not in state.envvars]
    if unknown:
        raise ShellCheckError(
            f"export {' '.join(unknown)}: not the environment variable of an option of the block's commands"
        )
    return state


def check_block(body: str, directive: Directive | None) -> Outcome:
    """Check every command of a ```sh block, and run it if it can run (module docstring)."""
    if directive is not None:

        def check(tmp: Path) -> int:
            state = _check_all(body, tmp, run=True)
            if state.serve is not None:
                raise ShellCheckError("a run comment's block cannot start a server (`cedar serve DIR`)")
            return state.checked

        checked, output = run_in_temp_dir(body, directive, check)
        return Outcome(ran=True, checked=checked, output=output)
    state = _check_all(body, ROOT, run=False)
    if state.curls:
        return Outcome(ran=True, checked=state.checked, output=run_serve(state))
    return Outcome(checked=state.checked)
