"""Lints: each kind found where it should be and nowhere else."""

from __future__ import annotations

import pytest

from cedarlang import PolicySet, Schema
from cedarlang.analysis import Analyzer
from cedarlang.analysis.lints import lint

pytest.importorskip("cvc5")

SCHEMA = Schema.from_str("""
entity Team;
entity User in [Team] { level: Long };
entity Doc { owner: User };
action read, write appliesTo { principal: User, resource: Doc };
action manage appliesTo { principal: User, resource: Team };
""")


def kinds(text: str) -> set[tuple[str, str, str | None]]:
    report = lint(Analyzer(SCHEMA), PolicySet.from_str(text))
    return {(x.kind, x.policy, x.other) for x in report.lints}


def test_each_lint_kind() -> None:
    found = kinds("""
@id("all-read") permit(principal, action == Action::"read", resource);
@id("owner-read") permit(principal, action == Action::"read", resource) when { resource.owner == principal };
@id("doc-manage") permit(principal, action == Action::"manage", resource is Doc);
@id("junior") forbid(principal, action, resource) when { principal.level < 3 };
@id("junior-write") permit(principal, action == Action::"write", resource) when { principal.level < 2 };
@id("very-junior") forbid(principal, action, resource) when { principal.level < 1 };
@id("unused-forbid") forbid(principal, action == Action::"manage", resource) when { principal.level > 10 };
""")
    assert found == {
        ("shadowed-permit", "owner-read", "all-read"),
        ("vacuous", "doc-manage", None),
        ("overridden-permit", "junior-write", "junior"),
        ("shadowed-forbid", "very-junior", "junior"),
        ("redundant", "unused-forbid", None),  # nothing permits `manage`
    }


def test_clean_policies_have_no_lints() -> None:
    assert not kinds("""
permit(principal, action == Action::"read", resource) when { resource.owner == principal };
permit(principal in Team::"admins", action, resource);
forbid(principal, action == Action::"write", resource) when { principal.level < 3 };
""")


def test_equivalent_policies_report_only_the_later_one() -> None:
    assert kinds("""
@id("a") permit(principal, action, resource) when { principal.level > 5 };
@id("b") permit(principal, action, resource) when { 5 < principal.level };
""") == {("shadowed-permit", "b", "a")}


def test_unanalysable_policies_are_listed_not_linted() -> None:
    report = lint(
        Analyzer(SCHEMA),
        PolicySet.from_str(
            "permit(principal, action, resource) when { principal.nope == 1 };\npermit(principal, action, resource);"
        ),
    )
    assert report.lints == []  # redundancy needs every policy
    assert report.not_analysed and "fails validation" in report.not_analysed[0]
