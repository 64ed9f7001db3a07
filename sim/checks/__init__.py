"""The checks: the safety invariants every run keeps and a scenario's own expectations.

They read a run's results (sim.runner.harness.RunResult: the trace, the final venue, the ledger,
the audit events), never the harness's internals. `run()` is a run judged by them.
"""

from __future__ import annotations

from typing import Any

from sim.checks.oracles import INVARIANTS, Check, check_all, check_expectations, check_invariants
from sim.runner import harness
from sim.runner.scenario import Scenario

__all__ = ["INVARIANTS", "Check", "check_all", "check_expectations", "check_invariants", "run"]


def run(scenario: Scenario, *, check: bool = True, **options: Any) -> harness.RunResult:
    """sim.runner.harness.run, with every invariant and expectation checked (check=False: none)."""
    return harness.run(scenario, judge=check_all if check else None, **options)
