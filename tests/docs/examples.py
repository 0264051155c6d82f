"""Run every example of the documentation and check what it shows.

``python -m tests.docs.examples`` (from the repository root) prints how many ran. The rules
for a page of ``docs/`` (see ``docs/index.md``, "About these pages"):

* ```` ```python ```` blocks run in order, one namespace per page, in the repository root.
  A block followed by a ```` ```text title="Output" ```` block must print exactly that.
* ```` ```console ```` blocks: each ``$ cedar ...`` line runs the CLI in a subprocess, and the
  lines up to the next ``$`` are its output (stdout and stderr); ``$ echo $?`` shows the
  previous command's exit status. Only ``cedar`` and ``echo $?`` may appear.
* A block with ``title="path"`` (any language) shows that file: it must equal the file.
* ```` ```sh ```` blocks (installing, serving, benchmarks, CI steps): every command is
  checked for real without running it (the ``pip install`` extras exist, ``cedar`` and
  ``mkdocs`` command lines parse with the real CLIs, scripts exist and their argparse accepts
  the flags), and the blocks that can run on 127.0.0.1 in bounded time run (``cedar serve``
  with ``curl`` requests, ``<!-- run: ... -->`` blocks); a ```` ```text title="Output" ````
  block after one shows what it prints. The rules: tests/docs/shell.py.
* The ``>>>`` examples in the docstrings of the public packages (shown in the API
  reference) run as doctests.
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import io
import json
import os
import pkgutil
import re
import shlex
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from tests.docs import shell
from tests.docs.shell import ROOT, cli_env

DOCS = ROOT / "docs"
PACKAGES = ("cedarlang", "cedarlang_sql", "cedarlang_serve")
NOT_RUN = {"text"}
_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+)(?P<info>.*)$")
_TITLE = re.compile(r'title="([^"]*)"')


@dataclass
class Block:
    page: Path
    line: int
    lang: str
    title: str | None
    body: str
    comment: str | None = None  # an HTML comment right before the block (``<!-- run: ... -->``)

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page
        return f"{page}:{self.line}"


@dataclass
class Tally:
    python: int = 0
    outputs: int = 0
    commands: int = 0
    files: int = 0
    doctests: int = 0
    sh_run: int = 0
    sh_checked: int = 0
    sh_commands: int = 0
    sh_not_run: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"docs examples: {self.python} python blocks ({self.outputs} with checked output), "
            f"{self.commands} cedar commands, {self.files} shown files compared, "
            f"{self.doctests} docstring examples; sh blocks: {self.sh_run} run, "
            f"{self.sh_checked} checked statically ({self.sh_commands} commands checked), "
            f"{self.sh_not_run} not run; {len(self.failures)} failures"
        )


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md"))


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a markdown page, in order."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        indent, fence, info = len(m["indent"]), m["fence"], m["info"].strip()
        start = i + 1
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i][indent:])
            i += 1
        i += 1
        lang = info.split()[0] if info else ""
        title = _TITLE.search(info)
        before = next((line for line in reversed(lines[: start - 1]) if line.strip()), "").strip()
        comment = before if before.startswith("<!--") and before.endswith("-->") else None
        found.append(Block(page, start, lang, title[1] if title else None, "\n".join(body) + "\n", comment))
    return found


def _child() -> None:
    """In a fresh interpreter: run the page's python blocks (JSON on stdin) in one namespace,
    and write each block's output, or its error, as JSON on stdout."""
    sources: list[list[str]] = json.load(sys.stdin)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    results: list[dict[str, str]] = []
    real_stdout = sys.stdout
    os.chdir(ROOT)
    for where, source in sources:
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(source, where, "exec"), namespace)
        except BaseException as error:
            results.append({"output": out.getvalue(), "error": "".join(traceback.format_exception(error))})
            break
        results.append({"output": out.getvalue()})
    real_stdout.write(json.dumps(results))


