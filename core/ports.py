"""The ports core depends on. Live, they are backed by the system clock and the
py-clob-client adapter; in simulation by virtual time and the simulated CLOB.

Contract shared by both ports: every call may suspend the calling task (a live thread
blocks, a simulated task yields to the event loop). Callers therefore never hold a lock
across a port call.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from .model import (
    BookTop,
    CancelAck,
    MarketResolution,
    Notification,
    OrderSnapshot,
    Placement,
    PlaceOrder,
    PreparedOrder,
    TradeSnapshot,
)


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""

    def sleep(self, seconds: float) -> None: ...


class Exchange(Protocol):
    """Every method raises only core.errors types (Rejected, Transient, OutcomeUnknown)."""

    def prepare_order(self, command: PlaceOrder) -> PreparedOrder:
        """Sign locally; the order id is known from here on."""

    def post_order(self, prepared: PreparedOrder) -> Placement: ...

    def cancel_order(self, order_id: str) -> CancelAck: ...

    def get_order(self, order_id: str) -> OrderSnapshot | None:
        """None when the venue has no record (null body or 404)."""

    def open_orders(self, asset_id: str = "") -> list[OrderSnapshot]: ...

    def trades(self, asset_id: str = "") -> list[TradeSnapshot]: ...

    def notifications(self) -> list[Notification]: ...

    def drop_notifications(self, notification_ids: list[str]) -> None: ...

    def balance(self, token_id: str | None = None) -> Decimal:
        """Collateral (USDC.e under V1, pUSD under V2: both 6 decimals, both asset_type COLLATERAL)
        when token_id is None, else the conditional-token balance, in units."""

    def book(self, token_id: str) -> BookTop: ...

    def resolution(self, market: str) -> MarketResolution: ...


class CodePoint(StrEnum):
    """Named moments in core's code where a live process could die with work half done. Stable
    names: a simulator crashes the bot at one (bot_crash's `point`) to prove nothing is lost."""

    # a placement's answer (or refusal) is in hand; nothing about it is written yet
    POST_ANSWERED = "post-answered"
    # a cancel's answer is in hand; the order's final size_matched is not read yet
    CANCEL_ANSWERED = "cancel-answered"


class Probe(Protocol):
    """The third, optional port: core tells it when it reaches a CodePoint. Live it does nothing;
    a simulator may stop the calling task right there (a crash), so a caller holds no lock and
    leaves nothing half-written in memory that the ledger would not recover."""

    def reached(self, point: CodePoint) -> None: ...


class NoProbe:
    """The live bot's probe: code points pass unobserved."""

    def reached(self, point: CodePoint) -> None:
        return None
