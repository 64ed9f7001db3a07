"""core's vocabulary: commands, venue snapshots, and the order lifecycle.

Naming follows the NautilusTrader convention: commands are imperative (PlaceOrder), venue
snapshots are nouns (OrderSnapshot, TradeSnapshot), events are past tense (see audit.py).
Quantities are Decimals quantized at the boundary, so sums of fills never drift.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from typing import TypeAlias

from .fees import FeeExponent, shares_withheld

# What dec() takes: venue values arrive as strings or JSON numbers, and None or "" for "absent"
DecimalLike: TypeAlias = Decimal | str | int | float | None

ZERO = Decimal("0")
TRADE_FAILED = "FAILED"  # a trade's status when its settlement failed: its fills are void
SIZE_QUANTUM = Decimal("0.01")  # the client rounds sizes down to 2 decimals


def dec(value: DecimalLike) -> Decimal:
    """Decimal from a venue value (str, int, float) without binary-float noise."""
    if type(value) is str and value:  # the venue's decimal strings: most calls, straight through
        return Decimal(value)
    if isinstance(value, Decimal):
        return value
    if value is None or value == "":
        return ZERO
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def size_q(value: DecimalLike) -> Decimal:
    """Share sizes: 2 decimals, rounded down (as py-clob-client rounds order sizes)."""
    return dec(value).quantize(SIZE_QUANTUM, rounding=ROUND_DOWN)


def price_q(value: DecimalLike, tick: Decimal) -> Decimal:
    return dec(value).quantize(tick, rounding=ROUND_HALF_EVEN)


class Side(str, enum.Enum):  # noqa: UP042 - StrEnum would change the str() and f-string text of members
    BUY = "BUY"
    SELL = "SELL"


class Role(str, enum.Enum):  # noqa: UP042 - StrEnum would change the str() and f-string text of members
    """Why the bot placed an order."""

    SCALE_IN = "scale-in"
    EXIT = "exit"


class OrderState(str, enum.Enum):  # noqa: UP042 - StrEnum would change the str() and f-string text of members
    """Local lifecycle of an order the bot placed (not the venue's status vocabulary)."""

    PREPARED = "PREPARED"  # signed, id known, recorded BEFORE posting (write-ahead for crashes)
    UNKNOWN = "UNKNOWN"  # post raised OutcomeUnknown: may or may not be on the book
    LIVE = "LIVE"  # resting (possibly partly filled)
    CANCEL_PENDING = "CANCEL_PENDING"  # cancel sent, final size_matched not yet read
    FILLED = "FILLED"  # terminal: fully matched
    CANCELLED = "CANCELLED"  # terminal: cancelled or expired; may carry fills
    REJECTED = "REJECTED"  # terminal: the venue said no; never reached the book
    NOT_PLACED = "NOT_PLACED"  # terminal: reconciliation found no trace after an unknown outcome


TERMINAL_STATES = frozenset({OrderState.FILLED, OrderState.CANCELLED, OrderState.REJECTED, OrderState.NOT_PLACED})

# The explicit transition table. Fills are NOT gated by this table: a fill keyed by trade id
# is applied whatever the order's state, because venues report fills of cancelled orders
# (clob-reference failure mode 3). Only the state label moves here.
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.PREPARED: frozenset(
        {
            OrderState.LIVE,
            OrderState.FILLED,
            OrderState.REJECTED,
            OrderState.UNKNOWN,
            OrderState.CANCELLED,  # matched-then-killed FAK/FOK remainder, or a cancel-all sweep
            OrderState.NOT_PLACED,  # crash between recording and posting: reconciliation finds nothing
        }
    ),
    OrderState.UNKNOWN: frozenset(
        {
            OrderState.LIVE,
            OrderState.FILLED,
            OrderState.CANCELLED,
            OrderState.NOT_PLACED,
            OrderState.CANCEL_PENDING,
        }
    ),
    OrderState.LIVE: frozenset(
        {
            OrderState.FILLED,
            OrderState.CANCEL_PENDING,
            # by the venue too: a lapsed heartbeat, the market resolved, or one of CLOB V2's
            # operator endings (CANCELED_NOT_ENOUGH_BALANCE when a FAILED trade took back what
            # backed the order, EXPIRED_ORDER for a GTD, fills kept; ORDER_TIMED_OUT for an order
            # answered `delayed`, held here as LIVE, whose time in the engine ran out)
            OrderState.CANCELLED,
        }
    ),
    OrderState.CANCEL_PENDING: frozenset(
        {
            # race edge: the fill landed before the cancel reached the book ("already matched")
            OrderState.FILLED,
            # also the race edge where the venue ended the order first (V2: CANCELED_NOT_ENOUGH_
            # BALANCE, EXPIRED_ORDER): our cancel is answered not_canceled, the read shows the
            # venue's status, which is final (core.reconciliation.FINAL_STATUSES)
            OrderState.CANCELLED,
            # cancel failed transiently and the order is still resting
            OrderState.LIVE,
        }
    ),
    OrderState.CANCELLED: frozenset(
        {
            # race edge: a stale CANCELED answer (or a cancel notification) arrived first and the
            # post-cancel read then shows the order fully matched
            OrderState.FILLED,
        }
    ),
    OrderState.NOT_PLACED: frozenset(
        {
            # race edge: stale reads hid an order placed by a request that timed out; it surfaces
            # later on the book or in trades
            OrderState.LIVE,
            OrderState.FILLED,
            OrderState.CANCELLED,
        }
    ),
    OrderState.FILLED: frozenset(),
    OrderState.REJECTED: frozenset(),
}


