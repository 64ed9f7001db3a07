"""Golden tests: every sample line of audit-trail.md, produced by core from a real run.

Each test drives the real position manager against the in-memory fake exchange into the
situation the spec's sample describes, with the sample's values (trade #123, order abc123def,
10.50 shares at $0.75, ...), and compares the rendered line character for character.
"""

from __future__ import annotations

import json
import logging
import os
import re
from decimal import Decimal

from clobsim.core.audit import AuditLog, attach_file_logs, detach, render
from clobsim.core.bot import Bot
from clobsim.core.ledger import Ledger
from clobsim.core.model import NotificationKind, Role
from clobsim.sim.testing.fake import FakeExchange, ManualClock

T0 = 1640995200  # the spec's sample timestamp
ORDER = "abc123def"

SAMPLES = [
    "📈 [BTC] Trade #123 UP | 🎯 SCALE-IN PLACEMENT: Initiating maker order | size=10.50, price=$0.75, time_left=420s, confidence=0.85",
    "📈 [BTC] Trade #123 UP | ✅ SCALE-IN FILLED (Immediate): 10.50 shares @ $0.7500 | OrderID: abc123def",
    "📈 [BTC] Trade #123 UP | 🎯 SCALE-IN FILLED (Delayed): +10.50 shares @ $0.7500 | OrderID: abc123def",
    "🧹 [BTC] #123 EXIT AUDIT: Starting scale-in order cancellation process for order abc123def",
    "🔍 [BTC] #123 EXIT AUDIT: Scale-in order abc123def status: LIVE",
    "⚠️  [BTC] #123 EXIT AUDIT: RACE CONDITION DETECTED! Order abc123def was recently filled (size: 10.50), skipping cancellation",
    "✅ [BTC] #123 EXIT AUDIT: Successfully cancelled scale-in order abc123def",
    "🔍 RECONCILIATION AUDIT: Tracking recent fill for order abc123def | size=10.50, price=$0.75, timestamp=1640995200",
    "🔍 RECONCILIATION AUDIT: Order abc123def recently filled 45s ago (within 300s threshold)",
    "🔍 RECONCILIATION AUDIT: [scale-in] Starting safe cancellation for order abc123def",
    "⚠️  RECONCILIATION AUDIT: Inconclusive verification for abc123def after 2 attempts, assuming unfilled for safety",
    "🔍 NOTIFICATION AUDIT: Starting notification retrieval process",
    "🔍 NOTIFICATION AUDIT: Retrieved 5 notifications",
    "🔍 NOTIFICATION AUDIT: Processed notification 1/5 - Type: fill, OrderID: abc123def",
    "✅ NOTIFICATION AUDIT: Successfully processed 5 notifications",
]

SPEC = os.path.join(os.path.dirname(__file__), "..", "docs", "audit-trail.md")


class Session:
    """One BTC trade (#123, 10.50 shares, confidence 0.85) 420 s before its window ends."""

    def __init__(self, *, time_left: int = 420, start: float = T0):
        self.clock = ManualClock(start)
        self.fake = FakeExchange(self.clock, order_ids=["exit-0001", ORDER, "exit-0002", "exit-0003"])
        self.bot = Bot(
            self.clock,
            self.fake,
            Ledger(":memory:"),
            audit=AuditLog(self.clock, logging.getLogger("clobsim.test.golden")),
        )
        self.events = []
        self.bot.audit.listeners.append(self.events.append)
        self.fake.credit("btc-up", "10.50")
        self.fake.set_book("btc-up", "0.75", "0.76")
        self.trade = self.bot.open_trade(
            symbol="BTC",
            side="UP",
            market="cond-btc",
            token_id="btc-up",
            window_slug=f"btc-updown-15m-{int(start)}",
            window_end=start + time_left,
            entry_price="0.70",
            entry_size="10.50",
            confidence="0.85",
            trade_id=123,
        )
        # the first cycle places the exit plan; the scale-in comes on the same cycle
        self.fake.before("post_order", lambda: None)

    def cycle(self) -> None:
        self.bot.monitor.cycle()

    def lines(self) -> list[str]:
        return [render(e) for e in self.events]

    def scale_in(self) -> str:
        return self.bot.ledger.orders(self.trade, Role.SCALE_IN)[-1].order_id

    def exit_order(self) -> str:
        return self.bot.ledger.orders(self.trade, Role.EXIT)[-1].order_id


def produced(line: str, session: Session) -> bool:
    return line in session.lines()


