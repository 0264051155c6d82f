"""The formatter's one parser, its soundness check, its size limit and its documents."""

from __future__ import annotations

import random
from collections.abc import Callable

import cedarpy
import pytest

from cedarlang import CedarError, ParseError
from cedarlang import formatter as formatter_module
from cedarlang._limits import MAX_FORMAT_TOKENS
from cedarlang.cst import Node, _RecordingParser, parse_concrete
from cedarlang.formatter import FormatError, format_policies
from cedarlang.lexer import tokenize, tokenize_with_trivia
from cedarlang.parser import Parser, parse_policies
from cedarlang.pretty import HARDLINE, LINE, LINE_, NIL, Doc, cat, group, intersperse, nest, render, text
from cedarlang.source import Source

from .conftest import needs_conformance, policy_files

POLICY = (
    '@id("p0")\npermit (principal == User::"alice", action, resource)\n'
    'when { context.a && context.b || 1 + 2 * 3 == 7 && "x" like "*" };\n'
)

# ---------------------------------------------------------------------------
# The soundness check catches a printer that changes the policies


def _patch_word(monkeypatch: pytest.MonkeyPatch, change: Callable[[str], str]) -> None:
    """Make the printer write every token through ``change`` (a bug in the printer)."""
    original = formatter_module._Printer.token

    def token(self: formatter_module._Printer, index: int, next_doc: Doc = NIL) -> Doc:
        tok = self.tokens[index]
        saved = tok.text
        tok.text = change(saved)
        try:
            return original(self, index, next_doc)
        finally:
            tok.text = saved

    monkeypatch.setattr(formatter_module._Printer, "token", token)


def test_a_swapped_operator_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    original = formatter_module._Printer._chain

    def chain(
        self: formatter_module._Printer, items: list[Node], op: str, operand: Callable[[Node], Doc]
    ) -> Doc:
        return original(self, items, "||" if op == "&&" else op, operand)

    monkeypatch.setattr(formatter_module._Printer, "_chain", chain)
    with pytest.raises(FormatError) as info:
        format_policies(POLICY)
    assert "changed the conditions" in str(info.value)
    rendered = info.value.render()
    assert "-->" in rendered and "bug in the formatter" in rendered


def test_a_changed_literal_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch_word(monkeypatch, lambda t: '"y"' if t == '"x"' else t)
    with pytest.raises(FormatError, match="changed the conditions"):
        format_policies(POLICY)


def test_a_changed_scope_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch_word(monkeypatch, lambda t: '"bob"' if t == '"alice"' else t)
    with pytest.raises(FormatError, match="changed the effect or scope"):
        format_policies(POLICY)


def test_a_changed_annotation_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch_word(monkeypatch, lambda t: '"p1"' if t == '"p0"' else t)
    with pytest.raises(FormatError, match="changed the annotations"):
        format_policies(POLICY)


def test_invalid_output_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch_word(monkeypatch, lambda t: "context2" if t == "context" else t)
    with pytest.raises(FormatError, match="invalid policies"):
        format_policies(POLICY)


def test_a_lost_policy_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formatter_module, "_remove_empty_lines", lambda s: "" if "forbid" in s else s)
    with pytest.raises(FormatError, match="number of policies from 2 to 1"):
        format_policies(POLICY + "forbid (principal, action, resource);")


def test_the_unpatched_printer_passes_the_check() -> None:
    assert format_policies(POLICY) == cedarpy.format_policies(POLICY)
    text = "permit(principal, action, resource) when { -9223372036854775808 == - 1 && -(-1) == 1 };"
    assert format_policies(text) == cedarpy.format_policies(text)


# ---------------------------------------------------------------------------
# Deep and long input: formatted, or a clean error, never a crash or a hang


def _chain(n: int, bang: bool = False) -> str:
    return "permit(principal,action,resource)when{" + ("!" if bang else "") + "context" + ".a" * n + "};"


def _token_count(text: str) -> int:
    return len(tokenize(Source(text))) - 1


