"""ledger-matches-exchange: each trade's ledger position equals its entry plus the venue's filled
size of the bot's orders on its token, net of FAILED trades (no lost fill, no fill counted twice).
Exact: no tolerance, at the end of the run. A foreign bot's ledger is what its positions hook
answers, per token."""

from __future__ import annotations

from decimal import Decimal

from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import ZERO, venue_fills
from clobsim.sim.runner.harness import RunResult

ID = "ledger-matches-exchange"


def check(result: RunResult, ledger: Ledger | None) -> Check:
    if ledger is None:
        return _foreign(result)
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


def _foreign(result: RunResult) -> Check:
    """A foreign bot's belief (its positions hook, per token) against the venue: the entry the
    run credited plus the bot's net fills, on every token it traded or believes it holds."""
    believed = result.believed_positions or {}
    entries: dict[str, Decimal] = {}
    for spec in result.scenario.trades:
        token = result.trade_tokens[spec.id]
        entries[token] = entries.get(token, ZERO) + spec.size
    names = {token: f"trade #{trade_id}" for trade_id, token in result.trade_tokens.items()}
    evidence = []
    for token in sorted(set(entries) | set(believed)):
        fills = venue_fills(result, token)
        expected = entries.get(token, ZERO) + fills["bought"] - fills["sold"]
        recorded = believed.get(token, ZERO)
        if recorded != expected:
            evidence.append(
                f"{names.get(token, 'token')} (token {token[:12]}...): the bot believes it holds {recorded:.2f}, "
                f"exchange {expected:.2f} (entry {entries.get(token, ZERO):.2f} + bought {fills['bought']:.2f} "
                f"- sold {fills['sold']:.2f})"
            )
    if evidence:
        return fail(ID, "the bot's positions differ from the exchange's fills", evidence)
    return ok(ID)
