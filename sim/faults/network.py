"""The network between the bot and the venue, with every fault of the catalogue.

`Network` is the gateway's hook (sim.gateway's seam). A request from a bot task becomes a simpy
process of its own: request leg (latency) -> the venue applies it -> response leg -> the answer
reaches the waiting task. Because the venue step runs in that process and not in the bot's
task, a request in flight when the bot crashes still lands, and market events interleave with
in-flight calls exactly as latency says.

Faults act where they bite in that path:
  on the legs           latency; a request whose legs outlast the client's timeout (5 s) is a
                        timeout for the bot, and the venue still applies it when it arrives
  before the venue      timeout_before_apply, http_error, engine_restart (425, post-only mode),
                        late_fill (a fill lands just before the cancel), delayed_match,
                        size_shortfall (marks the order when it is posted), cancel_race (a fill
                        lands before a cancel that follows a LIVE status read of the order; a
                        read the bot does not follow with a cancel is no race), balance_lag (the
                        venue's balance check of a SELL sees the lagged balance too)
  after the venue       timeout_after_apply, stale_read, order_not_found_after_match,
                        balance_lag (GET /balance-allowance),
                        notification_delay/duplicate/drop/reorder (on GET /notifications)
  on a schedule         partial_fill, heartbeat_cancel_all (begin())
  on venue events       trade_failed (the order's trades are doomed to FAILED)
bot_crash is the harness's (it owns the bot).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Callable

import simpy

from sim.faults.catalogue import Fault
from sim.exchange.gateway import NO_ANSWER, Answer, Call, Hooks, error
from sim.exchange.records import BASE_UNITS, NOT_ENOUGH_BALANCE, base_units
from sim.exchange.venue import HEARTBEAT_TIMEOUT, Venue

CLIENT_TIMEOUT = 5.0  # py-clob-client's httpx default
# base one-way latency in ms per route (request leg, response leg); others get DEFAULT_LEG
BASE_LEGS = {"POST /order": (120, 80), "DELETE /order": (80, 60), "GET /data/trades": (60, 90),
             "GET /data/orders": (50, 70)}
DEFAULT_LEG = (40, 40)
ORDER_ROUTES = ("POST /order", "POST /orders")
CANCEL_ROUTES = ("DELETE /order", "DELETE /orders", "DELETE /cancel-all", "DELETE /cancel-market-orders")
# venue events after which a token balance may have changed (balance_lag keeps their history)
BALANCE_EVENTS = ("account_opened", "deposit", "trade_matched", "trade_voided", "payout")
POST_ONLY_MODE = "post_only_mode: the matching engine only accepts post-only orders"
ENGINE_RESTARTING = "matching engine is restarting"


@dataclass
class Armed:
    """One fault instance with its remaining shots."""

    fault: Fault
    index: int
    shots: int
    state: dict = field(default_factory=dict)


class Network(Hooks):
    def __init__(self, env: simpy.Environment, wait: Callable[[simpy.Event], Answer], venue: Venue, rng: random.Random,
                 faults: list[Fault], *, window_start: float, horizon: float, owner: str,
                 trade_tokens: dict[int, str], trace: Callable[..., None],
                 doom: Callable[[str, float], None]):
        self.env, self.wait, self.venue, self.rng = env, wait, venue, rng
        self.start, self.horizon, self.owner = window_start, horizon, owner
        self.trade_tokens = trade_tokens
        self.trace = trace
        self.doom = doom
        self.gateway = None  # set by the harness (the gateway needs the hooks first)
        self.armed = [Armed(f, i, int(f.get("count") or 1)) for i, f in enumerate(faults)]
        # kind -> its armed faults with shots left, in catalogue order (active() is asked a
        # dozen times per request; shots only change in fire())
        self._armed_by_kind: dict[str, list[Armed]] = {}
        for armed in self.armed:
            self._armed_by_kind.setdefault(armed.fault.kind, []).append(armed)
        self._live: dict[str, tuple[Armed, ...]] = {}
        for kind in self._armed_by_kind:
            self._refresh(kind)
        self.note_times: dict[str, float] = {}  # notification id -> creation time
        self.hidden_until: dict[str, float] = {}  # notification id -> deliverable from
        self.dropped_forever: set[str] = set()
        self.redeliver: dict[str, dict] = {}  # duplicated notifications waiting for their drop
        self.balance_history: dict[str, list[tuple[float, Decimal]]] = {}
        self._late_fill_delay: float | None = None
        venue.watch(dict.fromkeys(("notification", "trade_matched", *BALANCE_EVENTS)), self._on_venue_event)

    # ---- helpers -------------------------------------------------------------------------------

    def rel(self) -> float:
        return self.env.now - self.start

    def active(self, kind: str) -> tuple[Armed, ...]:
        return self._live.get(kind, ())

    def _refresh(self, kind: str) -> None:
        self._live[kind] = tuple(a for a in self._armed_by_kind[kind] if a.shots > 0)

    def in_window(self, armed: Armed) -> bool:
        lo, hi = armed.fault.window(self.horizon)
        return lo <= self.rel() < hi

    def fire(self, armed: Armed, **details) -> None:
        armed.shots -= 1
        self._refresh(armed.fault.kind)
        self.trace("fault", kind=armed.fault.kind, index=armed.index, **details)

    def targets(self, armed: Armed, order_id: str | None) -> bool:
        """Is `order_id` the fault's order: the bot's BUY (scale-in) or SELL (exit) on the trade's token."""
        order = self.venue.orders.get(order_id or "")
        if order is None or order.owner != self.owner:
            return False
        token = self.trade_tokens.get(armed.fault.get("trade"))
        side = "BUY" if armed.fault.get("order") == "scale-in" else "SELL"
        return order.asset_id == token and order.side == side

    def open_target(self, armed: Armed):
        for order in reversed(list(self.venue.orders.values())):
            if order.is_open and self.targets(armed, order.id):
                return order
        return None

    def legs(self, route: str) -> tuple[float, float]:
        req, resp = BASE_LEGS.get(route, DEFAULT_LEG)
        # seeded jitter: +-25 % per leg, in whole milliseconds
        req = req * (0.75 + 0.5 * self.rng.random())
        resp = resp * (0.75 + 0.5 * self.rng.random())
        for armed in self.active("latency"):
            if armed.fault.get("endpoint") in ("*", route) and self.in_window(armed):
                req += float(armed.fault.get("request_ms"))
                resp += float(armed.fault.get("response_ms"))
        return round(req) / 1000.0, round(resp) / 1000.0

    # ---- the hook: every request --------------------------------------------------------------

    def before_apply(self, call: Call) -> Answer:
        done = self.env.event()
        self.env.process(self._serve(call, done))
        return self.wait(done)

    def _serve(self, call: Call, done: simpy.Event):
        req, resp = self.legs(call.route)
        self.trace("request", seq=call.seq, route=call.route, params=call.params, body=_summary(call))
        early = self._refuse(call)
        if req >= CLIENT_TIMEOUT:
            # A latency spike past the client's timeout: the client gives up ("Request
            # exception!") while the request is still on its way, and the venue applies it later.
            yield self.env.timeout(CLIENT_TIMEOUT)
            self._client_gives_up(call, done)
            yield self.env.timeout(req - CLIENT_TIMEOUT)
            if early is None:
                self._apply(call)
            return
        yield self.env.timeout(req)
        answer = self._apply(call) if early is None else early
        if answer is NO_ANSWER or req + resp > CLIENT_TIMEOUT:
            # no answer, or one that would arrive after the client gave up (applied all the same)
            yield self.env.timeout(max(0.0, CLIENT_TIMEOUT - req))
            if answer is not NO_ANSWER:
                self._client_gives_up(call, done)
                return
            self.trace("response", seq=call.seq, status=None, body="timeout")
            done.succeed(NO_ANSWER)
            return
        yield self.env.timeout(resp)
        self.trace("response", seq=call.seq, status=answer.status, body=answer.body)
        done.succeed(answer)

    def _apply(self, call: Call) -> Answer:
        """The venue step with the faults around it (the request has arrived)."""
        refused = self._lagging_balance_check(call)
        if refused is not None:
            return refused
        self._before_venue(call)
        return self._after_venue(call, self.gateway.apply(call))

    def _client_gives_up(self, call: Call, done: simpy.Event) -> None:
        self.trace("fault", kind="latency", route=call.route, seq=call.seq, phase="client timeout")
        self.trace("response", seq=call.seq, status=None, body="timeout")
        done.succeed(NO_ANSWER)

    def _matches(self, armed: Armed, call: Call) -> bool:
        return armed.fault.get("endpoint") in ("*", call.route) and self.rel() >= float(armed.fault.get("at") or 0)

    def _refuse(self, call: Call) -> Answer | None:
        """Faults that keep the request from the venue: decided when it is sent."""
        for armed in self.active("timeout_before_apply"):
            if self._matches(armed, call):
                self.fire(armed, route=call.route, seq=call.seq)
                return NO_ANSWER
        for armed in self.active("http_error"):
            if self._matches(armed, call):
                self.fire(armed, route=call.route, seq=call.seq, status=armed.fault.get("status"))
                return _error_answer(int(armed.fault.get("status")), armed.fault.get("body"))
        for armed in self.active("engine_restart"):
            at = float(armed.fault.get("at"))
            restart_end = at + float(armed.fault.get("duration"))
            post_only_end = restart_end + float(armed.fault.get("post_only_for"))
            rel = self.rel()
            if at <= rel < restart_end and (call.route in ORDER_ROUTES or call.route in CANCEL_ROUTES):
                self.trace("fault", kind="engine_restart", index=armed.index, route=call.route,
                           seq=call.seq, phase="restarting")
                return error(425, ENGINE_RESTARTING)
            if restart_end <= rel < post_only_end and call.route == "POST /order" and \
                    not (isinstance(call.body, dict) and call.body.get("postOnly")):
                self.trace("fault", kind="engine_restart", index=armed.index, route=call.route,
                           seq=call.seq, phase="post-only")
                return Answer(503, {"error": POST_ONLY_MODE}, (("Retry-After", "30"),))
        return None

    def _before_venue(self, call: Call) -> None:
        if call.route == "POST /order" and isinstance(call.body, dict):
            order = call.body.get("order") or {}
            order_id = self._order_id(order)
            token = str(order.get("tokenId", ""))
            side = "BUY" if str(order.get("side")) in ("0", "BUY") else "SELL"
            for armed in self.active("size_shortfall"):
                if self._is_target_request(armed, token, side):
                    self.venue.share_shortfall[order_id] = Decimal(str(armed.fault.get("shortfall")))
                    self.fire(armed, order_id=order_id)
            for armed in self.active("delayed_match"):
                if self._is_target_request(armed, token, side):
                    armed.state["order_id"] = order_id
                    self.venue.set_match_delay(token, "delay")
        if call.route == "DELETE /order" and isinstance(call.body, dict):
            order_id = call.body.get("orderID")
            for armed in self.active("cancel_race"):
                order = self.venue.orders.get(order_id or "")
                if armed.state.get("checked") == order_id and order is not None and order.is_open:
                    size = armed.fault.get("size") or order.remaining
                    self.venue.fill_resting(order_id, size)
                    self.fire(armed, order_id=order_id, size=str(size))
            for armed in self.active("late_fill"):
                if self.targets(armed, order_id):
                    size = armed.fault.get("size") or self.venue.orders[order_id].remaining
                    self._late_fill_delay = float(armed.fault.get("notify_delay"))
                    self.venue.fill_resting(order_id, size)
                    self._late_fill_delay = None
                    self.fire(armed, order_id=order_id, size=str(size))

    def _after_venue(self, call: Call, answer: Answer) -> Answer:
        for armed in self.active("delayed_match"):
            if "order_id" in armed.state and not armed.state.get("scheduled"):
                order = self.venue.orders.get(armed.state["order_id"])
                token = order.asset_id if order else None
                if token:
                    self.venue.set_match_delay(token, None)
                armed.state["scheduled"] = True
                if order is not None and order.status == "DELAYED":
                    self.fire(armed, order_id=order.id)
                    self.env.process(self._release(order.id, armed))
                else:
                    armed.state.pop("order_id")
                    armed.state.pop("scheduled")
        for armed in self.active("timeout_after_apply"):
            if self._matches(armed, call):
                self.fire(armed, route=call.route, seq=call.seq)
                return NO_ANSWER
        if call.route == "GET /data/order":
            answer = self._order_read(call, answer)
        elif call.route == "GET /notifications" and answer.status == 200:
            answer = Answer(200, self._deliverable(answer.body), answer.headers)
        elif call.route == "DELETE /notifications":
            self._after_drop(call)
        elif call.route == "GET /balance-allowance" and answer.status == 200:
            answer = self._lagged_balance(call, answer)
        return answer

    def _is_target_request(self, armed: Armed, token: str, side: str) -> bool:
        want = "BUY" if armed.fault.get("order") == "scale-in" else "SELL"
        return self.trade_tokens.get(armed.fault.get("trade")) == token and side == want

    def _order_id(self, order: dict) -> str:
        try:
            return self.gateway.order_id_of(order)
        except Exception:  # noqa: BLE001 - a malformed order has no id; the venue rejects it
            return ""

    def _release(self, order_id: str, armed: Armed):
        yield self.env.timeout(float(armed.fault.get("delay")))
        if armed.fault.get("fail"):
            self.venue.fail_delayed(order_id)
        else:
            self.venue.release_delayed(order_id)
        self.trace("fault", kind="delayed_match", index=armed.index, order_id=order_id,
                   phase="failed" if armed.fault.get("fail") else "released")

    # ---- order reads: cancel_race, stale_read, order_not_found_after_match -------------------

    def _order_read(self, call: Call, answer: Answer) -> Answer:
        order_id = call.params.get("id")
        for armed in self.active("stale_read"):
            if self.targets(armed, order_id):
                at = float(armed.fault.get("at"))
                if at <= self.rel() < at + float(armed.fault.get("duration")):
                    if "snapshot" not in armed.state:
                        armed.state["snapshot"] = answer
                        self.trace("fault", kind="stale_read", index=armed.index, order_id=order_id,
                                   phase="frozen")
                    else:
                        self.trace("fault", kind="stale_read", index=armed.index, order_id=order_id,
                                   phase="stale answer")
                    answer = armed.state["snapshot"]
        for armed in self.active("order_not_found_after_match"):
            if self.targets(armed, order_id) and self.venue.orders[order_id].status == "MATCHED":
                self.trace("fault", kind="order_not_found_after_match", index=armed.index, order_id=order_id)
                if int(armed.fault.get("status")) == 404:
                    return error(404, "order not found")
                return Answer(200, None)
        for armed in self.active("cancel_race"):
            body = answer.body if isinstance(answer.body, dict) else {}
            if self.targets(armed, order_id):
                # Remember the bot's latest status check; the fill lands only if a cancel follows
                # it (a routine monitoring read is not "check, then cancel").
                if body.get("status") == "LIVE":
                    armed.state["checked"] = order_id
                else:
                    armed.state.pop("checked", None)
        return answer

    # ---- notifications -----------------------------------------------------------------------

    def _on_venue_event(self, event: dict) -> None:
        kind, fields = event["kind"], event["fields"]
        if kind == "notification" and fields["owner"] == self.owner:
            note_id = fields["id"]
            self.note_times[note_id] = event["time"]
            if self._late_fill_delay is not None and fields["type"] == 2:
                self.hidden_until[note_id] = event["time"] + self._late_fill_delay
            for armed in self.active("notification_delay"):
                if self.in_window(armed):
                    self.hidden_until[note_id] = max(self.hidden_until.get(note_id, 0.0),
                                                     event["time"] + float(armed.fault.get("delay")))
                    self.trace("fault", kind="notification_delay", index=armed.index, notification=note_id)
            for armed in self.active("notification_drop"):
                types = armed.fault.get("types")
                if self.in_window(armed) and (not types or fields["type"] in types):
                    self.dropped_forever.add(note_id)
                    self.trace("fault", kind="notification_drop", index=armed.index, notification=note_id)
            for armed in self.active("notification_duplicate"):
                if self.in_window(armed):
                    self.redeliver[note_id] = {}
        elif kind == "trade_matched":
            makers = [m["order_id"] for m in fields["makers"]]
            for armed in self.active("trade_failed"):
                if any(self.targets(armed, oid) for oid in [fields["taker_order_id"], *makers]):
                    self.doom(fields["trade_id"], float(armed.fault.get("after")))
                    self.trace("fault", kind="trade_failed", index=armed.index, trade_id=fields["trade_id"])
        if kind in BALANCE_EVENTS:
            self._snapshot_balances()

    def _deliverable(self, notes: list) -> list:
        now = self.env.now
        out = []
        for note in notes:
            nid = str(note.get("id"))
            if nid in self.dropped_forever or self.hidden_until.get(nid, 0.0) > now:
                continue
            if nid in self.redeliver and not self.redeliver[nid]:
                self.redeliver[nid] = dict(note)  # remember it for the second delivery
            out.append(note)
        for nid in sorted(self.redeliver, key=lambda n: int(n) if n.isdigit() else n):
            copy = self.redeliver[nid]
            if copy.get("_due"):
                copy.pop("_due")
                out.append(copy)
                self.redeliver[nid] = {"_done": True}
                self.trace("fault", kind="notification_duplicate", notification=nid)
        for armed in self.active("notification_reorder"):
            if self.in_window(armed) and len(out) > 1:
                out = list(reversed(out))
                self.trace("fault", kind="notification_reorder", index=armed.index, count=len(out))
        return out

    def _after_drop(self, call: Call) -> None:
        ids = str(call.params.get("ids", "")).split(",")
        for nid in ids:
            copy = self.redeliver.get(nid)
            if copy and "_done" not in copy and "_due" not in copy:
                copy["_due"] = True

    # ---- balance lag -------------------------------------------------------------------------

    def _snapshot_balances(self) -> None:
        account = self.venue.account(self.owner)
        if account is None:
            return
        for token in sorted(set(self.trade_tokens.values())):
            history = self.balance_history.setdefault(token, [])
            value = account.balance(token)
            if not history or history[-1][1] != value:
                history.append((self.env.now, value))

    def note_deposit(self) -> None:
        self._snapshot_balances()

    def _lagged_balance(self, call: Call, answer: Answer) -> Answer:
        token = call.params.get("token_id")
        if call.params.get("asset_type") != "CONDITIONAL" or not token:
            return answer
        for armed in self.active("balance_lag"):
            if not self.in_window(armed):
                continue
            lagged = self._lagged(token, armed)
            current = Decimal(int(answer.body.get("balance", "0"))) / BASE_UNITS
            if lagged != current:
                self.trace("fault", kind="balance_lag", index=armed.index, token=token,
                           shown=str(lagged), actual=str(current))
                return Answer(200, {**answer.body, "balance": base_units(lagged)}, answer.headers)
        return answer

    def _lagged(self, token: str, armed: Armed) -> Decimal:
        """The token balance as it stood `lag` seconds ago."""
        seen_at = self.env.now - float(armed.fault.get("lag"))
        lagged = Decimal(0)
        for t, value in self.balance_history.get(token, []):
            if t <= seen_at:
                lagged = value
        return lagged

    def _lagging_balance_check(self, call: Call) -> Answer | None:
        """The venue's own balance check lags too (failure mode 6): a SELL that the shares
        credited in the last `lag` seconds would cover is refused, not applied."""
        if call.route != "POST /order" or not isinstance(call.body, dict):
            return None
        order = call.body.get("order") or {}
        token = str(order.get("tokenId", ""))
        account = self.venue.account(call.owner)
        if str(order.get("side")) not in ("1", "SELL") or account is None or \
                token not in self.balance_history:
            return None
        try:
            size = Decimal(int(order.get("makerAmount"))) / BASE_UNITS
        except (TypeError, ValueError):
            return None  # malformed: the venue rejects it
        for armed in self.active("balance_lag"):
            if not self.in_window(armed):
                continue
            lagged = self._lagged(token, armed)
            if lagged - self.venue.locked(account, token) < size <= self.venue.available(call.owner, token):
                self.trace("fault", kind="balance_lag", index=armed.index, token=token, seq=call.seq,
                           shown=str(lagged), needed=str(size), phase="placement refused")
                return error(400, NOT_ENOUGH_BALANCE)
        return None

    # ---- scheduled faults --------------------------------------------------------------------

    def begin(self) -> None:
        for armed in self.armed:
            if armed.fault.kind == "partial_fill":
                self.env.process(self._at(armed, self._partial_fill))
            elif armed.fault.kind == "heartbeat_cancel_all":
                self.env.process(self._at(armed, self._cancel_all))

    def _at(self, armed: Armed, action: Callable[[Armed], None]):
        yield self.env.timeout(max(0.0, self.start + float(armed.fault.get("at")) - self.env.now))
        action(armed)

    def _partial_fill(self, armed: Armed) -> None:
        order = self.open_target(armed)
        if order is None:
            self.trace("fault", kind="partial_fill", index=armed.index, phase="no open order")
            return
        size = Decimal(str(armed.fault.get("size")))
        self.venue.fill_resting(order.id, size)
        self.fire(armed, order_id=order.id, size=str(size))

    def _cancel_all(self, armed: Armed) -> None:
        # the venue's own dead-man switch: the bot's heartbeat is made to have lapsed, so the
        # orders end CANCELED with reason "heartbeat" (not a user cancel) and a heartbeat_expired
        account = self.venue.account(self.owner)
        lapsed = self.env.now - HEARTBEAT_TIMEOUT - 1
        account.heartbeat_at = lapsed if account.heartbeat_at is None else min(account.heartbeat_at, lapsed)
        canceled = [oid for oid in self.venue.heartbeat_sweep() if self.venue.orders[oid].owner == self.owner]
        self.fire(armed, canceled=canceled)


def _error_answer(status: int, body: str) -> Answer:
    if body == "html":
        page = (f"<html><head><title>{status} Forbidden</title></head><body><h1>Access denied</h1>"
                "</body></html>") if status == 403 else f"<html><body><h1>{status}</h1></body></html>"
        return Answer(status, page)
    messages = {425: ENGINE_RESTARTING, 429: "Too Many Requests", 500: "order timed out",
                502: "Bad Gateway", 503: "trading is currently disabled", 403: "Forbidden"}
    return error(status, messages.get(status, "error"))


def _summary(call: Call):
    """The request body as traced: orders by their id and economics, not their signature bytes
    (fast mode signs nothing), so traces compare across modes."""
    body = call.body
    if call.route == "POST /order" and isinstance(body, dict):
        order = body.get("order") or {}
        return {k: order.get(k) for k in ("tokenId", "side", "makerAmount", "takerAmount",
                                          "expiration", "salt")} | {
            "orderType": body.get("orderType"), "postOnly": body.get("postOnly")}
    return body
