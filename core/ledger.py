"""The ledger: everything that must survive a crash, in SQLite (WAL, one transaction per change).

Positions are never stored: they are derived from the fills table, whose key (trade id, order
id) is what makes the fill path idempotent. A fill reported twice (notification and polling),
or again after a restart, hits the primary key and changes nothing.

Thread safety: one connection guarded by a lock that is held only inside a method, never
across an exchange call or a sleep (those may suspend the calling task); a read whose answer
is kept from an earlier one needs no lock (Ledger._forget says why).
"""

from __future__ import annotations

import enum
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict, cast

from .model import TERMINAL_STATES, ZERO, FillSeen, OrderState, PlaceOrder, Role, Side, TradeState, can_transition, dec

SCHEMA = """
CREATE TABLE IF NOT EXISTS trades (
    trade_id INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL, side TEXT NOT NULL, market TEXT NOT NULL, token_id TEXT NOT NULL,
    window_slug TEXT NOT NULL, window_end REAL NOT NULL,
    entry_price TEXT NOT NULL, entry_size TEXT NOT NULL, confidence TEXT NOT NULL,
    state TEXT NOT NULL, scale_in_attempted INTEGER NOT NULL DEFAULT 0,
    exit_failures INTEGER NOT NULL DEFAULT 0, winner TEXT, pnl TEXT, opened_at REAL NOT NULL,
    undelivered TEXT NOT NULL DEFAULT '0'
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
    venue_matched TEXT NOT NULL DEFAULT '0',
    held_kind TEXT, held_reason TEXT
);
CREATE TABLE IF NOT EXISTS fills (
    trade_key TEXT NOT NULL, order_id TEXT NOT NULL REFERENCES orders(order_id),
    size TEXT NOT NULL, price TEXT NOT NULL, status TEXT NOT NULL,
    void INTEGER NOT NULL DEFAULT 0, source TEXT NOT NULL, at REAL NOT NULL,
    seq INTEGER NOT NULL,
    withheld TEXT,
    PRIMARY KEY (trade_key, order_id)
);
CREATE TABLE IF NOT EXISTS recent_fills (
    order_id TEXT PRIMARY KEY, size TEXT NOT NULL, price TEXT NOT NULL, at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_notifications (notification_id TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS orders_by_trade ON orders(trade_id, seq);
CREATE INDEX IF NOT EXISTS fills_by_order ON fills(order_id, seq);
"""

