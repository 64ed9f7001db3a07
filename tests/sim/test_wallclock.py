"""Wall-clock sessions: a run inside one writes what it writes alone; between runs, real time."""

from __future__ import annotations

import datetime
import time

import pytest
from freezegun.api import real_perf_counter, real_time

from clobsim.sim.runner import wallclock
from clobsim.sim.runner.harness import run
from clobsim.sim.runner.scenario import from_dict

SCENARIO = {  # the bot scales in (an order: its salt), the market runs through its exit, it cancels
    "name": "wallclock",
    "seed": 4,
    "market": {
        "price_model": {
            "kind": "scripted",
            "start": 0.70,
            "points": [{"at": 480, "price": 0.76}, {"at": 700, "price": 0.995}],
        },
        "taker_flow": {"rate": 0},
    },
    "events": [{"at": 720, "kind": "take", "token": "UP", "side": "BUY", "size": 60, "price": 0.99}],
    "trades": [{"id": 1, "at": 300, "side": "UP", "price": 0.70, "size": 10.5, "confidence": 0.85}],
}


def _outputs(mode: str) -> tuple[str, str]:
    result = run(from_dict(SCENARIO, "<wallclock>"), mode=mode)
    return result.audit_log(), result.trace_jsonl()


@pytest.mark.parametrize("mode", ["fast", "wire"])
def test_runs_inside_a_session_write_the_trace_and_audit_log_of_a_run_alone(mode):
    alone = _outputs(mode)
    # the order salts and (wire mode) the L2 header timestamps read the frozen clock: the trace shows them
    assert '"salt":' in alone[1] and "SCALE-IN PLACEMENT" in alone[0]
    with wallclock.session():
        inside = [_outputs(mode), _outputs(mode)]
    assert inside == [alone, alone]


def test_between_runs_of_a_session_the_process_reads_real_time_and_after_it_nothing_stays_patched():
    with wallclock.session():
        run(from_dict(SCENARIO, "<wallclock>"))
        assert abs(time.time() - real_time()) < 1.0
        assert abs(time.perf_counter() - real_perf_counter()) < 1.0
        now = datetime.datetime.now(datetime.UTC).timestamp()
        assert abs(now - real_time()) < 1.0
        with wallclock.RunClock(1_764_028_800.0) as clock:  # a run's clock nested in the session
            assert time.time() == 1_764_028_800.0
            clock.move_to(1_764_028_805.5)
            assert time.time() == 1_764_028_805.5
            assert datetime.datetime.now(datetime.UTC).timestamp() == 1_764_028_805.5
        assert abs(time.time() - real_time()) < 1.0
    assert time.time is real_time and datetime.datetime.now().__class__ is datetime.datetime
