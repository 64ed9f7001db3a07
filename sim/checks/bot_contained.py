"""bot-contained: a foreign bot stayed inside the simulation. Nothing it did had to be refused
or stopped: no request to a host with no stub (never a real network attempt), no socket of its
own, no asyncio loop, no thread that ran without ever sleeping or waiting (a spin the run
stopped). Each such thing is one line of evidence, named as the run met it."""

from __future__ import annotations

from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.runner.harness import RunResult

ID = "bot-contained"


def check(result: RunResult, ledger: Ledger | None) -> Check:
    # `ledger` is unused: every check takes (result, ledger), so the registry calls them alike
    if result.bot_stopped:
        return fail(ID, result.bot_stopped[0], result.bot_stopped)
    return ok(ID)
