"""mkdocs hooks (``hooks:`` in mkdocs.yml).

* Docstring examples (``>>>`` lines) are shown as Python console code blocks, so the
  API reference renders them as code (no markdown link or emphasis syntax inside them),
  and Sphinx roles in docstrings (``:class:`Foo```) as inline code.
* Every name a documented module exports (``__all__``; the modules are the ``::: module``
  lines of ``reference/api/*.md``) must have a docstring: each one missing is a warning,
  so ``mkdocs build --strict`` fails (:func:`undocumented`).
* ``<!-- cli-reference -->`` in a page becomes the help of every ``cedar`` command, taken from
  the CLI itself (:func:`cli_reference`), so the CLI reference cannot drift from the CLI.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import click
from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority

CLI_MARKER = "<!-- cli-reference -->"
ROOT = Path(__file__).resolve().parent.parent
API_PAGES = ROOT / "docs" / "reference" / "api"
log = logging.getLogger("mkdocs.hooks.cedarlang")
HELP_WIDTH = 88
_PROMPT = re.compile(r"^(\s*)>>> ")
_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj|const|term):`(~?)([^`]+)`")


def _role(match: re.Match[str]) -> str:
    """A Sphinx cross-reference role as inline code (``~a.b.C`` shows ``C``, as Sphinx does)."""
    target = match[2]
    return f"`{target.rsplit('.', 1)[-1] if match[1] else target}`"


class _DoctestPreprocessor(Preprocessor):  # type: ignore[misc]  # Markdown is untyped
    """Wrap each run of ``>>>`` / ``...`` lines and their output in a ```pycon fence."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        fence: str | None = None
        i = 0
        while i < len(lines):
            line = lines[i]
            stripped = line.lstrip()
            if stripped.startswith(("```", "~~~")):
                fence = None if fence else stripped[:3]
            match = _PROMPT.match(line) if fence is None else None
            if match is None:
                out.append(_ROLE.sub(_role, line) if fence is None else line)
                i += 1
                continue
            indent = match.group(1)
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [indent + "```pycon", *(indent + b for b in block), indent + "```", ""]
        return out


class DoctestExtension(Extension):  # type: ignore[misc]
    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_DoctestPreprocessor(md), "cedarlang_doctest", 40)


def api_modules() -> dict[str, Path]:
    """The modules the API reference documents (``::: module`` lines), with their pages."""
    found = {}
    for page in sorted(API_PAGES.glob("*.md")):
        for module in re.findall(r"^::: ([\w.]+)\s*$", page.read_text(encoding="utf-8"), re.M):
            found[module] = page
    return found


def undocumented(module_names: list[str], search_path: Path = ROOT / "src") -> list[str]:
    """The exported names (``__all__``) of these modules that have no docstring, read the
    way mkdocstrings reads them (griffe: attribute docstrings count, re-exports resolved)."""
    import griffe

    missing = []
    loader = griffe.GriffeLoader(search_paths=[str(search_path)])
    for module_name in module_names:
        package = loader.load(module_name.split(".")[0])
        loader.resolve_aliases(implicit=False, external=False)
        module = package if "." not in module_name else package[module_name.split(".", 1)[1]]
        for export in module.exports or ():
            name = str(export)
            member = module[name]
            target = member.final_target if isinstance(member, griffe.Alias) else member
            if target.docstring is None or not target.docstring.value.strip():
                missing.append(f"{module_name}.{name}")
    return missing


@event_priority(100)  # before mkdocstrings reads the extensions
def on_config(config: Any) -> Any:
    config.markdown_extensions.append(DoctestExtension())
    for name in undocumented(list(api_modules())):
        log.warning("public name without a docstring: %s", name)
    return config


def _context(command: click.Command, name: str, parent: click.Context | None) -> click.Context:
    settings = {"terminal_width": HELP_WIDTH, "max_content_width": HELP_WIDTH, **command.context_settings}
    return click.Context(command, info_name=name, parent=parent, **settings)


def _commands(group: click.Group, ctx: click.Context) -> list[tuple[str, click.Context]]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        sub = _context(command, name, ctx)
        found.append((sub.command_path, sub))
        if isinstance(command, click.Group):
            found += _commands(command, sub)
    return found


def cli_reference() -> str:
    """The markdown of every ``cedar`` command's ``--help``, the root first."""
    from cedarlang.cli import main

    assert isinstance(main, click.Group)
    root = _context(main, "cedar", None)
    parts = []
    for path, ctx in [("cedar", root), *_commands(main, root)]:
        level = "###" if path.count(" ") > 1 else "##"
        parts.append(f"{level} `{path}`\n\n```text\n{ctx.command.get_help(ctx).rstrip()}\n```\n")
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    return markdown
