"""The checks of a run whose bot is a process clobsim cannot look inside (`clobsim run
--bot-cmd`): no ledger, no audit events of core's, only the venue's records and the bot's output.

The invariants are those whose reach takes in a bot process (`Reach.VENUE`, read by `applies()`
in sim.checks, as for every run): no-orphan-orders without its ledger half, balances-non-negative,
no-repair-loop, no-crash (the process's exit code), simulator-healthy. Then the scenario's
audit-line expectations are matched against the bot's output lines, and its `open_orders`
outcome against the venue. Core's trade outcomes (`expect.outcomes.trades`) need core's ledger:
a scenario that asks for them cannot be judged here (`unjudgeable` names them).
"""

from __future__ import annotations

from clobsim.sim.checks import check_invariants
from clobsim.sim.checks.check import Check
from clobsim.sim.checks.expectations import check_lines, open_orders
from clobsim.sim.runner.harness import RunResult
from clobsim.sim.runner.scenario import Scenario


def bot_process_checks(result: RunResult, lines: list[str]) -> list[Check]:
    expect = result.scenario.expectations(result.protocol)
    return check_invariants(result) + check_lines(expect, lines) + open_orders(result, expect.get("outcomes", {}))


def unjudgeable(scenario: Scenario) -> str | None:
    """What of the scenario's expectations a bot process cannot be judged on, or None."""
    if scenario.expect.get("outcomes", {}).get("trades"):
        return "expect.outcomes.trades (core's ledger positions) cannot be checked for a bot process"
    return None
