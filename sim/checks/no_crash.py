"""no-crash: no exception escaped a bot task during the run; errors became audit lines. No
tolerance: one escaped exception fails the run."""

from __future__ import annotations

from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.runner.harness import RunResult

ID = "no-crash"


def check(result: RunResult, ledger: Ledger) -> Check:
    # `ledger` is unused: every check takes (result, ledger), so the registry calls them alike
    if result.task_errors:
        return fail(ID, "an exception escaped a bot task", result.task_errors)
    return ok(ID)
