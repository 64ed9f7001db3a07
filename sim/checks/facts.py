"""Exchange-side facts the checks share, read from a run's results (sim.runner.harness.RunResult):
the bot's fills and orders at the venue, order status histories, refused cancels, the request and
response pairs, and the final ledger opened once for all checks."""

from __future__ import annotations

import bisect
from decimal import Decimal

from clobsim.core.ledger import Ledger
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.records import FAILED, OPEN_STATUSES
from clobsim.sim.runner.harness import RunResult
from clobsim.sim.trace import TraceType, responses_with_requests

ZERO = Decimal(0)
TRADES_READ = "GET /data/trades"
# how long after an unanswered trades read the bot may take to read again and still be excused:
# one monitor cycle (5 s, up to 8 s in the settings exploration draws) with room to spare
RETRY_ALLOWANCE = 10.0

Exchange = tuple[dict | None, dict]  # a request record (None if the trace has none) and its response
# The pairs of the results being judged (FinalLedger's span), by id(result): several invariants
# read them, and pairing a window's thousands of trace records costs about a millisecond.
_EXCHANGES: dict[int, list[Exchange]] = {}
# The trades listing's reads (trades_reads) of the traces being judged, by id(trace): several
# invariants look for the reads that went unanswered, for each token.
_TRADES_READS: dict[int, tuple[list[dict], list[tuple[dict, dict]]]] = {}
# The fault records of the results being judged, by id(result): the bot_crash excuses
# (downtime, restarts) are read from them by several invariants.
_FAULTS: dict[int, list[dict]] = {}


def faults_of(result: RunResult) -> list[dict]:
    """The run's FAULT records, in trace order (what the fault kinds' excuses read of a trace)."""
    faults = _FAULTS.get(id(result))
    if faults is None:
        faults = [r for r in result.trace if r.get("type") == TraceType.FAULT]
    return faults


def exchanges(result: RunResult) -> list[Exchange]:
    """sim.trace.responses_with_requests of the run's trace, paired once while its checks run."""
    pairs = _EXCHANGES.get(id(result))
    return pairs if pairs is not None else list(responses_with_requests(result.trace))


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
    for request, record in exchanges(result):
        if (
            request
            and request["route"] == "DELETE /order"
            and start <= record["t"] <= end + 5.0
            and record.get("status") != 200
        ):
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
        _EXCHANGES[id(self.result)] = list(responses_with_requests(trace))
        _TRADES_READS[id(trace)] = trades_reads(trace)
        _FAULTS[id(self.result)] = [r for r in trace if r.get("type") == TraceType.FAULT]
        return self.db

    def __exit__(self, *exc) -> None:
        _EXCHANGES.pop(id(self.result), None)
        _TRADES_READS.pop(id(self.result.trace), None)
        _FAULTS.pop(id(self.result), None)
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
    stretches: list[tuple[float, float]] = []
    since: float | None = None
    last = 0.0
    for request, record in exchanges(result):
        sent = record["t"] if request is None else request["t"]
        if record.get("status") is None:
            since = sent if since is None else min(since, sent)
            last = max(last, record["t"])
        elif since is not None:
            stretches.append((since, last))
            since = None
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


def trades_reads(trace: list[dict]) -> tuple[list[dict], list[tuple[dict, dict]]]:
    """The trades listing's reads in trace order, and those the venue refused or never answered
    with their answers (in the answers' order): one pass, not a pairing of every request."""
    reads: list[dict] = []
    by_seq: dict[object, dict] = {}
    failed: list[tuple[dict, dict]] = []
    for r in trace:
        kind = r.get("type")
        if kind == TraceType.REQUEST and r["route"] == TRADES_READ:
            reads.append(r)
            by_seq[r["seq"]] = r
        elif kind == TraceType.RESPONSE and r.get("status") != 200 and r.get("seq") in by_seq:
            failed.append((by_seq[r["seq"]], r))
    return reads, failed


def unanswered_trades_reads(trace: list[dict], asset: str | None = None) -> list[tuple[float, float]]:
    """(sent, excused until) for each read of the trades listing (of `asset`, or of every asset,
    when given) that the venue refused or never answered: until the bot's next such read, at
    most RETRY_ALLOWANCE after the answer. A fill is counted by its trade id, which only that
    listing gives: while it is out, no bot can learn one its pushes and status reads did not show."""

    def of_asset(request: dict) -> bool:
        return asset is None or (request.get("params") or {}).get("asset_id") in (asset, None, "")

    reads, failed = _TRADES_READS.get(id(trace)) or trades_reads(trace)
    sent = sorted(r["t"] for r in reads if of_asset(r))
    spans = []
    for request, record in failed:
        if not of_asset(request):
            continue
        answered = record["t"]
        later = sent[bisect.bisect_left(sent, answered) :]
        spans.append((request["t"], min([answered + RETRY_ALLOWANCE, *later[:1]])))
    return spans
