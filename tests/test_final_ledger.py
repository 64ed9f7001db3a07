"""The checks read core's last ledger (closed, or killed with its bot) rather than reopening its
file: its mirror holds what the file holds, a crash and a restart included."""

from __future__ import annotations

from clobsim.core.ledger import Ledger
from clobsim.sim.checks.facts import FinalLedger
from clobsim.sim.runner import harness
from clobsim.sim.runner.scenario import load


def _content(ledger: Ledger) -> tuple:
    trades = ledger.trades()
    return (
        trades,
        ledger.orders(),
        ledger.fills(),
        {t.trade_id: ledger.position(t.trade_id) for t in trades},
        {o.order_id: ledger.order(o.order_id) for o in ledger.orders()},
    )


def test_the_checks_read_core_last_ledger_which_holds_what_its_file_holds_after_a_restart():
    scenario = load("scenarios/bot-crash-mid-placement-restart-reconciles.yaml")
    result = harness.run(scenario, keep_ledger=True)
    assert result.bots_started == 2 and result.final_ledger is not None
    with FinalLedger(result) as ledger:
        assert ledger is result.final_ledger
    reopened = result.ledger()
    try:
        assert _content(result.final_ledger) == _content(reopened) and reopened.orders()
    finally:
        reopened.close()
