"""Aimed faults made plain: each aim (sim.explore.strategies.aimed_faults) names a request the bot
makes, and becomes a plain fault at that request's moment, read from a pilot run of the scenario
without the aimed faults.

A pilot stops as soon as its trace settles every aim (sim.runner.harness's `stop_when`): what an
aim resolves to depends only on the run up to its request (and that request's answer), and a run
is the same up to any moment however long it goes on, so the rest of the pilot could change
nothing. An aim settles once nothing the run could still do moves it:
- a placement: the nth placement of its side was sent (placements only ever add to the list);
- a cancel: the nth cancel of one of the side's orders was sent, and every cancel before it names
  an order whose placement was answered (a cancel naming an order not answered yet may turn out
  to be one of the side's, and would then count before it: a blind repost of an unanswered order
  is answered with the same id);
- a request after the anchor ("the first status read after the placement"): the anchor was
  answered and the first such request after the answer was sent;
- a crash in flight also needs its request's answer (or the run's end, for one never answered);
- past the window's end an anchor or target not sent yet can only come later: a fault acts
  within the window, so such an aim is left out whatever happens next.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from clobsim.sim.checks import check_all
from clobsim.sim.runner import harness
from clobsim.sim.runner.scenario import from_dict
from clobsim.sim.trace import TraceType

TRACE_RESOLUTION = 1e-6  # seconds: the trace's times are rounded to the microsecond (sim.runner.harness)
POST, CANCEL = "POST /order", "DELETE /order"
BUY, SELL = "BUY", "SELL"
NO_ID = ("None", "")  # an order id as text when there is none (an error's body, no answer)

T = TypeVar("T")


class Memo(Generic[T]):
    """The latest `size` values made for scenario data, by the data's JSON text (a scenario
    drawn again is the same scenario: the same run, the same verdict)."""

    def __init__(self, size: int):
        self.size = size
        self._values: OrderedDict[str, T] = OrderedDict()

    @staticmethod
    def key(data: dict) -> str | None:
        try:
            return json.dumps(data, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError):
            return None  # not plain JSON data: nothing to know it again by

    def get(self, data: dict) -> T | None:
        key = self.key(data)
        if key is None or key not in self._values:
            return None
        self._values.move_to_end(key)
        return self._values[key]

    def put(self, data: dict, value: T) -> None:
        key = self.key(data)
        if key is None:
            return
        self._values[key] = value
        self._values.move_to_end(key)
        if len(self._values) > self.size:
            self._values.popitem(last=False)

    def get_or_make(self, data: dict, make: Callable[[], T]) -> T:
        value = self.get(data)
        if value is None:
            value = make()
            self.put(data, value)
        return value


@dataclass(frozen=True)
class Request:
    """What aiming reads of a request record: its moment, seq and route, a placement's side and
    a cancel's order id (as text)."""

    t: float
    seq: int
    route: str
    side: str = ""
    order_id: str = ""


