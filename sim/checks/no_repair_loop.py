"""no-repair-loop: the bot never sends the same write request more than REPAIR_BOUND times in a
row while the venue definitively refuses it.

A definite refusal (a 4xx other than 425 engine-restarting and 429 rate-limited) says the request
itself is wrong: retrying it unchanged cannot succeed. A bot that does anyway is looping on a
belief the venue keeps contradicting, e.g. an exit it thinks was never placed after a 500 that
was in fact applied: every re-post is refused "not enough balance" because the first one rests
and holds the shares. The end-of-run checks cannot see such a loop when the order it missed
fills in the end.

"The same request" is the same route and economics: for an order, its token, side, amounts,
type and post-only flag (a re-signed order differs only in salt, expiration and signature); for
any other write, its body. A success of the same request ends the run of refusals. The bound
leaves room for the retries a lagging balance legitimately provokes (balance_lag's longest lag,
60 s, is three of core's 20 s backoff steps) and is far below a loop that lasts the window.
Reads are left out: polling a 404 is how a bot waits out an order the venue does not list yet.
"""

from __future__ import annotations

import json

from clobsim.core.audit import format_time
from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import exchanges
from clobsim.sim.faults.kind import CANCEL_ROUTES, ORDER_ROUTES
from clobsim.sim.runner.harness import RunResult

ID = "no-repair-loop"
REPAIR_BOUND = 10  # identical definitely-refused write requests in a row
WRITES = (*ORDER_ROUTES, *CANCEL_ROUTES, "DELETE /notifications")
RETRY_LATER = (425, 429)  # refusals that ask for the same request again later
ORDER_KEYS = ("tokenId", "side", "makerAmount", "takerAmount", "orderType", "postOnly")


def identity(request: dict) -> str:
    """The request as the venue judges it, without what changes on every re-sign."""
    body = request.get("body")
    if request["route"] == "POST /order" and isinstance(body, dict):
        body = {key: body.get(key) for key in ORDER_KEYS}
    return f"{request['route']} {json.dumps(body, sort_keys=True, default=str)}"


def refused(status: int | None) -> bool:
    return status is not None and 400 <= status < 500 and status not in RETRY_LATER


def check(result: RunResult, ledger: Ledger) -> Check:
    streaks: dict[str, list[float]] = {}  # identity -> times of its refusals since its last success
    broken: dict[str, tuple[float, int, str]] = {}  # identity -> (first broke, refusals, answer)
    for request, response in exchanges(result):
        if request is None or request["route"] not in WRITES:
            continue
        status = response.get("status")
        if not refused(status):
            # most writes succeed with no streak to end: their identity (a JSON text) is not needed
            if streaks and status is not None and 200 <= status < 300:
                streaks.pop(identity(request), None)
            continue
        key = identity(request)
        times = streaks.setdefault(key, [])
        times.append(response["t"])
        if len(times) > REPAIR_BOUND:
            first = broken.get(key, (response["t"], 0, ""))[0]
            broken[key] = (first, len(times), f"{status} {json.dumps(response.get('body'), default=str)}")
    if not broken:
        return ok(ID)
    evidence = [
        f"{format_time(first)}: {key} refused {count} times in a row (last answer {answer}), more than {REPAIR_BOUND}"
        for key, (first, count, answer) in sorted(broken.items(), key=lambda item: item[1][0])
    ]
    return fail(ID, f"the bot repeated a refused request more than {REPAIR_BOUND} times", evidence)
