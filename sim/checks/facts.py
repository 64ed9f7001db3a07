"""Exchange-side facts the checks share, read from a run's results (sim.runner.harness.RunResult):
the bot's fills and orders at the venue, order status histories, refused cancels, the request and
response pairs, and the final ledger opened once for all checks."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal

from clobsim.core.ledger import Ledger
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.records import FAILED, OPEN_STATUSES
from clobsim.sim.runner.harness import RunResult
from clobsim.sim.trace import HarnessAction, TraceType, paired

ZERO = Decimal(0)
TRADES_READ = "GET /data/trades"
# how long after an unanswered trades read the bot may take to read again and still be excused:
# one monitor cycle (5 s, up to 8 s in the settings exploration draws) with room to spare
RETRY_ALLOWANCE = 10.0

Exchange = tuple[dict | None, dict]  # a request record (None if the trace has none) and its response


@dataclass(frozen=True)
class TraceFacts:
    """What several checks read of a run's trace, gathered in one pass over its thousands of
    records (each check passing over it again cost more than the check's own work)."""

    exchanges: list[Exchange]  # sim.trace.responses_with_requests
    # the indexes in `exchanges` of the answers that were not a 200 (a refusal, or none): a few
    # in a run of hundreds, and most checks look at them alone
    not_ok: list[int]
    trades_reads: list[dict]  # the trades listing's reads, in trace order
    failed_trades_reads: list[tuple[dict, dict]]  # those refused or never answered, with the answer
    faults: list[dict]  # the FAULT records, in trace order
    opened: dict[object, float]  # trade id -> when the bot was handed it (its first open_trade)


def trace_facts(trace: list[dict]) -> TraceFacts:
    """The TraceFacts of a trace: read once for all checks while FinalLedger is open, else now."""
    facts = _FACTS.get(id(trace))
    return facts if facts is not None else _gather(trace)


def _gather(trace: list[dict]) -> TraceFacts:
    """One pass over the trace for every field of TraceFacts (a run's trace is nine tenths requests
    and their answers, mostly 200 reads of orders and notifications)."""
    request_type, response_type, fault_type, venue_type = (
        TraceType.REQUEST,
        TraceType.RESPONSE,
        TraceType.FAULT,
        TraceType.VENUE,
    )
    requests: dict[object, dict] = {}
    responses: list[dict] = []
    not_ok: list[int] = []
    reads: list[dict] = []
    read_of: dict[object, dict] = {}
    failed: list[tuple[dict, dict]] = []
    faults: list[dict] = []
    opened: dict[object, float] = {}
    for record in trace:
        kind = record.get("type")
        if kind == response_type:
            if record.get("status") != 200:
                not_ok.append(len(responses))
                # a failed read counts once its request is on record (a response is recorded after it)
                if record.get("seq") in read_of:
                    failed.append((read_of[record["seq"]], record))
            responses.append(record)
        elif kind == request_type:
            requests[record["seq"]] = record
            if record["route"] == TRADES_READ:
                reads.append(record)
                read_of[record["seq"]] = record
        elif kind != venue_type:  # a venue event has no action
            if kind == fault_type:
                faults.append(record)
            if record.get("action") == HarnessAction.OPEN_TRADE:
                opened.setdefault(record.get("trade"), record["t"])
    return TraceFacts(paired(requests, responses), not_ok, reads, failed, faults, opened)


# The TraceFacts of the traces being judged (FinalLedger's span), by id(trace).
_FACTS: dict[int, TraceFacts] = {}


def faults_of(result: RunResult) -> list[dict]:
    """The run's FAULT records, in trace order (what the fault kinds' excuses read of a trace)."""
    return trace_facts(result.trace).faults


def exchanges(result: RunResult) -> list[Exchange]:
    """sim.trace.responses_with_requests of the run's trace, paired once while its checks run."""
    return trace_facts(result.trace).exchanges


def not_ok_exchanges(result: RunResult) -> list[Exchange]:
    """The exchanges (in trace order) whose answer was not a 200: a refusal, or no answer."""
    facts = trace_facts(result.trace)
    return [facts.exchanges[i] for i in facts.not_ok]


def venue_fills(result: RunResult, token: str) -> dict[str, Decimal]:
    """The bot's net filled size on a token, from the venue's trades (FAILED ones are void)."""
    bought = sold = ZERO
    for trade in result.venue.trades.values():
        if trade.asset_id != token or trade.status == FAILED:
            continue
        if trade.taker_owner == result.owner:
            if trade.side == "BUY":
                bought += trade.size
            else:
                sold += trade.size
        for leg in trade.makers:
            if leg.owner == result.owner:
                if leg.side == "BUY":
                    bought += leg.matched_amount
                else:
                    sold += leg.matched_amount
    return {"bought": bought, "sold": sold}


def bot_orders(result: RunResult, token: str | None = None, side: str | None = None) -> list:
    return [
        o
        for o in result.venue.orders.values()
        if o.owner == result.owner and (token is None or o.asset_id == token) and (side is None or o.side == side)
    ]


def status_history(result: RunResult) -> dict[str, list[tuple[float, str]]]:
    """order id -> its (time, status) changes in event order: one pass over the venue's events
    (mostly the crowd's quotes) for all the orders a check looks at."""
    history: dict[str, list[tuple[float, str]]] = {}
    for event in result.venue.events:
        if event["kind"] == VenueEvent.ORDER_STATUS:
            fields = event["fields"]
            history.setdefault(fields["order_id"], []).append((event["time"], fields["status"]))
    return history


def status_at(
    result: RunResult, order_id: str, time: float, history: dict[str, list[tuple[float, str]]] | None = None
) -> str | None:
    """The venue status of an order at a moment, from the venue's event history."""
    status = None
    changes = (history if history is not None else status_history(result)).get(order_id, ())
    for when, value in changes:
        if when > time:
            break
        status = value
    return status


def left_book_at(
    result: RunResult, order_id: str, after: float, history: dict[str, list[tuple[float, str]]] | None = None
) -> float | None:
    """When the order first left the book after `after`, or None if it never did."""
    changes = (history if history is not None else status_history(result)).get(order_id, ())
    for when, status in changes:
        if when > after and status not in OPEN_STATUSES:
            return when
    return None


def refused_cancels(result: RunResult, start: float, end: float) -> set[str]:
    """Ids of the orders whose cancel (DELETE /order) the venue refused or did not answer
    between start and a few seconds after end."""
    refused = set()
    for request, record in not_ok_exchanges(result):
        if request and request["route"] == "DELETE /order" and start <= record["t"] <= end + 5.0:
            refused.add(str((request.get("body") or {}).get("orderID")))
    return refused


class FinalLedger:
    """The final ledger for all checks: core's last ledger (RunResult.final_ledger), else the
    file opened once (a bot process's), None for a foreign bot (it keeps its own)."""

    def __init__(self, result: RunResult):
        self.result = result
        self.opened = not result.foreign and result.final_ledger is None
        self.db = None if result.foreign else Ledger(result.ledger_path) if self.opened else result.final_ledger

    def __enter__(self) -> Ledger | None:
        trace = self.result.trace
        _FACTS[id(trace)] = _gather(trace)
        return self.db

    def __exit__(self, *exc) -> None:
        _FACTS.pop(id(self.result.trace), None)
        if self.db is not None and self.opened:
            self.db.close()


def failed_trades(result: RunResult) -> set[str]:
    """Ids of the venue's trades that ended FAILED (their fills are void)."""
    return {t.id for t in result.venue.trades.values() if t.status == FAILED}


def matched_by_order(result: RunResult) -> dict[str, Decimal]:
    """order id -> the size the venue matched for it in trades that did not FAIL, from the
    venue's trades (the order's size_matched keeps a FAILED trade's shares: a ghost fill)."""
    void = failed_trades(result)
    matched: dict[str, Decimal] = {}
    for trade in result.venue.trades.values():
        if trade.id in void:
            continue
        if trade.taker_order_id:
            matched[trade.taker_order_id] = matched.get(trade.taker_order_id, ZERO) + trade.size
        for leg in trade.makers:
            if leg.owner is not None:
                matched[leg.order_id] = matched.get(leg.order_id, ZERO) + leg.matched_amount
    return matched


def cut_off(result: RunResult) -> list[tuple[float, float]]:
    """The stretches in which no request of the bot got an answer: from the sending of an
    unanswered request (a client timeout, a dropped connection) through every unanswered request
    after it, to the last one's end, until a request is answered. No bot learns anything from a
    venue it cannot reach, as it learns nothing while it is down (a network outage: every request
    timing out). A single timeout between answered requests is a stretch of its own length."""
    facts = trace_facts(result.trace)
    stretches: list[tuple[float, float]] = []
    since: float | None = None
    last = 0.0
    after = -1  # the index of the last unanswered exchange seen
    for index in facts.not_ok:
        request, record = facts.exchanges[index]
        if record.get("status") is not None:
            continue  # a refusal is an answer, as every 200 between not_ok's indexes is
        if since is not None and index > after + 1:  # answered ones came in between
            stretches.append((since, last))
            since = None
        after = index
        sent = record["t"] if request is None else request["t"]
        since = sent if since is None else min(since, sent)
        last = max(last, record["t"])
    if since is not None:
        stretches.append((since, last))
    return stretches


def merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping (start, end) intervals as one, in time order."""
    out: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def unanswered_trades_reads(trace: list[dict], asset: str | None = None) -> list[tuple[float, float]]:
    """(sent, excused until) for each read of the trades listing (of `asset`, or of every asset,
    when given) that the venue refused or never answered: until the bot's next such read, at
    most RETRY_ALLOWANCE after the answer. A fill is counted by its trade id, which only that
    listing gives: while it is out, no bot can learn one its pushes and status reads did not show."""

    def of_asset(request: dict) -> bool:
        return asset is None or (request.get("params") or {}).get("asset_id") in (asset, None, "")

    facts = trace_facts(trace)
    sent = sorted(r["t"] for r in facts.trades_reads if of_asset(r))
    spans = []
    for request, record in facts.failed_trades_reads:
        if not of_asset(request):
            continue
        answered = record["t"]
        later = sent[bisect.bisect_left(sent, answered) :]
        spans.append((request["t"], min([answered + RETRY_ALLOWANCE, *later[:1]])))
    return spans
