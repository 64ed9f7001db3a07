"""Pilot runs: a run asked to stop once it has seen enough is the whole run up to its stop; a
pilot stops once its trace settles its aims and aims as a whole pilot would; one that places no
aimed fault is the scenario's own run, and its checks are that run's."""

from __future__ import annotations

from clobsim import sim
from clobsim.sim.explore import search
from clobsim.sim.explore.aims import BUY, CANCEL, POST, Pilot, pilot_run
from clobsim.sim.runner import harness
from clobsim.sim.runner.scenario import from_dict

# a quiet window: the Up trade opens at 60 s, scales in as the price sits at 0.8, and the taker
# at 490 s fills the scale-in; the exit is resized and its first cancel comes after that
SCENARIO = {
    "name": "pilot",
    "seed": 0,
    "market": {
        "price_model": {"kind": "scripted", "start": 0.76, "depth": 50, "points": []},
        "taker_flow": {"rate": 0},
    },
    "trades": [{"id": 1, "at": 60, "side": "UP", "price": 0.7, "size": 5.0, "confidence": 0.85}],
    "events": [{"at": 490, "kind": "take", "token": "UP", "side": "SELL", "size": 605.0, "price": 0.6}],
    "faults": [],
}
READ_AFTER_POST = {
    "aim": {"order": "scale-in", "step": "post", "nth": 1, "target": "GET /data/order"},
    "fault": {"kind": "http_error", "endpoint": "*", "at": 0, "count": 1, "status": 500},
}
CRASH_AT_EXIT_CANCEL = {
    "aim": {"order": "exit", "step": "cancel", "nth": 1, "target": "itself"},
    "fault": {"kind": "bot_crash", "at": 0, "restart_after": 5},
}
NEVER_MADE = {
    "aim": {"order": "scale-in", "step": "cancel", "nth": 3, "target": "itself"},
    "fault": {"kind": "bot_crash", "at": 0},
}


def _whole_pilot(data: dict) -> Pilot:
    result = harness.run(from_dict(data))
    pilot = Pilot(float(result.scenario.window_start), result.scenario.window_length)
    pilot.read(result.trace, result.scenario.window_start + result.simulated_seconds, complete=True)
    return pilot


def test_a_run_whose_stop_when_never_says_yes_is_the_same_run_asked_every_ten_seconds():
    asked: list[float] = []

    def never(trace: list[dict], now: float) -> bool:
        asked.append(now)
        return False

    scenario = from_dict(SCENARIO)
    plain = harness.run(scenario)
    stepped = harness.run(scenario, stop_when=never)
    start = scenario.window_start
    assert stepped.trace_jsonl() == plain.trace_jsonl() and stepped.lines == plain.lines
    assert stepped.simulated_seconds == plain.simulated_seconds and "stopped_at" not in stepped.extras
    # every 10 s up to the horizon (the window's end among them), never at the horizon itself
    assert [round(t - start, 6) for t in asked] == [10.0 * k for k in range(1, int(plain.simulated_seconds / 10))]


def test_a_run_stopped_early_is_the_whole_run_up_to_its_stop():
    scenario = from_dict(SCENARIO)
    start = scenario.window_start
    whole = harness.run(scenario)
    cut = harness.run(scenario, stop_when=lambda trace, now: now >= start + 500)
    assert cut.simulated_seconds == 500.0 and cut.extras["stopped_at"] == 500.0
    before = [r for r in cut.trace if r["t"] < start + 500]
    assert before == [r for r in whole.trace if r["t"] < start + 500]
    # the scale-in's fill at 490 s is in it; the end of the window is not
    assert any(r["type"] == "venue" and r["event"] == "trade_matched" for r in before)
    assert max(r["t"] for r in cut.trace) <= start + 500


