"""The run trace: one record per request, response, venue event, fault and harness step, each
{"t": <simulated time>, "type": <TraceType>, ...}; trace.jsonl is this list, one JSON a line.

Producers (sim.runner.harness, sim.runner.market, the network of sim.faults) and consumers (sim.checks,
sim.tools) name the record types through TraceType, never a bare string: StrEnum members are
their strings, so trace.jsonl is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Any

# The trace's format, recorded in its `begin` record and in result.json (`trace_format`); bumped
# whenever the same run would record different trace lines. `clobsim replay` compares traces line
# by line, so it replays only runs of this format (sim.tools.folders.check_replayable).
#   1  no `trace_format` field: every crowd re-quote recorded, even at a level's own size
#   2  a crowd level re-quoted at the size it already has records nothing (sim.exchange.venue)
TRACE_FORMAT = 2


def to_microsecond(t: float) -> float:
    """round(t, 6), a record's "t", in two thirds of its time (a run stamps a thousand instants).

    round() writes t out in decimal digits and reads them back. Here the float's exact value,
    num / den (den a power of two), times 10**6 is rounded to the nearest integer q in integer
    arithmetic, halves to even, as round() rounds; q / 1e6 is then the float nearest to q
    millionths (q below 2**53 is exact as a float, and a division is correctly rounded), which
    is what round() reads back. A t <= 0 (round() keeps a zero's sign), a huge or a non-finite
    one goes to round() itself."""
    if 0.0 < t < 9e9:  # q < 9e15 < 2**53
        num, den = t.as_integer_ratio()
        q, r = divmod(num * 1_000_000, den)
        if 2 * r > den or (2 * r == den and q & 1):
            q += 1
        return q / 1e6
    return round(t, 6)


class TraceType(StrEnum):
    REQUEST = "request"  # a call reaching the venue: seq, route, params, body
    RESPONSE = "response"  # its answer (same seq): status (None: no answer), body
    FAULT = "fault"  # a fault firing: kind, index in the scenario's list, details
    VENUE = "venue"  # a venue event: event (a sim.exchange.events.VenueEvent), fields
    HARNESS = "harness"  # the run's own steps: action = begin | open_trade | end
    BOT = "bot"  # a bot (re)started: action, generation
    MARKET = "market"  # a scripted market event: action, details
    PUSH = "push"  # a WebSocket event sent (server mode, sim.server): channel, event_type, its id
    CONNECTION = "connection"  # a WebSocket connection (server mode): channel, action, details


class HarnessAction(StrEnum):
    """The `action` of a TraceType.HARNESS record."""

    BEGIN = "begin"  # scenario, seed, mode, protocol (v2 runs), trace_format
    OPEN_TRADE = "open_trade"  # trade, token, size: the bot is handed a position
    END = "end"


def responses_with_requests(trace: Iterable[dict]) -> Iterator[tuple[dict | None, dict]]:
    """Every response record in trace order, with the request record of the same seq (None when
    the trace has no such request)."""
    requests: dict[Any, dict] = {}
    responses: list[dict] = []
    for record in trace:  # one pass: a run's trace has thousands of records, a tenth of them answers
        kind = record.get("type")
        if kind == TraceType.REQUEST:
            requests[record["seq"]] = record
        elif kind == TraceType.RESPONSE:
            responses.append(record)
    yield from paired(requests, responses)


def paired(requests: Mapping[Any, dict], responses: Iterable[dict]) -> list[tuple[dict | None, dict]]:
    """Each response record, in the given order, with the request record of the same seq
    (`requests`: by seq, from the whole trace; None when it has none)."""
    request_of = requests.get
    return [(request_of(record.get("seq")), record) for record in responses]


def fires_per_fault(faults: Sequence[Mapping[str, Any]], fired: Iterable[tuple[float, str, Any]]) -> list[int]:
    """How many times each of a scenario's faults fired, from its (t, kind, index) fault records.

    A record names its fault by index; one without (a latency spike's client timeout) counts for
    the first fault of its kind whose window holds its time, else the first of its kind."""
    counts = [0] * len(faults)
    for t, kind, index in fired:
        if isinstance(index, int) and 0 <= index < len(faults):
            counts[index] += 1
            continue
        candidates = [i for i, f in enumerate(faults) if f.get("kind") == kind]
        inside = [i for i in candidates if float(faults[i].get("from", 0)) <= t < float(faults[i].get("to", 1e18))]
        matching = inside or candidates
        if matching:
            counts[matching[0]] += 1
    return counts


def fault_records(trace: Iterable[dict]) -> list[tuple[float, str, Any]]:
    """The (t, kind, index) of every fault record of a trace."""
    return [(r["t"], str(r.get("kind")), r.get("index")) for r in trace if r.get("type") == TraceType.FAULT]
