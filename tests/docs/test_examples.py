"""Every example in ``docs/`` runs and prints what the page shows (rules: tests/docs/examples.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs import examples, shell


@pytest.mark.parametrize("page", examples.pages(), ids=lambda p: str(p.relative_to(examples.DOCS)))
def test_page_examples(page: Path) -> None:
    tally = examples.run_all([page])
    assert not tally.failures, "\n\n".join(tally.failures)
    sh_blocks = [b for b in examples.blocks(page) if b.lang == "sh"]
    assert tally.sh_not_run == 0 and tally.sh_run + tally.sh_checked == len(sh_blocks)
    print(f"{page.relative_to(shell.ROOT)}: {tally.summary()}")


def test_docstring_examples() -> None:
    tally = examples.Tally()
    examples.run_doctests(tally)
    assert not tally.failures, "\n\n".join(tally.failures)
    assert tally.doctests > 0
    print(tally.summary())


def test_guides_have_examples() -> None:
    """Each guide and the getting-started page show at least one example that runs."""
    for page in [examples.DOCS / "getting-started.md", *sorted((examples.DOCS / "guides").glob("*.md"))]:
        runnable = [b for b in examples.blocks(page) if b.lang in ("python", "console")]
        assert runnable, f"{page} has no example that runs"


def test_block_parser_reads_output_and_titles(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text('x\n\n```python\nprint(1)\n```\n\n```text title="Output"\n1\n```\n', encoding="utf-8")
    found = examples.blocks(page)
    assert [(b.lang, b.title, b.body) for b in found] == [
        ("python", None, "print(1)\n"),
        ("text", "Output", "1\n"),
    ]


def test_a_wrong_output_fails(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text('```python\nprint(1)\n```\n\n```text title="Output"\n2\n```\n', encoding="utf-8")
    tally = examples.Tally()
    examples.run_page(page, tally)
    assert len(tally.failures) == 1 and "printed" in tally.failures[0]
    page.write_text('```python\nprint(1)\n```\n\n```text title="Output"\n1\n```\n', encoding="utf-8")
    tally = examples.Tally()
    examples.run_page(page, tally)
    assert not tally.failures and tally.python == tally.outputs == 1


def test_a_failing_command_output_fails(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("```console\n$ cedar language-version\n0.0.0\n$ echo $?\n0\n```\n", encoding="utf-8")
    tally = examples.Tally()
    examples.run_page(page, tally)
    assert len(tally.failures) == 1 and "language-version" in tally.failures[0]


def test_tinytodo_with_admin_is_the_two_files() -> None:
    """docs/examples/tinytodo-with-admin.cedar (used by the analysis guide) is TinyTodo's
    policies followed by the blog post's admin policy, as the guide says."""
    root = shell.ROOT
    parts = [root / "tinytodo" / "policies.cedar", root / "examples" / "analysis" / "admin-policy.cedar"]
    expected = "".join(p.read_text(encoding="utf-8") for p in parts)
    assert (root / "docs" / "examples" / "tinytodo-with-admin.cedar").read_text(encoding="utf-8") == expected
