"""exit-covers-position: while a trade is active, its shares are covered by live exit orders: the
shares the venue would let the bot sell, less its live exit size, never stay at or above the
venue minimum for longer than EXIT_GRACE seconds (an exit sized from a lagging balance is not).

Excuses: the venue refusing (or not answering) a request the exit needs, its placement or the
cancel that a resize sends first; an answer that leaves a placement's outcome unknown (none, or
a 500 "order timed out") excuses the bot's `unknown_grace` after it too, since re-posting before
the bot knows the first copy is not resting is the blind re-post; what the fault kinds give:
`balance_lag` caps what is sellable (sim.faults.balance_lag.sellable_caps), and a `bot_crash`
excuses an uncovered stretch up to the restart (sim.faults.bot_crash.restarts); a trades listing
that does not answer the bot's reads of the token, until the bot reads it again
(sim.checks.facts.unanswered_trades_reads): a fill that no push showed reaches the bot only
through it. An exit's sale that FAILED gives its shares back, and the stretch counts from the
first answer that told the bot so (the fill-failed notice, or the trades listing showing the
trade FAILED): the order status still reads MATCHED, and the token balance cannot be told from a
lagging one (failure mode 6). Likewise a `stale_read` that answered an exit's status from a
frozen snapshot hid its end (a venue cancel, say): the stretch counts from the last stale answer.

An excuse is a span (moment, until): one that overlaps an uncovered stretch covers it up to its
end, and EXIT_GRACE counts from there; a stretch that closes while its excuse still runs (a bot
that concluded its unknown placement was not placed, and covered its shares again, sooner than
its grace) is not counted at all. An exit placement in flight when the bot crashed leaves the
restarted bot with an unknown outcome too (sim.faults.bot_crash.unread_answers): its grace
counts from the restart. The unknown-outcome excuse follows the grace the bot declares
(the scenario's `bot.unknown_grace`): the time a correct bot may spend looking the order up, by
id, in open orders and in trades, before it may place again. It is capped at UNKNOWN_GRACE_MAX,
so that no setting declares the invariant away. A bot of your own declares nothing: it is judged
by the scenario's `bot.unknown_grace` when set, else by core's default (30 s).
"""

from __future__ import annotations

import bisect
from decimal import Decimal

from clobsim.core.audit import format_time
from clobsim.core.clob_adapter import MAY_BE_APPLIED
from clobsim.core.ledger import Ledger
from clobsim.sim.checks.check import Check, fail, ok
from clobsim.sim.checks.facts import (
    TRADES_READ,
    ZERO,
    exchanges,
    faults_of,
    not_ok_exchanges,
    trace_facts,
    unanswered_trades_reads,
)
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.records import FAILED, NOTE_FILL_FAILED, OPEN_STATUSES
from clobsim.sim.faults.balance_lag import sellable_caps
from clobsim.sim.faults.bot_crash import restarts, unread_answers
from clobsim.sim.faults.stale_read import KIND as STALE_READ_KIND
from clobsim.sim.runner.harness import RunResult
from clobsim.sim.trace import TraceType

ID = "exit-covers-position"
STALE_READ = STALE_READ_KIND.name
EXIT_GRACE = 30.0  # seconds an uncovered position is tolerated (detection + resize + latency)
# The longest unknown_grace the check excuses: the longest exploration draws, twice core's default.
# A venue shows an order it applied within seconds, a stale read replica within tens of seconds;
# a bot that waits longer holds its shares without an exit for no reason the venue gives.
UNKNOWN_GRACE_MAX = 60.0
# How near a sample must come to a change of what it reads to be computed afresh: far above the
# rounding of a float at these times, far below the one-second sampling.
CHANGE_MARGIN = 1e-3
PLACEMENT_PATH = ("POST /order", "GET /tick-size", "GET /fee-rate", "GET /neg-risk")
# A resize cancels the resting exit before it places the new one (never two exits at once), so
# a refused cancel holds the resize back just as a refused placement does.
CANCEL_PATH = ("DELETE /order", "DELETE /orders")


