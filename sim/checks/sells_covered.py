"""sells-covered: a resting SELL never exceeds what its account holds. At the end of every instant
of the venue's clock, each account's resting SELL size on a token (what is left of each open
SELL) is at most the shares of that token the account holds.

Bound: zero shares, at every instant. A SELL that rests on shares the account no longer holds is
an order the venue may match into a short position: the exit left sized on a fill whose trade then
FAILED, or on shares a fill never delivered (size_shortfall). The venue refuses a SELL it cannot
cover when it is placed; what can break it later is shares leaving the account under a resting
order. Checked at the end of each instant, not after each event: one venue step (a FAILED trade
and the cancels of the SELLs it uncovered) is atomic for every participant.
"""

from __future__ import annotations

from decimal import Decimal

from clobsim.core.audit import format_time
from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import ZERO
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.records import OPEN_STATUSES
from clobsim.sim.runner.harness import RunResult

ID = "sells-covered"

Key = tuple[str, str]  # (owner, token)


class _Book:
    """Balances and resting SELLs per (owner, token), replayed from the venue's events."""

    def __init__(self) -> None:
        self.held: dict[Key, Decimal] = {}
        self.resting: dict[Key, dict[str, Decimal]] = {}
        self.key_of: dict[str, Key] = {}  # a SELL's order id -> (owner, token)
        self.tokens_of: dict[str, list[str]] = {}  # market -> its tokens

    def apply(self, kind: str, fields: dict) -> list[Key]:
        """Take in one event; returns the (owner, token) pairs it touched."""
        touched: list[Key] = []
        if kind == VenueEvent.MARKET_LISTED:
            self.tokens_of[fields["market"]] = list(fields["tokens"])
        elif kind == VenueEvent.DEPOSIT:
            touched.append(self._move(fields["owner"], fields["asset"], Decimal(fields["amount"])))
        elif kind == VenueEvent.ORDER_PLACED and fields["side"] == "SELL":
            key = (fields["owner"], fields["asset_id"])
            self.key_of[fields["order_id"]] = key
            self.resting.setdefault(key, {})[fields["order_id"]] = Decimal(fields["size"])
            touched.append(key)
        elif kind == VenueEvent.ORDER_STATUS and fields["order_id"] in self.key_of:
            if fields["status"] not in OPEN_STATUSES:
                key = self.key_of[fields["order_id"]]
                self.resting.get(key, {}).pop(fields["order_id"], None)
        elif kind in (VenueEvent.TRADE_MATCHED, VenueEvent.TRADE_VOIDED):
            for owner, asset, delta in fields["movements"]:
                touched.append(self._move(owner, asset, Decimal(delta)))
            if kind == VenueEvent.TRADE_MATCHED:
                legs = [(m["order_id"], Decimal(m["matched_amount"])) for m in fields["makers"]]
                legs.append((fields["taker_order_id"], Decimal(fields["size"])))
                for order_id, amount in legs:
                    sell = self.key_of.get(order_id)
                    if sell is not None and order_id in self.resting.get(sell, {}):
                        self.resting[sell][order_id] -= amount
        elif kind == VenueEvent.PAYOUT:
            for token in self.tokens_of.get(fields["market"], ()):
                key = (fields["owner"], token)
                if key in self.held:
                    self.held[key] = ZERO
        return touched

    def _move(self, owner: str, asset: str, delta: Decimal) -> Key:
        key = (owner, asset)
        self.held[key] = self.held.get(key, ZERO) + delta
        return key

    def uncovered(self, key: Key) -> tuple[Decimal, Decimal, list[str]] | None:
        """(resting SELL size, shares held, the resting orders) when the SELLs exceed the holding."""
        orders = {oid: left for oid, left in self.resting.get(key, {}).items() if left > ZERO}
        resting = sum(orders.values(), ZERO)
        held = self.held.get(key, ZERO)
        if resting > held:
            return resting, held, sorted(orders)
        return None


def check(result: RunResult, ledger: Ledger) -> Check:
    book = _Book()
    evidence: list[str] = []
    broken: set[Key] = set()
    pending: dict[Key, None] = {}
    events = result.venue.events
    for i, event in enumerate(events):
        for key in book.apply(event["kind"], event["fields"]):
            pending[key] = None
        if i + 1 == len(events) or events[i + 1]["time"] != event["time"]:
            for key in pending:
                bad = book.uncovered(key) if key not in broken else None
                if bad is not None:
                    broken.add(key)
                    resting, held, orders = bad
                    owner, token = key
                    who = "the bot" if owner == result.owner else f"account {owner}"
                    evidence.append(
                        f"{format_time(event['time'])}: {who} rests SELL orders for {resting:.2f} shares of "
                        f"{token[:12]} but holds {held:.2f} ({', '.join(orders)})"
                    )
            pending.clear()
    if evidence:
        return fail(ID, "a resting SELL exceeded what its account held", evidence)
    return ok(ID)
