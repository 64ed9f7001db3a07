"""balances-non-negative: at every moment of the run, no account at the venue (the bot's or any
other participant's) holds a negative token or cash balance, and the balances replayed from the
venue's recorded movements equal its final balances (conservation: nothing moved off the record).

Bound: zero. A negative balance is never tolerated, not even for an instant: it is a SELL that
matched shares the account did not hold (a resting exit left sized on a fill whose trade then
FAILED) or a payout on a position the venue never delivered. The check replays the venue's events
in order (deposits, each trade's movements at its match, a FAILED trade's reversal, the payout at
resolution), so it names the simulated moment a balance first went negative, even if a later
deposit or payout healed it before the end.
"""

from __future__ import annotations

from decimal import Decimal

from clobsim.core.audit import format_time
from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.records import COLLATERAL
from clobsim.sim.runner.harness import RunResult

ID = "balances-non-negative"
ZERO = Decimal(0)


def replay(result: RunResult):
    """Yield (time, owner, asset, balance after, what moved it) for every recorded balance move,
    in the venue's order, and return the replayed balances (owner -> asset -> balance)."""
    balances: dict[str, dict[str, Decimal]] = {}
    tokens_of: dict[str, list[str]] = {}
    for event in result.venue.events:
        kind, fields, when = event["kind"], event["fields"], event["time"]
        moves: list[tuple[str, str, Decimal]] = []
        if kind == VenueEvent.MARKET_LISTED:
            tokens_of[fields["market"]] = list(fields["tokens"])
        elif kind == VenueEvent.DEPOSIT:
            moves = [(fields["owner"], fields["asset"], Decimal(fields["amount"]))]
            cause = "deposit"
        elif kind == VenueEvent.TRADE_MATCHED:
            moves = [(owner, asset, Decimal(delta)) for owner, asset, delta in fields["movements"]]
            cause = f"trade {fields['trade_id']} matched"
        elif kind == VenueEvent.TRADE_VOIDED:
            moves = [(owner, asset, Decimal(delta)) for owner, asset, delta in fields["movements"]]
            cause = f"trade {fields['trade_id']} FAILED (reversed)"
        elif kind == VenueEvent.PAYOUT:
            held = balances.setdefault(fields["owner"], {})
            moves = [(fields["owner"], t, -held[t]) for t in tokens_of.get(fields["market"], ()) if held.get(t)]
            moves.append((fields["owner"], COLLATERAL, Decimal(fields["amount"])))
            cause = f"payout of market {fields['market'][:10]}"
        for owner, asset, delta in moves:
            account = balances.setdefault(owner, {})
            account[asset] = account.get(asset, ZERO) + delta
            yield when, owner, asset, account[asset], cause
    return balances


def check(result: RunResult, ledger: Ledger) -> Check:
    evidence = []
    broken: set[tuple[str, str]] = set()
    moves = replay(result)
    while True:
        try:
            when, owner, asset, value, cause = next(moves)
        except StopIteration as done:
            replayed = done.value
            break
        if value < ZERO and (owner, asset) not in broken:
            broken.add((owner, asset))
            who = "the bot" if owner == result.owner else f"account {owner}"
            evidence.append(f"{format_time(when)}: {who} holds {value} of {asset[:12]} after {cause}")
    for owner, account in sorted(result.venue.accounts.items()):
        for asset, value in sorted(account.balances.items()):
            if replayed.get(owner, {}).get(asset, ZERO) != value:
                evidence.append(
                    f"account {owner}: {asset[:12]} is {value} at the venue but the recorded movements "
                    f"add up to {replayed.get(owner, {}).get(asset, ZERO)}"
                )
    if evidence:
        return fail(ID, "a venue balance went negative or moved off the record", evidence)
    return ok(ID)
