"""The run trace: one record per request, response, venue event, fault and harness step, each
{"t": <simulated time>, "type": <TraceType>, ...}; trace.jsonl is this list, one JSON a line.

Producers (sim.runner.harness, sim.runner.market, the network of sim.faults) and consumers (sim.checks,
sim.tools) name the record types through TraceType, never a bare string: StrEnum members are
their strings, so trace.jsonl is unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum


class TraceType(StrEnum):
    REQUEST = "request"  # a call reaching the venue: seq, route, params, body
    RESPONSE = "response"  # its answer (same seq): status (None: no answer), body
    FAULT = "fault"  # a fault firing: kind, index in the scenario's list, details
    VENUE = "venue"  # a venue event: event (a sim.exchange.events.VenueEvent), fields
    HARNESS = "harness"  # the run's own steps: action = begin | open_trade | end
    BOT = "bot"  # a bot (re)started: action, generation
    MARKET = "market"  # a scripted market event: action, details


class HarnessAction(StrEnum):
    """The `action` of a TraceType.HARNESS record."""

    BEGIN = "begin"  # scenario, seed, mode
    OPEN_TRADE = "open_trade"  # trade, token, size: the bot is handed a position
    END = "end"


def responses_with_requests(trace: Iterable[dict]) -> Iterator[tuple[dict | None, dict]]:
    """Every response record in trace order, with the request record of the same seq (None when
    the trace has no such request)."""
    trace = list(trace)
    requests = {r["seq"]: r for r in trace if r.get("type") == TraceType.REQUEST}
    for record in trace:
        if record.get("type") == TraceType.RESPONSE:
            yield requests.get(record.get("seq")), record
