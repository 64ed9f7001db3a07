"""The oracles: the safety invariants every run must keep, and a scenario's own expectations.

Invariant ids are stable (design.md); new ones may be added, none renamed:
  ledger-matches-exchange   each trade's ledger position = entry + the venue's filled size of the
                            bot's orders on its token, net of FAILED trades
  no-orphan-orders          when the window ends, no bot order is live at the venue (leftovers are
                            cancelled before the end), and none the ledger believes gone is live
  lifecycle-complete        every scale-in order the bot recorded or the venue saw has a terminal
                            audit line (filled, cancelled, failed)
  single-scale-in           at most one scale-in order per trade, at the venue and in the ledger
  no-crash                  no exception escaped a bot task
  notifications-idempotent  delivering every notification the bot received a second time, to a
                            bot on a copy of the final ledger, changes nothing
  exit-covers-position      while a trade is active, its shares are covered by live exit orders
                            within EXIT_GRACE seconds (an exit sized from a lagging balance is not)
  simulator-healthy         the simulated venue raised no internal error (a harness bug, not the bot's)

Audit patterns are Python regular expressions matched (re.search) against the INFO-and-above
lines of the run, i.e. exactly the lines of audit.log without the time and level prefix.
"""

from __future__ import annotations

import bisect
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from decimal import Decimal

from core.audit import format_time, render
from core.bot import Bot
from core.clob_adapter import ClobExchange
from core.config import StrategyConfig
from core.ledger import Ledger

from sim.clients.fast import FastClobClient
from sim.exchange.gateway import Gateway
from sim.runner.kernel import ManualClock
from sim.runner.harness import BOT_CREDS, BOT_KEY, CHAIN_ID, HOST, RunResult, scratch_dir

INVARIANTS = ["ledger-matches-exchange", "no-orphan-orders", "lifecycle-complete", "single-scale-in",
              "no-crash", "notifications-idempotent", "exit-covers-position", "simulator-healthy"]
TERMINAL_KINDS = ("scale_in.filled_immediate", "scale_in.filled_delayed", "scale_in.cancelled",
                  "scale_in.venue_cancelled", "scale_in.failed", "scale_in.not_placed")
ZERO = Decimal(0)


@dataclass(frozen=True)
class Check:
    id: str  # an invariant id, or expect.<kind>
    kind: str  # "invariant" | "expectation"
    passed: bool
    message: str = ""
    evidence: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind, "passed": self.passed, "message": self.message,
                "evidence": list(self.evidence)}


def _ok(check_id: str, kind: str = "invariant") -> Check:
    return Check(check_id, kind, True)


def _fail(check_id: str, message: str, evidence=(), kind: str = "invariant") -> Check:
    return Check(check_id, kind, False, message, tuple(evidence))


# ---- exchange-side facts -------------------------------------------------------------------

def venue_fills(result: RunResult, token: str) -> dict[str, Decimal]:
    """The bot's net filled size on a token, from the venue's trades (FAILED ones are void)."""
    bought = sold = ZERO
    for trade in result.venue.trades.values():
        if trade.asset_id != token or trade.status == "FAILED":
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
    return [o for o in result.venue.orders.values() if o.owner == result.owner
            and (token is None or o.asset_id == token) and (side is None or o.side == side)]


def _status_history(result: RunResult) -> dict[str, list[tuple[float, str]]]:
    """order id -> its (time, status) changes in event order: one pass over the venue's events
    (mostly the crowd's quotes) for all the orders a check looks at."""
    history: dict[str, list[tuple[float, str]]] = {}
    for event in result.venue.events:
        if event["kind"] == "order_status":
            fields = event["fields"]
            history.setdefault(fields["order_id"], []).append((event["time"], fields["status"]))
    return history


def status_at(result: RunResult, order_id: str, time: float,
              history: dict[str, list[tuple[float, str]]] | None = None) -> str | None:
    """The venue status of an order at a moment, from the venue's event history."""
    status = None
    changes = (history if history is not None else _status_history(result)).get(order_id, ())
    for when, value in changes:
        if when > time:
            break
        status = value
    return status


class _Ledger:
    """The final ledger, opened once for all checks."""

    def __init__(self, result: RunResult):
        self.db = Ledger(result.ledger_path)

    def __enter__(self) -> Ledger:
        return self.db

    def __exit__(self, *exc) -> None:
        self.db.close()


# ---- invariants ----------------------------------------------------------------------------