@dataclass
class Pilot:
    """What aiming reads of a pilot run's trace, gathered as the trace grows (`read`)."""

    start: float  # the window's start (absolute simulated time)
    length: float  # the window's length
    now: float = 0.0  # the moment the trace read so far is complete up to
    complete: bool = False  # the trace is the whole run's
    posts: dict[str, list[Request]] = field(default_factory=lambda: {BUY: [], SELL: []})
    cancels: list[Request] = field(default_factory=list)
    by_route: dict[str, list[Request]] = field(default_factory=dict)
    answers: dict[int, tuple[float, str]] = field(default_factory=dict)  # seq -> (moment, order id)
    posted: dict[int, str] = field(default_factory=dict)  # a placement's seq -> its side
    checks: list | None = None  # the run's own checks, when it is the scenario's whole run
    _read: int = 0

    def read(self, trace: list[dict], now: float, *, complete: bool = False) -> None:
        # the records not read yet (islice would step over the ones read, at every question)
        for record in trace[self._read :]:
            kind = record.get("type")
            if kind == TraceType.REQUEST:
                self._request(record)
            elif kind == TraceType.RESPONSE:
                self.answers[record["seq"]] = (record["t"], str(_order_id(record)))
        self._read = len(trace)
        self.now, self.complete = now, complete

    def _request(self, record: dict) -> None:
        route, body = record.get("route"), record.get("body")
        if route == POST:
            side = BUY if str((body or {}).get("side")) in (BUY, "0") else SELL
            request = Request(record["t"], record["seq"], route, side=side)
            self.posts[side].append(request)
            self.posted[request.seq] = side
        elif route == CANCEL:
            request = Request(record["t"], record["seq"], route, order_id=str(_order_id(record)))
            self.cancels.append(request)
        else:
            request = Request(record["t"], record["seq"], str(route))
        self.by_route.setdefault(request.route, []).append(request)

    @property
    def past_window(self) -> bool:
        return self.complete or self.now >= self.start + self.length

    def answer(self, request: Request) -> tuple[float, str] | None:
        return self.answers.get(request.seq)

    def aimed(self, aim: dict) -> tuple[Request | None, bool]:
        """The request an aim names (None: none in the window) and whether that is settled."""
        side = BUY if aim["order"] == "scale-in" else SELL
        anchor, settled = self._anchor(side, aim["step"], aim["nth"])
        if not settled:
            return None, False
        if anchor is None:
            return None, True
        if aim["target"] == "itself":
            return anchor, True
        answered = self.answer(anchor)
        if answered is None and not self.complete:
            return None, False  # the answer sets where the target is looked for
        back = anchor.t if answered is None else answered[0]
        target = next((r for r in self.by_route.get(aim["target"], ()) if r.t >= back), None)
        return target, target is not None or self.past_window

    def _anchor(self, side: str, step: str, nth: int) -> tuple[Request | None, bool]:
        if step == "post":
            anchors = self.posts[side]
            if len(anchors) >= nth:
                return anchors[nth - 1], True
            return None, self.past_window
        ids = {self.answers[r.seq][1] for r in self.posts[side] if r.seq in self.answers}
        known = {answer[1] for seq, answer in self.answers.items() if seq in self.posted}
        count, settled = 0, True
        for cancel in self.cancels:
            if cancel.order_id in ids and cancel.order_id not in NO_ID:
                count += 1
                if count == nth:
                    return cancel, settled or self.complete
            elif cancel.order_id not in known and cancel.order_id not in NO_ID:
                settled = False  # an order not answered yet: it may be the side's
        return None, (settled and self.past_window) or self.complete

    def settles(self, aims: list[dict]) -> bool:
        """Whether the trace read so far settles every aim: resolving them on it gives what
        resolving them on the whole run would."""
        if self.complete:
            return True
        for one in aims:
            if "aim" not in one:
                continue
            request, settled = self.aimed(one["aim"])
            if not settled:
                return False
            if (
                request is not None
                and one["fault"]["kind"] == "bot_crash"
                and request.t - self.start < self.length
                and self.answer(request) is None
            ):
                return False  # a crash in flight is placed by its request's answer
        return True

    def place(self, data: dict, aims: list[dict]) -> dict:
        """The scenario with each aimed fault made a plain fault at its request's moment; an aim
        whose request the run never made in the window is left out."""
        faults = list(data.get("faults", []))
        for one in aims:
            fault = dict(one["fault"])
            if "aim" not in one:
                faults.append(fault)
                continue
            request, _ = self.aimed(one["aim"])
            if request is None or request.t - self.start >= self.length:
                continue  # never made, or settlement's: faults act within the window
            sent = request.t - self.start
            if fault["kind"] == "bot_crash":
                # in flight: after the request left, before its answer is back (or 1 ms after it left)
                answered = self.answer(request)
                back = answered[0] - self.start if answered is not None else sent + 0.002
                fault["at"] = min(max(round((sent + back) / 2, 3), round(sent + 0.001, 3)), self.length)
            else:
                # at or just before the request, so it is hit first: the trace rounds times to the
                # microsecond, so the request may have left a hair before its recorded moment
                fault["at"] = int((sent - TRACE_RESOLUTION) * 1000) / 1000
                if "endpoint" in fault:
                    fault["endpoint"] = request.route
            faults.append(fault)
        return {**data, "faults": faults}


def _order_id(record: dict) -> object:
    body = record.get("body")
    return body.get("orderID") if isinstance(body, dict) else None


def pilot_run(data: dict, aims: list[dict], *, bot: Any, mode: str) -> Pilot:
    """A pilot run of the scenario `data`, stopped once its trace settles `aims`. One that runs to
    its end without placing any aimed fault is the scenario's own run: its checks are kept
    (`Pilot.checks`), and the run need not be made again for the verdict."""
    scenario = from_dict(data)
    pilot = Pilot(float(scenario.window_start), scenario.window_length)

    def enough(trace: list[dict], now: float) -> bool:
        pilot.read(trace, now)
        # settled past the window with nothing placed: run on, the rest is the verdict's run
        return pilot.settles(aims) and not (pilot.past_window and pilot.place(data, aims) == data)

    def judge(result: Any) -> list:
        if "stopped_at" in result.extras:
            return []
        pilot.read(result.trace, scenario.window_start + result.simulated_seconds, complete=True)
        if pilot.place(data, aims) == data:
            pilot.checks = check_all(result)
        return []

    harness.run(scenario, judge=judge, mode=mode, bot=bot, stop_when=enough).release()
    return pilot


def resolve_aims(data: dict, aims: list[dict], *, bot: Any, mode: str, pilots: Memo[Pilot] | None = None) -> dict:
    """The scenario with each aimed fault (sim.explore.strategies.aimed_faults) made a plain fault
    at its request's moment, read from a pilot run of the scenario without them (`pilots`: the
    ones a search has made already; one stopped before it settles these aims is made again).

    The run is a function of its scenario and seed, and a fault changes nothing before it acts:
    the aimed request happens at the same moment in the run with the fault added. An aim whose
    request the pilot never made is left out. The result is a plain scenario file's data."""
    if not aims:
        return data
    pilot = pilots.get(data) if pilots is not None else None
    if pilot is None or not pilot.settles(aims):
        pilot = pilot_run(data, aims, bot=bot, mode=mode)
        if pilots is not None:
            pilots.put(data, pilot)
    return pilot.place(data, aims)
