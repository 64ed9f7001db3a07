"""simulator-healthy: the simulated venue raised no internal error during the run (that would be
a harness bug, not the bot's). No tolerance."""

from __future__ import annotations

from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.runner.harness import RunResult

ID = "simulator-healthy"


def check(result: RunResult, ledger: Ledger) -> Check:
    # `ledger` is unused: every check takes (result, ledger), so the registry calls them alike
    if result.internal_errors:
        return fail(
            ID,
            "the simulated venue hit an internal error (a harness bug)",
            [e.strip().splitlines()[-1] for e in result.internal_errors],
        )
    return ok(ID)