def check(result: RunResult, ledger: Ledger | None) -> Check:
    """While a trade is active, the shares the bot holds minus its live exit size must not stay at
    or above the venue minimum for longer than EXIT_GRACE: the exit plan covers the whole
    position (sized from the ledger, resized after a scale-in fill). Computed from the venue's
    history alone; a time when the venue refused or did not answer the bot's last exit
    placement, or the cancel of its resting exit, does not count against the bot.
    """
    evidence = []
    scenario = result.scenario
    config = scenario.config  # made afresh at each read
    cfg_end = scenario.window_length - float(config.cancel_before_end)
    min_size = scenario.min_size
    # Excuses (moment, until) for an uncovered stretch up to `until` (plus the grace): the venue
    # refusing or not answering a request on the exit's placement path (the client's own
    # tick-size and fee-rate reads included) or a cancel of a resting exit, and the bot coming
    # back from a crash.
    sells = _bot_sells(result)
    refusals = _exit_refusals(result, sells, min(float(config.unknown_grace), UNKNOWN_GRACE_MAX))
    for told in (_failures_told(result), _stale_exit_reads(result, sells)):
        for token, moments in told.items():
            refusals.setdefault(token, []).extend((moment, moment) for moment in moments)
    restarted = [(back, back) for back in restarts(faults_of(result))]
    # a foreign bot's trades are the scenario's (its ledger is its own); the venue's side is the same
    trades = ledger.trades() if ledger is not None else ()
    opened_trades = [(t.trade_id, t.token_id) for t in trades] or [
        (spec.id, result.trade_tokens[spec.id]) for spec in scenario.trades if ledger is None
    ]
    for trade_id, token_id in opened_trades:
        token = result.trade_tokens.get(trade_id, token_id)
        opened = trace_facts(result.trace).opened.get(trade_id)
        if opened is None:
            continue
        stop = scenario.window_start + cfg_end
        # a trades listing out while the bot keeps reading it: a fill its pushes and status reads
        # did not show (shares to cover) cannot reach it
        excuses = refusals.get(token, []) + restarted + unanswered_trades_reads(result.trace, token)
        gap = _longest_uncovered(result, token, opened, stop, min_size, excuses)
        if gap is not None:
            start, length, held, covered = gap
            evidence.append(
                f"trade #{trade_id}: from {format_time(start)} for {length:.0f}s the bot held "
                f"{held:.2f} shares with live exit orders for only {covered:.2f}"
            )
    if evidence:
        return fail(ID, "the exit plan did not cover the position", evidence)
    return ok(ID)


def _exit_refusals(
    result: RunResult, sells: dict[str, str], unknown_grace: float
) -> dict[str, list[tuple[float, float]]]:
    """token -> (moment, until) for each time the venue refused or did not answer a request on an
    exit's placement path for it, or a cancel of one of the bot's SELLs of it: until is the
    moment itself, or the bot's unknown_grace (at most UNKNOWN_GRACE_MAX) after it when a
    placement's outcome is left unknown; and for each exit placement whose answer a crash kept
    from the bot, the grace from its restart. `sells`: _bot_sells; `unknown_grace`: the bot's,
    at most UNKNOWN_GRACE_MAX."""
    refusals: dict[str, list[tuple[float, float]]] = {}
    for request, record in not_ok_exchanges(result):
        if request is None:
            continue
        tokens: list[str] = []
        if request["route"] in CANCEL_PATH:
            tokens = sorted({sells[i] for i in _cancelled_ids(request) if i in sells})
        elif request["route"] in PLACEMENT_PATH:
            if request["route"] == "POST /order" and not _sells(request):
                continue
            tokens = [_token(request)]
        status = record.get("status")
        unknown = request["route"] == "POST /order" and (status is None or status in MAY_BE_APPLIED)
        until = record["t"] + unknown_grace if unknown else record["t"]
        for token in tokens:
            refusals.setdefault(token, []).append((record["t"], until))
    # an exit placement in flight when the bot crashed: the restarted bot does not know its outcome
    # (only a bot that came back has one; most runs have none, and the look pairs the whole trace)
    for request, back in unread_answers(result.trace) if restarts(faults_of(result)) else ():
        if request["route"] == "POST /order" and _sells(request):
            refusals.setdefault(_token(request), []).append((back, back + unknown_grace))
    return refusals