def ledger_matches_exchange(result: RunResult, ledger: Ledger) -> Check:
    evidence = []
    for trade in ledger.trades():
        token = result.trade_tokens.get(trade.trade_id, trade.token_id)
        fills = venue_fills(result, token)
        expected = trade.entry_size + fills["bought"] - fills["sold"]
        recorded = ledger.position(trade.trade_id)
        if recorded != expected:
            evidence.append(f"trade #{trade.trade_id}: ledger position {recorded:.2f}, exchange {expected:.2f} "
                            f"(entry {trade.entry_size:.2f} + bought {fills['bought']:.2f} - sold {fills['sold']:.2f})")
    if evidence:
        return _fail("ledger-matches-exchange", "the ledger's position differs from the exchange's fills", evidence)
    return _ok("ledger-matches-exchange")


CANCEL_EXCUSE = 60.0  # a cancel the venue refused or lost this close to the end excuses an order


def no_orphan_orders(result: RunResult, ledger: Ledger) -> Check:
    """When the window ends, no bot order is live at the venue, unless the venue itself refused or
    lost the bot's cancel of it in the last CANCEL_EXCUSE seconds (a restarting engine cannot be
    the bot's fault); and no order the ledger believes gone is live."""
    window_end = result.scenario.window_start + result.scenario.window_length
    evidence = []
    excused = _refused_cancels(result, window_end - CANCEL_EXCUSE, window_end)
    history = _status_history(result)
    for order in bot_orders(result):
        status = status_at(result, order.id, window_end, history)
        if status not in ("LIVE", "DELAYED"):
            continue
        record = ledger.order(order.id)
        role = "scale-in" if order.side == "BUY" else "exit"
        gone = _left_book_at(result, order.id, window_end, history)
        later = f" (it left the book only at {format_time(gone)})" if gone else ""
        if record is None:
            evidence.append(f"{role} order {order.id} live at the venue at the window's end, unknown to the ledger")
        elif order.id in excused:
            continue
        elif record.state.value in ("NOT_PLACED", "REJECTED"):
            evidence.append(f"{role} order {order.id} live at the venue at the window's end, "
                            f"but the ledger has it {record.state.value}")
        else:
            evidence.append(f"{role} order {order.id} still live at the venue when the window ended{later}")
    if evidence:
        return _fail("no-orphan-orders", "bot orders outlived the window", evidence)
    return _ok("no-orphan-orders")


def _refused_cancels(result: RunResult, start: float, end: float) -> set[str]:
    requests = {r["seq"]: r for r in result.trace if r["type"] == "request"}
    refused = set()
    for record in result.trace:
        request = requests.get(record.get("seq")) if record["type"] == "response" else None
        if request and request["route"] == "DELETE /order" and start <= record["t"] <= end + 5.0 \
                and record.get("status") != 200:
            refused.add(str((request.get("body") or {}).get("orderID")))
    return refused


def _left_book_at(result: RunResult, order_id: str, after: float,
                  history: dict[str, list[tuple[float, str]]] | None = None) -> float | None:
    changes = (history if history is not None else _status_history(result)).get(order_id, ())
    for when, status in changes:
        if when > after and status not in ("LIVE", "DELAYED"):
            return when
    return None


def lifecycle_complete(result: RunResult, ledger: Ledger) -> Check:
    terminal = {e.fields.get("order_id") for e in result.events if e.kind in TERMINAL_KINDS}
    last_line: dict[str, str] = {}
    for event in result.events:
        oid = event.fields.get("order_id")
        if oid and event.kind.startswith("scale_in."):
            last_line[oid] = f"{format_time(event.time)} {render(event)}"
    ids = [o.order_id for o in ledger.orders() if o.role.value == "scale-in"]
    for token in sorted(set(result.trade_tokens.values())):
        ids += [o.id for o in bot_orders(result, token, "BUY") if o.id not in ids]
    evidence = [f"scale-in order {oid}: no terminal line; last line about it: "
                f"{last_line.get(oid, '(none)')}" for oid in ids if oid not in terminal]
    if evidence:
        return _fail("lifecycle-complete", "scale-in orders without a terminal audit line", evidence)
    return _ok("lifecycle-complete")


