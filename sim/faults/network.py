"""The network between the bot and the venue: where every fault of the catalogue acts.

`Network` is the gateway's hook (sim.exchange.gateway's seam). A request from a bot task is
carried by simpy events of its own (a chain of callbacks, each leg a timeout): request leg
(latency) -> the venue applies it -> response leg -> the answer reaches the waiting task.
Because the venue step runs in those events and not in the bot's task, a request in flight when
the bot crashes still lands, and market events interleave with in-flight calls exactly as
latency says.

The path of one request, and the fault kinds' hooks on it (sim.faults.kind):

    send       legs()          base latency per route, seeded jitter, then each kind's legs
               refuse()        the first kind that answers keeps the request from the venue
    arrive     admit()         the first kind that answers refuses the request at the venue
               before_venue()  kinds change the venue just before it applies the request
    venue      gateway.apply   the exchange changes state and answers
               (mailbox)       GET /notifications shows only what the mailbox lets through
               after_venue()   kinds see the answer in turn; Final(answer) ends the chain
    return     a request whose legs outlast the client's timeout (5 s) is a timeout for the
               bot, and the venue still applies it when it arrives

Venue events reach the kinds that watch them (on_venue_event); scheduled faults start in
begin(). Kinds meet in the order of their `precedence`.

In server mode (sim.server) a request comes from a socket, not a bot task: the server hands the
call to `dispatch` and waits for the event it returns on its own event loop; WebSocket events
pass through `push` (the kinds' ws_push) before the server's channels send them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import simpy
from simpy.events import Timeout

from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.exchange.gateway import NO_ANSWER, Answer, Call, Hooks
from clobsim.sim.exchange.venue import Venue
from clobsim.sim.faults import CATALOGUE
from clobsim.sim.faults.balance_lag import BalanceHistory
from clobsim.sim.faults.kind import Armed, Fault, FaultKind, Final, Push
from clobsim.sim.faults.mailbox import Mailbox
from clobsim.sim.trace import TraceType

CLIENT_TIMEOUT = 5.0  # py-clob-client's httpx default
# base one-way latency in ms per route (request leg, response leg); others get DEFAULT_LEG
BASE_LEGS = {
    "POST /order": (120, 80),
    "DELETE /order": (80, 60),
    "GET /data/trades": (60, 90),
    "GET /data/orders": (50, 70),
}
DEFAULT_LEG = (40, 40)
BY_PRECEDENCE = tuple(sorted(CATALOGUE.values(), key=lambda kind: kind.precedence))


def _hooked(hook: str) -> tuple[FaultKind, ...]:
    return tuple(kind for kind in BY_PRECEDENCE if kind.overrides(hook))


LEGS, REFUSE, ADMIT = _hooked("legs"), _hooked("refuse"), _hooked("admit")
BEFORE_VENUE, AFTER_VENUE, ON_VENUE_EVENT = _hooked("before_venue"), _hooked("after_venue"), _hooked("on_venue_event")
WS_PUSH = _hooked("ws_push")


class Network(Hooks):
    def __init__(
        self,
        env: simpy.Environment,
        wait: Callable[[simpy.Event], Answer],
        soon: Callable[[Callable[[simpy.Event], Any]], None],
        venue: Venue,
        rng: random.Random,
        faults: list[Fault],
        *,
        window_start: float,
        horizon: float,
        owner: str,
        trade_tokens: dict[int, str],
        trace: Callable[..., None],
        doom: Callable[[str, float], None],
    ):
        self.env, self.wait, self.soon, self.venue, self.rng = env, wait, soon, venue, rng
        self.start, self.horizon, self.owner = window_start, horizon, owner
        self.trade_tokens = trade_tokens
        self.trace = trace
        self.doom = doom
        self.gateway: Any = None  # set by the harness (the gateway needs the hooks first)
        self.mailbox = Mailbox()
        self.balances = BalanceHistory()
        self.sockets: Any = None  # the server's channels (sim.server.channels), set in server mode
        self.armed = [Armed(f, i, int(f.get("count") or 1)) for i, f in enumerate(faults)]
        # kind -> its armed faults with shots left, in scenario order (active() is asked a
        # dozen times per request; shots only change in fire())
        self._armed_by_kind: dict[str, list[Armed]] = {}
        for armed in self.armed:
            self._armed_by_kind.setdefault(armed.fault.kind, []).append(armed)
        self._live: dict[str, tuple[Armed, ...]] = {}
        for kind in self._armed_by_kind:
            self._refresh(kind)
        # per hook, only the kinds this scenario arms (in precedence order): every request asks
        # each hook, and a scenario arms a few kinds of twenty, often none
        self._legs, self._refuse, self._admit, self._before, self._after, self._on_event = (
            tuple(kind for kind in hooked if kind.name in self._armed_by_kind)
            for hooked in (LEGS, REFUSE, ADMIT, BEFORE_VENUE, AFTER_VENUE, ON_VENUE_EVENT)
        )
        watched = [k for kind in self._on_event for k in kind.watches]
        venue.watch(dict.fromkeys((VenueEvent.NOTIFICATION, *watched)), self._on_venue_event)

    # ---- what the kinds use (sim.faults.kind.Net) -----------------------------------------------

    def rel(self) -> float:
        return self.env.now - self.start

    def until(self, at: float) -> float:
        """Seconds from now to `at` seconds after the window start (0 if past)."""
        return max(0.0, self.start + at - self.env.now)

    def active(self, kind: str) -> tuple[Armed, ...]:
        return self._live.get(kind, ())

    def _refresh(self, kind: str) -> None:
        self._live[kind] = tuple(a for a in self._armed_by_kind[kind] if a.shots > 0)

    def in_window(self, armed: Armed) -> bool:
        lo, hi = armed.fault.window(self.horizon)
        return lo <= self.rel() < hi

    def fire(self, armed: Armed, **details: Any) -> None:
        armed.shots -= 1
        self._refresh(armed.fault.kind)
        self.trace(TraceType.FAULT, kind=armed.fault.kind, index=armed.index, **details)

    def targets(self, armed: Armed, order_id: str | None) -> bool:
        """Is `order_id` the fault's order: the bot's BUY (scale-in) or SELL (exit) on the trade's token."""
        order = self.venue.orders.get(order_id or "")
        if order is None or order.owner != self.owner:
            return False
        token = self.trade_tokens.get(armed.fault.get("trade"))
        side = "BUY" if armed.fault.get("order") == "scale-in" else "SELL"
        return order.asset_id == token and order.side == side

    def is_target_request(self, armed: Armed, token: str, side: str) -> bool:
        want = "BUY" if armed.fault.get("order") == "scale-in" else "SELL"
        return self.trade_tokens.get(armed.fault.get("trade")) == token and side == want

    def open_target(self, armed: Armed) -> Any:
        for order in reversed(list(self.venue.orders.values())):
            if order.is_open and self.targets(armed, order.id):
                return order
        return None

    def matches(self, armed: Armed, call: Call) -> bool:
        return armed.fault.get("endpoint") in ("*", call.route) and self.rel() >= float(armed.fault.get("at") or 0)

    def order_id(self, order: dict) -> str:
        try:
            return self.gateway.order_id_of(order)  # type: ignore[no-any-return]
        except Exception:  # noqa: BLE001 - a malformed order has no id; the venue rejects it
            return ""

    def posted_order(self, call: Call) -> tuple[str, str, str] | None:
        """(order id, token, "BUY" | "SELL") of a POST /order, or None for any other request."""
        if call.route != "POST /order" or not isinstance(call.body, dict):
            return None
        order = call.body.get("order") or {}
        side = "BUY" if str(order.get("side")) in ("0", "BUY") else "SELL"
        return self.order_id(order), str(order.get("tokenId", "")), side

    # ---- the hook: every request ------------------------------------------------------------------

    def legs(self, route: str) -> tuple[float, float]:
        base_req, base_resp = BASE_LEGS.get(route, DEFAULT_LEG)
        # seeded jitter: +-25 % per leg, in whole milliseconds
        req = base_req * (0.75 + 0.5 * self.rng.random())
        resp = base_resp * (0.75 + 0.5 * self.rng.random())
        for kind in self._legs:
            armed = self.active(kind.name)
            if armed:
                req, resp = kind.legs(self, armed, route, req, resp)
        return round(req) / 1000.0, round(resp) / 1000.0

    def before_apply(self, call: Call) -> Answer:
        return self.wait(self.dispatch(call))

    def dispatch(self, call: Call) -> simpy.Event:
        """Start carrying `call`; the event fires with the Answer the client gets (NO_ANSWER: none)."""
        done = simpy.Event(self.env)
        # The request leaves where simpy would start a process carrying it (`soon`), and each leg
        # is a timeout with a callback: the events and their order are a process's, without a
        # process and a generator per request (600 a window).
        self.soon(lambda _: self._send(call, done))
        return done

    def push(self, push: Push) -> list[Push]:
        """A WebSocket event through the ws kinds' hooks: what goes out instead, and when."""
        pushes = [push]
        for kind in WS_PUSH:
            armed = self.active(kind.name)
            if armed:
                pushes = [out for one in pushes for out in kind.ws_push(self, armed, one)]
        return pushes

    def _later(self, delay: float, then: Callable[[simpy.Event], Any]) -> None:
        Timeout(self.env, delay).callbacks.append(then)

    def _send(self, call: Call, done: simpy.Event) -> None:
        req, resp = self.legs(call.route)
        self.trace(TraceType.REQUEST, seq=call.seq, route=call.route, params=call.params, body=_summary(call))
        early = self._first(self._refuse, "refuse", call) if self._refuse else None
        if req >= CLIENT_TIMEOUT:
            self._later(CLIENT_TIMEOUT, lambda _: self._spiked(call, done, req, early))
            return
        self._later(req, lambda _: self._arrive(call, done, req, resp, early))

    def _spiked(self, call: Call, done: simpy.Event, req: float, early: Answer | None) -> None:
        """A latency spike past the client's timeout: the client gives up ("Request exception!")
        while the request is still on its way, and the venue applies it later."""
        self._client_gives_up(call, done)
        if early is None:
            self._later(req - CLIENT_TIMEOUT, lambda _: self._apply(call))

    def _arrive(self, call: Call, done: simpy.Event, req: float, resp: float, early: Answer | None) -> None:
        answer = self._apply(call) if early is None else early
        if answer is NO_ANSWER or req + resp > CLIENT_TIMEOUT:
            # no answer, or one that would arrive after the client gave up (applied all the same)
            self._later(max(0.0, CLIENT_TIMEOUT - req), lambda _: self._no_answer(call, done, answer))
            return
        self._later(resp, lambda _: self._answer(call, done, answer))

    def _no_answer(self, call: Call, done: simpy.Event, answer: Answer) -> None:
        if answer is not NO_ANSWER:
            self._client_gives_up(call, done)
            return
        self.trace(TraceType.RESPONSE, seq=call.seq, status=None, body="timeout")
        done.succeed(NO_ANSWER)

    def _answer(self, call: Call, done: simpy.Event, answer: Answer) -> None:
        self.trace(TraceType.RESPONSE, seq=call.seq, status=answer.status, body=answer.body)
        done.succeed(answer)

    def _first(self, kinds: tuple[FaultKind, ...], hook: str, call: Call) -> Answer | None:
        for kind in kinds:
            armed = self.active(kind.name)
            if armed:
                answer = getattr(kind, hook)(self, armed, call)
                if answer is not None:
                    return answer
        return None

    def _apply(self, call: Call) -> Answer:
        """The venue step with the faults around it (the request has arrived)."""
        refused = self._first(self._admit, "admit", call) if self._admit else None
        if refused is not None:
            return refused
        for kind in self._before:
            armed = self.active(kind.name)
            if armed:
                kind.before_venue(self, armed, call)
        answer = self.gateway.apply(call)
        if call.route == "GET /notifications" and answer.status == 200:
            answer = Answer(200, self.mailbox.deliverable(answer.body, self.env.now), answer.headers)
        for kind in self._after:
            armed = self.active(kind.name)
            if armed:
                answer = kind.after_venue(self, armed, call, answer)
                if isinstance(answer, Final):
                    return answer.answer
        return answer

    def _client_gives_up(self, call: Call, done: simpy.Event) -> None:
        self.trace(TraceType.FAULT, kind="latency", route=call.route, seq=call.seq, phase="client timeout")
        self.trace(TraceType.RESPONSE, seq=call.seq, status=None, body="timeout")
        done.succeed(NO_ANSWER)

    # ---- venue events and the schedule ------------------------------------------------------------

    def _on_venue_event(self, event: dict) -> None:
        fields = event["fields"]
        if event["kind"] == VenueEvent.NOTIFICATION and fields["owner"] == self.owner:
            self.mailbox.created(fields["id"], fields["type"], event["time"])
        for kind in self._on_event:
            armed = self.active(kind.name)
            if armed:
                kind.on_venue_event(self, armed, event)

    def begin(self) -> None:
        for armed in self.armed:
            CATALOGUE[armed.fault.kind].begin(self, armed)


def _summary(call: Call) -> Any:
    """The request body as traced: orders by their id and economics, not their signature bytes
    (fast mode signs nothing), so traces compare across modes."""
    body = call.body
    if call.route == "POST /order" and isinstance(body, dict):
        order = body.get("order") or {}
        return {k: order.get(k) for k in ("tokenId", "side", "makerAmount", "takerAmount", "expiration", "salt")} | {
            "orderType": body.get("orderType"),
            "postOnly": body.get("postOnly"),
        }
    return body
