"""payouts-match-ledger: what the venue pays at resolution equals what the ledgers book, for the
bot and across every participant, the crowd included.

- The bot: for each market, the venue's payout to the bot equals the sum of the payouts its
  settled trades on that market booked (`SETTLED: ... payout=$X`). A position booked on shares
  the venue never delivered (size_shortfall's dust) or on a fill that FAILED is paid in the
  ledger and not by the venue.
- Every participant: for each market, no winning share is created or destroyed. The shares of the
  winning token put into the market (deposits) equal the shares paid out to the accounts, plus
  those the crowd holds (the rest of the market: the counterparty of each match, by the size
  matched), plus those moved to anyone else the venue's records name (the operator's fee taken
  in shares). A share delivered short with nobody receiving it is a leak.

Bound: exact (the venue's figures are exact decimals; the ledger's payout is compared to the
cent it prints). Checked once the market has resolved; a trade the bot never settled books no
payout, so the bot's side is checked only for markets whose trades all settled.
"""

from __future__ import annotations

from decimal import Decimal

from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import ZERO
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.runner.harness import RunResult

ID = "payouts-match-ledger"
CENT = Decimal("0.01")
CROWD = "the crowd"


def _shares_by_participant(result: RunResult, token: str, until: int) -> dict[str, Decimal]:
    """participant -> net shares of `token` held from the venue's events before `until` (an event
    index): deposits and delivered movements for the venue's records, and for the crowd the
    other side of each match by the size matched."""
    held: dict[str, Decimal] = {}
    matches: dict[str, dict] = {}  # trade id -> its match, for a FAILED trade's reversal

    def add(who: str, delta: Decimal) -> None:
        held[who] = held.get(who, ZERO) + delta

    for event in result.venue.events[:until]:
        kind, fields = event["kind"], event["fields"]
        if kind == VenueEvent.DEPOSIT and fields["asset"] == token:
            add(fields["owner"], Decimal(fields["amount"]))
        elif kind in (VenueEvent.TRADE_MATCHED, VenueEvent.TRADE_VOIDED):
            for owner, asset, delta in fields["movements"]:
                if asset == token:
                    add(owner, Decimal(delta))
            if kind == VenueEvent.TRADE_MATCHED:
                matches[fields["trade_id"]] = fields
                if fields["asset_id"] == token:
                    add(CROWD, -_accounts_matched(fields))
            elif fields["trade_id"] in matches and matches[fields["trade_id"]]["asset_id"] == token:
                add(CROWD, _accounts_matched(matches[fields["trade_id"]]))
    return held


def _accounts_matched(fields: dict) -> Decimal:
    """The net shares the accounts took in a match, by the size matched: what the crowd gave."""
    side_of_maker = "SELL" if fields["side"] == "BUY" else "BUY"
    net = ZERO
    if fields["taker_owner"] is not None:
        net += Decimal(fields["size"]) if fields["side"] == "BUY" else -Decimal(fields["size"])
    for leg in fields["makers"]:
        if leg["owner"] is not None:
            amount = Decimal(leg["matched_amount"])
            net += amount if side_of_maker == "BUY" else -amount
    return net


def check(result: RunResult, ledger: Ledger) -> Check:
    evidence: list[str] = []
    events = result.venue.events
    paid: dict[str, dict[str, Decimal]] = {}  # market -> owner -> payout
    for index, event in enumerate(events):
        if event["kind"] == VenueEvent.MARKET_RESOLVED:
            market, winner = event["fields"]["market"], event["fields"]["winning_asset_id"]
            held = _shares_by_participant(result, winner, index)
            payouts = {
                e["fields"]["owner"]: Decimal(e["fields"]["amount"])
                for e in events[index:]
                if e["kind"] == VenueEvent.PAYOUT and e["fields"]["market"] == market
            }
            paid[market] = payouts
            put_in = sum((v for who, v in held.items() if who != CROWD and who not in payouts), ZERO)
            issued = sum(
                (
                    Decimal(e["fields"]["amount"])
                    for e in events[:index]
                    if e["kind"] == VenueEvent.DEPOSIT and e["fields"]["asset"] == winner
                ),
                ZERO,
            )
            accounted = sum(payouts.values(), ZERO) + held.get(CROWD, ZERO) + put_in
            if accounted != issued:
                evidence.append(
                    f"market {market[:12]}: {issued} winning shares were put in, but the venue paid "
                    f"{sum(payouts.values(), ZERO)}, the crowd holds {held.get(CROWD, ZERO)} and the "
                    f"other records {put_in}: {issued - accounted} shares leaked"
                )
            for owner, amount in sorted(payouts.items()):
                if amount != held.get(owner, ZERO):
                    evidence.append(
                        f"market {market[:12]}: account {owner} held {held.get(owner, ZERO)} winning shares "
                        f"and was paid {amount}"
                    )
    trades = ledger.trades()
    settled = {e.fields.get("trade"): e for e in result.events if e.kind == "trade.settled"}
    for market, payouts in sorted(paid.items()):
        mine = [t for t in trades if t.market == market]
        if not mine or any(t.trade_id not in settled for t in mine):
            continue
        booked = sum((Decimal(settled[t.trade_id].fields["payout"]) for t in mine), ZERO)
        venue = payouts.get(result.owner, ZERO)
        if booked.quantize(CENT) != venue.quantize(CENT):
            lines = ", ".join(
                f"trade #{t.trade_id} payout {Decimal(settled[t.trade_id].fields['payout']):.2f}" for t in mine
            )
            evidence.append(
                f"market {market[:12]}: the venue paid the bot {venue}, its ledger booked {booked:.2f} ({lines})"
            )
    if evidence:
        return fail(ID, "venue payouts and ledger payouts disagree, or winning shares leaked", evidence)
    return ok(ID)