def single_scale_in(result: RunResult, ledger: Ledger) -> Check:
    evidence = []
    for trade_id, token in sorted(result.trade_tokens.items()):
        at_venue = [o.id for o in bot_orders(result, token, "BUY")]
        if len(at_venue) > 1:
            evidence.append(f"trade #{trade_id}: {len(at_venue)} scale-in orders at the venue: {', '.join(at_venue)}")
    for trade in ledger.trades():
        recorded = [o.order_id for o in ledger.orders(trade.trade_id) if o.role.value == "scale-in"]
        if len(recorded) > 1:
            evidence.append(f"trade #{trade.trade_id}: {len(recorded)} scale-in orders in the ledger")
    if evidence:
        return _fail("single-scale-in", "more than one scale-in per trade", evidence)
    return _ok("single-scale-in")


EXIT_GRACE = 30.0  # seconds an uncovered position is tolerated (detection + resize + latency)
PLACEMENT_PATH = ("POST /order", "GET /tick-size", "GET /fee-rate", "GET /neg-risk")


def exit_covers_position(result: RunResult, ledger: Ledger) -> Check:
    """While a trade is active, the shares the bot holds minus its live exit size must not stay at
    or above the venue minimum for longer than EXIT_GRACE: the exit plan covers the whole
    position (sized from the ledger, resized after a scale-in fill). Computed from the venue's
    history alone; a time when the venue refused or did not answer the bot's last exit
    placement does not count against the bot.
    """
    evidence = []
    cfg_end = result.scenario.window_length - float(result.scenario.bot.get("cancel_before_end", StrategyConfig.cancel_before_end))
    min_size = Decimal(str(result.scenario.market.get("min_size", 5)))
    # Moments that excuse an uncovered stretch up to then (plus the grace): the venue refusing
    # or not answering a request on the exit's placement path (the client's own tick-size and
    # fee-rate reads included), and the bot coming back from a crash.
    refusals: dict[str, list[float]] = {}
    restarts = [r["t"] for r in result.trace if r["type"] == "fault" and r.get("kind") == "bot_crash"
                and r.get("phase") == "restarted"]
    requests = {r["seq"]: r for r in result.trace if r["type"] == "request"}
    for record in result.trace:
        request = requests.get(record.get("seq")) if record["type"] == "response" else None
        if request is None or record.get("status") == 200 or request["route"] not in PLACEMENT_PATH:
            continue
        body = request.get("body") or {}
        if request["route"] == "POST /order" and body.get("side") not in ("SELL", 1, "1"):
            continue
        token = str(body.get("tokenId") or (request.get("params") or {}).get("token_id"))
        refusals.setdefault(token, []).append(record["t"])
    for trade in ledger.trades():
        token = result.trade_tokens.get(trade.trade_id, trade.token_id)
        opened = next((r["t"] for r in result.trace if r.get("action") == "open_trade" and r.get("trade") == trade.trade_id), None)
        if opened is None:
            continue
        stop = result.scenario.window_start + cfg_end
        gap = _longest_uncovered(result, token, opened, stop, min_size, refusals.get(token, []) + restarts)
        if gap is not None:
            start, length, held, covered = gap
            evidence.append(f"trade #{trade.trade_id}: from {format_time(start)} for {length:.0f}s the bot held "
                            f"{held:.2f} shares with live exit orders for only {covered:.2f}")
    if evidence:
        return _fail("exit-covers-position", "the exit plan did not cover the position", evidence)
    return _ok("exit-covers-position")


