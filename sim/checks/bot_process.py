"""The checks of a run whose bot is a process clobsim cannot look inside (`clobsim run
--bot-cmd`): no ledger, no audit events of core's, only the venue's records and the bot's output.

`bot_process_checks` is the one place that selects them: the invariants that need only the
venue's records (no-orphan-orders without its ledger half, balances-non-negative,
no-repair-loop, simulator-healthy) and no-crash (the process's exit code), then the scenario's
audit-line expectations matched against the bot's output lines and its `open_orders` outcome.
Core's trade outcomes (`expect.outcomes.trades`) need core's ledger: a scenario that asks for
them cannot be judged here (`unjudgeable` names them).
"""

from __future__ import annotations

from clobsim.sim.checks import balances_non_negative, no_crash, no_orphan_orders, no_repair_loop, simulator_healthy
from clobsim.sim.checks.check import Check
from clobsim.sim.checks.expectations import check_lines, open_orders
from clobsim.sim.checks.facts import FinalLedger
from clobsim.sim.runner.harness import RunResult
from clobsim.sim.runner.scenario import Scenario

VENUE_SIDE = (balances_non_negative, no_repair_loop, no_crash, simulator_healthy)


def bot_process_checks(result: RunResult, lines: list[str]) -> list[Check]:
    with FinalLedger(result) as ledger:  # an empty ledger: these checks do not read it
        invariants = [no_orphan_orders.check_venue(result)] + [module.check(result, ledger) for module in VENUE_SIDE]
    expect = result.scenario.expectations(result.protocol)
    return invariants + check_lines(expect, lines) + open_orders(result, expect.get("outcomes", {}))


def unjudgeable(scenario: Scenario) -> str | None:
    """What of the scenario's expectations a bot process cannot be judged on, or None."""
    if scenario.expect.get("outcomes", {}).get("trades"):
        return "expect.outcomes.trades (core's ledger positions) cannot be checked for a bot process"
    return None
