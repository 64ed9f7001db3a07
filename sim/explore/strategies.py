"""Hypothesis strategies for scenarios, exported for bot authors.

    from clobsim.sim.explore.strategies import scenarios, fault_schedules, market_paths, trade_setups

Every strategy draws plain scenario data (the dict form of a scenario file), so a failing
example shrinks to a minimal scenario file: fewer faults and events, smaller numbers, earlier
times. The market is quiet (no random taker flow) and scripted, so nothing in a drawn scenario
is hidden in a random stream: what shrinks is what happens.

Shapes are chosen so races are likely, not just possible: the price sits in the scale-in range
(so a scale-in is placed), scripted takers hit the bot's bid (scale-in fills) and lift 0.99
(exit fills), and faults target the trades' own orders around those moments.

Three more shapes find the bugs a single fault misses:
- compound schedules: a race fault often comes with the pushes lost around it, so that only the
  bot's own reads (polling, the cancel's final read) can see what the race did;
- aimed faults (`aimed_faults`, used by the search): a fault placed at a request the bot makes,
  e.g. a crash while its scale-in post is in flight, or an error on the first status read after
  it. The request's moment is not known before the run, so an aim is resolved against a pilot
  run of the same scenario (sim.explore.search.resolve_aims) into a plain fault with its `at`;
- compound shapes (`compound_faults`): a few faults that only together leave the venue and the
  bot disagreeing (a cancel lost with every read after it failing, a placement applied but
  answered with an error, a fill that is not what it seemed or that lands as the bot cancels,
  a failed status read with the pushes lost, a crash while a request is in flight), aimed like
  the others, on quiet ground, with the takers that fill the order once every scale-in tier has
  opened, so that what the shape sets off shows within the window.
The search (`aimed_scenarios`) draws each example as a plain scenario, one with faults aimed one
by one, or one built around a compound shape. The bot's settings are drawn too (`bot_settings`),
within the ranges a correct bot must handle.
"""

from __future__ import annotations

from hypothesis import strategies as st

from clobsim.core.config import StrategyConfig
from clobsim.sim.faults import CATALOGUE
from clobsim.sim.faults.kind import Draws
from clobsim.sim.runner.market import LEVELS_BEHIND
from clobsim.sim.runner.scenario import DEFAULT_WINDOW_LENGTH

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
DEPTHS = [50, 150]  # the crowd's size per price level


def trade_setups(max_trades: int = 2, up_first: bool = False) -> st.SearchStrategy[list[dict]]:
    """One or two trades (at most one per side), opened early in the window; `up_first`: the
    first on the Up token, the one the scripted price (Up's, in the scale-in range) scales in."""

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
            (st.just(["UP", "DOWN"]) if up_first else st.permutations(["UP", "DOWN"])).map(lambda p: p[:n]),
            st.lists(st.integers(6, 42).map(lambda t: t * 10), min_size=n, max_size=n),
            st.lists(st.sampled_from([5.0, 8.0, 10.5, 12.0, 20.0]), min_size=n, max_size=n),
            st.lists(st.sampled_from([0.85, 0.9, 0.75, 0.65]), min_size=n, max_size=n),
        )
    )


def market_paths(flips: bool = True) -> st.SearchStrategy[dict]:
    """A scripted Up price: a start in the scale-in range, then up to three moves; `flips`: one
    may cross to the Down side (0.3), where Up scales in no more."""
    prices = [0.62, 0.7, 0.76, 0.8, 0.85, 0.9, 0.3]
    point = st.fixed_dictionaries(
        {
            "at": _times.filter(lambda t: 0 < t < WINDOW),
            "price": st.sampled_from(prices if flips else prices[:-1]),
        }
    )
    return st.fixed_dictionaries(
        {
            "kind": st.just("scripted"),
            "start": st.sampled_from([0.76, 0.7, 0.8, 0.65, 0.88]),
            # the crowd's size per price level: takers below sized to reach into the bot's orders
            "depth": st.sampled_from(DEPTHS),
            "points": st.lists(point, max_size=3).map(lambda ps: sorted(ps, key=lambda p: p["at"])),
        }
    )


