"""Hypothesis strategies for scenarios, exported for bot authors.

    from sim.explore.strategies import scenarios, fault_schedules, market_paths, trade_setups

Every strategy draws plain scenario data (the dict form of a scenario file), so a failing
example shrinks to a minimal scenario file: fewer faults and events, smaller numbers, earlier
times. The market is quiet (no random taker flow) and scripted, so nothing in a drawn scenario
is hidden in a random stream: what shrinks is what happens.

Shapes are chosen so races are likely, not just possible: the price sits in the scale-in range
(so a scale-in is placed), scripted takers hit the bot's bid (scale-in fills) and lift 0.99
(exit fills), and faults target the trades' own orders around those moments.
"""

from __future__ import annotations

from hypothesis import strategies as st

from sim.faults import CATALOGUE
from sim.faults.kind import Draws
from sim.runner.scenario import DEFAULT_WINDOW_LENGTH

WINDOW = DEFAULT_WINDOW_LENGTH  # drawn scenarios keep the default window
# Weighted toward the order routes, where the races live (repeats weigh; shrinking goes to the first)
ENDPOINTS = [
    "POST /order",
    "GET /data/order",
    "POST /order",
    "DELETE /order",
    "GET /data/order",
    "GET /data/trades",
    "GET /notifications",
    "DELETE /notifications",
    "GET /balance-allowance",
    "GET /book",
    "*",
]

# Moments where races happen: scale-in tiers open (time left 480/420/300 s), fills and exits
# mid-window, the end-of-window cleanup. Times are drawn from these or from a 10-second grid
# (round numbers shrink well).
_MOMENTS = [420, 480, 600, 430, 490, 870, 700, 860, 300, 610]
_times = st.one_of(st.sampled_from(_MOMENTS), st.integers(0, 88).map(lambda t: t * 10))
_sizes = st.integers(1, 30).map(float)


def trade_setups(max_trades: int = 2) -> st.SearchStrategy[list[dict]]:
    """One or two trades (at most one per side), opened early in the window."""

    def build(sides, ats, sizes, confidences):
        return [
            {
                "id": i + 1,
                "at": at,
                "side": side,
                "price": 0.70 if side == "UP" else 0.30,
                "size": size,
                "confidence": conf,
            }
            for i, (side, at, size, conf) in enumerate(zip(sides, ats, sizes, confidences, strict=True))
        ]

    return st.integers(1, max_trades).flatmap(
        lambda n: st.builds(
            build,
            st.permutations(["UP", "DOWN"]).map(lambda p: p[:n]),
            st.lists(st.integers(6, 42).map(lambda t: t * 10), min_size=n, max_size=n),
            st.lists(st.sampled_from([5.0, 8.0, 10.5, 12.0, 20.0]), min_size=n, max_size=n),
            st.lists(st.sampled_from([0.85, 0.9, 0.75, 0.65]), min_size=n, max_size=n),
        )
    )


def market_paths() -> st.SearchStrategy[dict]:
    """A scripted Up price: a start in the scale-in range, then up to three moves."""
    point = st.fixed_dictionaries(
        {
            "at": _times.filter(lambda t: 0 < t < WINDOW),
            "price": st.sampled_from([0.62, 0.7, 0.76, 0.8, 0.85, 0.9, 0.3]),
        }
    )
    return st.fixed_dictionaries(
        {
            "kind": st.just("scripted"),
            "start": st.sampled_from([0.76, 0.7, 0.8, 0.65, 0.88]),
            "points": st.lists(point, max_size=3).map(lambda ps: sorted(ps, key=lambda p: p["at"])),
        }
    )


def market_events() -> st.SearchStrategy[list[dict]]:
    """Scripted takers: sells that hit bids (scale-in fills), buys that lift 0.99 (exit fills)."""
    sell = st.fixed_dictionaries(
        {
            "at": _times,
            "kind": st.just("take"),
            "token": st.sampled_from(["UP", "DOWN"]),
            "side": st.just("SELL"),
            "size": st.sampled_from([5.0, 200.0, 400.0, 605.0]),
            "price": st.sampled_from([0.6, 0.7, 0.75, 0.8]),
        }
    )
    buy = st.fixed_dictionaries(
        {
            "at": _times,
            "kind": st.just("take"),
            "token": st.sampled_from(["UP", "DOWN"]),
            "side": st.just("BUY"),
            "size": st.sampled_from([5.0, 30.0, 200.0]),
            "price": st.just(0.99),
        }
    )
    return st.lists(st.one_of(sell, buy), max_size=4).map(lambda es: sorted(es, key=lambda e: e["at"]))


def _fault(kind: str, trade_ids: list[int]) -> st.SearchStrategy[dict]:
    """One fault of `kind` targeting the given trades; each kind draws its own parameters
    (FaultKind.strategy) from these shared pieces."""
    window = st.tuples(_times, st.integers(1, 30).map(lambda d: d * 10)).map(
        lambda fw: {"from": fw[0], "to": min(WINDOW, fw[0] + fw[1])}
    )
    draws = Draws(
        trade=st.sampled_from(trade_ids),
        order=st.sampled_from(["scale-in", "exit"]),
        endpoint=st.sampled_from(ENDPOINTS),
        times=_times,
        window=window,
    )
    return CATALOGUE[kind].strategy(draws).map(lambda p: {"kind": kind, **p})


def fault_schedules(
    trade_ids: list[int], kinds: list[str] | None = None, max_faults: int = 4
) -> st.SearchStrategy[list[dict]]:
    """Lists of faults of the catalogue, targeting the given trades."""
    # the WebSocket kinds act on the server's channels only: an in-process run has none
    kinds = kinds or [name for name, kind in CATALOGUE.items() if not kind.over_sockets]
    return st.lists(st.sampled_from(kinds).flatmap(lambda k: _fault(k, trade_ids)), max_size=max_faults)


@st.composite
def scenarios(draw, kinds: list[str] | None = None, max_faults: int = 4) -> dict:
    """A whole scenario, as the dict a scenario file holds (sim.scenario.from_dict validates it)."""
    trades = draw(trade_setups())
    return {
        "name": "explored",
        "seed": draw(st.integers(0, 2**16)),
        "market": {"price_model": draw(market_paths()), "taker_flow": {"rate": 0}},
        "trades": trades,
        "events": draw(market_events()),
        "faults": draw(fault_schedules([t["id"] for t in trades], kinds, max_faults)),
    }