def _failures_told(result: RunResult) -> dict[str, list[float]]:
    """token -> for each FAILED trade that sold the bot's shares, the first moment an answer to the
    bot said it failed: a fill-failed notification naming it, or a trades listing showing it FAILED."""
    owner = result.owner
    failed = {
        e["fields"]["trade_id"]
        for e in result.venue.events
        if e["kind"] == VenueEvent.TRADE_STATUS and e["fields"]["status"] == FAILED
    }
    sold: dict[str, str] = {}  # failed trade id -> token, for trades in which the bot sold
    for e in result.venue.events:
        fields = e["fields"]
        if e["kind"] != VenueEvent.TRADE_MATCHED or fields["trade_id"] not in failed:
            continue
        taker_sold = fields["taker_owner"] == owner and fields["side"] == "SELL"
        maker_sold = fields["side"] == "BUY" and any(m["owner"] == owner for m in fields["makers"])
        if taker_sold or maker_sold:
            sold[fields["trade_id"]] = fields["asset_id"]
    if not sold:
        return {}
    told: dict[str, float] = {}
    for request, record in exchanges(result):
        if request is None or record.get("status") != 200:
            continue
        body = record.get("body")
        named: list[str] = []
        if request["route"] == "GET /notifications" and isinstance(body, list):
            named = [
                str((n.get("payload") or {}).get("trade_id"))
                for n in body
                if isinstance(n, dict) and n.get("type") == NOTE_FILL_FAILED
            ]
        elif request["route"] == TRADES_READ and isinstance(body, dict):
            named = [str(t.get("id")) for t in body.get("data") or () if t.get("status") == FAILED]
        for trade_id in named:
            if trade_id in sold and trade_id not in told:
                told[trade_id] = record["t"]
    moments: dict[str, list[float]] = {}
    for trade_id, t in sorted(told.items()):
        moments.setdefault(sold[trade_id], []).append(t)
    return moments


def _stale_exit_reads(result: RunResult, sells: dict[str, str]) -> dict[str, list[float]]:
    """token -> the moments a status read of one of the bot's SELLs was answered from a stale
    snapshot (the stale_read fault): until the last of them the bot could not see the order end.
    `sells`: _bot_sells."""
    moments: dict[str, list[float]] = {}
    for record in faults_of(result):
        if (
            record.get("type") == TraceType.FAULT
            and record.get("kind") == STALE_READ
            and record.get("phase") == "stale answer"
            and record.get("order_id") in sells
        ):
            moments.setdefault(sells[record["order_id"]], []).append(record["t"])
    return moments


def _bot_sells(result: RunResult) -> dict[str, str]:
    """order id -> token, for every SELL order of the bot's the venue accepted."""
    return {
        e["fields"]["order_id"]: e["fields"]["asset_id"]
        for e in result.venue.events
        if e["kind"] == VenueEvent.ORDER_PLACED
        and e["fields"]["owner"] == result.owner
        and e["fields"]["side"] == "SELL"
    }


def _cancelled_ids(request: dict) -> list[str]:
    """The order ids a cancel request names (DELETE /order: one; DELETE /orders: a list)."""
    body = request.get("body")
    ids = body if isinstance(body, list) else [body.get("orderID")] if isinstance(body, dict) else []
    return [i for i in ids if isinstance(i, str)]


def _sells(request: dict) -> bool:
    return (request.get("body") or {}).get("side") in ("SELL", 1, "1")


def _token(request: dict) -> str:
    """The token a request on an exit's placement path is about (a post's order, or a read's param)."""
    return str((request.get("body") or {}).get("tokenId") or (request.get("params") or {}).get("token_id"))