def market_events(tokens: tuple[str, ...] = ("UP", "DOWN")) -> st.SearchStrategy[list[dict]]:
    """Scripted takers on the given tokens (the trades' own, where the bot's orders rest): sells
    that hit bids (scale-in fills), buys that lift 0.99 (exit fills)."""
    sell = st.fixed_dictionaries(
        {
            "at": _times,
            "kind": st.just("take"),
            "token": st.sampled_from(list(tokens)),
            "side": st.just("SELL"),
            # through a crowd level (50 or 150) into part or all of the bot's bid
            "size": st.sampled_from([5.0, 200.0, 55.0, 155.0, 400.0, 605.0]),
            "price": st.sampled_from([0.6, 0.7, 0.75, 0.8]),
        }
    )
    buy = st.fixed_dictionaries(
        {
            "at": _times,
            "kind": st.just("take"),
            "token": st.sampled_from(list(tokens)),
            "side": st.just("BUY"),
            # past the crowd's four ask levels (of 50 or 150) into part or all of the exit at 0.99
            "size": st.sampled_from([5.0, 205.0, 230.0, 605.0, 650.0]),
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


# Faults whose harm a push can reveal early: each is drawn with the pushes around it lost half
# the time, so the bot's reads are the only way to learn what it did.
RACES = (
    "cancel_race",
    "late_fill",
    "partial_fill",
    "stale_read",
    "order_not_found_after_match",
    "delayed_match",
    "trade_failed",
    "size_shortfall",
    "timeout_after_apply",
    "http_error",
    "heartbeat_cancel_all",
)


def _lost_pushes(fault: dict) -> dict:
    """The notifications lost around a fault: from its moment for two minutes, or the whole
    window when it has no moment of its own (it fires at the order's next cancel or match)."""
    at = fault.get("at")
    if at is None:
        return {"kind": "notification_drop"}
    return {"kind": "notification_drop", "from": at, "to": min(WINDOW, at + 120)}


def _compound(fault: dict) -> st.SearchStrategy[list[dict]]:
    if fault["kind"] not in RACES:
        return st.just([fault])
    return st.sampled_from([[fault], [fault, _lost_pushes(fault)]])


def fault_schedules(
    trade_ids: list[int], kinds: list[str] | None = None, max_faults: int = 4
) -> st.SearchStrategy[list[dict]]:
    """Lists of faults of the catalogue, targeting the given trades; a race fault may come with
    the pushes around it lost (one more fault, so up to twice `max_faults` in all)."""
    # races weigh double, those on a fill triple; the WebSocket kinds act on the server's channels
    # only: an in-process run has none
    kinds = kinds or [*(name for name, kind in CATALOGUE.items() if not kind.over_sockets), *RACES, *FILL_FAULTS]
    one = st.sampled_from(kinds).flatmap(lambda k: _fault(k, trade_ids)).flatmap(_compound)
    return st.lists(one, max_size=max_faults).map(lambda groups: [f for group in groups for f in group])


# Settings a correct bot must cope with, each list led by core's default (what shrinking goes to).
SETTINGS: dict[str, list[float]] = {
    "monitor_interval": [5.0, 2.0, 8.0],
    "notification_interval": [5.0, 2.0, 10.0],
    "scale_in_multiplier": [1.0, 0.5, 1.5],
    "verify_attempts": [2, 3],
    "recent_fill_window": [300, 60],
    "unknown_grace": [30.0, 15.0, 60.0],
    "exit_retry_limit": [3, 1],
}


def bot_settings() -> st.SearchStrategy[dict]:
    """Overrides of the bot's StrategyConfig (a scenario's `bot:`); mostly none."""
    some = st.fixed_dictionaries({}, optional={key: st.sampled_from(values) for key, values in SETTINGS.items()})
    return st.one_of(st.just({}), some).map(
        lambda d: {k: v for k, v in d.items() if v != SETTINGS[k][0]}  # a default is no override
    )


# An aim names a request by the order it is about: the `nth` placement (POST /order) of a
# scale-in (BUY) or exit (SELL), or the `nth` cancel (DELETE /order) of one, and then either that
# request itself or the first request of `target` sent once it was answered (the status read
# right after a placement, the final read after a cancel).
AIM_TARGETS = ["itself", "GET /data/order", "itself", "GET /data/order", "itself", "GET /data/trades"]
# Kinds that act from a moment (`at`): aimed, that moment is the request's. A crash lands while
# the request is in flight (sent, not yet answered); the request faults hit the request itself.
AIMABLE = ("bot_crash", "http_error", "timeout_before_apply", "timeout_after_apply", "engine_restart", "http_error")


def _aimed(trade_ids: list[int]) -> st.SearchStrategy[list[dict]]:
    aim = st.fixed_dictionaries(
        {
            "order": st.sampled_from(["scale-in", "exit", "scale-in"]),
            "step": st.sampled_from(["post", "cancel", "post"]),
            "nth": st.sampled_from([1, 1, 2]),
            "target": st.sampled_from(AIM_TARGETS),
        }
    )
    fault = st.sampled_from(AIMABLE).flatmap(lambda k: _fault(k, trade_ids)).flatmap(_aimed_error)
    one = st.fixed_dictionaries({"aim": aim, "fault": fault})
    # lost pushes with it, half the time: the bot's reads are then all it has
    return one.flatmap(lambda a: st.sampled_from([[a], [a, {"fault": {"kind": "notification_drop"}}]]))


def _aimed_error(fault: dict) -> st.SearchStrategy[dict]:
    """An error aimed at one request is most telling as the venue's 500 "order timed out", and
    that one either way: refused, or applied and then answered 500."""
    if fault["kind"] != "http_error":
        return st.just(fault)
    plain = {k: v for k, v in fault.items() if k != "applied"}
    applied = plain | {"status": 500, "applied": True}
    return st.sampled_from([fault, plain | {"status": 500}, applied, applied])


def aimed_faults(trade_ids: list[int], max_aims: int = 3) -> st.SearchStrategy[list[dict]]:
    """Faults aimed at requests the bot makes: `{"aim": {...}, "fault": {...}}`, the fault's own
    `at` (and endpoint) to be replaced by the request's (sim.explore.search.resolve_aims); an entry
    without an aim is a plain fault."""
    return st.lists(_aimed(trade_ids), min_size=1, max_size=max_aims).map(lambda ls: [a for one in ls for a in one])


# Faults that act on a fill of their order: two times in three they come with a taker that fills it
# (a SELL through the bids for a scale-in, a BUY through the asks to 0.99 for an exit).
FILL_FAULTS = ("size_shortfall", "trade_failed", "order_not_found_after_match")


# Takers through every crowd level (sim.runner.market quotes the touch and LEVELS_BEHIND more,
# each of the drawn depth) into the bot's largest order behind them
CROWD_MAX = (LEVELS_BEHIND + 1) * max(DEPTHS)
SWEEP_BIDS, SWEEP_ASKS = CROWD_MAX + 405.0, CROWD_MAX + 450.0
PIECE = 5.0  # shares of the bot's order a piece of a fill takes, past the crowd ahead of it
# By then every scale-in tier has opened: the widest, a confidence of 0.65, at 300 s left (core.config)
SCALE_IN_PLACED = WINDOW - min(tier.max_time_left for tier in StrategyConfig().scale_in_tiers)


def _taker_filling(trade_id: int, order: str, trades: list[dict], early: bool = False) -> st.SearchStrategy[dict]:
    """A scripted taker that fills a trade's scale-in (a SELL through the bids) or exit (a BUY
    through the asks to 0.99). `early`: soon after the scale-in is placed (whatever the trade's
    confidence) and through every crowd level, so that what the fill sets off (a resize, a
    refused exit) has the rest of the window to show."""
    token = next(t["side"] for t in trades if t["id"] == trade_id)
    scale_in = order == "scale-in"
    if early:
        times, sizes = [SCALE_IN_PLACED + 10], [SWEEP_BIDS if scale_in else SWEEP_ASKS]
    else:
        times, sizes = ([490, 610, 700] if scale_in else [300, 490, 610]), [605.0 if scale_in else 650.0]
    return st.fixed_dictionaries(
        {
            "at": st.sampled_from(times),
            "kind": st.just("take"),
            "token": st.just(token),
            "side": st.just("SELL" if scale_in else "BUY"),
            "size": st.sampled_from(sizes),
            "price": st.just(0.6 if scale_in else 0.99),
        }
    )


def _fill_for(fault: dict, trades: list[dict]) -> st.SearchStrategy[list[dict]]:
    take = _taker_filling(fault["trade"], fault["order"], trades)
    return st.sampled_from([False, True, True]).flatmap(lambda on: take.map(lambda e: [e]) if on else st.just([]))


def _scenario(draw, kinds: list[str] | None, max_faults: int, shaped: bool = False) -> dict:
    """A scenario; `shaped`: the quiet ground a compound shape is built on (the Up trade first,
    the price staying on its side, no takers or faults but the shape's own: others mostly fill
    or empty the orders before the shape can act)."""
    trades = draw(trade_setups(up_first=shaped))
    data = {
        "name": "explored",
        "seed": draw(st.integers(0, 2**16)),
        "market": {"price_model": draw(market_paths(flips=not shaped)), "taker_flow": {"rate": 0}},
        "bot": draw(bot_settings()),
        "trades": trades,
        "events": [] if shaped else draw(market_events(tuple(t["side"] for t in trades))),
        "faults": [] if shaped else draw(fault_schedules([t["id"] for t in trades], kinds, max_faults)),
    }
    if not data["bot"]:
        del data["bot"]
    fills = [e for f in data["faults"] if f["kind"] in FILL_FAULTS for e in draw(_fill_for(f, trades))]
    if fills:
        data["events"] = sorted(data["events"] + fills, key=lambda e: e["at"])
    return data


@st.composite
def scenarios(draw, kinds: list[str] | None = None, max_faults: int = 4) -> dict:
    """A whole scenario, as the dict a scenario file holds (sim.scenario.from_dict validates it)."""
    return _scenario(draw, kinds, max_faults)


# Compound shapes: a few faults that only together leave the venue and the bot disagreeing in a
# way the bot's recovery paths must notice, aimed at one request of the bot (placed by the pilot
# run, like any aim) and with the takers that make the request happen. Drawn one fault at a time,
# such a combination is too rare for a short search to meet.
#
# lost cancel: the cancel never lands (lost on the way, or refused on every attempt) and every
# status read after it fails: the bot cannot tell whether the order still rests. Aimed at an
# exit's cancel (a resize after a scale-in fill) or a scale-in's (the window-end cleanup).
LOST_CANCEL = "lost-cancel"
# applied error: a placement the venue applied but answered with an error (a 500 "order timed
# out", a lost answer): the order rests although the bot was told it failed.
APPLIED_ERROR = "applied-error"
# short delivery: the order fills and fewer shares arrive than were matched: what the bot
# believes it can sell, the venue refuses, again and again unless the bot learns what it holds.
SHORT_DELIVERY = "short-delivery"
# void fill: the order fills and the fill does not stand (its trade FAILS later, or the order is
# unknown to the venue once matched).
VOID_FILL = "void-fill"
# fill at cancel: a fill lands as the bot cancels the order (its push late, or lost).
FILL_AT_CANCEL = "fill-at-cancel"
# The shapes that are one fault on the order itself, of these kinds (no aim: no pilot run)
ORDER_SHAPES = {
    SHORT_DELIVERY: ("size_shortfall",),
    VOID_FILL: ("trade_failed", "order_not_found_after_match"),
    FILL_AT_CANCEL: ("cancel_race", "late_fill"),
}
# blind read: the status read right after a placement fails and the pushes are lost, and then
# the order fills: only the bot's later reads of it can see the fill.
BLIND_READ = "blind-read"
# crash in flight: the bot dies while a placement or a cancel is on the wire (sent, unanswered)
# and restarts on its database: only what it wrote before sending tells it what may rest.
CRASH_IN_FLIGHT = "crash-in-flight"
COMPOUND = (LOST_CANCEL, APPLIED_ERROR, SHORT_DELIVERY, VOID_FILL, FILL_AT_CANCEL, BLIND_READ, CRASH_IN_FLIGHT)
PLAIN, AIMED = "plain", "aimed"
# an example's shape; a plain scenario first (what shrinking goes to)
SHAPES = (PLAIN, AIMED, *COMPOUND)

# Reads after a lost cancel that must all fail: every verification read the bot's settings allow
# (bot_settings draws verify_attempts up to this many).
READS_AFTER_CANCEL = int(max(SETTINGS["verify_attempts"]))
# A cancel refused on every attempt: as many refusals as core retries a transient one
CANCEL_ATTEMPTS = int(StrategyConfig().cancel_attempts)
# The lost pushes of a shape: the whole window's, so the bot's reads are all it has
LOST_PUSHES = {"fault": {"kind": "notification_drop"}}


def _error(kind: str, count: int, **params: object) -> dict:
    # endpoint "*" and at 0 stand until resolve_aims puts the aimed request's own
    return {"kind": kind, "endpoint": "*", "at": 0, "count": count, **params}


def _shape_faults(shape: str, anchor: dict, trade: int) -> st.SearchStrategy[list[dict]]:
    """The aims of a shape at its anchor (an order's nth placement or cancel)."""
    itself, read = anchor | {"target": "itself"}, anchor | {"target": "GET /data/order"}
    if shape == LOST_CANCEL:
        lost = st.sampled_from(
            [
                _error("timeout_before_apply", 1),
                _error("http_error", CANCEL_ATTEMPTS, status=500),
                _error("http_error", CANCEL_ATTEMPTS, status=425),
            ]
        )
        reads = _error("http_error", READS_AFTER_CANCEL, status=500)
        return lost.map(lambda fault: [{"aim": itself, "fault": fault}, {"aim": read, "fault": reads}])
    if shape == APPLIED_ERROR:
        applied = st.sampled_from([_error("http_error", 1, status=500, applied=True), _error("timeout_after_apply", 1)])
        return applied.map(lambda fault: [{"aim": itself, "fault": fault}])
    if shape == CRASH_IN_FLIGHT:
        return _fault("bot_crash", [trade]).map(lambda fault: [{"aim": itself, "fault": fault}])
    # BLIND_READ: the status read after the placement fails, once or on every try of it
    failed = st.sampled_from([READS_AFTER_CANCEL, 1]).map(lambda n: _error("http_error", n, status=500))
    return failed.map(lambda fault: [{"aim": read, "fault": fault}, LOST_PUSHES])


def _fills(trade_id: int, order: str, trades: list[dict], depth: int) -> st.SearchStrategy[list[dict]]:
    """The takers that fill an order: one through every crowd level, or in two pieces (the
    first through the crowd at the bot's price into a few of its shares, the rest a minute later)."""
    sweep = _taker_filling(trade_id, order, trades, early=True)
    # a scale-in joins the best bid, behind the crowd there; an exit at 0.99 rests behind every ask level
    ahead = depth if order == "scale-in" else (LEVELS_BEHIND + 1) * depth
    return st.one_of(
        sweep.map(lambda e: [e]),
        sweep.map(lambda e: [e | {"size": float(ahead) + PIECE}, e | {"at": e["at"] + 60}]),
    )


@st.composite
def compound_faults(draw, shape: str, data: dict) -> tuple[list[dict], list[dict], list[dict]]:
    """One compound shape: the aims (as aimed_faults draws them), the plain faults and the takers."""
    trades = data["trades"]
    trade = trades[0]["id"]  # the Up trade (aimed_scenarios): the one whose scale-in the price places
    depth = data["market"]["price_model"]["depth"]
    order = draw(st.sampled_from(["exit", "scale-in"]))
    step = {LOST_CANCEL: "cancel", CRASH_IN_FLIGHT: draw(st.sampled_from(["post", "cancel"]))}.get(shape, "post")
    # the order's first placement or cancel, which every run with the order makes: a trade has
    # one scale-in (the aims of aimed_faults reach later exits too)
    anchor = {"order": order, "step": step, "nth": 1}
    if shape in ORDER_SHAPES:
        kind = draw(st.sampled_from(ORDER_SHAPES[shape]))
        fault = draw(_fault(kind, [trade]).map(lambda f: f | {"order": order}))
        lost = draw(st.sampled_from([[], [LOST_PUSHES["fault"]]]))
        if shape != FILL_AT_CANCEL:  # the fill the fault acts on
            return [], [fault, *lost], draw(_fills(trade, order, trades, depth))
        # the fault makes its own fill at the cancel; a scale-in fill makes the bot cancel its exit
        fills = draw(_fills(trade, "scale-in", trades, depth)) if draw(st.booleans()) else []
        return [], [fault, *lost], fills
    aims = draw(_shape_faults(shape, anchor, trade))
    # the scale-in's fill: what makes the bot resize (cancel) its exit, and puts shares at stake;
    # a blind read's order fills itself
    filled = order if shape == BLIND_READ else "scale-in"
    needed = order == "exit" or shape == BLIND_READ
    fills = draw(_fills(trade, filled, trades, depth)) if draw(st.booleans()) or needed else []
    # lost pushes with it, half the time: the bot's reads are then all it has
    if LOST_PUSHES not in aims:
        aims += draw(st.sampled_from([[], [LOST_PUSHES]]))
    return aims, [], fills


@st.composite
def aimed_scenarios(draw, kinds: list[str] | None = None, max_faults: int = 4) -> tuple[dict, list[dict]]:
    """A scenario and the faults to aim at its requests: a plain scenario, one with faults aimed
    one by one, or one built around a compound shape (each aim costs the search a pilot run)."""
    shape = draw(st.sampled_from(SHAPES))
    if shape == PLAIN:
        return _scenario(draw, kinds, max_faults), []
    # with aims, fewer plain faults: the aimed ones are the point of the example
    data = _scenario(draw, kinds, max_faults // 2, shaped=shape in COMPOUND)
    if shape == AIMED:
        return data, draw(aimed_faults([t["id"] for t in data["trades"]]))
    aims, faults, fills = draw(compound_faults(shape, data))
    data["faults"] = data["faults"] + faults
    if fills:
        data["events"] = sorted(data["events"] + fills, key=lambda e: e["at"])
    return data, aims
