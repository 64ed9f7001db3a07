"""The checks: the safety invariants every run keeps and a scenario's own expectations.

They read a run's results (sim.runner.harness.RunResult: the trace, the final venue, the ledger,
the audit events), never the harness's internals. `run()` is a run judged by them.

One invariant per module, named after its id (TigerBeetle style); REGISTRY lists them in the
order they are checked and reported. Invariant ids are stable (design.md): new ones may be
added, none renamed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from clobsim.sim.checks import (
    balances_non_negative,
    bot_contained,
    exit_covers_position,
    fill_reaches_ledger,
    ledger_matches_exchange,
    lifecycle_complete,
    no_crash,
    no_duplicate_placement,
    no_orphan_orders,
    no_repair_loop,
    notifications_idempotent,
    payouts_match_ledger,
    sells_covered,
    simulator_healthy,
    single_scale_in,
    terminal_matches_venue,
)
from clobsim.sim.checks.check import Check
from clobsim.sim.checks.expectations import check_expectations
from clobsim.sim.checks.facts import FinalLedger
from clobsim.sim.runner import foreign as _foreign  # noqa: F401 - registers the foreign bots' run with the harness
from clobsim.sim.runner import harness
from clobsim.sim.runner.scenario import Scenario

__all__ = [
    "INVARIANTS",
    "REGISTRY",
    "Check",
    "Invariant",
    "Reach",
    "applies",
    "check_all",
    "check_expectations",
    "check_invariants",
    "run",
]


class Reach(enum.Enum):
    """Which bots an invariant can judge. A foreign bot (the user's own program: in process, or
    a process of its own) has no ledger clobsim can open: only what the venue saw, the run's
    trace, its audit lines and, when the user gives one, its positions hook are known. Of a bot
    process (`clobsim run --bot-cmd`) even less: the venue's records and its exit code."""

    CORE = "core and the zoo"  # reads core's ledger or audit kinds
    VENUE = "every bot, a bot process too"  # the venue's records and the run's outcome alone
    ANY = "every bot, foreign ones too"  # the venue's side, the trace, the run
    POSITIONS = "every bot; a foreign one with a positions hook"  # a foreign bot's belief: its hook
    FOREIGN = "foreign bots"  # rules core keeps through checks that read its ledger

    @property
    def label(self) -> str:
        return self.value


@dataclass(frozen=True)
class Invariant:
    id: str
    description: str
    check: Callable[[harness.RunResult, Any], Check]  # (result, its core.ledger.Ledger or None: a foreign bot)
    reach: Reach = Reach.CORE


def applies(invariant: Invariant, result: harness.RunResult) -> bool:
    """Whether an invariant judges this run: the one place that reads an invariant's reach."""
    if result.process:
        return invariant.reach is Reach.VENUE
    if not result.foreign:
        return invariant.reach is not Reach.FOREIGN
    if invariant.reach is Reach.POSITIONS:
        return result.believed_positions is not None
    return invariant.reach in (Reach.VENUE, Reach.ANY, Reach.FOREIGN)


REGISTRY: tuple[Invariant, ...] = (
    Invariant(
        ledger_matches_exchange.ID,
        "each trade's ledger position = entry + the venue's filled size of the "
        "bot's orders on its token, net of FAILED trades",
        ledger_matches_exchange.check,
        Reach.POSITIONS,
    ),
    Invariant(
        no_orphan_orders.ID,
        "when the window ends, no bot order is live at the venue (leftovers are "
        "cancelled before the end), and none the ledger believes gone is live",
        no_orphan_orders.check,
        Reach.VENUE,
    ),
    Invariant(
        lifecycle_complete.ID,
        "every scale-in order the bot recorded or the venue saw has a terminal audit line (filled, cancelled, failed)",
        lifecycle_complete.check,
    ),
    Invariant(
        single_scale_in.ID,
        "at most one scale-in order per trade, at the venue and in the ledger",
        single_scale_in.check,
    ),
    Invariant(no_crash.ID, "no exception escaped a bot task", no_crash.check, Reach.VENUE),
    Invariant(
        notifications_idempotent.ID,
        "delivering every notification the bot received a second time, to a "
        "bot on a copy of the final ledger, changes nothing",
        notifications_idempotent.check,
    ),
    Invariant(
        exit_covers_position.ID,
        "while a trade is active, its shares are covered by live exit orders "
        "within EXIT_GRACE seconds (an exit sized from a lagging balance is not)",
        exit_covers_position.check,
        Reach.ANY,
    ),
    Invariant(
        fill_reaches_ledger.ID,
        "every venue fill of a bot order reaches the bot's ledger within 60 s of its match "
        "(time the bot was down does not count)",
        fill_reaches_ledger.check,
    ),
    Invariant(
        balances_non_negative.ID,
        "at every moment no venue account holds a negative token or cash balance, and the "
        "recorded movements add up to the final balances (bound: zero, not even for an instant)",
        balances_non_negative.check,
        Reach.VENUE,
    ),
    Invariant(
        no_repair_loop.ID,
        f"the bot never sends the same write request more than {no_repair_loop.REPAIR_BOUND} times in a row "
        "while the venue definitively refuses it (a 4xx other than 425/429)",
        no_repair_loop.check,
        Reach.VENUE,
    ),
    Invariant(
        terminal_matches_venue.ID,
        "each scale-in's terminal audit line (less the voids reported after it) states the size the venue "
        "matched for the order in trades that did not FAIL (bound: exact, to the printed cent)",
        terminal_matches_venue.check,
    ),
    Invariant(
        payouts_match_ledger.ID,
        "the venue's payout to the bot equals the payouts its settled trades booked, and no winning share "
        "is created or lost across every participant, the crowd included (bound: exact)",
        payouts_match_ledger.check,
    ),
    Invariant(
        sells_covered.ID,
        "at the end of every instant, no account's resting SELL size on a token exceeds the shares it "
        "holds, also after a trade FAILS (bound: zero)",
        sells_covered.check,
        Reach.ANY,
    ),
    Invariant(
        simulator_healthy.ID,
        "the simulated venue raised no internal error (a harness bug, not the bot's)",
        simulator_healthy.check,
        Reach.VENUE,
    ),
    Invariant(
        no_duplicate_placement.ID,
        "an order the venue applied while the bot's answer was a timeout or a 500/502/504 is never "
        "placed a second time (token, side, price and size) unless the bot cancelled the first copy",
        no_duplicate_placement.check,
        Reach.FOREIGN,
    ),
    Invariant(
        bot_contained.ID,
        "a foreign bot stayed inside the simulation: no unstubbed host, no socket or asyncio loop of "
        "its own, no thread that ran without sleeping or waiting",
        bot_contained.check,
        Reach.FOREIGN,
    ),
)
INVARIANTS = [invariant.id for invariant in REGISTRY]


def check_invariants(result: harness.RunResult) -> list[Check]:
    with FinalLedger(result) as ledger:
        return [invariant.check(result, ledger) for invariant in REGISTRY if applies(invariant, result)]


def check_all(result: harness.RunResult) -> list[Check]:
    return check_invariants(result) + check_expectations(result)


def run(scenario: Scenario, *, check: bool = True, **options: Any) -> harness.RunResult:
    """clobsim.sim.runner.harness.run, with every invariant and expectation checked (check=False: none)."""
    return harness.run(scenario, judge=check_all if check else None, **options)
