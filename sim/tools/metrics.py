"""The numbers of a run's report: read a run folder, count and measure.

Everything here is computed from what `clobsim run` wrote (design.md, "Commands"): run.json, and
per scenario result.json, audit.log, audit.jsonl and trace.jsonl. Nothing is re-run.

- Monitoring counts: the audit-trail spec's "Log Analysis Tips" greps, the same regexes applied to
  the lines of audit.log as `grep -c` applies them (one line = one count).
- Performance metrics (the spec's "Future Enhancements"), from the structured twin audit.jsonl:
  time to fill (a scale-in's `SCALE-IN PLACEMENT` -> its `SCALE-IN FILLED` line), cancel latency
  (`Starting safe cancellation` -> `Safe cancellation complete` for the same order), the scale-in
  fill rate (filled / placed) and cancellation success (safe cancellations verified complete /
  started; an inconclusive verification or a cancellation cut short by a crash is not a success).
- Failure patterns: error answers per route and status (and timeouts) from trace.jsonl, and the
  WARNING/ERROR audit kinds (with the error kind where the line names one) from audit.jsonl.
- The timeline of every bot order (placement, fills, void fills, terminal status) from the venue
  events of trace.jsonl, for the picture (sim/timeline.py).

Times are simulated seconds from the window start (the trace's `harness begin`).
"""

from __future__ import annotations

import os
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from clobsim.core.audit import SCALE_IN_TERMINAL
from clobsim.sim.checks import ledger_matches_exchange, lifecycle_complete, no_orphan_orders
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.records import TERMINAL_STATUSES
from clobsim.sim.runner.inputs import clip
from clobsim.sim.runner.scenario import DEFAULT_WINDOW_LENGTH
from clobsim.sim.tools.errors import UsageError
from clobsim.sim.tools.folders import (
    read_jsonl,
    read_result,
    read_text_file,
    run_marker,
    scenario_folders,
)
from clobsim.sim.tools.results import failed_checks, lead_check
from clobsim.sim.trace import HarnessAction, TraceType, fault_records, responses_with_requests

# The spec's monitoring greps (audit-trail.md, "Log Analysis Tips"), in the order the report shows them.
GREPS: list[tuple[str, str]] = [
    ("scale-in fills", "SCALE-IN.*FILLED"),
    ("scale-in cancellations", "SCALE-IN.*CANCELLED"),
    ("race preventions", "RACE CONDITION.*DETECTED"),
    ("failed placements", "SCALE-IN.*FAILED"),
    ("reconciliation interventions", "RECONCILIATION"),
]


@dataclass
class ScaleIn:
    """One scale-in order's life as the audit twin tells it."""

    trade: str
    placed: float | None
    order_id: str | None = None
    outcome: str = "open"  # filled | cancelled | cancelled by venue | failed | not placed | open
    ended: float | None = None
    error_kind: str | None = None

    @property
    def time_to_fill(self) -> float | None:
        if self.outcome == "filled" and self.placed is not None and self.ended is not None:
            return round(self.ended - self.placed, 3)
        return None


@dataclass
class SafeCancel:
    label: str
    order_id: str
    started: float
    outcome: str = "unfinished"  # complete | inconclusive | unfinished
    ended: float | None = None

    @property
    def latency(self) -> float | None:
        if self.outcome == "complete" and self.ended is not None:
            return round(self.ended - self.started, 3)
        return None


@dataclass
class OrderLane:
    """A bot order at the venue: placed, filled (possibly in pieces), terminal."""

    order_id: str
    side: str
    price: str
    size: str
    trade: str
    role: str
    placed: float
    ended: float | None = None
    status: str = "LIVE"
    fills: list[tuple[float, str, bool]] = field(default_factory=list)  # (t, size, void)


