"""A finished run releases everything: nothing of it survives once its result is dropped.

Exploration runs thousands of windows in one process; a run that stays reachable (a bot task's
greenlet left suspended, a listener on a module-level object) makes memory grow with every
example. These tests hold weak references to a run's parts and collect once."""

from __future__ import annotations

import gc
import sys
import weakref

import pytest

from clobsim.sim.runner import harness
from clobsim.sim.runner.harness import run
from clobsim.sim.runner.scenario import from_dict
from clobsim.sim.tools.bench import WORKLOAD, workload


@pytest.fixture
def parts(monkeypatch):
    """Weak references to the environment, kernel, bot and venue of every run started."""
    seen: list[weakref.ref] = []
    execute = harness._Run.execute

    def watched(self, *args, **kwargs):
        result = execute(self, *args, **kwargs)
        seen.extend(weakref.ref(x) for x in (self, self.env, self.kernel, self.venue, *self.bots))
        return result

    monkeypatch.setattr(harness._Run, "execute", watched)
    return seen


@pytest.mark.parametrize("mode", ["fast", "wire"])
def test_a_finished_run_is_collected_once_its_result_is_dropped(parts, mode):
    result = run(workload(), mode=mode)
    assert result.events and len(parts) == 5  # one bot: no crash in the workload
    del result
    gc.collect()
    assert [ref() for ref in parts] == [None] * len(parts)


def test_a_run_whose_bot_crashed_and_restarted_is_collected_too(parts):
    crashing = from_dict({**WORKLOAD, "faults": [{"kind": "bot_crash", "at": 100, "restart_after": 20}]})
    result = run(crashing, mode="fast")
    assert result.bots_started == 2 and len(parts) == 6
    del result
    gc.collect()
    assert [ref() for ref in parts] == [None] * len(parts)


def test_a_released_result_keeps_its_verdict_and_frees_its_records_at_once():
    from clobsim.sim.checks import run as judged_run

    result = judged_run(workload())
    trace, events, history, checks = result.trace, result.events, result.venue.events, list(result.checks)
    assert trace and events and history and checks
    record = trace[len(trace) // 2]
    held = sys.getrefcount(record)
    result.release()
    # the lists the run and its result share are emptied: a record goes with its last reference
    assert trace == [] and events == [] and history == [] and result.checks == checks
    assert sys.getrefcount(record) == held - 1
