"""The market around the bot: a seeded model of one 15-minute Up/Down window.

- Price path: the Up token's fair price moves every `step` seconds, a random walk with drift
  (or scripted points, held until the next one); the Down token mirrors it (1 - p).
- The book: crowd liquidity at the best bid/ask around the fair price and a few levels behind
  (queue ahead of any bot order that joins those levels).
- Taker flow: takers arrive as a Poisson process and trade at the touch; they consume the crowd
  ahead first, then resting bot orders (partial fills come from here).
- Trades settle on chain: MATCHED -> MINED -> CONFIRMED a few seconds later (a fault may send
  them RETRYING -> FAILED instead; under v2 MATCHED_NOT_BROADCASTED -> FAILED).
- Resolution: after the window ends, the market resolves to the side above 0.50 (or as the
  scenario says).

Every random draw comes from the run's one seeded generator, in simulation order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal

import simpy

from clobsim.sim.exchange.book import BUY, SELL, ZERO
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.markets import Market
from clobsim.sim.exchange.protocol import V2
from clobsim.sim.exchange.records import CONFIRMED, FAILED, MATCHED_NOT_BROADCASTED, MINED, RETRYING
from clobsim.sim.exchange.venue import Venue
from clobsim.sim.trace import TraceType

DEFAULTS = {
    "kind": "random_walk",
    "start": 0.70,
    "drift": 0.0,
    "volatility": 0.004,
    "step": 5,
    "spread": 0.02,
    "depth": 150,
}
FLOW_DEFAULTS = {"rate": 0.05, "min_size": 2, "max_size": 30}
LEVELS_BEHIND = 3  # crowd levels behind the touch on each side
MINED_AFTER, CONFIRMED_AFTER = 2.0, 6.0
Touch = tuple[Decimal, Decimal]  # a token's crowd best bid and best ask


class MarketModel:
    def __init__(
        self,
        env: simpy.Environment,
        venue: Venue,
        market: Market,
        rng: random.Random,
        *,
        window_start: float,
        window_length: float,
        price_model: dict | None = None,
        taker_flow: dict | None = None,
        events: tuple = (),
        resolution: str = "auto",
        resolution_delay: float = 30.0,
        trace: Callable[..., None] | None = None,
    ):
        self.env, self.venue, self.market, self.rng = env, venue, market, rng
        self.start, self.length = float(window_start), float(window_length)
        self.model = {**DEFAULTS, **(price_model or {})}
        self.flow = {**FLOW_DEFAULTS, **(taker_flow or {})}
        self.events = sorted(events, key=lambda e: e["at"])
        self.resolution = resolution
        self.resolution_delay = resolution_delay
        self.trace = trace or (lambda *a, **k: None)
        self.tick = market.tick_size
        self.fair = Decimal(str(self.model["start"]))
        self.up, self.down = market.token("Up").token_id, market.token("Down").token_id
        self._half = Decimal(str(self.model["spread"])) / 2
        self._top = 1 - self.tick  # the highest price on the tick
        self._lowest, self._highest = self.tick * 2, 1 - self.tick * 2  # the fair price's bounds
        self._depth = Decimal(str(self.model["depth"]))
        self._books = {token: book for token in (self.up, self.down) if (book := venue.book(token)) is not None}
        self._ladders: dict[tuple[Decimal, Decimal], dict[str, list[Decimal]]] = {}  # (bid, ask) -> levels
        self._moves: dict[tuple[Touch | None, Touch], tuple[dict[str, list[Decimal]], dict[str, list[Decimal]]]] = {}
        self._touch: dict[str, Touch] = {}  # token -> its last quote's (bid, ask)
        # token -> the book's version right after its last quote, if that quote left every level
        # of the ladder at `depth` (None: a level traded)
        self._settled: dict[str, int | None] = {}
        # trade id -> "fail" when a fault voids it; consulted when the trade is first seen
        self.doomed: dict[str, float] = {}

    def token(self, outcome: str) -> str:
        return self.up if outcome.upper() == "UP" else self.down

    # ---- processes ---------------------------------------------------------------------------

    def begin(self) -> None:
        self.quote()
        self.env.process(self._price_path())
        if self.flow["rate"] > 0:
            self.env.process(self._taker_flow())
        for event in self.events:
            self.env.process(self._scripted(event))
        self.env.process(self._resolve())
        self.venue.watch((VenueEvent.TRADE_MATCHED,), self._on_event)

    def _price_path(self):
        model, step = self.model, float(self.model["step"])
        points = sorted(model.get("points") or [], key=lambda p: p["at"])
        scripted = model["kind"] == "scripted"
        drift, volatility = (0.0, 0.0) if scripted else (float(model["drift"]), float(model["volatility"]))
        t = 0.0
        while t + step < self.length:
            yield self.env.timeout(step)
            t += step
            if scripted:
                due = [p for p in points if p["at"] <= t]
                if not due:
                    continue
                target = Decimal(str(due[-1]["price"]))
            else:
                move = self.rng.gauss(drift, volatility)
                target = self.fair + Decimal(repr(round(move, 6)))
            self.set_fair(target)

    def _taker_flow(self):
        rate = float(self.flow["rate"])
        lo, hi = float(self.flow["min_size"]), float(self.flow["max_size"])
        while True:
            yield self.env.timeout(round(self.rng.expovariate(rate), 3))
            if self.env.now >= self.start + self.length:
                return
            outcome = "Up" if self.rng.random() < 0.5 else "Down"
            side = BUY if self.rng.random() < 0.5 else SELL
            size = Decimal(repr(round(self.rng.uniform(lo, hi), 2)))
            self.take(self.token(outcome), side, size)

    def _scripted(self, event: dict):
        yield self.env.timeout(max(0.0, self.start + float(event["at"]) - self.env.now))
        if event["kind"] == "set_price":
            self.set_fair(Decimal(str(event["price"])))
            self.trace(TraceType.MARKET, action="set_price", price=str(event["price"]))
        else:
            token = self.token(event.get("token", "UP"))
            limit = Decimal(str(event["price"])) if "price" in event else None
            self.take(token, event.get("side", "BUY"), Decimal(str(event.get("size", 10))), limit)

    def _resolve(self):
        yield self.env.timeout(max(0.0, self.start + self.length + self.resolution_delay - self.env.now))
        outcome = self.resolution
        if outcome == "auto":
            outcome = "UP" if self.fair >= Decimal("0.5") else "DOWN"
        self.venue.resolve_market(self.market.condition_id, "Up" if outcome == "UP" else "Down")

    # ---- the book ----------------------------------------------------------------------------

    def set_fair(self, price: Decimal) -> None:
        self.fair = min(max(price, self._lowest), self._highest)
        self.quote()

    def quote(self) -> None:
        """Crowd at the touch around the fair price, on both tokens.

        Stale levels go first, then asks, then bids: a jump never makes the crowd trade with
        its own stale quotes, while a new level that reaches a resting bot order does trade with
        it (the market moving through the bot's exit is how an exit fills).

        Only levels that can change are re-quoted (a window re-quotes a few thousand levels,
        most of them unchanged, and an unchanged level changes nothing and records nothing): when
        the last quote left every level of its ladder at `depth` and nothing has touched the book
        since, the levels the two ladders share still hold `depth`, until a level of this quote
        trades (a taker's match may take from any level on the other side).
        """
        depth, half, tick, top = self._depth, self._half, self.tick, self._top
        set_levels = self.venue.set_crowd_levels
        for token, fair in ((self.up, self.fair), (self.down, 1 - self.fair)):
            # max(tick, q(fair - half)) and min(top, max(bid + tick, q(fair + half))), spelled out
            # (twice a step, on both tokens): each keeps its first argument on a tie, as max does
            low = ((fair - half) / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick
            bid = low if low > tick else tick
            high = ((fair + half) / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick
            above = bid + tick
            high = high if high > above else above
            ask = high if high < top else top
            touch = (bid, ask)
            book = self._books[token]
            before = self._touch.get(token)
            settled = self._settled.get(token) == book.version
            if settled and before == touch:
                continue
            levels = self._ladder(touch)
            stale, added = self._move(before, touch)
            takes = book.takes
            for side in (BUY, SELL):
                if stale[side]:
                    set_levels(token, side, stale[side], ZERO)
            for side in (SELL, BUY):
                todo = added[side] if settled and book.takes == takes else levels[side]
                if todo:
                    set_levels(token, side, todo, depth)
            self._touch[token] = touch
            # a level that crossed a resting order keeps less than `depth`: not settled
            self._settled[token] = book.version if book.takes == takes else None

    def _ladder(self, touch: Touch) -> dict[str, list[Decimal]]:
        """The crowd's levels around a touch, best first (the touch takes few distinct values:
        each ladder is built once)."""
        levels = self._ladders.get(touch)
        if levels is None:
            bid, ask, tick = touch[0], touch[1], self.tick
            levels = self._ladders[touch] = {
                BUY: [bid - tick * i for i in range(LEVELS_BEHIND + 1) if bid - tick * i >= tick],
                SELL: [ask + tick * i for i in range(LEVELS_BEHIND + 1) if ask + tick * i <= 1 - tick],
            }
        return levels

    def _move(self, before: Touch | None, after: Touch) -> tuple[dict[str, list[Decimal]], dict[str, list[Decimal]]]:
        """(stale, added) per side from one touch's ladder to another's: the levels only the old
        one has, and those only the new one has, each in ladder order."""
        move = self._moves.get((before, after))
        if move is None:
            old = self._ladder(before) if before is not None else {BUY: [], SELL: []}
            new = self._ladder(after)
            move = self._moves[(before, after)] = (
                {side: [p for p in old[side] if p not in new[side]] for side in (BUY, SELL)},
                {side: [p for p in new[side] if p not in old[side]] for side in (BUY, SELL)},
            )
        return move

    def take(self, token: str, side: str, size: Decimal, limit: Decimal | None = None) -> None:
        self.venue.take(token, side, size, limit)

    # ---- trade settlement --------------------------------------------------------------------

    def _on_event(self, event: dict) -> None:
        if event["kind"] == VenueEvent.TRADE_MATCHED:
            trade_id = event["fields"]["trade_id"]
            if any(m.get("owner") for m in event["fields"]["makers"]) or event["fields"]["taker_owner"]:
                self.env.process(self._settle(trade_id))

    def _settle(self, trade_id: str):
        if trade_id in self.doomed:
            yield self.env.timeout(self.doomed[trade_id] / 2)
            # V2's operator can fail a trade before it ever broadcasts the settlement; a v1
            # venue retries on chain first
            self.venue.advance_trade(trade_id, MATCHED_NOT_BROADCASTED if self.venue.protocol == V2 else RETRYING)
            yield self.env.timeout(self.doomed[trade_id] / 2)
            self.venue.advance_trade(trade_id, FAILED)
            return
        yield self.env.timeout(MINED_AFTER)
        self.venue.advance_trade(trade_id, MINED)
        yield self.env.timeout(CONFIRMED_AFTER - MINED_AFTER)
        self.venue.advance_trade(trade_id, CONFIRMED)
