"""The ledger: everything that must survive a crash, in SQLite (WAL, one transaction per change).

Positions are never stored: they are derived from the fills table, whose key (trade id, order
id) is what makes the fill path idempotent. A fill reported twice (notification and polling),
or again after a restart, hits the primary key and changes nothing.

Thread safety: one connection guarded by a lock that is held only inside a method, never
across an exchange call or a sleep (those may suspend the calling task).
"""

from __future__ import annotations

import enum
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TypedDict, cast

from .model import TERMINAL_STATES, ZERO, FillSeen, OrderState, PlaceOrder, Role, Side, TradeState, can_transition, dec

SCHEMA = """
CREATE TABLE IF NOT EXISTS trades (
    trade_id INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL, side TEXT NOT NULL, market TEXT NOT NULL, token_id TEXT NOT NULL,
    window_slug TEXT NOT NULL, window_end REAL NOT NULL,
    entry_price TEXT NOT NULL, entry_size TEXT NOT NULL, confidence TEXT NOT NULL,
    state TEXT NOT NULL, scale_in_attempted INTEGER NOT NULL DEFAULT 0,
    exit_failures INTEGER NOT NULL DEFAULT 0, winner TEXT, pnl TEXT, opened_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    trade_id INTEGER NOT NULL REFERENCES trades(trade_id),
    role TEXT NOT NULL, side TEXT NOT NULL, token_id TEXT NOT NULL,
    price TEXT NOT NULL, size TEXT NOT NULL,
    state TEXT NOT NULL, venue_status TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL, updated_at REAL NOT NULL,
    terminal_logged INTEGER NOT NULL DEFAULT 0,
    venue_matched TEXT NOT NULL DEFAULT '0'
);
CREATE TABLE IF NOT EXISTS fills (
    trade_key TEXT NOT NULL, order_id TEXT NOT NULL REFERENCES orders(order_id),
    size TEXT NOT NULL, price TEXT NOT NULL, status TEXT NOT NULL,
    void INTEGER NOT NULL DEFAULT 0, source TEXT NOT NULL, at REAL NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (trade_key, order_id)
);
CREATE TABLE IF NOT EXISTS recent_fills (
    order_id TEXT PRIMARY KEY, size TEXT NOT NULL, price TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_notifications (notification_id TEXT PRIMARY KEY, at REAL NOT NULL);
"""


SETTLED_STATUS = "CONFIRMED"  # a trade's final good status; FAILED voids the fill


class TradeContext(TypedDict):
    """TradeRecord.context: the scope of a trade-scoped audit line (its window picks the log file)."""

    symbol: str
    trade: int
    side: str
    window: str


class FillRow(TypedDict):
    """One row of the fills table, as Ledger.fills returns it."""

    trade_key: str
    order_id: str
    size: str
    price: str
    status: str
    void: int
    source: str
    at: float
    seq: int


class FillOutcome(str, enum.Enum):  # noqa: UP042 - StrEnum would change the str() and f-string text of members
    APPLIED = "applied"  # new fill, position changed
    DUPLICATE = "duplicate"  # same (trade, order) already known: nothing changes
    VOIDED = "voided"  # a previously applied fill's trade FAILED: position reverted
    VOID_RECORDED = "void-recorded"  # first seen already FAILED: recorded so it is never applied
    UNKNOWN_ORDER = "unknown-order"  # not one of ours


@dataclass(frozen=True)
class TradeRecord:
    trade_id: int
    symbol: str
    side: str  # UP | DOWN
    market: str
    token_id: str
    window_slug: str
    window_end: float
    entry_price: Decimal
    entry_size: Decimal
    confidence: Decimal
    state: TradeState
    scale_in_attempted: bool
    exit_failures: int
    winner: str | None
    pnl: Decimal | None

    @property
    def context(self) -> TradeContext:
        """The fields every trade-scoped audit line needs."""
        return {"symbol": self.symbol, "trade": self.trade_id, "side": self.side, "window": self.window_slug}


@dataclass(frozen=True)
class OrderRecord:
    order_id: str
    trade_id: int
    role: Role
    side: Side
    token_id: str
    price: Decimal
    size: Decimal
    state: OrderState
    venue_status: str
    created_at: float
    terminal_logged: bool
    venue_matched: Decimal  # the largest size_matched the venue has reported for this order

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass(frozen=True)
class RecentFill:
    order_id: str
    size: Decimal
    price: Decimal
    at: float


