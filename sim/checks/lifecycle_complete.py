"""lifecycle-complete: every scale-in order the bot recorded or the venue saw has a terminal audit
line (filled, cancelled, failed) by the end of the run; no grace beyond the run's horizon."""

from __future__ import annotations

from clobsim.core.audit import SCALE_IN_TERMINAL, dated_line, render
from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import bot_orders
from clobsim.sim.runner.harness import RunResult

ID = "lifecycle-complete"


def check(result: RunResult, ledger: Ledger) -> Check:
    terminal = {e.fields.get("order_id") for e in result.events if e.kind in SCALE_IN_TERMINAL}
    ids = [o.order_id for o in ledger.orders() if o.role.value == "scale-in"]
    for token in sorted(set(result.trade_tokens.values())):
        ids += [o.id for o in bot_orders(result, token, "BUY") if o.id not in ids]
    missing = [oid for oid in ids if oid not in terminal]
    if not missing:
        return ok(ID)
    last_line: dict[str, str] = {}  # rendered for the evidence alone: a run has hundreds of lines
    for event in result.events:
        oid = event.fields.get("order_id")
        if oid and event.kind.startswith("scale_in."):
            last_line[oid] = dated_line(event.time, render(event))
    evidence = [
        f"scale-in order {oid}: no terminal line; last line about it: {last_line.get(oid, '(none)')}" for oid in missing
    ]
    return fail(ID, "scale-in orders without a terminal audit line", evidence)