def can_transition(old: OrderState, new: OrderState) -> bool:
    return old == new or new in TRANSITIONS[old]


class TradeState(str, enum.Enum):  # noqa: UP042 - StrEnum would change the str() and f-string text of members
    OPEN = "OPEN"  # holding; exit plan and scale-in active
    EXITED = "EXITED"  # exit plan filled; position may grow again by late scale-in fills
    CLOSING = "CLOSING"  # window over: leftovers cancelled, awaiting resolution
    SETTLED = "SETTLED"  # terminal


# ---- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlaceOrder:
    token_id: str
    side: Side
    price: Decimal
    size: Decimal
    order_type: str = "GTC"  # GTC | GTD | FOK | FAK
    post_only: bool = False
    tick_size: str = "0.01"
    neg_risk: bool = False
    expiration: int = 0


@dataclass(frozen=True)
class PreparedOrder:
    """A signed order whose id is known before it is posted."""

    order_id: str
    command: PlaceOrder
    signed: object = field(compare=False, repr=False)  # the adapter's own signed-order object


# ---- venue snapshots ------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """The venue's answer to a post: status is lower-case live/matched/delayed/unmatched."""

    order_id: str
    status: str
    taking_amount: Decimal = ZERO
    making_amount: Decimal = ZERO


@dataclass(frozen=True)
class OrderSnapshot:
    order_id: str
    status: str  # upper-case venue status: LIVE, MATCHED, CANCELED, DELAYED, ...
    asset_id: str
    side: Side
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    associate_trades: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in ("LIVE", "DELAYED")


@dataclass(frozen=True)
class MakerFill:
    order_id: str
    matched_amount: Decimal
    price: Decimal


@dataclass(frozen=True)
class TradeSnapshot:
    trade_id: str
    status: str  # MATCHED, MINED, CONFIRMED, RETRYING, FAILED
    asset_id: str
    side: Side  # the taker's side
    size: Decimal
    price: Decimal
    taker_order_id: str
    maker_orders: tuple[MakerFill, ...] = ()
    match_time: int = 0
    # CLOB V2's operator fee, charged to the taker: the rate that applied (basis points) and the
    # market's exponent; None when the venue's exponent could not be read (the fee is unknown)
    fee_rate_bps: Decimal = ZERO
    fee_exponent: FeeExponent | None = 1

    @property
    def is_void(self) -> bool:
        return self.status == TRADE_FAILED

    def fill_of(self, order_id: str) -> FillSeen | None:
        """Our share of this trade for one of our orders, whichever side of it we were on."""
        if self.taker_order_id == order_id:
            withheld: Decimal | None = ZERO
            if self.side is Side.BUY and self.fee_rate_bps:
                # a BUY taker pays its fee in shares: fewer arrive than matched
                exponent = self.fee_exponent
                withheld = (
                    None if exponent is None else shares_withheld(self.size, self.price, self.fee_rate_bps, exponent)
                )
            return FillSeen(self.trade_id, order_id, self.size, self.price, self.status, withheld)
        total = ZERO
        price = None
        for maker in self.maker_orders:
            if maker.order_id == order_id:
                total += maker.matched_amount
                price = maker.price
        if price is None:
            return None
        return FillSeen(self.trade_id, order_id, total, price, self.status, ZERO)  # makers pay no fee


@dataclass(frozen=True)
class FillSeen:
    """One fill of one of our orders as some source reported it; keyed by (trade_id, order_id)."""

    trade_id: str
    order_id: str
    size: Decimal
    price: Decimal
    status: str = "MATCHED"
    # shares matched but not delivered, as the venue states it (a BUY taker's fee in shares);
    # None when the source does not say (a fill notification carries no fee)
    withheld: Decimal | None = None

    @property
    def is_void(self) -> bool:
        return self.status == TRADE_FAILED


@dataclass(frozen=True)
class CancelAck:
    order_id: str
    canceled: bool
    reason: str = ""  # the venue's not_canceled reason


class NotificationKind(str, enum.Enum):  # noqa: UP042 - StrEnum would change the str() and f-string text of members
    CANCEL = "cancel"  # venue type 1
    FILL = "fill"  # venue type 2
    FILL_FAILED = "fill_failed"  # venue type 8 (CLOB V2): a fill of ours failed to settle
    RESOLVED = "resolved"  # venue type 4
    OTHER = "other"


@dataclass(frozen=True)
class Notification:
    notification_id: str
    kind: NotificationKind
    order_id: str = ""
    trade_id: str = ""
    asset_id: str = ""
    size: Decimal = ZERO
    price: Decimal = ZERO
    status: str = ""  # trade status for fills
    size_matched: Decimal = ZERO  # for cancellations: how much had matched
    market: str = ""
    winning_asset_id: str = ""


@dataclass(frozen=True)
class BookTop:
    token_id: str
    best_bid: Decimal | None
    best_ask: Decimal | None


@dataclass(frozen=True)
class MarketResolution:
    market: str
    closed: bool
    winning_token_id: str | None
