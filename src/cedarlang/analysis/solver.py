"""The SMT backend: cvc5, imported lazily (the core engine has no runtime dependency).

Install it with ``pip install cedarlang[analysis]``.
"""

from __future__ import annotations

from typing import Any

from ..errors import CedarError

__all__ = ["AnalysisError", "Backend", "UnknownResult"]


class AnalysisError(CedarError):
    """A policy analysis could not run (no solver installed, a solver failure, ...)."""


class UnknownResult(AnalysisError):
    """The solver answered neither sat nor unsat (a resource limit)."""


def _cvc5() -> Any:
    try:
        import cvc5
    except ImportError:
        raise AnalysisError(
            "policy analysis needs the cvc5 SMT solver: pip install 'cedarlang[analysis]'"
        ) from None
    return cvc5


class Backend:
    """One term manager and solver; the encoder builds terms, the queries check them."""

    def __init__(self) -> None:
        cvc5 = _cvc5()
        self.cvc5 = cvc5
        self.Kind = cvc5.Kind
        self.tm = cvc5.TermManager()
        self.solver = cvc5.Solver(self.tm)
        self.solver.setOption("produce-models", "true")
        self.solver.setLogic("ALL")

    def check(self, formulas: list[Any]) -> bool:
        """Whether the conjunction of ``formulas`` is satisfiable (the model stays readable
        until the next call)."""
        self.solver.resetAssertions()
        for f in formulas:
            self.solver.assertFormula(f)
        result = self.solver.checkSat()
        if result.isSat():
            return True
        if result.isUnsat():
            return False
        raise UnknownResult(f"the solver could not decide the query ({result})")

    def value(self, term: Any) -> Any:
        return self.solver.getValue(term)
