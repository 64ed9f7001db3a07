"""The invariants that hold the audit trail, the payouts and the resting SELLs to the venue's
record: terminal-matches-venue, payouts-match-ledger, sells-covered. Each is shown breaking on a
tiny library run and holding for core on the same run."""

from __future__ import annotations

import os
from decimal import Decimal

from clobsim import sim
from clobsim.core.bot import Bot
from clobsim.core.monitor import Monitor
from clobsim.core.reconciliation import Reconciler
from clobsim.sim.bots.zoo import DropCancelledPartialBot
from clobsim.sim.exchange import venue as venue_module
from clobsim.sim.exchange.venue import Venue
from clobsim.sim.runner.scenario import load

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCENARIOS = os.path.join(ROOT, "scenarios")


def scenario(name: str):
    return load(os.path.join(SCENARIOS, f"{name}.yaml"))


def regression(name: str):
    return load(os.path.join(SCENARIOS, "regressions", f"{name}.yaml"))


def check_of(result, check_id: str):
    (found,) = [c for c in result.checks if c.id == check_id]
    return found


def invariant_failures(result) -> set[str]:
    return {c.id for c in result.failures if c.kind == "invariant"}


# ---- terminal-matches-venue ------------------------------------------------------------------


class _AnnounceAtOnce(Reconciler):
    """Writes a terminal line at once, not after the fills its final read reported (core did)."""

    def fills_missing(self, order):
        return False


class _DropPartialAnnounceAtOnceBot(DropCancelledPartialBot):
    reconciler_class = _AnnounceAtOnce


def test_a_cancel_line_that_ignores_the_cancelled_order_s_fill_disagrees_with_the_venue():
    # drop-cancelled-partial ignores fills reported for an order it already considers cancelled;
    # written at once, its terminal line misses the 4 shares that matched before the cancel
    result = sim.run(scenario("late-fill-cancelled-with-size-matched"), bot=_DropPartialAnnounceAtOnceBot)
    broken = check_of(result, "terminal-matches-venue")
    (evidence,) = broken.evidence
    assert evidence.startswith("scale-in order 0x")
    assert ": the trail says 0.00 filled, the venue matched 4.00 (trades not FAILED); terminal line: " in evidence
    assert "2025-11-25 00:14:31.825 📈 [BTC] Trade #123 UP | 🧹 SCALE-IN CANCELLED: window end" in evidence


def test_core_s_terminal_lines_agree_with_the_venue_after_a_race_and_after_a_failed_trade():
    for name in ("cancel-race-fill-before-cancel", "ghost-fill-trade-failed", "late-fill-cancelled-with-size-matched"):
        result = sim.run(scenario(name))
        assert check_of(result, "terminal-matches-venue").passed, name


def test_a_fill_void_after_the_filled_line_is_read_with_the_line():
    # ghost-fill-trade-failed: SCALE-IN FILLED, then its trade FAILS (SCALE-IN FILL VOID): the
    # venue matched nothing that counts, and the trail (10.50 - 10.50) says so
    result = sim.run(scenario("ghost-fill-trade-failed"))
    kinds = [e.kind for e in result.events if e.kind in ("scale_in.filled_delayed", "scale_in.void")]
    assert kinds == ["scale_in.filled_delayed", "scale_in.void"]
    assert check_of(result, "terminal-matches-venue").passed


# ---- payouts-match-ledger --------------------------------------------------------------------


class DustMonitor(Monitor):
    """Settles as core once did: the matched dust the venue never delivered is booked as paid."""

    def try_settle(self, trade):
        self.ctx.ledger.set_undelivered(trade.trade_id, Decimal(0))
        super().try_settle(trade)


class DustBot(Bot):
    monitor_class = DustMonitor


def test_dust_matched_but_never_delivered_booked_as_paid_breaks_payouts_match_ledger():
    result = sim.run(scenario("size-shortfall-exit-capped"), bot=DustBot)
    broken = check_of(result, "payouts-match-ledger")
    (evidence,) = broken.evidence
    assert evidence.startswith("market 0x")
    assert evidence.endswith(": the venue paid the bot 0, its ledger booked 0.05 (trade #123 payout 0.05)")


def test_core_books_only_the_delivered_shares_at_settlement():
    result = sim.run(scenario("size-shortfall-exit-capped"))
    assert result.passed, [(c.id, c.evidence) for c in result.failures]
    (settled,) = [e for e in result.events if e.kind == "trade.settled"]
    assert (str(settled.fields["position"]), str(settled.fields["payout"])) == ("0.05", "0")


def test_a_share_delivered_short_with_nobody_receiving_it_is_a_leak(monkeypatch):
    fill_order = Venue._fill_order

    def leaky(self, order, trade, shares, usdc):  # the venue before the operator's fee was recorded
        fill_order(self, order, trade, shares, usdc)
        trade.movements[:] = [m for m in trade.movements if m[0] != venue_module.OPERATOR]

    monkeypatch.setattr(Venue, "_fill_order", leaky)
    result = sim.run(regression("shortfall-exact-minimum-false-positive"))
    assert invariant_failures(result) == {"payouts-match-ledger"}
    (evidence,) = check_of(result, "payouts-match-ledger").evidence
    assert evidence.endswith(
        ": 10.5 winning shares were put in, but the venue paid 4.95, the crowd holds 5.5 and the other "
        "records 0: 0.05 shares leaked"
    )


def test_the_operator_s_fee_accounts_for_every_winning_share():
    result = sim.run(regression("shortfall-exact-minimum-false-positive"))
    assert check_of(result, "payouts-match-ledger").passed
    fees = [
        (asset[:4], delta)
        for e in result.venue.events
        if e["kind"] == "trade_matched"
        for owner, asset, delta in e["fields"]["movements"]
        if owner == venue_module.OPERATOR
    ]
    assert len(fees) == 1 and fees[0][1] == "0.05"


# ---- sells-covered ---------------------------------------------------------------------------


def test_an_exit_left_resting_on_the_shares_of_a_failed_trade_breaks_sells_covered_at_that_instant(monkeypatch):
    monkeypatch.setattr(Venue, "_cancel_uncovered", lambda self, account, asset: None)
    result = sim.run(scenario("ghost-exit-after-failed-cancels-uncovered-sell"))
    broken = check_of(result, "sells-covered")
    (evidence,) = broken.evidence
    # the trade FAILS at 508 s: the 21-share exit now rests on 10.50 shares
    assert evidence.startswith("2025-11-25 00:08:28.000: the bot rests SELL orders for 21.00 shares of ")
    assert " but holds 10.50 (0x" in evidence


def test_core_with_the_venue_s_cancel_of_uncovered_sells_keeps_every_sell_covered():
    result = sim.run(scenario("ghost-exit-after-failed-cancels-uncovered-sell"))
    assert check_of(result, "sells-covered").passed
