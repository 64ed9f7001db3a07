"""ledger-matches-exchange: each trade's ledger position equals its entry plus the venue's filled
size of the bot's orders on its token, net of FAILED trades (no lost fill, no fill counted twice).
Exact: no tolerance, at the end of the run."""

from __future__ import annotations

from core.ledger import Ledger
from sim.checks.check import Check, fail, ok
from sim.checks.facts import venue_fills
from sim.runner.harness import RunResult

ID = "ledger-matches-exchange"


def check(result: RunResult, ledger: Ledger) -> Check:
    evidence = []
    for trade in ledger.trades():
        token = result.trade_tokens.get(trade.trade_id, trade.token_id)
        fills = venue_fills(result, token)
        expected = trade.entry_size + fills["bought"] - fills["sold"]
        recorded = ledger.position(trade.trade_id)
        if recorded != expected:
            evidence.append(
                f"trade #{trade.trade_id}: ledger position {recorded:.2f}, exchange {expected:.2f} "
                f"(entry {trade.entry_size:.2f} + bought {fills['bought']:.2f} - sold {fills['sold']:.2f})"
            )
    if evidence:
        return fail(ID, "the ledger's position differs from the exchange's fills", evidence)
    return ok(ID)