def _longest_uncovered(result: RunResult, token: str, opened: float, stop: float, min_size: Decimal,
                       refusals: list[float]):
    """The longest stretch (start, seconds, held, covered) in which the shares the venue would let
    the bot sell, less its live exit size, stayed >= min_size; None if none outlasted the grace.

    Sellable = shares held, or under a balance_lag fault the shares held `lag` seconds ago (the
    venue's own check lags: no bot can sell more). Sampled every second from step functions
    built from the venue's events.
    """
    held_steps, covered_steps = _holdings(result, token)
    lags = [f for f in result.scenario.faults if f.kind == "balance_lag"]
    start_rel = result.scenario.window_start

    def sellable(t: float) -> Decimal:
        value = _at(held_steps, t)
        for fault in lags:
            lo, hi = fault.window(result.simulated_seconds)
            if lo <= t - start_rel < hi:
                value = min(value, _at(held_steps, t - float(fault.get("lag"))))
        return value

    worst, since, figures = None, None, None
    t = opened
    while t <= stop:
        covered = _at(covered_steps, t)
        uncovered = sellable(t) - covered >= min_size and t < stop
        if uncovered and since is None:
            since, figures = t, (_at(held_steps, t), covered)
        if since is not None and (not uncovered or t >= stop):
            start = max([since] + [r for r in refusals if since <= r <= t])
            if t - start > EXIT_GRACE and (worst is None or t - start > worst[1]):
                worst = (start, t - start, *figures)
            since = None
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
    failed = {e["fields"]["trade_id"] for e in result.venue.events
              if e["kind"] == "trade_status" and e["fields"]["status"] == "FAILED"}
    held, sells, open_sells = ZERO, {}, set()
    held_steps: list[tuple[float, Decimal]] = []
    covered_steps: list[tuple[float, Decimal]] = []
    for event in result.venue.events:
        fields, t = event["fields"], event["time"]
        if event["kind"] == "deposit" and fields["owner"] == owner and fields["asset"] == token:
            held += Decimal(fields["amount"])
        elif event["kind"] == "order_placed" and fields["owner"] == owner and fields["asset_id"] == token \
                and fields["side"] == "SELL":
            sells[fields["order_id"]] = Decimal(fields["size"])
            open_sells.add(fields["order_id"])
        elif event["kind"] == "order_status" and fields["order_id"] in sells and \
                fields["status"] not in ("LIVE", "DELAYED"):
            open_sells.discard(fields["order_id"])
        elif event["kind"] == "trade_matched" and fields["asset_id"] == token and fields["trade_id"] not in failed:
            legs = [(m["order_id"], Decimal(m["matched_amount"])) for m in fields["makers"] if m["owner"] == owner]
            if fields["taker_owner"] == owner:
                legs.append((fields["taker_order_id"], Decimal(fields["size"])))
            for order_id, amount in legs:
                if order_id in sells:
                    held -= amount
                    sells[order_id] -= amount
                else:
                    held += amount
        else:
            continue
        held_steps.append((t, held))
        covered_steps.append((t, sum((sells[o] for o in open_sells), ZERO)))
    return held_steps, covered_steps


def no_crash(result: RunResult) -> Check:
    if result.task_errors:
        return _fail("no-crash", "an exception escaped a bot task", result.task_errors)
    return _ok("no-crash")


def simulator_healthy(result: RunResult) -> Check:
    if result.internal_errors:
        return _fail("simulator-healthy", "the simulated venue hit an internal error (a harness bug)",
                     [e.strip().splitlines()[-1] for e in result.internal_errors])
    return _ok("simulator-healthy")


class _RecordedNotifications(FastClobClient):
    """Answers GET /notifications with what the bot was given during the run; reads go to the
    final venue; drops do nothing."""

    def __init__(self, notes: list, gateway: Gateway):
        super().__init__(HOST, chain_id=CHAIN_ID, key=BOT_KEY, creds=BOT_CREDS, gateway=gateway)
        self._notes = notes

    def get_notifications(self):
        return list(self._notes)

    def drop_notifications(self, params=None):
        return "OK"