def _longest_uncovered(
    result: RunResult,
    token: str,
    opened: float,
    stop: float,
    min_size: Decimal,
    excuses: list[tuple[float, float]],
):
    """The longest stretch (start, seconds, held, covered) in which the shares the venue would let
    the bot sell, less its live exit size, stayed >= min_size; None if none outlasted the grace.

    Sellable = shares held, capped by balance_lag's sellable_caps (the venue's own check lags: no
    bot can sell more). Sampled every second from step functions built from the venue's events.
    """
    held_steps, covered_steps = _holdings(result, token)
    caps = sellable_caps(result.scenario.faults, result.simulated_seconds)
    start_rel = result.scenario.window_start

    def sellable(t: float) -> Decimal:
        value = _at(held_steps, t)
        for lo, hi, lag in caps:
            if lo <= t - start_rel < hi:
                value = min(value, _at(held_steps, t - lag))
        return value

    # Between two changes of the step functions (a step, a step seen through a lag, a cap's
    # edge) every sample reads the same: a sample is computed only where one may have come
    # since the last one computed (CHANGE_MARGIN absorbs the rounding of t - lag and the like),
    # and every other sample repeats it, so the stretches are those of computing them all.
    changes = sorted(
        [step for step, _ in held_steps]
        + [step for step, _ in covered_steps]
        + [step + lag for _, _, lag in caps for step, _ in held_steps]
        + [start_rel + edge for lo, hi, _ in caps for edge in (lo, hi)]
    )
    pending = 0  # the first change not yet behind a computed sample
    worst: tuple[float, float, Decimal, Decimal] | None = None
    stretch: tuple[float, Decimal, Decimal] | None = None  # the current one: (since, held, covered) at its start
    uncovered = False
    t = opened
    while t <= stop:
        if t == opened or t >= stop or (pending < len(changes) and changes[pending] - CHANGE_MARGIN <= t):
            covered = _at(covered_steps, t)
            uncovered = sellable(t) - covered >= min_size and t < stop
            while pending < len(changes) and changes[pending] + CHANGE_MARGIN <= t:
                pending += 1
        if uncovered and stretch is None:
            stretch = (t, _at(held_steps, t), covered)
        if stretch is not None and (not uncovered or t >= stop):
            since, held_then, covered_then = stretch
            # the stretch counts from the end of the last excuse that overlaps it; one still
            # running when the stretch closes leaves nothing to count
            start = max([since] + [min(until, t) for moment, until in excuses if moment <= t and until >= since])
            if t - start > EXIT_GRACE and (worst is None or t - start > worst[1]):
                worst = (start, t - start, held_then, covered_then)
            stretch = None
        t += 1.0
        # the samples up to the next one computed repeat this one: nothing opens or closes a
        # stretch there (it was done at this sample), so they are stepped over, by the same
        # additions (t's rounding stays that of sampling every second)
        next_computed = min(stop, changes[pending] - CHANGE_MARGIN) if pending < len(changes) else stop
        while t < next_computed:
            t += 1.0
    return worst


def _at(steps: list[tuple[float, Decimal]], t: float) -> Decimal:
    """The step function's value at t: the last step at or before t (steps in time order)."""
    index = bisect.bisect_right(steps, t, key=_step_time)
    return steps[index - 1][1] if index else ZERO


def _step_time(step: tuple[float, Decimal]) -> float:
    return step[0]


def _holdings(result: RunResult, token: str):
    """Step functions of the shares the bot holds and of its live SELL size, from venue events."""
    owner = result.owner
    failed = {
        e["fields"]["trade_id"]
        for e in result.venue.events
        if e["kind"] == VenueEvent.TRADE_STATUS and e["fields"]["status"] == FAILED
    }
    held, sells, open_sells = ZERO, {}, set()
    held_steps: list[tuple[float, Decimal]] = []
    covered_steps: list[tuple[float, Decimal]] = []
    for event in result.venue.events:
        fields, t = event["fields"], event["time"]
        if event["kind"] == VenueEvent.DEPOSIT and fields["owner"] == owner and fields["asset"] == token:
            held += Decimal(fields["amount"])
        elif (
            event["kind"] == VenueEvent.ORDER_PLACED
            and fields["owner"] == owner
            and fields["asset_id"] == token
            and fields["side"] == "SELL"
        ):
            sells[fields["order_id"]] = Decimal(fields["size"])
            open_sells.add(fields["order_id"])
        elif (
            event["kind"] == VenueEvent.ORDER_STATUS
            and fields["order_id"] in sells
            and fields["status"] not in OPEN_STATUSES
        ):
            open_sells.discard(fields["order_id"])
        elif (
            event["kind"] == VenueEvent.TRADE_MATCHED
            and fields["asset_id"] == token
            and fields["trade_id"] not in failed
        ):
            # held moves by what the venue delivered, which can be less than was matched
            held += sum(
                (Decimal(d) for o, a, d in fields["movements"] if o == owner and a == token),
                ZERO,
            )
            legs = [(m["order_id"], Decimal(m["matched_amount"])) for m in fields["makers"] if m["owner"] == owner]
            if fields["taker_owner"] == owner:
                legs.append((fields["taker_order_id"], Decimal(fields["size"])))
            for order_id, amount in legs:
                if order_id in sells:
                    sells[order_id] -= amount
        else:
            continue
        held_steps.append((t, held))
        covered_steps.append((t, sum((sells[o] for o in open_sells), ZERO)))
    return held_steps, covered_steps
