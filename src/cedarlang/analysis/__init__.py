"""Policy analysis: prove what a policy set does for every request a schema allows.

A symbolic encoding of policies into SMT (solved by cvc5, an optional dependency:
``pip install 'cedarlang[analysis]'``), after Rust's ``cedar-policy-symcc``:

>>> from cedarlang import PolicySet, Schema
>>> from cedarlang.analysis import Analyzer
>>> schema = Schema.from_str('''
...     entity User { level: Long };
...     action view appliesTo { principal: User, resource: User };
... ''')
>>> old = PolicySet.from_str('permit(principal, action, resource) when { principal.level > 5 };')
>>> new = PolicySet.from_str('permit(principal, action, resource) when { principal.level >= 5 };')
>>> result = Analyzer(schema).implies(new, old)
>>> result.outcome
<Outcome.FAILS: 'fails'>
>>> cex = next(result.counterexamples())
>>> cex.replay(new).allowed, cex.replay(old).allowed
(True, False)
"""

from .counterexample import Counterexample
from .queries import Analyzer, EnvResult, Outcome, QueryResult
from .solver import AnalysisError

__all__ = ["AnalysisError", "Analyzer", "Counterexample", "EnvResult", "Outcome", "QueryResult"]
