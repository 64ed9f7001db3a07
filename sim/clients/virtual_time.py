"""The real clients' sleeps and clocks on the simulated clock.

py-clob-client-v2's post_order polls /data/trades every 0.25 s until time.monotonic() passes a
30 s deadline (FAK/FOK answers carry trade ids, no hashes), and a POST with retry_on_error sleeps
30 ms before its one retry. polymarket-client's wait_for_order_fill_settlement polls the same way
(time.monotonic, time.sleep) and its data reads sleep out a 429's Retry-After before retrying.
freezegun freezes monotonic but does not patch sleep, so under frozen wall-clock time a real
sleep would never move that clock and the polling would never end. `virtual_sleeps` hands those
modules a `time` (or a `sleep`) that is the simulated clock's; both ways in (the real clients in
wire mode, the look-alike in fast mode) run under it, so the polls land at the same virtual
times in either mode.

polymarket-client's order-metadata cache (tick size, neg risk, fees; 10 minutes' TTL) takes its
clock as a default argument bound to time.monotonic when the module was imported, out of
freezegun's reach; `virtual_sleeps` rebinds that default to a clock read at call time, which
freezegun's patched monotonic answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import polymarket._internal.actions.orders.cache as sdk_cache
import polymarket._internal.actions.orders.settlement as sdk_settlement
import polymarket._internal.retry as sdk_retry
import py_clob_client_v2.client as v2_client
from py_clob_client_v2.http_helpers import helpers as v2_helpers

# the modules that sleep through their `time`: py-clob-client-v2's post_order trade polling and
# POST retry, polymarket-client's settlement polling
SLEEPERS: tuple[Any, ...] = (v2_client, v2_helpers, sdk_settlement)
# the modules that imported `sleep` itself: polymarket-client's rate-limit retry
SLEEP_IMPORTERS: tuple[Any, ...] = (sdk_retry,)
# polymarket-client's caches whose clock is a default argument
CACHES: tuple[type, ...] = (sdk_cache.SyncOrderMetadataCache, sdk_cache.AsyncOrderMetadataCache)


class VirtualTime:
    """The `time` module as a client module sees it, with `sleep` replaced. Every other name is
    looked up on the real module at call time, so freezegun's patched clocks show through."""

    def __init__(self, sleep: Callable[[float], object]):
        self.sleep = sleep

    def __getattr__(self, name: str):
        return getattr(time, name)


def _kwdefaults(cache: type) -> dict[str, Any]:
    defaults = cache.__init__.__kwdefaults__  # type: ignore[misc]  # a function's, read as such
    assert defaults is not None and "clock" in defaults, f"{cache.__name__} no longer takes a clock"
    return defaults


def _monotonic() -> float:
    return time.monotonic()  # looked up per call: freezegun's when a run is frozen


@contextmanager
def virtual_sleeps(sleep: Callable[[float], object]) -> Iterator[None]:
    clocks = [module.time for module in SLEEPERS]
    sleeps = [module.sleep for module in SLEEP_IMPORTERS]
    defaults = [_kwdefaults(cache)["clock"] for cache in CACHES]
    for module in SLEEPERS:
        module.time = VirtualTime(sleep)
    for module in SLEEP_IMPORTERS:
        module.sleep = sleep
    for cache in CACHES:
        _kwdefaults(cache)["clock"] = _monotonic
    try:
        yield
    finally:
        for module, clock in zip(SLEEPERS, clocks, strict=True):
            module.time = clock
        for module, real in zip(SLEEP_IMPORTERS, sleeps, strict=True):
            module.sleep = real
        for cache, default in zip(CACHES, defaults, strict=True):
            _kwdefaults(cache)["clock"] = default