# every table and index SCHEMA creates, by name
SCHEMA_OBJECTS = frozenset(re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", SCHEMA))

# (table, column, definition) of each column added to SCHEMA after a database could have been
# written without it: a file a bot wrote before gains it when it is opened again, its rows kept
ADDED_COLUMNS = (
    ("fills", "withheld", "TEXT"),  # fees derived from what the trade states
    ("trades", "undelivered", "TEXT NOT NULL DEFAULT '0'"),  # a shortfall learnt from the balance
    ("orders", "held_kind", "TEXT"),  # a terminal line held back for its fills
    ("orders", "held_reason", "TEXT"),
)

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
    withheld: str | None  # shares matched but not delivered (a BUY taker's fee); NULL: not stated yet


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
    undelivered: Decimal  # shares the ledger counts that the venue did not deliver, as the balance told

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
    held_line: tuple[str, str] | None  # (kind, reason) of a terminal line held back for its fills

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass(frozen=True)
class RecentFill:
    order_id: str
    size: Decimal
    price: Decimal
    at: float


Row = dict[str, Any]  # one table row as SQLite stores it (TEXT decimals, INTEGER flags)


class Ledger:
    """The ledger's tables in SQLite, mirrored in memory for reads.

    The ledger is the only writer of its database (one bot process at a time; a restarted bot
    opens a new Ledger, which loads the mirror from the file). So reads never need SQLite: they
    are served from the mirror, which holds each row exactly as SQLite stores it (the same TEXT
    decimals, the same flags) and is updated only after the transaction that wrote the change
    has committed. A write that would change nothing opens no transaction at all; the database
    stays the crash-safe record (WAL, one transaction per change), the mirror a cache of it.
    """

    def __init__(self, path: str = ":memory:", *, synchronous: str = "NORMAL"):
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        # synchronous before the switch to WAL: the switch syncs the file as the setting in force
        # says (about 1 ms a new file at the default FULL, for a file that will run without syncs)
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        if self._create_schema():
            self._load(new=True)
        else:
            self._add_columns()  # a file an older bot wrote may lack a column added since
            self._load(new=False)

    def _create_schema(self) -> bool:
        """The tables and indexes, in one transaction, unless the file has every one already (a
        restart): the script's statements would each be a transaction of their own, and even on
        a complete file CREATE ... IF NOT EXISTS costs ten times a look at sqlite_master. True
        when the file had none of them (a new ledger)."""
        present = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master")}
        if SCHEMA_OBJECTS <= present:
            return False
        try:
            self._db.executescript(f"BEGIN IMMEDIATE;{SCHEMA}COMMIT;")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return not present

    def _add_columns(self) -> None:
        """The columns of ADDED_COLUMNS a file written by an older bot lacks (one look for all)."""
        present = {
            (row[0], row[1])
            for row in self._db.execute(
                "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p WHERE m.type = 'table'"
            )
        }
        for table, column, definition in ADDED_COLUMNS:
            if (table, column) not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def _load(self, *, new: bool) -> None:
        """The mirror, from the file: rows in the order reads return them (none, without asking,
        when the tables were created a moment ago)."""

        def rows(sql: str) -> list[Row]:
            return [] if new else [dict(r) for r in self._db.execute(sql).fetchall()]

        self._trades: dict[int, Row] = {r["trade_id"]: r for r in rows("SELECT * FROM trades ORDER BY trade_id")}
        self._orders: dict[str, Row] = {r["order_id"]: r for r in rows("SELECT * FROM orders ORDER BY seq")}
        self._orders_of: dict[int, list[str]] = {}
        for order_id, row in self._orders.items():
            self._orders_of.setdefault(row["trade_id"], []).append(order_id)
        self._fills: dict[tuple[str, str], Row] = {
            (r["trade_key"], r["order_id"]): r for r in rows("SELECT * FROM fills ORDER BY seq")
        }
        self._fills_of: dict[str, list[Row]] = {}
        for row in self._fills.values():
            self._fills_of.setdefault(row["order_id"], []).append(row)
        self._recent: dict[str, Row] = {r["order_id"]: r for r in rows("SELECT * FROM recent_fills")}
        self._seen: set[str] = {r["notification_id"] for r in rows("SELECT notification_id FROM seen_notifications")}
        self._order_seq = max((r["seq"] for r in self._orders.values()), default=0)
        self._fill_seq = max((r["seq"] for r in self._fills.values()), default=0)
        self._trade_records: dict[int, TradeRecord] = {}
        self._order_records: dict[str, OrderRecord] = {}
        # answers derived from the mirror on first read, all dropped at its next change (_forget)
        self._trade_lists: dict[bool, tuple[TradeRecord, ...]] = {}  # active_only -> trades
        self._order_lists: dict[tuple[int | None, Role | None, bool], tuple[OrderRecord, ...]] = {}
        self._filled: dict[str, Decimal] = {}  # order -> the size of its fills that count
        self._voided: dict[str, Decimal] = {}  # order -> the size of its fills whose trade FAILED
        self._unsettled: dict[str, bool] = {}  # order -> has a counted fill not CONFIRMED yet
        self._counted: dict[int, tuple[tuple[str, Row], ...]] = {}  # trade -> (order side, fill) that count
        self._positions: dict[int, Decimal] = {}
        self._delivered: dict[int, Decimal] = {}

    def _forget(self) -> None:
        """Drop every answer derived from the mirror; called at each change of it. The monitor
        asks the same questions (the trades, a trade's open orders, an order's filled size, a
        position) many times a cycle while the mirror changes a few dozen times a run, so an
        answer is kept until the next change, whatever rows it came from.

        A read that finds its answer kept takes no lock (the lock costs more than the lookup,
        thousands of times a run): an answer, like a record, is made under the lock from the
        mirror as it stands, and a change drops it under the lock after changing the mirror, so a
        read that still finds it overlaps a change not yet complete and returns what it would
        have, had it come first. A read that finds nothing makes the answer under the lock."""
        self._trade_lists.clear()
        self._order_lists.clear()
        self._filled.clear()
        self._voided.clear()
        self._unsettled.clear()
        self._counted.clear()
        self._positions.clear()
        self._delivered.clear()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: Sequence[object] = ()) -> sqlite3.Cursor:
        """One statement, committed on its own: in autocommit mode SQLite runs a lone statement
        as a transaction of its own, as atomic and durable as one inside BEGIN ... COMMIT, for
        one call into SQLite instead of three."""
        with self._lock:
            return self._db.execute(sql, args)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One transaction for a change of more than one statement."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

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
        row: Row = {
            "trade_id": trade_id,
            "symbol": symbol,
            "side": side,
            "market": market,
            "token_id": token_id,
            "window_slug": window_slug,
            "window_end": window_end,
            "entry_price": str(entry_price),
            "entry_size": str(entry_size),
            "confidence": str(confidence),
            "state": TradeState.OPEN.value,
            "scale_in_attempted": 0,
            "exit_failures": 0,
            "winner": None,
            "pnl": None,
            "opened_at": now,
            "undelivered": "0",
        }
        cur = self._write(
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
                row["entry_price"],
                row["entry_size"],
                row["confidence"],
                row["state"],
                now,
            ),
        )
        assert cur.lastrowid is not None  # set by any INSERT that succeeded
        # the mirror changes once the transaction has committed; a REAL column stores a float
        row.update(trade_id=cur.lastrowid, window_end=float(window_end), opened_at=float(now))
        with self._lock:
            self._trades[cur.lastrowid] = row
            self._forget()
        return cur.lastrowid

    @staticmethod
    def _trade(row: Mapping[str, Any]) -> TradeRecord:
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
            undelivered=dec(row["undelivered"]),
        )

    def _trade_record(self, trade_id: int) -> TradeRecord:
        record = self._trade_records.get(trade_id)
        if record is None:
            record = self._trade_records[trade_id] = self._trade(self._trades[trade_id])
        return record

    def _update_trade(self, trade_id: int, sql: str, args: Sequence[object], **changes: object) -> None:
        """One UPDATE of a trade's row, then the same change in the mirror."""
        with self._lock:
            self._write(sql, args)
            row = self._trades.get(trade_id)
            if row is not None:
                row.update(changes)
                self._trade_records.pop(trade_id, None)
                self._forget()

    def trade(self, trade_id: int) -> TradeRecord:
        record = self._trade_records.get(trade_id)  # without the lock: see _forget
        if record is None:
            with self._lock:
                if trade_id not in self._trades:
                    raise KeyError(f"no trade #{trade_id}")
                record = self._trade_record(trade_id)
        return record

    def trades(self, *, active_only: bool = False) -> list[TradeRecord]:
        answer = self._trade_lists.get(active_only)  # without the lock: see _forget
        if answer is None:
            with self._lock:
                records = (self._trade_record(trade_id) for trade_id in sorted(self._trades))
                answer = self._trade_lists[active_only] = tuple(
                    r for r in records if not active_only or r.state is not TradeState.SETTLED
                )
        return list(answer)

    def set_trade_state(self, trade_id: int, state: TradeState) -> None:
        with self._lock:
            row = self._trades.get(trade_id)
            if row is None or row["state"] == state.value:
                return
            self._update_trade(
                trade_id, "UPDATE trades SET state=? WHERE trade_id=?", (state.value, trade_id), state=state.value
            )

    def mark_scale_in_attempted(self, trade_id: int) -> None:
        with self._lock:
            row = self._trades.get(trade_id)
            if row is None or row["scale_in_attempted"]:
                return
            self._update_trade(
                trade_id, "UPDATE trades SET scale_in_attempted=1 WHERE trade_id=?", (trade_id,), scale_in_attempted=1
            )

    def count_exit_failure(self, trade_id: int) -> int:
        with self._lock:
            row = self._trades[trade_id]
            failures: int = row["exit_failures"] + 1
            self._update_trade(
                trade_id,
                "UPDATE trades SET exit_failures=? WHERE trade_id=?",
                (failures, trade_id),
                exit_failures=failures,
            )
            return failures

    def reset_exit_failures(self, trade_id: int) -> None:
        """An exit was placed: the retry limit counts consecutive failures only."""
        with self._lock:
            row = self._trades.get(trade_id)
            if row is None or not row["exit_failures"]:
                return
            self._update_trade(
                trade_id, "UPDATE trades SET exit_failures=0 WHERE trade_id=?", (trade_id,), exit_failures=0
            )

    def set_undelivered(self, trade_id: int, shares: Decimal) -> None:
        """The shares the trade's token balance showed missing from what the ledger holds as
        delivered (a shortfall no trade states); ZERO once every share is there."""
        with self._lock:
            row = self._trades.get(trade_id)
            if row is None or dec(row["undelivered"]) == shares:
                return
            self._update_trade(
                trade_id,
                "UPDATE trades SET undelivered=? WHERE trade_id=?",
                (str(shares), trade_id),
                undelivered=str(shares),
            )

    def settle(self, trade_id: int, winner: str, pnl: Decimal) -> None:
        state = TradeState.SETTLED.value
        self._update_trade(
            trade_id,
            "UPDATE trades SET state=?, winner=?, pnl=? WHERE trade_id=?",
            (state, winner, str(pnl), trade_id),
            state=state,
            winner=winner,
            pnl=str(pnl),
        )

    # ---- orders ----------------------------------------------------------------------------

    def record_order(self, order_id: str, trade_id: int, role: Role, command: PlaceOrder, now: float) -> None:
        """Write-ahead: the order is recorded (with its locally known id) BEFORE it is posted.

        For a scale-in this also consumes the trade's one scale-in, in the same transaction:
        a crash or timeout afterwards can never lead to a second one (single-scale-in).
        """
        with self._lock:
            seq = self._order_seq + 1
            row: Row = {
                "order_id": order_id,
                "seq": seq,
                "trade_id": trade_id,
                "role": role.value,
                "side": command.side.value,
                "token_id": command.token_id,
                "price": str(command.price),
                "size": str(command.size),
                "state": OrderState.PREPARED.value,
                "venue_status": "",
                "created_at": float(now),
                "updated_at": float(now),
                "terminal_logged": 0,
                "venue_matched": "0",
                "held_kind": None,
                "held_reason": None,
            }
            insert = (
                "INSERT INTO orders (order_id, seq, trade_id, role, side, token_id, price, size,"
                " state, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
            )
            values = (
                order_id,
                seq,
                trade_id,
                row["role"],
                row["side"],
                row["token_id"],
                row["price"],
                row["size"],
                row["state"],
                now,
                now,
            )
            if role is Role.SCALE_IN:
                with self._tx() as db:
                    db.execute(insert, values)
                    db.execute("UPDATE trades SET scale_in_attempted=1 WHERE trade_id=?", (trade_id,))
            else:
                self._write(insert, values)
            self._order_seq = seq
            self._orders[order_id] = row
            self._orders_of.setdefault(trade_id, []).append(order_id)
            if role is Role.SCALE_IN and trade_id in self._trades:
                self._trades[trade_id]["scale_in_attempted"] = 1
                self._trade_records.pop(trade_id, None)
            self._forget()

    @staticmethod
    def _order(row: Mapping[str, Any]) -> OrderRecord:
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
            held_line=None if row["held_kind"] is None else (row["held_kind"], row["held_reason"]),
        )

    def _order_record(self, order_id: str) -> OrderRecord:
        record = self._order_records.get(order_id)
        if record is None:
            record = self._order_records[order_id] = self._order(self._orders[order_id])
        return record

    def _update_order(self, order_id: str, sql: str, args: Sequence[object], **changes: object) -> int:
        """One UPDATE of an order's row, then the same change in the mirror; its rowcount."""
        with self._lock:
            count: int = self._write(sql, args).rowcount
            row = self._orders[order_id]
            row.update(changes)
            self._order_records.pop(order_id, None)
            self._forget()
            return count

    def order(self, order_id: str) -> OrderRecord | None:
        record = self._order_records.get(order_id)  # without the lock: see _forget
        if record is None:
            with self._lock:
                if order_id in self._orders:
                    record = self._order_record(order_id)
        return record

    def known_order(self, order_id: str) -> OrderRecord:
        """An order the caller knows was recorded (orders are never deleted)."""
        record = self.order(order_id)
        if record is None:
            raise KeyError(f"no order {order_id}")
        return record

    def orders(
        self, trade_id: int | None = None, role: Role | None = None, open_only: bool = False
    ) -> list[OrderRecord]:
        key = (trade_id, role, open_only)
        answer = self._order_lists.get(key)  # without the lock: see _forget
        if answer is None:
            with self._lock:
                ids = self._orders if trade_id is None else self._orders_of.get(trade_id, ())
                records = (self._order_record(order_id) for order_id in ids)
                answer = self._order_lists[key] = tuple(
                    r for r in records if (role is None or r.role is role) and not (open_only and r.is_terminal)
                )
        return list(answer)

    def set_order_state(self, order_id: str, state: OrderState, now: float, venue_status: str | None = None) -> bool:
        """Move along the transition table; an edge not in the table is refused (False).

        A move to the state the order is already in, with no new venue status, writes nothing
        (updated_at is the time of the last change, not of the last look)."""
        with self._lock:
            row = self._orders.get(order_id)
            if row is None:
                return False
            old = OrderState(row["state"])
            if not can_transition(old, state):
                return False
            status = row["venue_status"] if venue_status is None else venue_status
            if old == state and status == row["venue_status"]:
                return False
            self._update_order(
                order_id,
                "UPDATE orders SET state=?, updated_at=?, venue_status=? WHERE order_id=?",
                (state.value, now, status, order_id),
                state=state.value,
                updated_at=float(now),
                venue_status=status,
            )
            return old != state

    def note_venue_matched(self, order_id: str, size_matched: Decimal) -> None:
        """Remember the venue's size_matched; fills still only count once seen with a trade id."""
        size = dec(size_matched)
        # looked at first without the lock (most reports repeat what is known): venue_matched only
        # grows, so a size not above the record's, however old, is not above the current one
        record = self.order(order_id)
        if record is None or not size > record.venue_matched:
            return
        with self._lock:
            if not size > self._order_record(order_id).venue_matched:
                return
            self._update_order(
                order_id,
                "UPDATE orders SET venue_matched=? WHERE order_id=?",
                (str(size_matched), order_id),
                venue_matched=str(size_matched),
            )

    def hold_terminal_line(self, order_id: str, kind: str, reason: str) -> None:
        """Keep a terminal line that waits for fills the venue reported: a bot restarted after a
        crash writes it (Ledger.order(...).held_line, read while terminal_logged is not set)."""
        with self._lock:
            row = self._orders.get(order_id)
            if row is None or (row["held_kind"], row["held_reason"]) == (kind, reason):
                return
            self._update_order(
                order_id,
                "UPDATE orders SET held_kind=?, held_reason=? WHERE order_id=?",
                (kind, reason, order_id),
                held_kind=kind,
                held_reason=reason,
            )

    def mark_terminal_logged(self, order_id: str) -> bool:
        """True exactly once per order: the terminal audit line is written once."""
        with self._lock:
            row = self._orders.get(order_id)
            if row is None or row["terminal_logged"]:
                return False
            return (
                self._update_order(
                    order_id,
                    "UPDATE orders SET terminal_logged=1 WHERE order_id=? AND terminal_logged=0",
                    (order_id,),
                    terminal_logged=1,
                )
                == 1
            )

    # ---- fills: the one idempotent path ----------------------------------------------------

    def apply_fill(self, fill: FillSeen, source: str, now: float) -> FillOutcome:
        with self._lock:
            if fill.order_id not in self._orders:
                return FillOutcome.UNKNOWN_ORDER
            key = (fill.trade_id, fill.order_id)
            row = self._fills.get(key)
            if row is not None:
                if row["withheld"] is None and fill.withheld is not None:
                    # the first source did not say what the fill delivered (a notification): this one does
                    withheld = str(fill.withheld)
                    self._write(
                        "UPDATE fills SET withheld=? WHERE trade_key=? AND order_id=?",
                        (withheld, fill.trade_id, fill.order_id),
                    )
                    row["withheld"] = withheld
                    self._forget()
                if fill.is_void and not row["void"]:
                    self._write(
                        "UPDATE fills SET void=1, status=? WHERE trade_key=? AND order_id=?",
                        (fill.status, fill.trade_id, fill.order_id),
                    )
                    row.update(void=1, status=fill.status)
                    self._forget()
                    return FillOutcome.VOIDED
                if not row["void"] and row["status"] != SETTLED_STATUS and fill.status and fill.status != row["status"]:
                    # the trade moved on (MINED, RETRYING, CONFIRMED): same fill, new settlement state
                    self._write(
                        "UPDATE fills SET status=? WHERE trade_key=? AND order_id=?",
                        (fill.status, fill.trade_id, fill.order_id),
                    )
                    row["status"] = fill.status
                    self._forget()
                return FillOutcome.DUPLICATE
            seq = self._fill_seq + 1
            row = {
                "trade_key": fill.trade_id,
                "order_id": fill.order_id,
                "size": str(fill.size),
                "price": str(fill.price),
                "status": fill.status,
                "void": int(fill.is_void),
                "source": source,
                "at": float(now),
                "seq": seq,
                "withheld": None if fill.withheld is None else str(fill.withheld),
            }
            self._write(
                "INSERT INTO fills (trade_key, order_id, size, price, status, void, source, at, seq, withheld)"
                " VALUES (?,?,?,?,?,?,?,?,?,?)",
                tuple(row.values()),
            )
            self._fill_seq = seq
            self._fills[key] = row
            self._fills_of.setdefault(fill.order_id, []).append(row)
            self._forget()
            return FillOutcome.VOID_RECORDED if fill.is_void else FillOutcome.APPLIED

    def has_unsettled_fills(self, order_id: str) -> bool:
        """A counted fill whose trade is not CONFIRMED yet: it may still FAIL (a ghost fill)."""
        unsettled = self._unsettled.get(order_id)  # without the lock: see _forget
        if unsettled is None:
            with self._lock:
                rows = self._fills_of.get(order_id, ())
                unsettled = self._unsettled[order_id] = any(
                    not r["void"] and r["status"] != SETTLED_STATUS for r in rows
                )
        return unsettled

    def filled(self, order_id: str) -> Decimal:
        return self._fills_size(self._filled, order_id, void=False)

    def voided(self, order_id: str) -> Decimal:
        """The size of the order's fills whose trade FAILED: recorded, never counted."""
        return self._fills_size(self._voided, order_id, void=True)

    def _fills_size(self, kept: dict[str, Decimal], order_id: str, *, void: bool) -> Decimal:
        size = kept.get(order_id)  # without the lock: see _forget
        if size is None:
            with self._lock:
                rows = self._fills_of.get(order_id, ())
                size = kept[order_id] = sum((dec(r["size"]) for r in rows if bool(r["void"]) is void), ZERO)
        return size

    def fills(self, order_id: str | None = None) -> list[FillRow]:
        with self._lock:
            rows = self._fills.values() if order_id is None else self._fills_of.get(order_id, ())
            # a copy of each row (the mirror's own rows are never handed out): exactly FillRow's columns
            copies = [r.copy() for r in rows]
        return cast(list[FillRow], copies)

    def _trade_fills(self, trade_id: int) -> tuple[tuple[str, Row], ...]:
        """(order side, fill row) of the trade's fills that count, in the order they were recorded."""
        with self._lock:
            counted = self._counted.get(trade_id)
            if counted is None:
                rows = [
                    (self._orders[order_id]["side"], r)
                    for order_id in self._orders_of.get(trade_id, ())
                    for r in self._fills_of.get(order_id, ())
                    if not r["void"]
                ]
                rows.sort(key=lambda pair: cast(int, pair[1]["seq"]))
                counted = self._counted[trade_id] = tuple(rows)
            return counted

    def position(self, trade_id: int) -> Decimal:
        position = self._positions.get(trade_id)  # without the lock: see _forget
        if position is None:
            with self._lock:
                position = self.trade(trade_id).entry_size
                for side, r in self._trade_fills(trade_id):
                    position += dec(r["size"]) if side == Side.BUY.value else -dec(r["size"])
                self._positions[trade_id] = position
        return position

    def delivered(self, trade_id: int) -> Decimal:
        """The position in shares the venue delivered: the matched position less what the venue
        states it withheld (a BUY taker's fee, taken in shares). What the bot can sell, and what
        resolution pays, unless the venue delivered short without saying so (only the balance
        tells that: core.monitor)."""
        delivered = self._delivered.get(trade_id)  # without the lock: see _forget
        if delivered is None:
            with self._lock:
                delivered = self.position(trade_id)
                for side, r in self._trade_fills(trade_id):
                    if side == Side.BUY.value and r["withheld"] is not None:
                        delivered -= dec(r["withheld"])
                self._delivered[trade_id] = delivered
        return delivered

    def delivered_history(self, trade_id: int) -> list[Decimal]:
        """The delivered position after each of the trade's fills in the order they were recorded,
        from the entry on: the values a balance lagging behind the venue could still show."""
        position = self.trade(trade_id).entry_size
        history = [position]
        for side, r in self._trade_fills(trade_id):
            if side == Side.BUY.value:
                position += dec(r["size"]) - dec(r["withheld"] or ZERO)
            else:
                position -= dec(r["size"])
            history.append(position)
        return history

    def cost_and_proceeds(self, trade_id: int) -> tuple[Decimal, Decimal]:
        trade = self.trade(trade_id)
        cost, proceeds = trade.entry_size * trade.entry_price, ZERO
        for side, r in self._trade_fills(trade_id):
            amount = dec(r["size"]) * dec(r["price"])
            if side == Side.BUY.value:
                cost += amount
            else:
                proceeds += amount
        return cost, proceeds

    # ---- the recent-fill tracker -----------------------------------------------------------

    def track_recent_fill(self, order_id: str, size: Decimal, price: Decimal, now: float) -> None:
        row: Row = {"order_id": order_id, "size": str(size), "price": str(price), "at": float(now)}
        with self._lock:
            if self._recent.get(order_id) == row:
                return
            self._write(
                "INSERT INTO recent_fills (order_id, size, price, at) VALUES (?,?,?,?)"
                " ON CONFLICT(order_id) DO UPDATE SET size=excluded.size, price=excluded.price,"
                " at=excluded.at",
                (order_id, row["size"], row["price"], now),
            )
            self._recent[order_id] = row

    def recent_fill(self, order_id: str) -> RecentFill | None:
        with self._lock:
            row = self._recent.get(order_id)
        if row is None:
            return None
        return RecentFill(row["order_id"], dec(row["size"]), dec(row["price"]), row["at"])

    def cleanup_recent_fills(self, older_than: float) -> int:
        if not self._recent:  # without the lock (nearly every call): a fill tracked meanwhile is not stale
            return 0
        with self._lock:
            stale = [order_id for order_id, row in self._recent.items() if row["at"] < older_than]
            if not stale:
                return 0
            count: int = self._write("DELETE FROM recent_fills WHERE at < ?", (older_than,)).rowcount
            for order_id in stale:
                del self._recent[order_id]
            return count

    # ---- notifications ---------------------------------------------------------------------

    def mark_notification_seen(self, notification_id: str, now: float) -> bool:
        """True the first time a notification id is seen."""
        with self._lock:
            if notification_id in self._seen:
                return False
            cur = self._write("INSERT OR IGNORE INTO seen_notifications VALUES (?, ?)", (notification_id, now))
            self._seen.add(notification_id)
            return cur.rowcount == 1