@dataclass
class Scenario:
    name: str
    folder: str
    record: dict
    window_start: float
    window_length: float
    horizon: float
    greps: dict[str, int]
    audit: list[dict]  # audit.jsonl records, t relative to the window start
    scale_ins: list[ScaleIn]
    cancels: list[SafeCancel]
    cancel_answers: Counter
    cancel_errors: int
    failures: Counter  # (source, pattern) -> count
    http_errors: int
    lanes: list[OrderLane]
    rejections: list[tuple[float, str]]  # (t, error) of placements the venue refused
    faults_fired: list[tuple[float, str, Any]]  # (t, kind, index in the scenario's fault list or None)
    entries: list[tuple[float, Decimal]] = field(default_factory=list)  # positions handed to the bot (t, shares)
    calls: list[tuple[float, str]] = field(default_factory=list)  # the bot's requests, answer summarized

    @property
    def venue_position(self) -> list[tuple[float, Decimal]]:
        """Shares the venue says the bot holds, all trades summed: each step (t, position after it).

        The positions handed over, plus BUY fills, minus SELL fills; a void fill (its trade FAILED
        on chain) never moved shares, so it is left out."""
        moves = [(t, size) for t, size in self.entries]
        for lane in self.lanes:
            sign = 1 if lane.side == "BUY" else -1
            moves.extend((t, sign * Decimal(size)) for t, size, void in lane.fills if not void)
        return _steps(moves)

    @property
    def ledger_position(self) -> list[tuple[float, Decimal]]:
        """Shares the bot's ledger holds as its audit lines report them (opened + scale-in fills -
        exit fills), all trades summed: the line a bot with a lost fill leaves behind the venue's."""
        moves = []
        for event in self.audit:
            kind, fields = str(event.get("kind")), event.get("fields") or {}
            if kind in _LEDGER_MOVES and fields.get("size") is not None:
                moves.append((event["t"], _LEDGER_MOVES[kind] * Decimal(str(fields["size"]))))
        return _steps(moves)

    @property
    def verdict(self) -> str:
        return self.record["verdict"]

    def count(self, kind_prefix: str) -> int:
        return sum(1 for event in self.audit if event["kind"].startswith(kind_prefix))

    @property
    def times_to_fill(self) -> list[float]:
        return [s.time_to_fill for s in self.scale_ins if s.time_to_fill is not None]

    @property
    def cancel_latencies(self) -> list[float]:
        return [c.latency for c in self.cancels if c.latency is not None]

    def outcomes(self) -> Counter:
        return Counter(s.outcome for s in self.scale_ins)


@dataclass
class Run:
    folder: str
    meta: dict
    scenarios: list[Scenario]

    @property
    def failed(self) -> list[Scenario]:
        return [s for s in self.scenarios if s.verdict != "pass"]


# ---- reading ---------------------------------------------------------------------------------