def test_the_size_limit_is_exact() -> None:
    at_limit = _chain((MAX_FORMAT_TOKENS - 14) // 2, bang=True)
    over_limit = _chain((MAX_FORMAT_TOKENS + 1 - 13) // 2)
    assert _token_count(at_limit) == MAX_FORMAT_TOKENS
    assert _token_count(over_limit) == MAX_FORMAT_TOKENS + 1
    assert format_policies(at_limit).count("\n    .a") == (MAX_FORMAT_TOKENS - 14) // 2 - 1
    with pytest.raises(FormatError) as info:
        format_policies(over_limit)
    assert f"more than {MAX_FORMAT_TOKENS} tokens" in info.value.render()
    # the limit is per policy: many policies of any total size are formatted
    many = "permit(principal, action, resource) when { context.a && context.b };\n" * 3500
    assert _token_count(many) > MAX_FORMAT_TOKENS
    assert format_policies(many).count("permit") == 3500


@pytest.mark.parametrize(
    "text",
    [
        _chain(100_000),
        "permit(principal, action, resource) when { " + " && ".join(["true"] * 100_000) + " };",
        "permit(principal, action, resource) when { " + "(" * 10_000 + "1" + ")" * 10_000 + " == 1 };",
        "permit(principal, action, resource) when { " + "[" * 10_000 + "]" * 10_000 + " == [] };",
        "permit(principal, action, resource) when { "
        + "if true then " * 5_000
        + "1"
        + " else 2" * 5_000
        + " };",
    ],
    ids=["100k-dots", "100k-ands", "10k-parens", "10k-brackets", "5k-ifs"],
)
def test_huge_input_gives_a_clean_error(text: str) -> None:
    with pytest.raises(CedarError) as info:
        format_policies(text)
    assert isinstance(info.value, FormatError | ParseError)
    assert "-->" in info.value.render()


def test_long_input_under_the_limits_matches_rust() -> None:
    ands = "permit(principal, action, resource) when { " + " && ".join(["context.a"] * 8_000) + " };"
    assert format_policies(ands) == cedarpy.format_policies(ands)
    nested = "permit(principal, action, resource) when { " + "(" * 500 + "1" + ")" * 500 + " == 1 };"
    assert format_policies(nested) == cedarpy.format_policies(nested)  # Rust overflows its stack at 1,000
    deepest = "permit(principal, action, resource) when { " + "(" * 2_000 + "1" + ")" * 2_000 + " == 1 };"
    assert format_policies(deepest).count("(") == 1 + 2_000
    deepest = "permit(principal, action, resource) when { " + "[" * 2_000 + "]" * 2_000 + " == [] };"
    assert format_policies(deepest).count("[") == 2_001


# ---------------------------------------------------------------------------
# One parser: the concrete tree comes with the parser's own AST and errors


@needs_conformance
def test_the_concrete_parse_gives_the_parsers_asts() -> None:
    for path in random.Random(3).sample(policy_files(), 400):
        text = path.read_text(encoding="utf-8")
        source = Source(text, "<policies>")
        try:
            want = parse_policies(text)
        except ParseError as err:
            with pytest.raises(ParseError) as info:
                parse_concrete(source, *tokenize_with_trivia(source))
            assert str(info.value) == str(err), path.name
            continue
        tree = parse_concrete(source, *tokenize_with_trivia(source))
        assert tree.asts == want, path.name
        for node, policy in zip(tree.policies, want, strict=True):
            assert policy.span is not None
            assert tree.tokens[node.first].start == policy.span.start, path.name
            assert tree.tokens[node.last - 1].end == policy.span.end, path.name


def test_the_recorder_overrides_only_parser_methods() -> None:
    """The recorder hooks the parser's own rules: a renamed rule must not leave a dead hook."""
    hooks = {
        n for n in vars(_RecordingParser) if not n.startswith("__") and n not in ("reduce", "reduce_level")
    }
    assert hooks and all(callable(getattr(Parser, n, None)) for n in hooks), hooks - set(dir(Parser))


@pytest.mark.parametrize(
    "text",
    [
        "permit(principal, action, resource) when { 1 + };",
        "permit(principal, action, resource) when { context.a == };\npermit(principal);",
        "permit(principal, action, resource) when { # };",
        'permit(principal, action, resource) when { "unterminated };',
        'forbid(principal is User == User::"a", action, resource);',
        "permit(principal, action, resource) when { [99999999999999999999] == 1 };",
        "permit(principal, action, resource) when { -9223372036854775809 == 1 };",
        'permit(principal, action == Photo::"x", resource);',
        'permit(principal in [User::"a"], action, resource);',
    ],
)
def test_parse_errors_are_the_parsers(text: str) -> None:
    with pytest.raises(ParseError) as want:
        parse_policies(text)
    with pytest.raises(ParseError) as got:
        format_policies(text)
    assert got.value.render() == want.value.render()


def test_tokens_with_trivia_give_back_the_text() -> None:
    text = '// a\n@id("x") permit ( principal , // b\n action,resource )\n\t;  // c\n// d\n'
    tokens, trivia = tokenize_with_trivia(Source(text))
    assert "".join(t + tok.text for t, tok in zip(trivia, tokens, strict=True)) == text
    assert [(t.kind, t.text, t.start, t.end) for t in tokens] == [
        (t.kind, t.text, t.start, t.end) for t in tokenize(Source(text))
    ]
    assert trivia[0] == "// a\n" and trivia[-1] == "  // c\n// d\n"


# ---------------------------------------------------------------------------
# The documents


def test_groups_break_only_when_they_do_not_fit() -> None:
    doc = group(
        cat(
            text("f("),
            nest(cat(LINE_, intersperse([text("aaa"), text("bbb")], cat(text(","), LINE))), 2),
            LINE_,
            text(")"),
        )
    )
    assert render(doc, 80) == "f(aaa, bbb)"
    assert render(doc, 8) == "f(\n  aaa,\n  bbb\n)"


def test_hard_lines_break_and_indent() -> None:
    doc = cat(text("a"), nest(cat(HARDLINE, text("b")), 4), HARDLINE, text("c"))
    assert render(doc, 80) == "a\n    b\nc"


def test_a_long_document_renders_without_recursion() -> None:
    doc = group(intersperse((text("x") for _ in range(200_000)), LINE))
    out = render(doc, 80)
    assert out.count("\n") == 199_999
