"""One diagnostic renderer: parse/schema diagnostics, validation diagnostics and plain CLI errors."""

from __future__ import annotations

from cedarlang.source import Diagnostic, Source, Span
from cedarlang.validator.diagnostics import make

SOURCE = Source('permit(principal, action, resource)\nwhen { 1 + "a" };', "p.cedar")


def test_plain_diagnostic() -> None:
    d = Diagnostic("type error", Span(43, 50), SOURCE, "use a Long")
    assert d.render() == (
        "error: type error\n"
        " --> p.cedar:2:8\n"
        "  |\n"
        '2 | when { 1 + "a" };\n'
        "  |        ^^^^^^^\n"
        "  = help: use a Long"
    )


def test_validation_diagnostic_differs_only_in_label_and_context() -> None:
    plain = Diagnostic("type error", Span(43, 50), SOURCE, "use a Long").render()
    validation = make("UnexpectedType", "p1", "type error", Span(43, 50), SOURCE, "use a Long").render()
    assert validation == plain.replace("error:", "error[UnexpectedType]:", 1).replace(
        "p.cedar:2:8", "p.cedar:2:8 (policy `p1`)"
    )


def test_context_without_span() -> None:
    assert make("UnexpectedType", "p1", "oops", None, None).render() == (
        "error[UnexpectedType]: oops\n  --> policy `p1`"
    )
    assert Diagnostic("oops").render() == "error: oops"


def test_colors_and_warnings() -> None:
    d = Diagnostic("careful", Span(0, 6), SOURCE, severity="warning")
    colored = d.render(color=True)
    assert colored.startswith("\x1b[33m\x1b[1mwarning\x1b[0m\x1b[1m: careful\x1b[0m\n")
    assert "\x1b[33m^^^^^^\x1b[0m" in colored
    assert d.render() == (
        "warning: careful\n --> p.cedar:1:1\n  |\n1 | permit(principal, action, resource)\n  | ^^^^^^"
    )


def test_span_over_several_lines_underlines_to_end_of_first_line() -> None:
    d = Diagnostic("whole policy", Span(0, len(SOURCE.text)), SOURCE)
    assert d.render().splitlines()[-1] == "  | " + "^" * len("permit(principal, action, resource)")
