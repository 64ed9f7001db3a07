"""One token's order book: price levels, each a FIFO queue, so price-time priority is explicit.

A queue holds two kinds of entries:
- the bot's orders (an order id and its owner), and
- crowd chunks: anonymous quantity standing for the rest of the market. Crowd that was at a level
  before a bot order joined is "queue ahead" of it; a taker consumes it first.

The book knows nothing of balances, trades or ids beyond the references it is handed: it answers
"who is hit, at what price, for how much" and the venue turns that into trades. Everything is
Decimal, and iteration is over sorted price lists and deques, so the result never depends on hash
order.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, overload

BUY, SELL = "BUY", "SELL"
ZERO = Decimal(0)


def opposite(side: str) -> str:
    return SELL if side == BUY else BUY


@dataclass(eq=False)  # each entry is itself: a queue finds and removes it by identity
class Entry:
    ref: str  # the order id, or a crowd chunk id ("" until the book names the chunk: Book._named)
    owner: str | None  # None: crowd liquidity
    size: Decimal  # remaining
    chunk: int = 0  # a crowd chunk's number in its book

    @property
    def is_crowd(self) -> bool:
        return self.owner is None


@dataclass(frozen=True)
class Fill:
    """One queue entry hit by a taker."""

    price: Decimal
    size: Decimal
    maker_ref: str
    maker_owner: str | None  # None: a crowd chunk
    maker_done: bool  # the maker entry left the book (fully consumed)


class _Side:
    """The levels of one side; `prices` ascending, best at the end for bids, the start for asks."""

    def __init__(self, is_bid: bool):
        self.is_bid = is_bid
        self.levels: dict[Decimal, deque[Entry]] = {}
        self.prices: list[Decimal] = []

    @overload
    def queue(self, price: Decimal, create: Literal[True]) -> deque[Entry]: ...
    @overload
    def queue(self, price: Decimal, create: bool = False) -> deque[Entry] | None: ...
    def queue(self, price: Decimal, create: bool = False) -> deque[Entry] | None:
        queue = self.levels.get(price)
        if queue is None and create:
            queue = self.levels[price] = deque()
            bisect.insort(self.prices, price)
        return queue

    def drop_if_empty(self, price: Decimal) -> None:
        if not self.levels[price]:
            del self.levels[price]
            self.prices.pop(bisect.bisect_left(self.prices, price))

    def best_first(self) -> list[Decimal]:
        return self.prices[::-1] if self.is_bid else list(self.prices)

    def best(self) -> Decimal | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.is_bid else self.prices[0]

    def reachable(self, price: Decimal, limit: Decimal | None) -> bool:
        """Would a taker with this limit trade at `price` on this (the maker) side?"""
        if limit is None:
            return True
        return price >= limit if self.is_bid else price <= limit


class Book:
    def __init__(self, token_id: str, last_trade_price: Decimal | None = None):
        self.token_id = token_id
        self.bids = _Side(is_bid=True)
        self.asks = _Side(is_bid=False)
        self.last_trade_price = last_trade_price
        self._where: dict[str, tuple[str, Decimal]] = {}  # bot order id -> (side, price)
        self._crowd_chunks = 0
        # (side, price) -> crowd_at's answer, dropped whenever an entry at that level changes
        # (the market re-quotes every level every step: most levels are unchanged)
        self._crowd_cache: dict[tuple[str, Decimal], Decimal] = {}
        # bumped by every change to a queue: a reader that saw a version knows that no level has
        # moved while it still reads the same (the market skips re-quoting an untouched book)
        self.version = 0
        self._depth: dict[str, tuple[int, tuple[tuple[Decimal, Decimal], ...]]] = {}  # side -> (version, depth)
        self.takes = 0  # takers that matched against the book (or tried to)

    def side(self, side: str) -> _Side:
        return self.bids if side == BUY else self.asks

    # ---- the bot's orders ----------------------------------------------------------------

    def rest(self, order_id: str, owner: str, side: str, price: Decimal, size: Decimal) -> None:
        """Join the back of the level's queue."""
        if order_id in self._where:
            raise ValueError(f"order {order_id} already rests")
        self.side(side).queue(price, create=True).append(Entry(order_id, owner, size))
        self._where[order_id] = (side, price)
        self.version += 1

    def _locate(self, order_id: str):
        """(book side, price, queue, entry) of a resting order, or None if it does not rest."""
        where = self._where.get(order_id)
        if where is None:
            return None
        book_side = self.side(where[0])
        queue = book_side.levels[where[1]]
        for entry in queue:
            if entry.ref == order_id:
                return book_side, where[1], queue, entry
        raise AssertionError(f"order {order_id} indexed but not queued")

    def remove(self, order_id: str) -> Decimal | None:
        """Take an order off the book; its remaining size, or None if it was not resting."""
        found = self._locate(order_id)
        if found is None:
            return None
        book_side, price, queue, entry = found
        queue.remove(entry)
        del self._where[order_id]
        book_side.drop_if_empty(price)
        self.version += 1
        return entry.size

    def take_from(self, order_id: str, size: Decimal) -> Fill | None:
        """Hit one resting order directly, past the queue ahead of it (a fault injector's fill:
        the race is about THIS order, not about whoever rests in front of it)."""
        found = self._locate(order_id)
        if found is None:
            return None
        book_side, price, queue, entry = found
        self.version += 1
        taken = min(entry.size, size)
        entry.size -= taken
        done = entry.size == 0
        if done:
            queue.remove(entry)
            del self._where[order_id]
            book_side.drop_if_empty(price)
        self.last_trade_price = price
        return Fill(price, taken, order_id, entry.owner, done)

    def has(self, order_id: str) -> bool:
        return order_id in self._where

    def queue_ahead(self, order_id: str) -> Decimal:
        """Size a taker must consume at this level before reaching the order."""
        side, price = self._where[order_id]
        ahead = ZERO
        for entry in self.side(side).levels[price]:
            if entry.ref == order_id:
                return ahead
            ahead += entry.size
        raise AssertionError(f"order {order_id} indexed but not queued")

    # ---- crowd liquidity -----------------------------------------------------------------

    def crowd_at(self, side: str, price: Decimal) -> Decimal:
        key = (side, price)
        cached = self._crowd_cache.get(key)
        if cached is not None:
            return cached
        queue = (self.bids if side == BUY else self.asks).levels.get(price)
        total = sum((e.size for e in queue if e.owner is None), ZERO) if queue else ZERO
        self._crowd_cache[key] = total
        return total

    def set_crowd(self, side: str, price: Decimal, size: Decimal) -> None:
        """Make the crowd's quantity at one level `size`.

        Growth joins the BACK of the queue (new crowd orders queue behind the bot's); shrinkage
        removes the newest crowd first, so the crowd ahead of a bot order only leaves by being
        traded. This is the usual assumption of queue-position models: cancellations come from
        the back. The caller makes sure a level does not cross the opposite side.
        """
        if size < 0:
            raise ValueError("crowd size must not be negative")
        book_side = self.side(side)
        change = size - self.crowd_at(side, price)
        if not change:
            return
        self.version += 1
        if change > 0:
            self._crowd_chunks += 1
            book_side.queue(price, create=True).append(Entry("", None, change, self._crowd_chunks))
        else:
            self._shrink_crowd(book_side, price, -change)
        self._crowd_cache[(side, price)] = size  # what the crowd now holds there, by construction

    @staticmethod
    def _shrink_crowd(book_side: _Side, price: Decimal, amount: Decimal) -> None:
        queue = book_side.levels[price]
        for entry in reversed(list(queue)):
            if amount <= 0:
                break
            if entry.owner is None:  # crowd
                taken = min(entry.size, amount)
                entry.size -= taken
                amount -= taken
                if entry.size == 0:
                    queue.remove(entry)
        book_side.drop_if_empty(price)

    # ---- taking ----------------------------------------------------------------------------

    def crosses(self, side: str, price: Decimal) -> bool:
        """Would an order on `side` at `price` trade on arrival?"""
        if side == BUY:  # spelled out: asked for every level the crowd grows
            return bool(self.asks.prices) and price >= self.asks.prices[0]
        return bool(self.bids.prices) and price <= self.bids.prices[-1]

    def liquidity(self, taker_side: str, limit: Decimal | None) -> Decimal:
        """Everything a taker could consume within its limit (for fill-or-kill)."""
        maker_side = self.side(opposite(taker_side))
        total = ZERO
        for price in maker_side.best_first():
            if not maker_side.reachable(price, limit):
                break
            total += sum((e.size for e in maker_side.levels[price]), ZERO)
        return total

    def match(self, taker_side: str, size: Decimal, limit: Decimal | None, skip_owner: str | None = None) -> list[Fill]:
        """Consume the opposite side best price first, each level front to back.

        skip_owner: entries of this owner are passed over (not consumed), for venues that
        prevent self-trades; the default is to trade with them, as Polymarket does.
        """
        maker_side = self.side(opposite(taker_side))
        fills: list[Fill] = []
        left = size
        self.takes += 1
        for price in maker_side.best_first():
            if left <= 0 or not maker_side.reachable(price, limit):
                break
            self._crowd_cache.pop((opposite(taker_side), price), None)
            self.version += 1
            left = self._consume_level(maker_side, price, left, fills, skip_owner)
        if fills:
            self.last_trade_price = fills[-1].price
        return fills

    def _consume_level(
        self, maker_side: _Side, price: Decimal, left: Decimal, fills: list[Fill], skip_owner: str | None
    ) -> Decimal:
        queue = maker_side.levels[price]
        for entry in list(queue):
            if left <= 0:
                break
            if skip_owner is not None and entry.owner == skip_owner:
                continue
            taken = min(entry.size, left)
            entry.size -= taken
            left -= taken
            done = entry.size == 0
            if done:
                queue.remove(entry)
                self._where.pop(entry.ref, None)
            fills.append(Fill(price, taken, entry.ref or self._named(entry), entry.owner, done))
        maker_side.drop_if_empty(price)
        return left

    def _named(self, entry: Entry) -> str:
        """A crowd chunk's id, a hash of its number, made the first time a taker meets the chunk:
        the re-quotes add a few hundred chunks a window and takers hit a few dozen."""
        if not entry.ref:
            entry.ref = "0x" + hashlib.sha256(f"crowd:{self.token_id}:{entry.chunk}".encode()).hexdigest()
        return entry.ref

    # ---- views -----------------------------------------------------------------------------

    def best_bid(self) -> Decimal | None:
        return self.bids.best()

    def best_ask(self) -> Decimal | None:
        return self.asks.best()

    def depth(self, side: str) -> tuple[tuple[Decimal, Decimal], ...]:
        """(price, total size) per level, best first; summed again only once the book has changed
        (a bot reads the book every cycle, and a quiet market leaves it as it was)."""
        cached = self._depth.get(side)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        book_side = self.side(side)
        depth = tuple((price, sum((e.size for e in book_side.levels[price]), ZERO)) for price in book_side.best_first())
        self._depth[side] = (self.version, depth)
        return depth

    def entries(self, side: str, price: Decimal) -> list[Entry]:
        queue = self.side(side).queue(price)
        if not queue:
            return []
        for entry in queue:
            self._named(entry)
        return list(queue)

    def midpoint(self) -> Decimal | None:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return None
        return (bid + ask) / 2
