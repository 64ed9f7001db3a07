"""Shared rig for core's unit tests: the hand-written FakeExchange, a ManualClock, a real SQLite
ledger and a real `logging` logger. Audit events are captured through the audit log's listeners.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from clobsim.core.audit import AuditEvent, render
from clobsim.core.bot import Bot
from clobsim.core.config import StrategyConfig
from clobsim.core.errors import OutcomeUnknown
from clobsim.core.ledger import Ledger, TradeRecord
from clobsim.core.model import Role
from clobsim.sim.testing.fake import FakeExchange, ManualClock

T0 = 1_764_028_800.0  # window start, 2025-11-25 00:00:00 UTC
WINDOW = 900
WINDOW_END = T0 + WINDOW
MARKET = "cond-btc"
TOKEN = "btc-up"
D = Decimal


class Rig:
    def __init__(
        self,
        *,
        ledger: Ledger | str = ":memory:",
        config: StrategyConfig | None = None,
        collateral: str = "1000",
        clock: ManualClock | None = None,
        fake: FakeExchange | None = None,
        bot_class: type[Bot] = Bot,
    ):
        self.clock = clock or ManualClock(T0)
        self.fake = fake or FakeExchange(self.clock, collateral=D(collateral))
        self.ledger = ledger if isinstance(ledger, Ledger) else Ledger(ledger)
        self.logger = logging.getLogger("clobsim.test.core")
        self.bot = bot_class(self.clock, self.fake, self.ledger, config=config, logger=self.logger)
        self.events: list[AuditEvent] = []
        self.bot.audit.listeners.append(self.events.append)

    # ---- set-up ------------------------------------------------------------------------------

    def open_trade(
        self,
        *,
        symbol: str = "BTC",
        token: str = TOKEN,
        market: str = MARKET,
        entry: str = "10.50",
        price: str = "0.70",
        confidence: str = "0.85",
        window_end: float = WINDOW_END,
        credit: bool = True,
    ) -> int:
        if credit:
            self.fake.credit(token, entry)
        return self.bot.open_trade(
            symbol=symbol,
            side="UP",
            market=market,
            token_id=token,
            window_slug=f"{symbol.lower()}-updown-15m-{int(T0)}",
            window_end=window_end,
            entry_price=price,
            entry_size=entry,
            confidence=confidence,
        )

    def trade(self, trade_id: int = 1) -> TradeRecord:
        return self.ledger.trade(trade_id)

    def at(self, seconds_into_window: float) -> None:
        self.clock.t = T0 + seconds_into_window

    def place_scale_in(self, trade_id: int = 1, size: str = "10.50", price: str = "0.75", time_left: int = 420) -> str:
        order_id = self.bot.scale.place(self.trade(trade_id), D(size), D(price), time_left)
        assert order_id is not None
        return order_id

    def scale_in(self, trade_id: int = 1):
        return self.ledger.orders(trade_id, Role.SCALE_IN)[-1]

    def exit(self, trade_id: int = 1):
        return self.ledger.orders(trade_id, Role.EXIT)[-1]

    def exits(self, trade_id: int = 1):
        return self.ledger.orders(trade_id, Role.EXIT)

    # ---- observation -------------------------------------------------------------------------

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def of(self, kind: str) -> list[AuditEvent]:
        return [e for e in self.events if e.kind == kind]

    def lines(self, kind: str | None = None) -> list[str]:
        return [render(e) for e in self.events if kind is None or e.kind == kind]

    def calls(self, method: str) -> int:
        return sum(1 for name, _ in self.fake.calls if name == method)

    def call_names(self) -> list[str]:
        return [name for name, _ in self.fake.calls]

    def clear(self) -> None:
        self.events.clear()
        self.fake.calls.clear()


def lose_answer_once(fake: FakeExchange, method: str, message: str = "read timeout") -> None:
    """The next call of `method` is APPLIED by the venue, then its answer is lost (timeout)."""
    original = getattr(fake, method)

    def applied_then_timeout(*args, **kwargs):
        del fake.__dict__[method]  # one shot: the class method is back for the next call
        original(*args, **kwargs)
        raise OutcomeUnknown(message)

    setattr(fake, method, applied_then_timeout)


def in_order(lines: list[str], expected: list[str]) -> bool:
    """Every expected line appears in `lines`, in this order (other lines may sit between)."""
    it = iter(lines)
    return all(any(line == want for line in it) for want in expected)


@pytest.fixture
def rig() -> Rig:
    return Rig()


@pytest.fixture
def make_rig():
    made: list[Rig] = []

    def factory(**kwargs) -> Rig:
        r = Rig(**kwargs)
        made.append(r)
        return r

    yield factory
    for r in made:
        r.ledger.close()