class Ledger:
    def __init__(self, path: str = ":memory:", *, synchronous: str = "NORMAL"):
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _one(self, sql: str, args: Sequence[object] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._db.execute(sql, args).fetchone()
            return row

    def _all(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ---- trades ----------------------------------------------------------------------------

    def open_trade(
        self,
        *,
        symbol: str,
        side: str,
        market: str,
        token_id: str,
        window_slug: str,
        window_end: float,
        entry_price: Decimal,
        entry_size: Decimal,
        confidence: Decimal,
        now: float,
        trade_id: int | None = None,
    ) -> int:
        """Record a trade; `trade_id` keeps the strategy's own trade number when it has one."""
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO trades (trade_id, symbol, side, market, token_id, window_slug, window_end,"
                " entry_price, entry_size, confidence, state, opened_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    trade_id,
                    symbol,
                    side,
                    market,
                    token_id,
                    window_slug,
                    window_end,
                    str(entry_price),
                    str(entry_size),
                    str(confidence),
                    TradeState.OPEN.value,
                    now,
                ),
            )
            assert cur.lastrowid is not None  # set by any INSERT that succeeded
            return cur.lastrowid

    @staticmethod
    def _trade(row: sqlite3.Row) -> TradeRecord:
        return TradeRecord(
            trade_id=row["trade_id"],
            symbol=row["symbol"],
            side=row["side"],
            market=row["market"],
            token_id=row["token_id"],
            window_slug=row["window_slug"],
            window_end=row["window_end"],
            entry_price=dec(row["entry_price"]),
            entry_size=dec(row["entry_size"]),
            confidence=dec(row["confidence"]),
            state=TradeState(row["state"]),
            scale_in_attempted=bool(row["scale_in_attempted"]),
            exit_failures=row["exit_failures"],
            winner=row["winner"],
            pnl=dec(row["pnl"]) if row["pnl"] is not None else None,
        )

    def trade(self, trade_id: int) -> TradeRecord:
        row = self._one("SELECT * FROM trades WHERE trade_id=?", (trade_id,))
        if row is None:
            raise KeyError(f"no trade #{trade_id}")
        return self._trade(row)

    def trades(self, *, active_only: bool = False) -> list[TradeRecord]:
        sql = "SELECT * FROM trades"
        if active_only:
            sql += f" WHERE state != '{TradeState.SETTLED.value}'"
        return [self._trade(r) for r in self._all(sql + " ORDER BY trade_id")]

    def set_trade_state(self, trade_id: int, state: TradeState) -> None:
        with self._tx() as db:
            db.execute("UPDATE trades SET state=? WHERE trade_id=?", (state.value, trade_id))

    def mark_scale_in_attempted(self, trade_id: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE trades SET scale_in_attempted=1 WHERE trade_id=?", (trade_id,))

    def count_exit_failure(self, trade_id: int) -> int:
        with self._tx() as db:
            db.execute("UPDATE trades SET exit_failures=exit_failures+1 WHERE trade_id=?", (trade_id,))
            failures: int = db.execute("SELECT exit_failures FROM trades WHERE trade_id=?", (trade_id,)).fetchone()[0]
            return failures

    def reset_exit_failures(self, trade_id: int) -> None:
        """An exit was placed: the retry limit counts consecutive failures only."""
        with self._tx() as db:
            db.execute("UPDATE trades SET exit_failures=0 WHERE trade_id=? AND exit_failures>0", (trade_id,))

    def settle(self, trade_id: int, winner: str, pnl: Decimal) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE trades SET state=?, winner=?, pnl=? WHERE trade_id=?",
                (TradeState.SETTLED.value, winner, str(pnl), trade_id),
            )

    # ---- orders ----------------------------------------------------------------------------

    def record_order(self, order_id: str, trade_id: int, role: Role, command: PlaceOrder, now: float) -> None:
        """Write-ahead: the order is recorded (with its locally known id) BEFORE it is posted.

        For a scale-in this also consumes the trade's one scale-in, in the same transaction:
        a crash or timeout afterwards can never lead to a second one (single-scale-in).
        """
        with self._tx() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM orders").fetchone()[0]
            db.execute(
                "INSERT INTO orders (order_id, seq, trade_id, role, side, token_id, price, size,"
                " state, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    order_id,
                    seq,
                    trade_id,
                    role.value,
                    command.side.value,
                    command.token_id,
                    str(command.price),
                    str(command.size),
                    OrderState.PREPARED.value,
                    now,
                    now,
                ),
            )
            if role is Role.SCALE_IN:
                db.execute("UPDATE trades SET scale_in_attempted=1 WHERE trade_id=?", (trade_id,))

    @staticmethod
    def _order(row: sqlite3.Row) -> OrderRecord:
        return OrderRecord(
            order_id=row["order_id"],
            trade_id=row["trade_id"],
            role=Role(row["role"]),
            side=Side(row["side"]),
            token_id=row["token_id"],
            price=dec(row["price"]),
            size=dec(row["size"]),
            state=OrderState(row["state"]),
            venue_status=row["venue_status"],
            created_at=row["created_at"],
            terminal_logged=bool(row["terminal_logged"]),
            venue_matched=dec(row["venue_matched"]),
        )

    def order(self, order_id: str) -> OrderRecord | None:
        row = self._one("SELECT * FROM orders WHERE order_id=?", (order_id,))
        return self._order(row) if row is not None else None

    def known_order(self, order_id: str) -> OrderRecord:
        """An order the caller knows was recorded (orders are never deleted)."""
        record = self.order(order_id)
        if record is None:
            raise KeyError(f"no order {order_id}")
        return record

    def orders(
        self, trade_id: int | None = None, role: Role | None = None, open_only: bool = False
    ) -> list[OrderRecord]:
        sql = "SELECT * FROM orders WHERE 1=1"
        args: list[object] = []
        if trade_id is not None:
            sql += " AND trade_id=?"
            args.append(trade_id)
        if role is not None:
            sql += " AND role=?"
            args.append(role.value)
        records = [self._order(r) for r in self._all(sql + " ORDER BY seq", args)]
        if open_only:
            records = [r for r in records if not r.is_terminal]
        return records

    def set_order_state(self, order_id: str, state: OrderState, now: float, venue_status: str | None = None) -> bool:
        """Move along the transition table; an edge not in the table is refused (False)."""
        with self._tx() as db:
            row = db.execute("SELECT state FROM orders WHERE order_id=?", (order_id,)).fetchone()
            if row is None:
                return False
            old = OrderState(row["state"])
            if not can_transition(old, state):
                return False
            db.execute(
                "UPDATE orders SET state=?, updated_at=?, venue_status=COALESCE(?, venue_status) WHERE order_id=?",
                (state.value, now, venue_status, order_id),
            )
            return old != state

    def note_venue_matched(self, order_id: str, size_matched: Decimal) -> None:
        """Remember the venue's size_matched; fills still only count once seen with a trade id."""
        with self._tx() as db:
            row = db.execute("SELECT venue_matched FROM orders WHERE order_id=?", (order_id,)).fetchone()
            if row is not None and dec(size_matched) > dec(row["venue_matched"]):
                db.execute("UPDATE orders SET venue_matched=? WHERE order_id=?", (str(size_matched), order_id))

    def mark_terminal_logged(self, order_id: str) -> bool:
        """True exactly once per order: the terminal audit line is written once."""
        with self._tx() as db:
            cur = db.execute("UPDATE orders SET terminal_logged=1 WHERE order_id=? AND terminal_logged=0", (order_id,))
            return cur.rowcount == 1

    # ---- fills: the one idempotent path ----------------------------------------------------

    def apply_fill(self, fill: FillSeen, source: str, now: float) -> FillOutcome:
        with self._tx() as db:
            if db.execute("SELECT 1 FROM orders WHERE order_id=?", (fill.order_id,)).fetchone() is None:
                return FillOutcome.UNKNOWN_ORDER
            row = db.execute(
                "SELECT void, status FROM fills WHERE trade_key=? AND order_id=?", (fill.trade_id, fill.order_id)
            ).fetchone()
            if row is not None:
                if fill.is_void and not row["void"]:
                    db.execute(
                        "UPDATE fills SET void=1, status=? WHERE trade_key=? AND order_id=?",
                        (fill.status, fill.trade_id, fill.order_id),
                    )
                    return FillOutcome.VOIDED
                if not row["void"] and row["status"] != SETTLED_STATUS and fill.status and fill.status != row["status"]:
                    # the trade moved on (MINED, RETRYING, CONFIRMED): same fill, new settlement state
                    db.execute(
                        "UPDATE fills SET status=? WHERE trade_key=? AND order_id=?",
                        (fill.status, fill.trade_id, fill.order_id),
                    )
                return FillOutcome.DUPLICATE
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM fills").fetchone()[0]
            db.execute(
                "INSERT INTO fills (trade_key, order_id, size, price, status, void, source, at, seq)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    fill.trade_id,
                    fill.order_id,
                    str(fill.size),
                    str(fill.price),
                    fill.status,
                    int(fill.is_void),
                    source,
                    now,
                    seq,
                ),
            )
            return FillOutcome.VOID_RECORDED if fill.is_void else FillOutcome.APPLIED

    def has_unsettled_fills(self, order_id: str) -> bool:
        """A counted fill whose trade is not CONFIRMED yet: it may still FAIL (a ghost fill)."""
        return (
            self._one("SELECT 1 FROM fills WHERE order_id=? AND void=0 AND status!=?", (order_id, SETTLED_STATUS))
            is not None
        )

    def filled(self, order_id: str) -> Decimal:
        rows = self._all("SELECT size FROM fills WHERE order_id=? AND void=0", (order_id,))
        return sum((dec(r["size"]) for r in rows), ZERO)

    def fills(self, order_id: str | None = None) -> list[FillRow]:
        sql = "SELECT * FROM fills"
        args: tuple[str, ...] = ()
        if order_id is not None:
            sql, args = sql + " WHERE order_id=?", (order_id,)
        # SELECT * of the fills table: exactly FillRow's columns (SCHEMA above)
        return [cast(FillRow, dict(r)) for r in self._all(sql + " ORDER BY seq", args)]

    def position(self, trade_id: int) -> Decimal:
        trade = self.trade(trade_id)
        rows = self._all(
            "SELECT o.side AS side, f.size AS size FROM fills f JOIN orders o ON o.order_id=f.order_id"
            " WHERE o.trade_id=? AND f.void=0 ORDER BY f.seq",
            (trade_id,),
        )
        position = trade.entry_size
        for r in rows:
            position += dec(r["size"]) if r["side"] == Side.BUY.value else -dec(r["size"])
        return position

    def cost_and_proceeds(self, trade_id: int) -> tuple[Decimal, Decimal]:
        trade = self.trade(trade_id)
        cost, proceeds = trade.entry_size * trade.entry_price, ZERO
        rows = self._all(
            "SELECT o.side AS side, f.size AS size, f.price AS price FROM fills f"
            " JOIN orders o ON o.order_id=f.order_id WHERE o.trade_id=? AND f.void=0 ORDER BY f.seq",
            (trade_id,),
        )
        for r in rows:
            amount = dec(r["size"]) * dec(r["price"])
            if r["side"] == Side.BUY.value:
                cost += amount
            else:
                proceeds += amount
        return cost, proceeds

    # ---- the recent-fill tracker -----------------------------------------------------------

    def track_recent_fill(self, order_id: str, size: Decimal, price: Decimal, now: float) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO recent_fills (order_id, size, price, at) VALUES (?,?,?,?)"
                " ON CONFLICT(order_id) DO UPDATE SET size=excluded.size, price=excluded.price,"
                " at=excluded.at",
                (order_id, str(size), str(price), now),
            )

    def recent_fill(self, order_id: str) -> RecentFill | None:
        row = self._one("SELECT * FROM recent_fills WHERE order_id=?", (order_id,))
        if row is None:
            return None
        return RecentFill(row["order_id"], dec(row["size"]), dec(row["price"]), row["at"])

    def cleanup_recent_fills(self, older_than: float) -> int:
        with self._tx() as db:
            return db.execute("DELETE FROM recent_fills WHERE at < ?", (older_than,)).rowcount

    # ---- notifications ---------------------------------------------------------------------

    def mark_notification_seen(self, notification_id: str, now: float) -> bool:
        """True the first time a notification id is seen."""
        with self._tx() as db:
            cur = db.execute("INSERT OR IGNORE INTO seen_notifications VALUES (?, ?)", (notification_id, now))
            return cur.rowcount == 1
