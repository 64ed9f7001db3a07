"""py-clob-client-v2's sleeps on the simulated clock.

Its post_order polls /data/trades every 0.25 s until time.monotonic() passes a 30 s deadline
(FAK/FOK answers carry trade ids, no hashes), and a POST with retry_on_error sleeps 30 ms before
its one retry. freezegun freezes monotonic but does not patch sleep, so under frozen wall-clock
time a real sleep would never move that clock and the polling would never end. `virtual_sleeps`
hands those modules a `time` whose sleep is the simulated clock's; both ways in (the real client
in wire mode, its look-alike in fast mode) run under it, so the polls land at the same virtual
times in either mode.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import py_clob_client_v2.client as v2_client
from py_clob_client_v2.http_helpers import helpers as v2_helpers

# the py-clob-client-v2 modules that sleep: post_order's trade polling, the retry of a POST
SLEEPERS = (v2_client, v2_helpers)


class VirtualTime:
    """The `time` module as a client module sees it, with `sleep` replaced. Every other name is
    looked up on the real module at call time, so freezegun's patched clocks show through."""

    def __init__(self, sleep: Callable[[float], object]):
        self.sleep = sleep

    def __getattr__(self, name: str):
        return getattr(time, name)


@contextmanager
def virtual_sleeps(sleep: Callable[[float], object]) -> Iterator[None]:
    clocks = [module.time for module in SLEEPERS]
    for module in SLEEPERS:
        module.time = VirtualTime(sleep)
    try:
        yield
    finally:
        for module, clock in zip(SLEEPERS, clocks, strict=True):
            module.time = clock
