"""The exchange's vocabulary and records: statuses, the real CLOB's error texts, and the
dataclasses the Venue keeps (accounts, orders, trades, notifications) and the gateway renders.

Statuses follow clob-reference.md: order objects use the upper-case vocabulary, POST /order
answers the lower-case one (live, matched, delayed, unmatched); trades move MATCHED -> MINED ->
CONFIRMED or RETRYING -> FAILED, nothing else. Error texts are the real venue's, word for word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from clobsim.sim.exchange.book import ZERO

# The collateral: USDC.e under V1, pUSD (USDC-backed, 1:1) under V2. The API names it by its
# asset type, COLLATERAL, under both; clobsim's figures "in USDC" are pUSD under v2.
COLLATERAL = "COLLATERAL"
BASE_UNITS = Decimal(10) ** 6  # the collateral and conditional tokens all have 6 decimals
ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")

# Order statuses (objects) and answer statuses (POST /order)
LIVE, MATCHED, CANCELED, DELAYED = "LIVE", "MATCHED", "CANCELED", "DELAYED"
UNMATCHED, INVALID, CANCELED_MARKET_RESOLVED = "UNMATCHED", "INVALID", "CANCELED_MARKET_RESOLVED"
# CLOB V2's ways the operator itself ends an order (protocol v2 only; a v1 venue says CANCELED
# or UNMATCHED there): a resting order whose balance is gone, a GTD past its expiration, an
# order answered `delayed` whose match the engine gave up on
CANCELED_NOT_ENOUGH_BALANCE, EXPIRED_ORDER, ORDER_TIMED_OUT = (
    "CANCELED_NOT_ENOUGH_BALANCE",
    "EXPIRED_ORDER",
    "ORDER_TIMED_OUT",
)
OPEN_STATUSES = (LIVE, DELAYED)
# every other status an order can take: it has left the book for good
TERMINAL_STATUSES = frozenset(
    {
        MATCHED,
        CANCELED,
        UNMATCHED,
        CANCELED_MARKET_RESOLVED,
        INVALID,
        CANCELED_NOT_ENOUGH_BALANCE,
        EXPIRED_ORDER,
        ORDER_TIMED_OUT,
    }
)

# Trade statuses and the moves the exchange can make between them. MATCHED_NOT_BROADCASTED is
# V2's: matched, but the operator never sent the settlement transaction (it ends FAILED, or is
# broadcast late and goes on to MINED).
TRADE_MATCHED, MINED, CONFIRMED, RETRYING, FAILED = ("MATCHED", "MINED", "CONFIRMED", "RETRYING", "FAILED")
MATCHED_NOT_BROADCASTED = "MATCHED_NOT_BROADCASTED"
TRADE_MOVES = {
    TRADE_MATCHED: (MINED, RETRYING, MATCHED_NOT_BROADCASTED),
    MATCHED_NOT_BROADCASTED: (MINED, FAILED),
    MINED: (CONFIRMED, RETRYING),
    RETRYING: (MINED, FAILED),
    CONFIRMED: (),
    FAILED: (),
}

# Notification types (docs/venue-shapes.md)
NOTE_CANCEL, NOTE_FILL, NOTE_RESOLVED = 1, 2, 4
NOTE_FILL_FAILED = 8  # V2: a fill of the owner's order failed to settle (its trade went FAILED)

# Error texts of the real CLOB (clob-reference.md, Polymarket's error-code page)
UNAUTHORIZED = "Unauthorized/Invalid api key"
INVALID_PAYLOAD = "Invalid order payload"
OWNER_MISMATCH = "the order owner has to be the owner of the API KEY"
SIGNER_MISMATCH = "the order signer address has to be the address of the API KEY"
NOT_ENOUGH_BALANCE = "not enough balance / allowance"
POST_ONLY_CROSSES = "invalid post-only order: order crosses book"
INVALID_EXPIRATION = "invalid expiration"
FOK_NOT_FILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_NO_MATCH = (
    "no orders found to match with FAK order. FAK orders are partially filled or killed if no match is found."
)
MARKET_NOT_READY = "the market is not yet ready to process new orders"
ALREADY_GONE = "order can't be found - already canceled or matched"


class VenueError(Exception):
    """A request the exchange refuses; the gateway answers it as {"error": message, **fields}."""

    def __init__(self, status: int, message: str, **fields: str):
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields


_FMT_CACHE: dict[Decimal, str] = {}
_FMT_CACHE_MAX = 4096


def fmt(value: Decimal) -> str:
    """Decimal as the API writes numbers: plain digits, no exponent, no trailing zeros.

    The text depends on the value only (0.70 and 0.7 both give "0.7"), so it is memoised by
    value: a run formats the same few prices and sizes thousands of times."""
    cacheable = type(value) is Decimal and value.is_finite()
    if cacheable:
        text = _FMT_CACHE.get(value)
        if text is not None:
            return text
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    text = "0" if text in ("", "-0") else text
    if not cacheable:
        return text
    if len(_FMT_CACHE) >= _FMT_CACHE_MAX:
        _FMT_CACHE.clear()
    _FMT_CACHE[value] = text
    return text


def base_units(value: Decimal) -> str:
    return str(int((value * BASE_UNITS).to_integral_value(rounding=ROUND_DOWN)))


# ---- records ------------------------------------------------------------------------------


@dataclass
class Account:
    api_key: str
    secret: str
    passphrase: str
    address: str  # the signer
    funder: str  # the maker address: holds the funds (the signer itself for EOA wallets)
    balances: dict[str, Decimal] = field(default_factory=dict)  # COLLATERAL or a token id
    open_orders: dict[str, Order] = field(default_factory=dict)
    trade_ids: list[str] = field(default_factory=list)
    markets: list[str] = field(default_factory=list)  # condition ids it has a stake in
    heartbeat_id: str | None = None
    heartbeat_at: float | None = None

    def balance(self, asset: str) -> Decimal:
        return self.balances.get(asset, ZERO)


@dataclass(frozen=True)
class OrderRequest:
    """A posted order, parsed from the wire format by the gateway."""

    order_id: str
    owner_field: str  # the body's "owner": must be the caller's api key
    maker: str
    signer: str
    token_id: str
    side: str
    maker_amount: int
    taker_amount: int
    expiration: int
    order_type: str
    post_only: bool


@dataclass
class Order:
    id: str
    owner: str
    maker_address: str
    market: str
    asset_id: str
    outcome: str
    side: str
    price: Decimal
    original_size: Decimal
    order_type: str
    expiration: int
    created_at: int
    post_only: bool
    status: str = LIVE
    size_matched: Decimal = ZERO
    associate_trades: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.original_size - self.size_matched

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass
class MakerLeg:
    order_id: str
    owner: str | None  # None: crowd liquidity
    maker_address: str
    matched_amount: Decimal
    price: Decimal
    side: str


@dataclass
class Trade:
    id: str
    market: str
    asset_id: str
    outcome: str
    taker_order_id: str
    taker_owner: str | None  # None: the crowd took
    side: str  # the taker's side
    size: Decimal
    price: Decimal
    match_time: int
    bucket_index: int
    makers: list[MakerLeg]
    transaction_hash: str
    fee_rate_bps: int
    status: str = TRADE_MATCHED
    fee: Decimal = ZERO  # the taker's fee at match time, in USDC (V2 operator fee; 0 under v1)
    last_update: int = 0
    # (owner, asset, delta) as applied at match time, reversed if the trade FAILS
    movements: list[tuple[str, str, Decimal]] = field(default_factory=list)

    def owners(self) -> list[str]:
        """Accounts that took part, taker first, each once."""
        seen = [self.taker_owner] if self.taker_owner else []
        for leg in self.makers:
            if leg.owner and leg.owner not in seen:
                seen.append(leg.owner)
        return seen


@dataclass
class Notification:
    id: str
    type: int
    owner: str
    payload: dict
    dropped: bool = False
    time: int = 0  # venue seconds when it was raised
    # the order's state when it was raised (outcome, outcome_index, original_size, matched_size,
    # remaining_size, type): CLOB V2 answers carry it (docs/venue-shapes.md); kept out of the recorded payload so
    # that v1 runs record exactly what they always did
    order_view: dict | None = None


@dataclass
class Placement:
    """The outcome of an accepted POST /order."""

    order: Order
    status: str  # live | matched | delayed | unmatched
    trades: list[Trade]
    making: Decimal
    taking: Decimal