def _lines(path: str) -> list[str]:
    """The lines of a text file as grep sees them (split at newline characters only)."""
    lines = read_text_file(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def grep_counts(lines: list[str]) -> dict[str, int]:
    """`grep -c PATTERN audit.log` for each of the spec's patterns."""
    return {label: sum(1 for line in lines if re.search(pattern, line)) for label, pattern in GREPS}


def load_run(folder: str) -> Run:
    """Read a run folder; bad input raises UsageError (exit 2) with one message naming the file."""
    meta = run_marker(folder)
    return Run(folder, meta, [load_scenario(scenario) for scenario in scenario_folders(folder)])


def load_scenario(folder: str) -> Scenario:
    record = read_result(folder)
    if record["mode"] == "serve":
        # the report measures core's audit trail; a bot process keeps its own (bot.stdout.log)
        raise UsageError(
            f"{folder}: a server-mode run (clobsim run --bot-cmd) has no audit log of core's to report on; "
            "its result.json, trace.jsonl and bot.stdout.log are the record"
        )
    lines = _lines(os.path.join(folder, "audit.log"))
    audit = read_jsonl(os.path.join(folder, "audit.jsonl"))
    trace = read_jsonl(os.path.join(folder, "trace.jsonl"))
    try:
        return _measure(folder, record, lines, audit, trace)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # result.json is checked field by field; trace and audit records only for their time, so
        # a record of a foreign shape surfaces here, while measuring: bad input, not a bug
        raise UsageError(
            f"{folder}: trace.jsonl or audit.jsonl holds a record clobsim did not write "
            f"({type(exc).__name__}: {clip(str(exc))})"
        ) from None


def _measure(folder: str, record: dict, lines: list[str], audit: list[dict], trace: list[dict]) -> Scenario:
    market = (record.get("scenario_data") or {}).get("market") or {}
    begin = next(
        (r for r in trace if r.get("type") == TraceType.HARNESS and r.get("action") == HarnessAction.BEGIN), None
    )
    start = float(begin["t"]) if begin else float(market.get("window_start", trace[0]["t"] if trace else 0))
    for event in audit:
        event["t"] = round(float(event["t"]) - start, 6)
    for event in trace:
        event["t"] = round(float(event["t"]) - start, 6)
    scale_ins, cancels, answers, cancel_errors = _lifecycles(audit)
    failures, http_errors = _failure_patterns(audit, trace)
    lanes, rejections = _lanes(trace)
    return Scenario(
        name=record["scenario"],
        folder=folder,
        record=record,
        window_start=start,
        window_length=float(market.get("window_length", DEFAULT_WINDOW_LENGTH)),
        horizon=float(record["simulated_seconds"]),
        greps=grep_counts(lines),
        audit=audit,
        scale_ins=scale_ins,
        cancels=cancels,
        cancel_answers=answers,
        cancel_errors=cancel_errors,
        failures=failures,
        http_errors=http_errors,
        lanes=lanes,
        rejections=rejections,
        faults_fired=fault_records(trace),
        entries=_entries(trace),
        calls=_calls(trace),
    )


# ---- measuring -------------------------------------------------------------------------------


def _trade_key(fields: dict) -> str:
    return f"{fields.get('symbol', '?')} #{fields.get('trade', '?')}"


def _lifecycles(audit: list[dict]) -> tuple[list[ScaleIn], list[SafeCancel], Counter, int]:
    """Scale-in lives and safe cancellations from the audit twin.

    A placement line has no order id: the first later scale-in line of the same trade that names
    an order binds it (resting, immediate fill, outcome unknown); `PLACEMENT FAILED` (no id)
    concludes the latest unbound placement of its trade.
    """
    scale_ins: list[ScaleIn] = []
    by_order: dict[str, ScaleIn] = {}
    unbound: dict[str, list[ScaleIn]] = {}
    cancels: list[SafeCancel] = []
    open_cancels: dict[str, SafeCancel] = {}
    answers: Counter = Counter()
    cancel_errors = 0
    terminal = SCALE_IN_TERMINAL  # "scale_in.failed" is handled above: it may carry no order id
    item: ScaleIn | None
    cancel: SafeCancel | None
    for event in audit:
        kind, fields, t = event.get("kind", ""), event.get("fields") or {}, event["t"]
        if kind == "scale_in.placement":
            item = ScaleIn(_trade_key(fields), t)
            scale_ins.append(item)
            unbound.setdefault(item.trade, []).append(item)
        elif kind == "scale_in.failed":
            pending = unbound.get(_trade_key(fields)) or []
            item = pending.pop() if pending else None
            if item is None:
                item = ScaleIn(_trade_key(fields), None)
                scale_ins.append(item)
            if item.outcome == "open":
                item.outcome, item.ended, item.error_kind = "failed", t, fields.get("error_kind")
        elif kind.startswith("scale_in.") and fields.get("order_id"):
            order_id = fields["order_id"]
            item = by_order.get(order_id)
            if item is None:
                pending = unbound.get(_trade_key(fields)) or []
                if pending:
                    item = pending.pop(0)
                else:
                    item = ScaleIn(_trade_key(fields), None)
                    scale_ins.append(item)
                item.order_id = order_id
                by_order[order_id] = item
            if kind in terminal and item.outcome == "open":
                item.outcome, item.ended = terminal[kind], t
        elif kind == "recon.safe_cancel_start":
            cancel = SafeCancel(str(fields.get("label")), str(fields.get("order_id")), t)
            previous = open_cancels.get(cancel.order_id)
            if previous is not None:
                previous.outcome = "unfinished"
            open_cancels[cancel.order_id] = cancel
            cancels.append(cancel)
        elif kind in ("recon.safe_cancel_done", "recon.inconclusive"):
            cancel = open_cancels.pop(str(fields.get("order_id")), None)
            if cancel is not None:
                cancel.outcome = "complete" if kind == "recon.safe_cancel_done" else "inconclusive"
                cancel.ended = t
        elif kind == "recon.cancel_ack":
            answers["canceled" if str(fields.get("answer")) == "canceled" else "not canceled"] += 1
        elif kind == "recon.cancel_error":
            cancel_errors += 1
    return scale_ins, cancels, answers, cancel_errors


def _short(text: Any, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _failure_patterns(audit: list[dict], trace: list[dict]) -> tuple[Counter, int]:
    """(source, pattern) -> count: error answers per route/status, WARNING/ERROR audit kinds."""
    patterns: Counter = Counter()
    http_errors = 0
    for request, record in responses_with_requests(trace):
        status, body = record.get("status"), record.get("body")
        if status is not None and int(status) < 400:
            continue
        http_errors += 1
        route = "?" if request is None else str(request.get("route"))
        if status is None:
            patterns[("response", f"{route}: no answer ({_short(body)})")] += 1
        else:
            detail = (
                body.get("error")
                if isinstance(body, dict) and "error" in body
                else ("HTML page" if isinstance(body, str) and "<" in body else body)
            )
            patterns[("response", f"{route}: {status} {_short(detail)}")] += 1
    for event in audit:
        if event.get("level") in ("WARNING", "ERROR", "CRITICAL"):
            fields = event.get("fields") or {}
            kind = str(event.get("kind"))
            if fields.get("error_kind"):
                kind += f" (kind={fields['error_kind']})"
            patterns[("audit " + str(event.get("level")), kind)] += 1
    return patterns, http_errors


# audit kinds that move the ledger's position, and their sign (core/audit.py: each carries `size`)
_LEDGER_MOVES = {
    "trade.opened": 1,
    "scale_in.filled_immediate": 1,
    "scale_in.filled_delayed": 1,
    "scale_in.partial": 1,
    "exit.filled": -1,
}


def _steps(moves: list[tuple[float, Decimal]]) -> list[tuple[float, Decimal]]:
    position, steps = Decimal(0), [(0.0, Decimal(0))]
    for t, size in sorted(moves, key=lambda move: move[0]):
        position += size
        steps.append((t, position))
    return steps


def _entries(trace: list[dict]) -> list[tuple[float, Decimal]]:
    return [
        (r["t"], Decimal(str(r.get("size", "0"))))
        for r in trace
        if r.get("type") == TraceType.HARNESS and r.get("action") == HarnessAction.OPEN_TRADE
    ]


def _calls(trace: list[dict]) -> list[tuple[float, str]]:
    """The bot's requests at the time they reached the venue, each with what the answer said:
    `read LIVE`, `cancel refused`, `place 400`... (the labels of the zoomed timeline)."""
    calls = []
    for request, response in responses_with_requests(trace):
        if request is None:
            continue
        route, status, body = str(request.get("route")), response.get("status"), response.get("body")
        verb = _VERBS.get(route, route)
        if status is None:
            answer = "timeout"
        elif int(status) >= 400:
            answer = str(status)
        elif route == "GET /data/order" and isinstance(body, dict):
            answer = str(body.get("status"))
        elif route == "DELETE /order" and isinstance(body, dict):
            answer = "refused" if body.get("not_canceled") else "ok"
        else:
            answer = str(status)
        calls.append((request["t"], f"{verb} {answer}"))
    return calls


_VERBS = {
    "GET /data/order": "read",
    "DELETE /order": "cancel",
    "POST /order": "place",
    "GET /data/trades": "trades",
    "GET /notifications": "notifications",
    "GET /balance-allowance": "balance",
}


def _lanes(trace: list[dict]) -> tuple[list[OrderLane], list[tuple[float, str]]]:
    owner = next(
        (
            r["fields"].get("owner")
            for r in trace
            if r.get("type") == TraceType.VENUE and r.get("event") == VenueEvent.ACCOUNT_OPENED
        ),
        None,
    )
    trades: dict[str, str] = {}
    for record in trace:
        if record.get("type") == TraceType.HARNESS and record.get("action") == HarnessAction.OPEN_TRADE:
            trades[str(record.get("token"))] = f"#{record.get('trade')}"
    lanes: dict[str, OrderLane] = {}
    voided: set[str] = set()
    rejections: list[tuple[float, str]] = []
    fill_trades: dict[str, list[tuple[OrderLane, int]]] = {}

    def fill(lane: OrderLane, t: float, size: Any, trade_id: Any) -> None:
        lane.fills.append((t, str(size), False))
        fill_trades.setdefault(str(trade_id), []).append((lane, len(lane.fills) - 1))

    for record in trace:
        if record.get("type") != TraceType.VENUE:
            continue
        event, f, t = record.get("event"), record.get("fields") or {}, record["t"]
        if event == VenueEvent.ORDER_PLACED and f.get("owner") == owner:
            side = str(f.get("side"))
            lanes[f["order_id"]] = OrderLane(
                f["order_id"],
                side,
                str(f.get("price")),
                str(f.get("size")),
                trades.get(str(f.get("asset_id")), "?"),
                "scale-in" if side == "BUY" else "exit",
                t,
            )
        elif event == VenueEvent.ORDER_REJECTED and f.get("owner") == owner:
            rejections.append((t, str(f.get("error"))))
        elif event == VenueEvent.ORDER_STATUS and f.get("order_id") in lanes:
            lane = lanes[f["order_id"]]
            lane.status = str(f.get("status"))
            if lane.status in TERMINAL_STATUSES and lane.ended is None:
                lane.ended = t
        elif event == VenueEvent.TRADE_MATCHED:
            if f.get("taker_order_id") in lanes:
                fill(lanes[f["taker_order_id"]], t, f.get("size"), f.get("trade_id"))
            for maker in f.get("makers") or []:
                if maker.get("order_id") in lanes:
                    fill(lanes[maker["order_id"]], t, maker.get("matched_amount"), f.get("trade_id"))
        elif event == VenueEvent.TRADE_VOIDED:
            voided.add(str(f.get("trade_id")))
    for trade_id in voided:
        for lane, index in fill_trades.get(trade_id, []):
            t, size, _ = lane.fills[index]
            lane.fills[index] = (t, size, True)
    return list(lanes.values()), rejections


# ---- why a scenario failed ------------------------------------------------------------------

# Invariants judged on the run's final state: their evidence names no moment of harm (a
# lifecycle line's timestamp is the last line about the order, not when it went wrong).
_JUDGED_AT_END = (ledger_matches_exchange.ID, lifecycle_complete.ID, no_orphan_orders.ID)
_STAMP = re.compile(r"\b(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)\b")


@dataclass(frozen=True)
class Failure:
    """The lead failure of a scenario: the check, when it broke (seconds from the window start;
    None: judged at the end of the run and no earlier moment is known), its key evidence, and
    the other failing checks."""

    check: str
    t: float | None
    evidence: str
    others: tuple[str, ...]


def clock(scenario: Scenario, t: float) -> str:
    """Simulated wall-clock time (UTC, as the audit lines print it) of `t` seconds into the window."""
    moment = datetime.fromtimestamp(scenario.window_start + t, tz=UTC)
    return moment.strftime("%H:%M:%S.%f")[:-3]


def _stamp_seconds(scenario: Scenario, text: str) -> float | None:
    times = [
        datetime.strptime(found, "%Y-%m-%d %H:%M:%S.%f" if "." in found else "%Y-%m-%d %H:%M:%S")
        .replace(tzinfo=UTC)
        .timestamp()
        for found in _STAMP.findall(text)
    ]
    return round(min(times) - scenario.window_start, 6) if times else None


def parting(scenario: Scenario) -> float | None:
    """The moment the venue's and the ledger's positions parted for good (None: they end equal)."""
    venue, ledger = scenario.venue_position, scenario.ledger_position
    moments = sorted({t for t, _ in venue} | {t for t, _ in ledger})

    def at(steps: list[tuple[float, Decimal]], t: float) -> Decimal:
        return [p for when, p in steps if when <= t][-1]

    since = None
    for t in moments:
        if at(venue, t) != at(ledger, t):
            since = t if since is None else since
        else:
            since = None
    return since


def why_failed(scenario: Scenario) -> Failure | None:
    """The failing invariant (else expectation) that leads the scenario's verdict, and when."""
    failed = failed_checks(scenario.record)
    if not failed:
        return None
    lead = lead_check(scenario.record)
    evidence = list(lead.get("evidence") or [])
    key = evidence[0] if evidence else str(lead.get("message") or "")
    if lead["id"] in _JUDGED_AT_END:
        t = parting(scenario) if lead["id"] == ledger_matches_exchange.ID else None
    else:
        t = _stamp_seconds(scenario, " ".join(evidence) or str(lead.get("message") or ""))
    others = tuple(dict.fromkeys(c["id"] for c in failed if c is not lead and c["id"] != lead["id"]))
    return Failure(str(lead["id"]), t, _short(key, 220), others)


def first_failing_moment(scenario: Scenario) -> float | None:
    """The earliest moment of harm any failing check names (for the zoomed timeline)."""
    failure = why_failed(scenario)
    times = [failure.t] if failure is not None and failure.t is not None else []
    for check in scenario.record["checks"]:
        if not check["passed"] and check["id"] not in _JUDGED_AT_END:
            found = _stamp_seconds(scenario, " ".join(check.get("evidence") or []) + " " + str(check.get("message")))
            if found is not None and 0 <= found <= scenario.horizon:
                times.append(found)
    return min(times) if times else None


_LAST_MATCHED = re.compile(r"^last line matched before it \(pattern #\d+\): (.*)$")  # sim.checks.expectations


def anomaly(scenario: Scenario) -> tuple[float, str] | None:
    """Where to look first, for the zoomed timeline: (t, what happened there).

    The first failing moment when a check names one; else, for a scale-in left without a terminal
    line (lifecycle-complete), the last audit line about it, after which its story stalls; else,
    for audit lines out of order, the last expected line seen before the one that never came."""
    moment = first_failing_moment(scenario)
    failure = why_failed(scenario)
    if moment is not None:
        return moment, f"{failure.check if failure else 'a check'} broke"
    for check in scenario.record["checks"]:
        if check["passed"]:
            continue
        evidence = list(check.get("evidence") or [])
        if check["id"] == lifecycle_complete.ID:
            found = _stamp_seconds(scenario, " ".join(evidence))
            if found is not None and 0 <= found <= scenario.horizon:
                return found, f"{check['id']}: the order's last audit line"
        if check["id"] == "expect.audit_in_order" and evidence:
            matched = _LAST_MATCHED.match(evidence[0])
            seen = [e["t"] for e in scenario.audit if matched and e.get("line") == matched.group(1)]
            if seen:
                return seen[0], f"{check['id']}: the last expected line seen"
    return None


# ---- summaries -------------------------------------------------------------------------------


def spread(values: list[float]) -> dict[str, Any]:
    """n, min, median, max (None when empty), for the report's tables."""
    if not values:
        return {"n": 0, "min": None, "median": None, "max": None}
    ordered = sorted(values)
    return {"n": len(ordered), "min": ordered[0], "median": round(statistics.median(ordered), 3), "max": ordered[-1]}


def rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def scale_in_fill_rate(scenarios: list[Scenario]) -> tuple[int, int]:
    placed = sum(1 for s in scenarios for item in s.scale_ins if item.placed is not None)
    filled = sum(1 for s in scenarios for item in s.scale_ins if item.placed is not None and item.outcome == "filled")
    return filled, placed


def cancel_success(scenarios: list[Scenario]) -> tuple[int, int]:
    started = sum(len(s.cancels) for s in scenarios)
    complete = sum(1 for s in scenarios for c in s.cancels if c.outcome == "complete")
    return complete, started
