"""single-scale-in: at most one scale-in order per trade, at the venue and in the ledger, also
after timeouts and crashes (no blind re-post). A hard bound of one, over the whole run. A foreign
bot may scale in as often as its strategy says: no-duplicate-placement judges its re-posts."""

from __future__ import annotations

from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import bot_orders
from clobsim.sim.runner.harness import RunResult

ID = "single-scale-in"


def check(result: RunResult, ledger: Ledger) -> Check:
    evidence = []
    for trade_id, token in sorted(result.trade_tokens.items()):
        at_venue = [o.id for o in bot_orders(result, token, "BUY")]
        if len(at_venue) > 1:
            evidence.append(f"trade #{trade_id}: {len(at_venue)} scale-in orders at the venue: {', '.join(at_venue)}")
    for trade in ledger.trades():
        recorded = [o.order_id for o in ledger.orders(trade.trade_id) if o.role.value == "scale-in"]
        if len(recorded) > 1:
            evidence.append(f"trade #{trade.trade_id}: {len(recorded)} scale-in orders in the ledger")
    if evidence:
        return fail(ID, "more than one scale-in per trade", evidence)
    return ok(ID)
