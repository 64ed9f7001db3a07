"""fill-reaches-ledger: every venue fill of a bot order reaches the bot's ledger within
FILL_BOUND seconds of its match (simulated time).

The ledger's fills table records when each fill was counted (`at`); the venue's trade events say
when it matched. The end-of-run checks cannot see a fill counted minutes late: polling, the
catch-up and the settlement reconcile heal it before they look, yet for those minutes the bot
sized its exit, and decided, on a wrong position. A FAILED trade's fill counts too (the bot
must see it, then see it voided). The bound covers the slowest path core relies on when every
push is lost: the monitor's status poll, a trades listing that lags order status, and retries
after refused reads. Time the bot was down (a bot_crash) does not count: no bot reacts while it
is not running (sim.faults.bot_crash.downtime); nor time it was cut off from the venue, every
request it sent going unanswered (sim.checks.facts.cut_off): no bot learns of a fill then. Nor
does a read of the trades listing that the venue refused or never answered, from when it was sent
until the bot reads again, at most RETRY_ALLOWANCE after the answer
(sim.checks.facts.unanswered_trades_reads): a fill is counted by its trade id, which that listing
gives, so while it is out no bot can count one (an outage longer than the bound failed every
bot). A bot that stops reading after an error gets nothing for the time it does not try.
"""

from __future__ import annotations

from clobsim.core.audit import format_time
from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import cut_off, faults_of, merged, unanswered_trades_reads
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.faults.bot_crash import downtime
from clobsim.sim.runner.harness import RunResult

ID = "fill-reaches-ledger"
FILL_BOUND = 60.0  # seconds from the venue's match to the ledger's count


def bot_legs(result: RunResult):
    """(match time, trade id, order id, size) of every fill of a bot order, in match order."""
    for event in result.venue.events:
        if event["kind"] != VenueEvent.TRADE_MATCHED:
            continue
        fields = event["fields"]
        if fields["taker_owner"] == result.owner:
            yield event["time"], fields["trade_id"], fields["taker_order_id"], fields["size"]
        for leg in fields["makers"]:
            if leg["owner"] == result.owner:
                yield event["time"], fields["trade_id"], leg["order_id"], leg["matched_amount"]


def latencies(result: RunResult, ledger: Ledger):
    """(match time, trade id, order id, size, seconds to the ledger or None if never counted)."""
    counted = {(row["trade_key"], row["order_id"]): row["at"] for row in ledger.fills()}
    for when, trade_id, order_id, size in bot_legs(result):
        at = counted.get((trade_id, order_id))
        yield when, trade_id, order_id, size, None if at is None else at - when


def deadline(matched: float, down: list[tuple[float, float]]) -> float:
    """When FILL_BOUND seconds have passed since `matched`, the excused spans (`down`) not counted."""
    due = matched + FILL_BOUND
    for start, end in down:
        if end <= matched or start >= due:
            continue
        due += end - max(start, matched)
    return due


def check(result: RunResult, ledger: Ledger) -> Check:
    evidence = []
    down = merged(downtime(faults_of(result)) + cut_off(result) + unanswered_trades_reads(result.trace))
    for when, trade_id, order_id, size, late in latencies(result, ledger):
        due = deadline(when, down)
        if due == float("inf") or (late is not None and when + late <= due):
            continue
        if late is None:
            evidence.append(
                f"{format_time(due)}: fill {trade_id} of order {order_id} ({size} shares, matched "
                f"{format_time(when)}) never reached the ledger"
            )
        else:
            evidence.append(
                f"{format_time(due)}: fill {trade_id} of order {order_id} ({size} shares, matched "
                f"{format_time(when)}) reached the ledger only {late:.1f}s later"
            )
    if evidence:
        return fail(ID, f"a venue fill took longer than {FILL_BOUND:.0f}s to reach the ledger", evidence)
    return ok(ID)
