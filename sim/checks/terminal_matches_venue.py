"""terminal-matches-venue: each scale-in's terminal audit line agrees with the venue's final
matched size for that order.

A terminal line states how much of the order filled: `SCALE-IN FILLED` all of it, `SCALE-IN
CANCELLED` / `CANCELLED BY VENUE` / `SCALE-IN FAILED: matched ... but the venue failed ...` the
`filled=F/S` they print, a placement that failed or never reached the book nothing. The venue's
figure is what it matched for the order in trades that did not FAIL. A trade that FAILS after the
terminal line is reported by its own `SCALE-IN FILL VOID` line, so the trail as a whole (the
terminal line less the voids after it) must agree. Bound: exact, to the cent of a share the
line prints. A line that disagrees tells the reader of the audit trail (and the P&L derived from
it) a different story from the venue's: a fill accounted after the order was called done, or a
cancel that read size_matched before the last fill landed.
"""

from __future__ import annotations

from decimal import Decimal

from clobsim.core.audit import SCALE_IN_TERMINAL, AuditEvent, dated_line, render
from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import ZERO, matched_by_order
from clobsim.sim.runner.harness import RunResult

ID = "terminal-matches-venue"
CENT = Decimal("0.01")
FILLED = ("scale_in.filled_immediate", "scale_in.filled_delayed")
NOTHING = ("scale_in.failed", "scale_in.not_placed")  # the order never rested: nothing filled
VOID = "scale_in.void"


def check(result: RunResult, ledger: Ledger) -> Check:
    sizes = {o.order_id: o.size for o in ledger.orders()}
    venue = matched_by_order(result)
    # order id -> (filled the trail claims, the terminal line's event: rendered for evidence alone)
    claims: dict[str, tuple[Decimal, AuditEvent]] = {}
    for event in result.events:
        order_id = event.fields.get("order_id")
        if not order_id:
            continue
        if event.kind in SCALE_IN_TERMINAL and order_id not in claims:
            if event.kind in FILLED:
                claimed = sizes.get(order_id, ZERO)
            elif event.kind in NOTHING:
                claimed = ZERO
            else:
                claimed = Decimal(event.fields["filled"])
            claims[order_id] = (claimed, event)
        elif event.kind == VOID and order_id in claims:
            claimed, terminal = claims[order_id]
            claims[order_id] = (claimed - Decimal(event.fields["size"]), terminal)
    evidence = []
    for order_id, (claimed, terminal) in claims.items():
        matched = venue.get(order_id, ZERO)
        if claimed.quantize(CENT) != matched.quantize(CENT):
            evidence.append(
                f"scale-in order {order_id}: the trail says {claimed:.2f} filled, the venue matched "
                f"{matched:.2f} (trades not FAILED); terminal line: {dated_line(terminal.time, render(terminal))}"
            )
    if evidence:
        return fail(ID, "a scale-in's terminal line disagrees with the venue", evidence)
    return ok(ID)