def test_a_pilot_stops_once_its_aims_settle_and_places_them_as_a_whole_pilot_would():
    aims = [READ_AFTER_POST, CRASH_AT_EXIT_CANCEL]
    pilot = pilot_run(SCENARIO, aims, bot="core", mode="fast")
    whole = _whole_pilot(SCENARIO)
    placed = pilot.place(SCENARIO, aims)
    assert not pilot.complete and pilot.now - pilot.start < pilot.length  # stopped within the window
    assert placed == whole.place(SCENARIO, aims)
    assert [f["kind"] for f in placed["faults"]] == ["http_error", "bot_crash"]
    assert pilot.checks is None  # not the scenario's own run: its verdict is another run's


def test_a_pilot_that_places_no_aimed_fault_runs_to_the_end_and_keeps_the_runs_checks():
    pilot = pilot_run(SCENARIO, [NEVER_MADE], bot="core", mode="fast")
    assert pilot.complete and pilot.place(SCENARIO, [NEVER_MADE]) == SCENARIO
    verdict = sim.run(from_dict(SCENARIO), bot="core").checks
    assert pilot.checks == verdict and len(verdict) > 10


def test_a_search_takes_the_verdict_of_a_scenario_from_its_pilot_when_the_pilot_was_that_run():
    pilots: search.Memo[Pilot] = search.Memo(2)
    data = search.resolve_aims(SCENARIO, [NEVER_MADE], bot="core", mode="fast", pilots=pilots)
    assert search._own_checks(pilots, SCENARIO, [NEVER_MADE], data) == sim.run(from_dict(SCENARIO)).checks
    placed = search.resolve_aims(SCENARIO, [READ_AFTER_POST], bot="core", mode="fast", pilots=pilots)
    assert search._own_checks(pilots, SCENARIO, [READ_AFTER_POST], placed) is None


def _request(t: float, seq: int, route: str, body: dict) -> dict:
    return {"t": t, "type": "request", "seq": seq, "route": route, "params": {}, "body": body}


def _response(t: float, seq: int, body: object) -> dict:
    return {"t": t, "type": "response", "seq": seq, "status": 200, "body": body}


def test_a_cancel_naming_an_order_not_answered_yet_keeps_a_cancel_aim_unsettled():
    first_cancel = {"order": "scale-in", "step": "cancel", "nth": 1, "target": "itself"}
    pilot = Pilot(start=0.0, length=900.0)
    trace = [
        _request(10.0, 1, POST, {"side": BUY, "orderID": "0xa"}),  # a placement, not answered yet
        _request(12.0, 2, CANCEL, {"orderID": "0xa"}),  # its cancel, sent blind
        _request(20.0, 3, POST, {"side": BUY}),
        _response(20.1, 3, {"orderID": "0xb"}),
        _request(30.0, 4, CANCEL, {"orderID": "0xb"}),
    ]
    pilot.read(trace, 40.0)
    # the cancel at 30 s is the first of an answered placement's, but the one at 12 s may turn
    # out to be: if its placement is answered, the one at 12 s is the first
    assert pilot.aimed(first_cancel) == (None, False)
    pilot.read([*trace, _response(41.0, 1, {"orderID": "0xa"})], 50.0)
    request, settled = pilot.aimed(first_cancel)
    assert settled and request is not None and request.seq == 2


def test_a_foreign_bots_run_stepped_by_a_stop_when_is_the_same_run_and_stops_where_told():
    from clobsim.sim.runner.scenario import load

    scenario = load("examples/racebot/scenarios/cancel-race-at-exit.yaml")
    racebot = "examples/racebot/bot.py:main"
    start = scenario.window_start
    plain = sim.run(scenario, bot=racebot, check=False)
    stepped = sim.run(scenario, bot=racebot, check=False, stop_when=lambda trace, now: False)
    cut = sim.run(scenario, bot=racebot, check=False, stop_when=lambda trace, now: now >= start + 400)
    assert stepped.trace_jsonl() == plain.trace_jsonl() and len(plain.trace) > 100
    assert cut.extras["stopped_at"] == 400.0
    assert [r for r in cut.trace if r["t"] < start + 400] == [r for r in plain.trace if r["t"] < start + 400]