def run_python_blocks(python_blocks: list[Block]) -> list[dict[str, str]]:
    """Run a page's python blocks in order, in a fresh interpreter (examples may configure
    process-wide things, like Django's settings, that must not leak into the test process)."""
    done = subprocess.run(
        [sys.executable, "-c", "from tests.docs.examples import _child; _child()"],
        input=json.dumps([[b.where, b.body] for b in python_blocks]),
        cwd=ROOT,
        env={**cli_env(), "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise AssertionError(f"the examples' interpreter failed:\n{done.stderr}")
    results: list[dict[str, str]] = json.loads(done.stdout)
    return results


def console_commands(block: Block) -> list[tuple[str, list[str]]]:
    """A console block's commands (``\\`` continuations joined), each with its shown output."""
    commands: list[tuple[str, list[str]]] = []
    pending = ""
    for line in block.body.rstrip("\n").split("\n"):
        if pending:
            pending += " " + line.strip()
        elif line.startswith("$ "):
            pending = line[2:]
        else:
            if not commands:
                raise AssertionError(f"{block.where}: output before any `$ ` command")
            commands[-1][1].append(line)
            continue
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        commands.append((pending, []))
        pending = ""
    return commands


def run_command(command: str, status: int, where: str) -> tuple[int, str]:
    """Run one console command: ``cedar ...`` (in a subprocess) or ``echo $?``."""
    argv = shlex.split(command)
    if argv == ["echo", "$?"]:
        return status, f"{status}\n"
    if argv[0] != "cedar":
        raise AssertionError(f"{where}: only `cedar ...` and `echo $?` run here: {command}")
    done = subprocess.run(
        [sys.executable, "-c", shell.CLI, *argv[1:]],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout


def _run_console(block: Block, tally: Tally) -> None:
    status = 0
    for command, expected in console_commands(block):
        status, got = run_command(command, status, block.where)
        if not command.startswith("echo"):
            tally.commands += 1
        want = "\n".join(expected)
        if got.rstrip() != want.rstrip():
            raise AssertionError(f"{block.where}: `{command}` printed\n{got}\nthe page shows\n{want}")


def _run_sh(block: Block, after: Block | None, tally: Tally) -> None:
    """Check (and run, where it can) a ```sh block: tests/docs/shell.py."""
    try:
        directive = shell.Directive.parse(block.comment) if block.comment else None
        outcome = shell.check_block(block.body, directive)
    except AssertionError as error:
        tally.sh_not_run += 1
        raise AssertionError(f"{block.where}: {error}") from error
    except Exception:
        tally.sh_not_run += 1
        raise
    shown = after.body if after is not None and after.title == "Output" else None
    if not outcome.ran:
        tally.sh_checked += 1
        tally.sh_commands += outcome.checked
        if shown is not None:
            raise AssertionError(f"{block.where}: an Output block after a sh block that does not run")
        return
    tally.sh_run += 1
    tally.sh_commands += outcome.checked
    if outcome.output.rstrip() != (shown or "").rstrip():
        raise AssertionError(f"{block.where}: the block printed\n{outcome.output}\nthe page shows\n{shown}")


def run_page(page: Path, tally: Tally) -> None:
    """Run one page's examples, adding to ``tally`` (failures included)."""
    page_blocks = blocks(page)
    python_blocks = [b for b in page_blocks if b.lang == "python"]
    try:
        results = dict(zip((b.line for b in python_blocks), run_python_blocks(python_blocks), strict=False))
    except AssertionError as error:
        tally.failures.append(f"{page}: {error}")
        return
    for n, block in enumerate(page_blocks):
        try:
            if block.title is not None and block.title != "Output":
                path = ROOT / block.title
                if not path.is_file():
                    raise AssertionError(f"{block.where}: title names {block.title}, not a file")
                if path.read_text(encoding="utf-8").rstrip() != block.body.rstrip():
                    raise AssertionError(f"{block.where}: the block differs from {block.title}")
                tally.files += 1
            if block.lang == "python":
                result = results.get(block.line)
                if result is None:
                    raise AssertionError(f"{block.where}: not run (an earlier block failed)")
                if "error" in result:
                    raise AssertionError(f"{block.where}: {result['error']}")
                got = result["output"]
                tally.python += 1
                after = page_blocks[n + 1] if n + 1 < len(page_blocks) else None
                if after is not None and after.title == "Output":
                    tally.outputs += 1
                    if got.rstrip() != after.body.rstrip():
                        raise AssertionError(
                            f"{block.where}: printed\n{got}\nbut {after.where} shows\n{after.body}"
                        )
                elif got:
                    raise AssertionError(f"{block.where}: printed output the page does not show:\n{got}")
            elif block.lang == "console":
                _run_console(block, tally)
            elif block.lang == "sh":
                _run_sh(block, page_blocks[n + 1] if n + 1 < len(page_blocks) else None, tally)
            elif block.title is None and block.lang not in NOT_RUN:
                raise AssertionError(
                    f"{block.where}: a ```{block.lang} block must be run (python, console) "
                    'or show a file (title="path")'
                )
            elif block.title == "Output" and (n == 0 or page_blocks[n - 1].lang not in ("python", "sh")):
                raise AssertionError(f"{block.where}: an Output block must follow a python or sh block")
        except Exception as error:
            if isinstance(error, AssertionError):
                tally.failures.append(str(error))
            else:
                tally.failures.append(f"{block.where}: {''.join(traceback.format_exception(error))}")


def public_modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            if not info.name.split(".")[-1].startswith("_") and "._" not in info.name:
                names.append(info.name)
    return names


def run_doctests(tally: Tally) -> None:
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for name in public_modules():
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional dependency's module (e.g. Django's)
            continue
        for test in finder.find(module):
            if not test.examples:
                continue
            out = io.StringIO()
            with contextlib.chdir(ROOT):
                result = runner.run(test, out=out.write)
            tally.doctests += result.attempted
            if result.failed:
                tally.failures.append(f"doctest {test.name}:\n{out.getvalue()}")


def run_all(selected: list[Path] | None = None) -> Tally:
    tally = Tally()
    for page in selected or pages():
        run_page(page, tally)
    if selected is None:
        run_doctests(tally)
    return tally


def main() -> int:
    tally = run_all()
    for failure in tally.failures:
        print(failure, file=sys.stderr)
    print(tally.summary())
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
