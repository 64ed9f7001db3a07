"""The cyclic garbage collector while many runs go by in one process.

A run allocates some 200,000 container objects, nearly all freed by reference counting the moment
they are done with. At CPython's default (a young collection every 700 allocations) the collector
walks the run's live objects every few hundred allocations and moves them into the older
generations, whose collections then walk them again; and a full collection walks every object the
process holds (modules, classes, caches: ~150,000 after the imports a run needs), ~0.1 s each.
Measured on the bench workload's window: ~64 ms at the defaults, ~53 ms with both changes below.

`quiet()` does two things for as long as it is held, and undoes them after:
- the objects that exist when it starts are left out of every collection (gc.freeze): they are
  the process's furniture, and were reachable when frozen;
- the youngest generation is collected every YOUNG_THRESHOLD allocations (the older generations'
  thresholds as they were): what cyclic garbage a run leaves (a few thousand objects) is still
  collected within a run or two, so memory stays flat (`clobsim bench` reports it).

What a run computes never depends on when the collector runs (a finished run's greenlets are
ended by the run itself, sim.runner.kernel, not by a collection), so neither does its output:
the same run folders, byte for byte, at either setting.

Held by `clobsim run`, `sweep` (per chunk), `explore` (per search) and `bench` around their runs,
and by the worker processes of sim.runner.pool for their whole life. Nested holds are one hold
(the outermost one freezes and unfreezes), so a search inside a sweep's chunk changes nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 20_000

_depth = 0


def _start() -> tuple[int, ...]:
    """Freeze the heap and space the young collections; the thresholds as they were."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *before[1:])
    return before


@contextmanager
def quiet() -> Iterator[None]:
    """The collector as the module's docstring says, for the duration of the block."""
    global _depth
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    before = _start()
    _depth = 1
    try:
        yield
    finally:
        _depth = 0
        gc.set_threshold(*before)
        gc.unfreeze()


def hold_for_process() -> None:
    """quiet() for the rest of this process's life (a worker process of our own)."""
    global _depth
    if not _depth:
        _start()
    _depth += 1