def notifications_idempotent(result: RunResult, ledger: Ledger) -> Check:
    delivered = []
    requests = {r["seq"]: r["route"] for r in result.trace if r["type"] == "request"}
    for record in result.trace:
        if record["type"] == "response" and requests.get(record["seq"]) == "GET /notifications" \
                and isinstance(record.get("body"), list):
            delivered.extend(record["body"])
    if not delivered:
        return _ok("notifications-idempotent")
    before = _ledger_state(ledger)
    workdir = scratch_dir("clobsim-idem-")
    try:
        copy = os.path.join(workdir, "ledger.sqlite")
        shutil.copyfile(result.ledger_path, copy)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(result.ledger_path + suffix):
                shutil.copyfile(result.ledger_path + suffix, copy + suffix)
        clock = ManualClock(result.scenario.window_start + result.simulated_seconds)
        exchange = ClobExchange(_RecordedNotifications(delivered, Gateway(result.venue)), chain_id=CHAIN_ID)
        logger = logging.getLogger("clobsim.oracle.idempotency")
        logger.propagate = False
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
        replica = Ledger(copy)
        try:
            Bot(clock, exchange, replica, logger=logger).notifications.poll()
            after = _ledger_state(replica)
        finally:
            replica.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if before != after:
        changed = [f"{key}: {before.get(key)} -> {after.get(key)}"
                   for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
        return _fail("notifications-idempotent",
                     f"delivering the {len(delivered)} notifications a second time changed the ledger", changed)
    return _ok("notifications-idempotent")


def _ledger_state(ledger: Ledger) -> dict[str, str]:
    state = {f"position #{t.trade_id}": f"{ledger.position(t.trade_id):.2f}" for t in ledger.trades()}
    state["live fills"] = str(sum(1 for f in ledger.fills() if not f["void"]))
    state["void fills"] = str(sum(1 for f in ledger.fills() if f["void"]))
    return state


def check_invariants(result: RunResult) -> list[Check]:
    with _Ledger(result) as ledger:
        return [ledger_matches_exchange(result, ledger), no_orphan_orders(result, ledger),
                lifecycle_complete(result, ledger), single_scale_in(result, ledger), no_crash(result),
                notifications_idempotent(result, ledger), exit_covers_position(result, ledger),
                simulator_healthy(result)]


# ---- scenario expectations -----------------------------------------------------------------

def info_lines(result: RunResult) -> list[str]:
    return [render(e) for e in result.events if e.level >= logging.INFO]


def check_expectations(result: RunResult) -> list[Check]:
    expect = result.scenario.expect
    lines = info_lines(result)
    checks: list[Check] = []
    if "audit_in_order" in expect:
        checks.append(_in_order(expect["audit_in_order"], lines))
    for pattern in expect.get("audit_absent", []):
        found = [line for line in lines if re.search(pattern, line)]
        checks.append(_fail("expect.audit_absent", f"pattern {pattern!r} must not appear but matched "
                            f"{len(found)} line(s)", found[:3], kind="expectation")
                      if found else _ok("expect.audit_absent", "expectation"))
    for pattern, wanted in expect.get("counts", {}).items():
        found = [line for line in lines if re.search(pattern, line)]
        checks.append(_fail("expect.counts", f"pattern {pattern!r}: expected {wanted} line(s), found {len(found)}",
                            found[:5], kind="expectation")
                      if len(found) != wanted else _ok("expect.counts", "expectation"))
    outcomes = expect.get("outcomes", {})
    if outcomes:
        checks.extend(_outcomes(result, outcomes))
    return checks


def _in_order(patterns: list[str], lines: list[str]) -> Check:
    position, last = 0, None
    for index, pattern in enumerate(patterns):
        regex = re.compile(pattern)
        while position < len(lines) and not regex.search(lines[position]):
            position += 1
        if position == len(lines):
            before = f"last line matched before it (pattern #{index - 1}): {last}" if last else \
                "no earlier pattern matched"
            anywhere = [line for line in lines if regex.search(line)]
            evidence = [before] + ([f"the pattern does match earlier, out of order: {anywhere[0]}"] if anywhere else [])
            return _fail("expect.audit_in_order", f"missing pattern #{index} {pattern!r}", evidence,
                         kind="expectation")
        last = lines[position]
        position += 1
    return _ok("expect.audit_in_order", "expectation")


def _outcomes(result: RunResult, outcomes: dict) -> list[Check]:
    checks = []
    with _Ledger(result) as ledger:
        for trade_key, wanted in outcomes.get("trades", {}).items():
            trade_id = int(trade_key)
            trade = ledger.trade(trade_id)
            actual = {"position": ledger.position(trade_id), "state": trade.state.value, "pnl": trade.pnl,
                      "scale_ins": len([o for o in ledger.orders(trade_id) if o.role.value == "scale-in"]),
                      "winner": None if trade.winner is None else
                      ("WIN" if trade.winner == trade.token_id else "LOSS")}
            for key, value in wanted.items():
                got = actual[key]
                same = (got is not None and Decimal(str(got)) == Decimal(str(value))) \
                    if key in ("position", "pnl") else got == value
                checks.append(_ok("expect.outcomes", "expectation") if same else
                              _fail("expect.outcomes", f"trade #{trade_id} {key}: expected {value}, got {got}",
                                    kind="expectation"))
    if "open_orders" in outcomes:
        live = [o.id for o in bot_orders(result) if o.is_open]
        wanted = outcomes["open_orders"]
        checks.append(_ok("expect.outcomes", "expectation") if len(live) == wanted else
                      _fail("expect.outcomes", f"open orders at the end: expected {wanted}, got {len(live)}",
                            live, kind="expectation"))
    return checks


def check_all(result: RunResult) -> list[Check]:
    return check_invariants(result) + check_expectations(result)