def test_the_samples_are_the_specs_own_lines():
    with open(SPEC, encoding="utf-8") as handle:
        spec_lines = {line.rstrip("\n") for line in handle}
    assert [s for s in SAMPLES if s not in spec_lines] == []
    audit_like = {
        line
        for line in spec_lines
        if re.search(r"(AUDIT:|SCALE-IN (PLACEMENT|FILLED))", line) and not line.startswith(("-", "#", "grep"))
    }
    assert audit_like == set(SAMPLES)


def test_placement_and_immediate_fill_render_the_sample_lines():
    s = Session()
    # the ask drops onto the bid while the scale-in is in flight: it matches on arrival
    s.fake.before("post_order", lambda: s.fake.set_book("btc-up", "0.74", "0.75"))
    s.cycle()
    assert produced(SAMPLES[0], s)
    assert produced(SAMPLES[1], s)
    assert produced(SAMPLES[7], s)


def test_delayed_fill_detected_on_a_later_cycle_renders_the_sample_line():
    s = Session()
    s.cycle()
    s.fake.fill(ORDER, "10.50", notify=False)
    s.clock.advance(5)
    s.cycle()
    assert produced(SAMPLES[2], s)
    assert s.bot.ledger.position(123) == Decimal("21.00")


def test_scale_in_filled_during_the_exit_status_check_renders_the_race_lines():
    s = Session()
    s.cycle()
    s.clock.advance(5)
    s.fake.fill(s.exit_order(), "10.50")

    def fill_lands_first() -> None:
        stale = s.fake.orders[ORDER].snapshot()
        s.fake.fill(ORDER, "10.50")
        s.bot.notifications.poll()
        s.fake.stale(ORDER, stale)

    s.fake.before("get_order", lambda: None)  # the scale-in's tracking read
    s.fake.before("get_order", lambda: None)  # the exit order's tracking read
    s.fake.before("get_order", fill_lands_first)  # the exit process's status check
    s.cycle()
    for sample in SAMPLES[3:6]:
        assert produced(sample, s), sample
    assert s.bot.ledger.filled(ORDER) == Decimal("10.50")
    assert not [c for c in s.fake.calls if c[0] == "cancel_order"]


def test_partial_fill_45_seconds_before_the_exit_renders_the_recently_filled_line():
    s = Session()
    s.cycle()
    s.fake.fill(ORDER, "4.00", notify=False)
    s.clock.advance(5)
    s.cycle()  # partial fill detected and tracked at T0+5
    s.clock.advance(45)
    s.fake.fill(s.exit_order(), s.fake.orders[s.exit_order()].size)
    s.cycle()
    assert produced(SAMPLES[8], s)


def test_exit_fill_with_a_resting_scale_in_renders_the_safe_cancellation_lines():
    s = Session()
    s.cycle()
    s.clock.advance(5)
    s.fake.fill(s.exit_order(), "10.50")
    s.cycle()
    assert produced(SAMPLES[9], s)
    assert produced(SAMPLES[6], s)


def test_verification_reads_answering_null_render_the_inconclusive_line():
    s = Session()
    s.cycle()
    s.clock.advance(5)
    s.fake.fill(s.exit_order(), "10.50")
    s.fake.before("cancel_order", lambda: s.fake.hide(ORDER, 2))
    s.cycle()
    assert produced(SAMPLES[10], s)


def test_five_notifications_render_the_notification_lines():
    s = Session()
    s.cycle()
    s.fake.notes.clear()
    s.fake.fill(ORDER, "10.50")
    for _ in range(4):
        s.fake.notify(NotificationKind.OTHER)
    s.bot.notifications.poll()
    for sample in SAMPLES[11:]:
        assert produced(sample, s), sample


def test_master_log_window_log_and_json_twin_carry_the_same_lines(tmp_path):
    s = Session()
    logger = s.bot.audit.logger
    handlers = attach_file_logs(
        logger,
        master_path=str(tmp_path / "trades_2022.log"),
        window_dir=str(tmp_path / "windows"),
        jsonl_path=str(tmp_path / "audit.jsonl"),
    )
    try:
        s.cycle()
        s.fake.fill(ORDER, "10.50", notify=False)
        s.clock.advance(5)
        s.cycle()
    finally:
        detach(logger, handlers)
    master = (tmp_path / "trades_2022.log").read_text(encoding="utf-8").splitlines()
    window = (tmp_path / "windows" / f"btc-updown-15m-{T0}.log").read_text(encoding="utf-8").splitlines()
    twin = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    assert any(line.endswith(SAMPLES[2]) for line in master)
    assert master[0].startswith("2022-01-01 00:00:00.000 INFO    ")
    assert any(line.endswith(SAMPLES[2]) for line in window)
    assert len(twin) == len(master)
    assert all(m.endswith(json.loads(j)["line"]) for m, j in zip(master, twin, strict=True))
    assert len(re.findall("SCALE-IN.*FILLED", "\n".join(master))) == 1
