"""Wall-clock time during a run: freezegun, following the simulated clock.

py-clob-client reads the wall clock (an order's salt, L2 header timestamps, its tick-size cache's
clock), and so may bot code: during a run every such read sees the simulated time (`RunClock`,
moved by the harness at every task resume).

freezegun's OUTERMOST start patches every loaded module that holds a time function, and to find
them it lists the attributes of each of the ~1,000 loaded modules: about 9 ms, as much as a
tenth of a fast window; a start nested inside another freeze only pushes a clock (microseconds).
`session()` is that outer freeze, started once for many runs, that lets the process read real
time between runs (`_start_session`), and each run inside it only nests its own frozen clock. What a run sees
is the same inside a session or not (tests/sim/test_wallclock.py): only the start-up cost differs.

A module imported inside a session binds freezegun's FakeDatetime where it names
datetime.datetime (pydantic then fails to build a model on it): import what the runs need before
the session starts.

Who holds a session: the worker processes of sim.runner.pool for their whole life (a process of
our own), and around their runs `clobsim run`, `explore`, `sweep` (per chunk, under the sweep's
one-run-at-a-time lock: freezegun's clocks are one stack per process, not per thread) and
`bench`. A run outside any session (a bot author's `sim.run` in a test) freezes and unfreezes
by itself, as before: a library does not leave its caller's clock patched.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, cast

from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

# The real constructor, captured before any freeze: freezegun swaps datetime.datetime while it
# is active, and module attributes that hold the class itself (a bound method is left alone).
_REAL_FROMTIMESTAMP = datetime.datetime.fromtimestamp
_UTC = datetime.UTC


class _VirtualNow(FrozenDateTimeFactory):
    """freezegun's frozen clock (every fake time function calls it), set from the simulated
    time only when something reads it: tasks resume about a thousand times a window and the bot
    reads the wall clock a few times (an order's salt, wire mode's header timestamps), so the
    datetime is built on demand from the last instant a task resumed at."""

    _at: float
    _built: float | None
    _frozen: datetime.datetime

    def __call__(self) -> datetime.datetime:
        return self.time_to_freeze  # type: ignore[no-any-return]

    @property  # type: ignore[override]
    def time_to_freeze(self) -> datetime.datetime:
        if self._built != self._at:
            # freezer.move_to(<now as a UTC datetime>) ends with exactly this naive UTC value
            self._frozen = _REAL_FROMTIMESTAMP(self._at, _UTC).replace(tzinfo=None)
            self._built = self._at
        return self._frozen

    @time_to_freeze.setter
    def time_to_freeze(self, value: datetime.datetime) -> None:  # freezegun's own tick/move_to
        self._frozen, self._at = value, value.replace(tzinfo=_UTC).timestamp()
        self._built = self._at


class RunClock:
    """freezegun for the duration of one run, at the simulated time `move_to` gives it."""

    def __init__(self, start: float):
        self._start = start
        self._freeze = freeze_time(_REAL_FROMTIMESTAMP(start, _UTC), tick=False)
        self._factory: _VirtualNow | None = None

    def __enter__(self) -> RunClock:
        factory = self._freeze.start()
        # the very object freezegun stacked (and pops at stop), read lazily from now on
        factory.__class__ = _VirtualNow
        factory = cast(_VirtualNow, factory)
        factory._frozen = factory.__dict__.pop("time_to_freeze")
        factory._at = factory._built = self._start
        self._factory = factory
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        self._freeze.stop()
        self._factory = None
        return False

    def move_to(self, now: float) -> None:
        if self._factory is not None:
            self._factory._at = now


def _start_session() -> list[Any]:
    # The outermost start scans and patches the modules (ticking: the clock it sets runs with
    # real time); the second, nested, ignores every module (freezegun's ignore list matches
    # module names by prefix, and every name starts with ""), so between runs time.time,
    # monotonic and perf_counter answer the real clocks and datetime.now the real time in UTC.
    # A run's own freeze, nested on top, has the default ignore list again: frozen as ever.
    freezes = [freeze_time(tick=True), freeze_time(tick=True, ignore=[""])]
    for freeze in freezes:
        freeze.start()
    return freezes


@contextmanager
def session() -> Iterator[None]:
    """One outer freeze for every run inside (see the module's docstring)."""
    freezes = _start_session()
    try:
        yield
    finally:
        for freeze in reversed(freezes):
            freeze.stop()


def hold_for_process() -> None:
    """A session for the rest of this process's life (a worker process of our own)."""
    _start_session()
