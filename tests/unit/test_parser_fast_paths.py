"""The parser's fast paths (one-scan tokenizer, plain-scope regex, lone atoms) must
build exactly what the general token-by-token paths build: the same trees with the
same spans, and the same errors. Each test parses with the fast paths on and off."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cedarlang import ast, lexer, parser
from cedarlang.errors import ParseError
from cedarlang.source import Source

from .._shared import conformance_dir

CONFORMANCE = conformance_dir()


@contextmanager
def general_paths_only() -> Iterator[None]:
    with (
        mock.patch.object(parser.Parser, "plain_scope", lambda self: None),
        mock.patch.object(parser.Parser, "parse_lone_atom", lambda self, tok: None),
        # the name the parser module calls, without its HEAD tokens
        mock.patch.object(parser, "tokenize", lambda source, heads=False: lexer._tokenize_reporting(source)),
    ):
        yield


def dump(node: Any) -> Any:
    """A structural dump that, unlike ``==``, includes every span."""
    if isinstance(node, ast.Expr):
        return (type(node).__name__, *(dump(getattr(node, s)) for s in node.__slots__))
    if isinstance(node, ast.PolicyAst):
        return (
            node.effect,
            dump(node.principal),
            dump(node.action),
            dump(node.resource),
            tuple((c.is_when, dump(c.body), c.span) for c in node.conditions),
            tuple(node.annotations.items()),
            node.span,
        )
    if isinstance(node, ast.ScopeConstraint):
        return (node.op, node.entity, type(node.entity).__name__, node.entity_type, node.span)
    if isinstance(node, (tuple, list)):
        return tuple(dump(x) for x in node)
    return node


def outcome(text: str) -> Any:
    try:
        return dump(parser.parse_policies(text))
    except ParseError as err:
        return ("error", str(err))


def assert_same(text: str) -> None:
    fast = outcome(text)
    with general_paths_only():
        general = outcome(text)
    assert fast == general, text


def corpus_texts() -> list[str]:
    files = sorted(CONFORMANCE.rglob("*.cedar"))
    if not files:
        pytest.skip("conformance data not found")
    return [f.read_text() for f in files]


def test_conformance_policies_parse_identically() -> None:
    texts = corpus_texts()
    for text in texts:
        assert_same(text)
    assert len(texts) > 1000


SCOPE_PIECES = [
    "permit",
    "forbid",
    "(",
    ")",
    ",",
    ";",
    "principal",
    "action",
    "resource",
    "==",
    "in",
    "is",
    " ",
    "\n",
    "\t",
    "[",
    "]",
    'User::"a"',
    'Action::"view"',
    'NS::Action::"x"',
    'A::B::"c"',
    "?principal",
    "?resource",
    "?p",
    "User",
    "NS::User",
    "if",
    'if::"x"',
    'Action::"a\\"b"',
    '"s"',
    "1",
    "=",
    ":",
    "// c\n",
    "when",
    "{",
    "}",
    "true",
    "::",
    "\u00a0",
    'Action::"\\u{61}"',
    "principalin",
    "isUser",
]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(SCOPE_PIECES), max_size=30))
def test_token_soup_parses_identically(pieces: list[str]) -> None:
    assert_same(" ".join(pieces) if len(pieces) % 2 else "".join(pieces))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            "principal",
            'principal == User::"a"',
            "principal in ?principal",
            "principal is User",
            'principal is NS::User in Group::"g"',
            "principal == ?principal",
            'principal in User::"x\\ny"',
            "principal is if",
            'principal == if::"a"',
        ]
    ),
    st.sampled_from(
        [
            "action",
            'action == Action::"v"',
            'action in [Action::"a", NS::Action::"b",]',
            'action in Action::"g"',
            'action == User::"u"',
            'action in [User::"u"]',
            "action in []",
            'action == [Action::"a"]',
            'action in [Action::"a" , Action::"b" ]',
        ]
    ),
    st.sampled_from(
        [
            "resource",
            "resource is Doc",
            'resource in Folder::"f"',
            "resource == ?resource",
            "resource in ?principal",
            "resource is Doc in ?resource",
            "resource,",
        ]
    ),
    st.sampled_from([" ", "  ", "\n", "", "\t"]),
)
def test_scope_forms_parse_identically(principal: str, action: str, resource: str, gap: str) -> None:
    text = f"permit ({gap}{principal}{gap},{gap}{action},{gap}{resource}{gap}) when {{ true }};"
    assert_same(text)
    assert_same(f'@id("x")\n{text}\nforbid(principal,action,resource);')


def test_mutated_corpus_parses_identically() -> None:
    texts = corpus_texts()
    rnd = random.Random(7)
    alphabet = [*list('ab"\\?/ \n\t*()[]{}:;,.=!<>&|@01\xa0$'), "::", "in", "is", "==", 'X::"y"']
    for _ in range(3000):
        text = rnd.choice(texts)
        at = rnd.randrange(len(text) + 1)
        junk = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(4)))
        assert_same(text[:at] + junk + text[at + rnd.randrange(3) :])


def test_plain_heads_take_the_fast_path() -> None:
    """Guards the fast path itself: most corpus policies are plain enough for it."""
    texts = corpus_texts()
    heads = policies = 0
    for text in texts:
        tokens = lexer.tokenize(Source(text), heads=True)
        heads += sum(1 for t in tokens if t.kind == lexer.HEAD)
        policies += sum(1 for t in tokens if t.kind == ";")
    assert heads > 0.8 * policies, (heads, policies)
    plain = 'permit (principal, action in [Action::"a", Action::"b"], resource is Doc in ?resource);'
    assert [t.kind for t in lexer.tokenize(Source(plain), heads=True)] == [lexer.HEAD, ";", lexer.EOF]
