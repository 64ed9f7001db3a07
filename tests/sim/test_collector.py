"""sim.runner.collector: the garbage collector's setting while many runs go by."""

import gc

from clobsim.sim.runner import collector, wallclock
from clobsim.sim.runner.harness import run
from clobsim.sim.tools.bench import workload


def test_quiet_freezes_the_heap_spaces_young_collections_and_restores_both():
    before = gc.get_threshold()
    with collector.quiet():
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, *before[1:])
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before


def test_a_nested_hold_leaves_the_outer_one_in_force():
    before = gc.get_threshold()
    with collector.quiet():
        frozen = gc.get_freeze_count()
        with collector.quiet():
            pass
        assert gc.get_freeze_count() == frozen
        assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, *before[1:])
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == before


def test_a_run_traces_the_same_records_whatever_the_collector_does():
    scenario = workload()  # a window that scales in, exits, resolves and settles
    before = gc.get_threshold()
    with wallclock.session():
        plain = run(scenario, seed=3)
        with collector.quiet():
            quiet = run(scenario, seed=3)
        gc.freeze()
        gc.set_threshold(10, 1, 1)  # a full collection of the run's objects every few allocations
        try:
            eager = run(scenario, seed=3)
        finally:
            gc.set_threshold(*before)
            gc.unfreeze()
    assert plain.trace == quiet.trace == eager.trace and len(plain.trace) > 1_000
    assert [(e.time, e.kind, e.fields) for e in plain.events] == [(e.time, e.kind, e.fields) for e in quiet.events]
    assert [(e.time, e.kind, e.fields) for e in plain.events] == [(e.time, e.kind, e.fields) for e in eager.events]
