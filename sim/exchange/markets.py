"""The markets the simulated CLOB lists: 15-minute crypto Up/Down windows.

A window is one binary market: a condition id, two outcome tokens ("Up", "Down") and a slug
`<symbol>-updown-15m-<unix window start>` (clob-reference.md). Ids are hashes of the slug, so the
same window always gets the same ids, in any process: condition ids look like the real ones
(`0x` + 64 hex digits) and token ids are uint256 decimals, as the signed order struct needs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

UP, DOWN = "Up", "Down"
OUTCOMES = (UP, DOWN)
WINDOW_SECONDS = 900
TICK_SIZES = (Decimal("0.1"), Decimal("0.01"), Decimal("0.001"), Decimal("0.0001"))
# CLOB V2 added two tick sizes (py-clob-client-v2's TickSize, polymarket-client's allowed set)
V2_TICK_SIZES = (
    Decimal("0.1"),
    Decimal("0.01"),
    Decimal("0.005"),
    Decimal("0.0025"),
    Decimal("0.001"),
    Decimal("0.0001"),
)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


@dataclass(frozen=True)
class Token:
    token_id: str
    outcome: str


@dataclass
class Market:
    """Listing data plus the few fields that change over the market's life."""

    condition_id: str
    slug: str
    question: str
    tokens: tuple[Token, Token]
    tick_size: Decimal
    min_size: Decimal
    window_start: int
    window_end: int
    neg_risk: bool = False
    fee_rate_bps: int = 0  # V1's base fee (GET /fee-rate), signed into V1 orders
    # V2's operator fee, charged to the taker of each match: fee = shares * rate * (p * (1 - p)) ** exponent
    taker_fee_rate: Decimal = Decimal(0)
    fee_exponent: int = 1
    accepting_orders: bool = True
    closed: bool = False
    winner_token_id: str | None = None
    # token id -> outcome, for the lookups on every order
    _outcomes: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self._outcomes = {token.token_id: token.outcome for token in self.tokens}

    def outcome_of(self, token_id: str) -> str:
        return self._outcomes[token_id]

    def token(self, outcome: str) -> Token:
        for token in self.tokens:
            if token.outcome == outcome:
                return token
        raise KeyError(outcome)

    @property
    def token_ids(self) -> tuple[str, str]:
        return (self.tokens[0].token_id, self.tokens[1].token_id)

    @property
    def end_date_iso(self) -> str:
        return iso_utc(self.window_end)


def iso_utc(epoch_seconds: int) -> str:
    """A pure conversion of a given instant, never a clock read."""
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def updown_market(
    symbol: str,
    window_start: int,
    *,
    tick_size: str | Decimal = "0.01",
    min_size: str | Decimal = "5",
    window_seconds: int = WINDOW_SECONDS,
    neg_risk: bool = False,
    fee_rate_bps: int = 0,
    taker_fee_rate: str | Decimal = "0",
    fee_exponent: int = 1,
    tick_sizes: tuple[Decimal, ...] = TICK_SIZES,
) -> Market:
    """The market for one Up/Down window of `symbol` starting at `window_start` (unix seconds);
    `tick_sizes` are the protocol's (V2_TICK_SIZES under v2)."""
    tick = Decimal(str(tick_size))
    if tick not in tick_sizes:
        raise ValueError(f"tick size {tick} is not one of {', '.join(map(str, tick_sizes))}")
    fee_rate = Decimal(str(taker_fee_rate))
    if not 0 <= fee_rate < 1 or fee_exponent < 0:
        raise ValueError(f"taker fee rate {fee_rate} must be in [0, 1) and its exponent >= 0")
    if window_start < 0 or window_seconds <= 0:
        raise ValueError("window start and length must be positive")
    symbol = symbol.lower()
    minutes = window_seconds // 60
    slug = f"{symbol}-updown-{minutes}m-{window_start}"
    condition_id = "0x" + _digest(f"condition:{slug}").hex()
    up, down = (
        Token(str(int.from_bytes(_digest(f"token:{condition_id}:{outcome}"), "big")), outcome) for outcome in OUTCOMES
    )
    question = f"{symbol.upper()} Up or Down - {iso_utc(window_start)} to {iso_utc(window_start + window_seconds)}"
    return Market(
        condition_id=condition_id,
        slug=slug,
        question=question,
        tokens=(up, down),
        tick_size=tick,
        min_size=Decimal(str(min_size)),
        window_start=window_start,
        window_end=window_start + window_seconds,
        neg_risk=neg_risk,
        fee_rate_bps=fee_rate_bps,
        taker_fee_rate=fee_rate,
        fee_exponent=fee_exponent,
    )
