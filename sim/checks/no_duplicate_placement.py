"""no-duplicate-placement: an order the venue applied although the bot got no answer (a timeout)
or an answer that may hide an applied order (500/502/504) is never placed a second time: the bot
must find the first copy (by its id, its open orders or its trades) before it posts the same
order (token, side, price, size) again. A copy the bot cancelled first no longer counts. Read
from the venue's side alone, so it judges a bot whose books clobsim cannot open; for core the
ledger-aware single-scale-in holds the same rule for its scale-ins."""

from __future__ import annotations

from typing import Any

from clobsim.core.audit import format_time
from clobsim.core.clob_adapter import MAY_BE_APPLIED
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import exchanges, status_at, status_history
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.records import CANCELED
from clobsim.sim.runner.harness import RunResult

ID = "no-duplicate-placement"


def check(result: RunResult, ledger: Any) -> Check:
    # `ledger` is unused: every check takes (result, ledger), so the registry calls them alike
    placed = [
        e for e in result.venue.events if e["kind"] == VenueEvent.ORDER_PLACED and e["fields"]["owner"] == result.owner
    ]
    history = status_history(result)
    evidence = []
    for request, record in exchanges(result):
        if request is None or request["route"] != "POST /order":
            continue
        status = record.get("status")
        if status is not None and status not in MAY_BE_APPLIED:
            continue
        body = request.get("body") or {}
        sent, answered = request["t"], record["t"]
        applied = [
            e
            for e in placed
            if sent <= e["time"] <= answered
            and e["fields"]["asset_id"] == body.get("tokenId")
            and e["fields"]["side"] == body.get("side")
        ]
        for first in applied:
            again = _same_order_later(first, placed, answered, result, history)
            if again is not None:
                f, g = first["fields"], again["fields"]
                evidence.append(
                    f"{f['side']} {f['size']} @ {f['price']}: order {f['order_id']} was applied at "
                    f"{format_time(first['time'])} though the bot's answer was {status or 'none (a timeout)'}; "
                    f"the bot placed the same order again at {format_time(again['time'])}: {g['order_id']}"
                )
    if evidence:
        return fail(ID, "an order whose outcome was unknown was placed twice", evidence)
    return ok(ID)


def _same_order_later(
    first: dict, placed: list[dict], answered: float, result: RunResult, history: dict
) -> dict | None:
    f = first["fields"]
    for event in placed:
        g = event["fields"]
        if event["time"] <= answered or (g["asset_id"], g["side"], g["price"], g["size"]) != (
            f["asset_id"],
            f["side"],
            f["price"],
            f["size"],
        ):
            continue
        if status_at(result, f["order_id"], event["time"], history) == CANCELED:
            continue  # the bot knew of the first copy: it cancelled it
        return event
    return None
