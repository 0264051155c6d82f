"""The reference part of the site: the API reference covers every public name with a
docstring, the CLI reference is the CLI's own help, the error reference has every
``CedarError`` subclass with an example, and ``mkdocs build --strict`` passes."""

from __future__ import annotations

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cedarlang.errors import CedarError
from tests.docs import examples, shell

ROOT = shell.ROOT
API_DIR = ROOT / "docs" / "reference" / "api"
ERRORS_PAGE = ROOT / "docs" / "reference" / "errors.md"
PUBLIC_MODULES = (
    "cedarlang",
    "cedarlang.query",
    "cedarlang.partial",
    "cedarlang.tpe",
    "cedarlang.analysis",
    "cedarlang.pst",
    "cedarlang.validator",
    "cedarlang.compat.cedarpy",
    "cedarlang_sql",
    "cedarlang_serve",
)
HAVE_MKDOCS = (
    importlib.util.find_spec("mkdocs") is not None and importlib.util.find_spec("griffe") is not None
)
needs_mkdocs = pytest.mark.skipif(not HAVE_MKDOCS, reason='needs the docs extra: pip install -e ".[docs]"')


def _hooks() -> object:
    spec = importlib.util.spec_from_file_location("_docs_hooks", ROOT / "docs" / "_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _api_pages() -> dict[str, Path]:
    return _hooks().api_modules()  # type: ignore[attr-defined, no-any-return]


def _public_names(module_name: str) -> list[str]:
    return list(importlib.import_module(module_name).__all__)


def test_every_public_module_has_an_api_page() -> None:
    assert set(_api_pages()) == set(PUBLIC_MODULES)


@needs_mkdocs
def test_every_public_name_has_a_docstring() -> None:
    """The check the site build runs (docs/_hooks.py: a warning per name, so --strict fails)."""
    assert _hooks().undocumented(list(PUBLIC_MODULES)) == []  # type: ignore[attr-defined]


@needs_mkdocs
def test_the_docstring_check_finds_a_missing_docstring(tmp_path: Path) -> None:
    package = tmp_path / "somepkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        '"""A package."""\n\nfrom ._impl import done, todo\n\nLIMIT = 3\n"""The limit."""\n\n'
        '__all__ = ["LIMIT", "done", "todo"]\n',
        encoding="utf-8",
    )
    (package / "_impl.py").write_text(
        'def done() -> None:\n    """Documented."""\n\n\ndef todo() -> None:\n    pass\n', encoding="utf-8"
    )
    assert _hooks().undocumented(["somepkg"], tmp_path) == ["somepkg.todo"]  # type: ignore[attr-defined]


def _cedar_commands() -> list[tuple[str, click.Context]]:
    from cedarlang.cli import main

    hooks = _hooks()
    root = hooks._context(main, "cedar", None)  # type: ignore[attr-defined]
    return [("cedar", root), *hooks._commands(main, root)]  # type: ignore[attr-defined]


@needs_mkdocs
def test_cli_reference_is_the_cli_help() -> None:
    """The generated reference holds, for every command, exactly what `cedar ... --help` prints."""
    from cedarlang.cli import main

    reference = _hooks().cli_reference()  # type: ignore[attr-defined]
    runner = CliRunner()
    assert len(_cedar_commands()) > 20
    for path, ctx in _cedar_commands():
        # a group's required options (`cedar symcc --schema ...`) come before its subcommand
        args: list[str] = []
        chain: list[click.Context] = []
        parent = ctx.parent
        while parent is not None and parent.parent is not None:
            chain.insert(0, parent)
            parent = parent.parent
        for group_ctx in chain:
            args.append(group_ctx.info_name or "")
            for param in group_ctx.command.params:
                if isinstance(param, click.Option) and param.required:
                    args += [param.opts[0], str(ROOT / "mkdocs.yml")]
        if ctx.parent is not None:
            args.append(ctx.info_name or "")
        result = runner.invoke(main, [*args, "--help"], prog_name="cedar", terminal_width=88)
        assert result.exit_code == 0, result.output
        assert f"`{path}`\n\n```text\n{result.output.rstrip()}\n```" in reference, path


def _error_classes() -> list[type[CedarError]]:
    for module in examples.public_modules():
        try:
            importlib.import_module(module)
        except ImportError:
            continue
    found: list[type[CedarError]] = []
    todo: list[type[CedarError]] = [CedarError]
    while todo:
        cls = todo.pop()
        if cls not in found and cls.__module__.split(".")[0] in examples.PACKAGES:
            found.append(cls)
            todo += cls.__subclasses__()
    return sorted(found, key=lambda c: c.__name__)


def _error_sections() -> dict[str, str]:
    text = ERRORS_PAGE.read_text(encoding="utf-8")
    parts = re.split(r"^## `(\w+)`.*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_error_reference_has_every_error_with_a_run_example() -> None:
    sections = _error_sections()
    classes = _error_classes()
    assert len(classes) > 20
    assert sorted(sections) == sorted(c.__name__ for c in classes)
    for cls in classes:
        body = sections[cls.__name__]
        assert "```python" in body and '```text title="Output"' in body, (
            f"{cls.__name__}: the error reference needs an example that runs and its output"
        )
        where = re.match(r"\s*`([\w.]+)`:", body)
        assert where is not None, f"{cls.__name__}: the section should start with where the class lives"
        module_name, _, name = where[1].rpartition(".")
        assert getattr(importlib.import_module(module_name), name) is cls, where[1]
        assert f"except {cls.__name__} as error" in body, f"{cls.__name__}: the example should catch it"


@needs_mkdocs
def test_site_builds_strict_with_every_public_name(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(site)],
        cwd=ROOT,
        env={**shell.cli_env(), "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for module_name, page in _api_pages().items():
        html = (site / page.relative_to(ROOT / "docs").with_suffix("") / "index.html").read_text(
            encoding="utf-8"
        )
        for name in _public_names(module_name):
            assert f'id="{module_name}.{name}"' in html, f"{module_name}.{name} is not in {page.name}"
    cli_html = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for path, _ in _cedar_commands():
        assert f'id="{path.replace(" ", "-")}"' in cli_html, path


@needs_mkdocs
def test_docstring_markup_renders_as_code() -> None:
    """`>>>` examples become highlighted code (brackets in them are not markdown links) and
    Sphinx roles become inline code."""
    import markdown

    hooks = _hooks()
    md = markdown.Markdown(extensions=["pymdownx.superfences", hooks.DoctestExtension()])  # type: ignore[attr-defined]
    html = md.convert("See :class:`~cedarlang.policy.PolicySet`.\n\n>>> d['a']['b']\n1\n")
    assert "<code>PolicySet</code>" in html and ":class:" not in html
    assert "<pre" in html and "&gt;&gt;&gt;" in html and "<a " not in html
