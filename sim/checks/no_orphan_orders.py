"""no-orphan-orders: when the window ends, no bot order is live at the venue (leftovers are
cancelled before the end), and none the ledger believes gone is live. A cancel the venue refused
or lost in the last CANCEL_EXCUSE seconds excuses its order. For a foreign bot (no ledger), the
venue's side alone: no order of its live when the window ends."""

from __future__ import annotations

from clobsim.core.audit import format_time
from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import bot_orders, left_book_at, refused_cancels, status_at, status_history
from clobsim.sim.exchange.records import OPEN_STATUSES
from clobsim.sim.runner.harness import RunResult

ID = "no-orphan-orders"
CANCEL_EXCUSE = 60.0  # a cancel the venue refused or lost this close to the end excuses an order


def check(result: RunResult, ledger: Ledger | None) -> Check:
    """When the window ends, no bot order is live at the venue, unless the venue itself refused or
    lost the bot's cancel of it in the last CANCEL_EXCUSE seconds (a restarting engine cannot be
    the bot's fault); and no order the ledger believes gone is live."""
    if result.process:  # its orders have no roles clobsim knows of: the venue's half, by side
        return check_venue(result)
    window_end = result.scenario.window_start + result.scenario.window_length
    evidence = []
    excused = refused_cancels(result, window_end - CANCEL_EXCUSE, window_end)
    history = status_history(result)
    for order in bot_orders(result):
        status = status_at(result, order.id, window_end, history)
        if status not in OPEN_STATUSES:
            continue
        role = "scale-in" if order.side == "BUY" else "exit"
        gone = left_book_at(result, order.id, window_end, history)
        later = f" (it left the book only at {format_time(gone)})" if gone else ""
        if ledger is None:  # a foreign bot: only the venue's side is known
            if order.id not in excused:
                evidence.append(f"{role} order {order.id} still live at the venue when the window ended{later}")
            continue
        record = ledger.order(order.id)
        if record is None:
            evidence.append(f"{role} order {order.id} live at the venue at the window's end, unknown to the ledger")
        elif order.id in excused:
            continue
        elif record.state.value in ("NOT_PLACED", "REJECTED"):
            evidence.append(
                f"{role} order {order.id} live at the venue at the window's end, "
                f"but the ledger has it {record.state.value}"
            )
        else:
            evidence.append(f"{role} order {order.id} still live at the venue when the window ended{later}")
    if evidence:
        return fail(ID, "bot orders outlived the window", evidence)
    return ok(ID)


def check_venue(result: RunResult) -> Check:
    """The venue's half alone, for a bot whose ledger clobsim cannot read (a bot process): when
    the window ends no bot order is live, unless the venue refused or lost its cancel in the last
    CANCEL_EXCUSE seconds."""
    window_end = result.scenario.window_start + result.scenario.window_length
    excused = refused_cancels(result, window_end - CANCEL_EXCUSE, window_end)
    history = status_history(result)
    evidence = []
    for order in bot_orders(result):
        if status_at(result, order.id, window_end, history) not in OPEN_STATUSES or order.id in excused:
            continue
        gone = left_book_at(result, order.id, window_end, history)
        later = f" (it left the book only at {format_time(gone)})" if gone else ""
        evidence.append(f"{order.side} order {order.id} still live at the venue when the window ended{later}")
    if evidence:
        return fail(ID, "bot orders outlived the window", evidence)
    return ok(ID)
