"""The formatter: byte-for-byte Rust's `cedar format` (cedarpy.format_policies)."""

from __future__ import annotations

import random
from pathlib import Path

import cedarpy
import pytest

from cedarlang import ParseError
from cedarlang.formatter import format_policies
from cedarlang.lexer import tokenize
from cedarlang.pretty import text_width
from cedarlang.source import Source

from .._shared import REPO_ROOT as REPO
from .conftest import chunks, needs_conformance, policy_files

FILES = policy_files()


@needs_conformance
@pytest.mark.parametrize("chunk", chunks(FILES, 1000), ids=lambda c: c[0].stem[:8])
def test_matches_rust_and_is_idempotent_on_conformance_policies(chunk: list[Path]) -> None:
    wrong, unstable = [], []
    for path in chunk:
        text = path.read_text(encoding="utf-8")
        got = format_policies(text)
        if got != cedarpy.format_policies(text):
            wrong.append(path.name)
        elif format_policies(got) != got:
            unstable.append(path.name)
    assert not wrong, wrong[:10]
    assert not unstable, unstable[:10]


@pytest.mark.parametrize("path", sorted((REPO / "tinytodo").glob("*.cedar")), ids=lambda p: p.name)
def test_tinytodo(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    got = format_policies(text)
    assert got == cedarpy.format_policies(text)
    assert format_policies(got) == got


EDGE_CASES = [
    "",
    "   \n\n",
    "// only a comment\n//two  \n",
    "permit(principal,action,resource);\r\npermit(principal,action,resource);\r\n",
    '// head\n\n@id("a") // after annotation\n// before effect\npermit // after permit\n( // paren\n'
    "principal // p\n, action, resource) // rparen\n; // semi\n// between\nforbid(principal, action, resource);",
    'permit(principal == ?principal, action, resource in ?resource) when { principal has a.b.c && resource["x"] has "y" };',
    'permit(principal, action, resource) when { "line1\nline2   \n\n   line3" == "a" && [1,2,3,] == [1,] && '
    '{a:1,b:2,} == {} && ip("1.1.1.1").isIpv4() };',
    "permit(principal, action, resource) when { -1 == - 1 && !!true && --2 == 2 && 007 == 7 && !(!true) };",
    'permit(principal is User, action in [Action::"a",Action::"b",], resource is NS::Doc in NS::Folder::"f");',
    "permit(principal, action, resource) when { "
    + " && ".join(f'context.field{i} == "value{i}"' for i in range(12))
    + " } unless { "
    + " || ".join(f"principal.x{i}" for i in range(15))
    + "};",
    "permit(principal, action, resource) when { if context.a then (if context.b then 1 else 2) else 3 } "
    "when { 1 + 2 * 3 - 4 > 0 };",
    '@a @b("x")\n@c\npermit(principal, action, resource);',
    "permit(principal, action, resource) when { {aaaaaaaaaaaa: {bbbbbbbbbbbbbbbbb: {ccccccccccccccccccc: "
    "{ddddddddddddddddd: 1, eeeeeeeeeeeeeeeeeeeeeeeeeeeee: 2}}}} == context };",
    "permit(principal, action, resource) when { context.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z"
    ".aa.bb.cc.dd.ee.ff.gg.hh.ii.jj.isEmpty() };",
    "permit(principal, action, resource) when { context // c1\n.a // c2\n.b // c3\n == // c4\n1 };",
    "permit(principal, action, resource) when { [ // c1\n1, // c2\n2 // c3\n] == { // r1\na // r2\n: // r3\n"
    "1 // r4\n} };",
    "permit(principal, action, resource) when // w\n{ // lb\n// lead\ntrue // t\n} // rb\n;",
    "permit(principal, action, resource) when { if // i\ntrue // c\nthen // t\n1 // x\nelse // e\n2 // y\n};",
    'permit(principal // a\n is // b\n User // c\n in // d\n Group::"x", action == // e\n Action::"a", resource);',
    'permit(principal, action, resource) when { "'
    + "中" * 40
    + '" == "é" && "'
    + "\u0301" * 50
    + '" == "" };',
]


@pytest.mark.parametrize("text", EDGE_CASES)
@pytest.mark.parametrize(("width", "indent"), [(80, 2), (40, 4), (10, 0)])
def test_edge_cases_match_rust(text: str, width: int, indent: int) -> None:
    assert format_policies(text, width, indent) == cedarpy.format_policies(text, width, indent)


def _with_comments(text: str, rng: random.Random) -> str:
    out, prev = [], 0
    for tok in tokenize(Source(text))[:-1]:
        out.append(text[prev : tok.start])
        roll = rng.random()
        if roll < 0.08:
            out.append(f" // c{rng.randint(0, 99)}\n")
        elif roll < 0.12:
            out.append(f"\n// lead{rng.randint(0, 99)}\n//  second  \n")
        out.append(tok.text)
        prev = tok.end
    out.append(text[prev:])
    return "".join(out) + ("\n// end of file  \n\n" if rng.random() < 0.5 else "")


@needs_conformance
def test_comments_everywhere_match_rust() -> None:
    rng = random.Random(7)
    for path in rng.sample(FILES, 150):
        text = _with_comments(path.read_text(encoding="utf-8"), rng)
        width, indent = rng.choice([(80, 2), (40, 4), (120, 0)])
        assert format_policies(text, width, indent) == cedarpy.format_policies(text, width, indent), path.name


def test_comments_are_kept() -> None:
    out = format_policies("// a policy\npermit(principal, action, resource); // trailing\n// eof\n")
    assert out == "// a policy\npermit (principal, action, resource); // trailing\n// eof\n"


def test_parse_errors_are_reported() -> None:
    with pytest.raises(ParseError) as info:
        format_policies("permit(principal, action, resource) when { 1 + };")
    assert "-->" in info.value.render()


def test_text_width_counts_terminal_columns() -> None:
    assert text_width("abc") == 3
    assert text_width("中文") == 4
    assert text_width("e\u0301") == 1


def test_long_chains_and_deep_nesting() -> None:
    chain = "permit(principal, action, resource) when { " + " && ".join(["context.a"] * 3000) + " };"
    out = format_policies(chain)
    assert out.count("context.a &&\n") == 2999
    nested = "permit(principal, action, resource) when { " + "(" * 400 + "1" + ")" * 400 + " == 1 };"
    assert format_policies(nested) == cedarpy.format_policies(nested)
