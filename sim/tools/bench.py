"""`clobsim bench`: the speed ratios of design.md ("Speed"), measured in one run on one machine.

    fast mode        simulated seconds per wall second, one 15-minute window in fast mode
                     (the simulation alone; "with the checks": sim.run as it runs by default)
    wire mode        the same in wire mode (the real ClobClient over the in-process transport)
    fast / bare      fast mode's wall time over the BARE position manager's for the same window
    wire / fast      wire mode's wall time over fast mode's
    explore          exploration examples per second (serial, core: no shrinking), the median
                     of `repeat` searches (seeds 0, 1, ...)
    parallel         K windows on a warm pool of 1 worker process vs of N: speedup and
                     speedup / N (the pool's start timed apart, and the speedup with it), the
                     medians of `repeat` alternating rounds

The workload (`WORKLOAD`) is a realistic window with no faults: a random-walk price re-quoted
every 5 s, Poisson taker flow, two positions (one scales in and fills in pieces, one never
scales in), resolution and settlement: 1050 simulated seconds (900 s window, 30 s to
resolution, 120 s of settlement). A window's wall time is that of `sim.run(scenario,
check=False)` (and `sim.run(scenario)` with the checks), without writing files.

The bare baseline drives the same bot code (core.bot.Bot: its monitor cycle, notification poll
and listing sweep) with a plain loop on a ManualClock against sim.testing.fake.FakeExchange, the zero-latency
in-memory stub. It is made comparable by replaying what the bot saw in a recorded fast run
(untimed): the monitor cycles, notification polls and trades-listing sweeps at the very simulated
times they ran (so the same number of each), the best bid/ask whenever it changed, the fills of the bot's orders,
their trades' settlement (MINED, CONFIRMED) and the resolution. Same trades, same cadence, the
same ledger (SQLite, WAL, synchronous=OFF, in sim.run's scratch folder) and audit log (the logger
as sim.run configures it for a run without files); no market model, no network, no
greenlets, no adapter.

Windows are timed inside one wall-clock session (sim.runner.wallclock) with the garbage
collector quiet (sim.runner.collector), as `clobsim run`, `explore`, `sweep` and the worker
processes run them: freezegun's module scan is paid once, not per window, and no collection
walks the process's modules and classes. The bare loop is timed under the same two.

Wall time is measured here and nowhere else (tests check this module's structure, never its
speed). Each window figure is the median of `repeat` rounds after a warm-up round; the four
kinds of window are timed in turn within each round, so a change in the machine's load hits
them alike.
"""

from __future__ import annotations

import gc
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from decimal import Decimal

from clobsim.core.audit import AuditLog
from clobsim.core.bot import Bot
from clobsim.core.ledger import Ledger
from clobsim.core.model import Side
from clobsim.core.monitor import Monitor
from clobsim.core.notifications import NotificationProcessor
from clobsim.core.reconciliation import Reconciler
from clobsim.sim.exchange.events import VenueEvent
from clobsim.sim.runner import collector, wallclock
from clobsim.sim.runner.harness import run_logger, scratch_dir
from clobsim.sim.runner.scenario import Scenario, from_dict
from clobsim.sim.testing.fake import FakeExchange, ManualClock

# The workload: the library's day-in-the-life-scale-in-fills-in-pieces, fixed here so that the
# benchmark does not move when the library changes.
WORKLOAD = {
    "name": "bench-window",
    "description": "clobsim bench: a realistic 15-minute window, no faults",
    "seed": 8,
    "market": {
        "symbol": "BTC",
        "price_model": {
            "kind": "random_walk",
            "start": 0.74,
            "drift": 0.0004,
            "volatility": 0.006,
            "step": 5,
            "spread": 0.02,
            "depth": 40,
        },
        "taker_flow": {"rate": 0.08, "min_size": 2, "max_size": 25},
    },
    "trades": [
        {"id": 1, "at": 10, "side": "UP", "price": 0.74, "size": 12, "confidence": 0.85},
        {"id": 2, "at": 30, "side": "DOWN", "price": 0.27, "size": 8, "confidence": 0.70},
    ],
    "expect": {
        "counts": {"SCALE-IN PLACEMENT": 1, "SCALE-IN.*FILLED": 1, "SCALE-IN PARTIAL FILL": 1},
        "outcomes": {
            "open_orders": 0,
            "trades": {1: {"position": 24, "state": "SETTLED"}, 2: {"position": 8, "state": "SETTLED"}},
        },
    },
}


def workload() -> Scenario:
    return from_dict(WORKLOAD, "<clobsim bench>")


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count() or 1,
        "cpu": model,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": sys.platform,
    }


# ---- the bare baseline ------------------------------------------------------------------------


class _Recorder:
    """Collects the simulated times of the bot's monitor cycles, notification polls and
    trades-listing sweeps."""

    def __init__(self) -> None:
        self.cycles: list[float] = []
        self.polls: list[float] = []
        self.sweeps: list[float] = []


def _recording_bot(recorder: _Recorder) -> type[Bot]:
    class RecordingMonitor(Monitor):
        def cycle(self) -> None:
            recorder.cycles.append(self.ctx.now())
            super().cycle()

    class RecordingNotifications(NotificationProcessor):
        def poll(self) -> int:
            recorder.polls.append(self.ctx.now())
            return super().poll()

    class RecordingReconciler(Reconciler):
        def sweep_listings(self) -> None:
            recorder.sweeps.append(self.ctx.now())
            super().sweep_listings()

    class RecordingBot(Bot):
        monitor_class = RecordingMonitor
        notifications_class = RecordingNotifications
        reconciler_class = RecordingReconciler

    return RecordingBot


def bare_script(scenario: Scenario) -> dict:
    """What the bot saw in a (recorded, untimed) fast run, as a timeline for the bare loop."""
    from clobsim.sim.runner.harness import run  # noqa: PLC0415

    recorder = _Recorder()
    result = run(scenario, mode="fast", bot=_recording_bot(recorder))
    owner = result.owner
    actions: list[tuple[float, int, tuple]] = []  # (time, order, action)
    levels: dict[tuple[str, str], dict[Decimal, Decimal]] = {}
    tops: dict[str, tuple] = {}
    fills = 0
    for event in result.venue.events:
        kind, fields, t = event["kind"], event["fields"], event["time"]
        if kind == VenueEvent.CROWD_DEPTH:
            token = fields["asset_id"]
            side = levels.setdefault((token, fields["side"]), {})
            side[Decimal(fields["price"])] = Decimal(fields["size"])
            bids = [p for p, s in levels.get((token, "BUY"), {}).items() if s > 0]
            asks = [p for p, s in levels.get((token, "SELL"), {}).items() if s > 0]
            top = (max(bids) if bids else None, min(asks) if asks else None)
            if tops.get(token) != top:
                tops[token] = top
                actions.append((t, 0, ("book", token, *top)))
        elif kind == VenueEvent.TRADE_MATCHED:
            for maker in fields["makers"]:
                if maker.get("owner") == owner:
                    order = result.venue.orders[maker["order_id"]]
                    actions.append(
                        (
                            t,
                            1,
                            (
                                "fill",
                                fields["trade_id"],
                                order.asset_id,
                                order.side,
                                maker["matched_amount"],
                                str(order.price),
                            ),
                        )
                    )
                    fills += 1
        elif kind == VenueEvent.TRADE_STATUS:
            actions.append((t, 1, ("trade_status", fields["trade_id"], fields["status"])))
        elif kind == VenueEvent.MARKET_RESOLVED:
            actions.append((t, 1, ("resolve", fields["market"], fields["winning_asset_id"])))
    for spec in scenario.trades:
        token = result.trade_tokens[spec.id]
        actions.append((scenario.window_start + spec.at, 2, ("open", spec, token)))
    actions += [(t, 3, ("cycle",)) for t in recorder.cycles]
    actions += [(t, 4, ("poll",)) for t in recorder.polls]
    actions += [(t, 5, ("sweep",)) for t in recorder.sweeps]
    actions.sort(key=lambda a: (a[0], a[1]))
    return {
        "actions": actions,
        "cycles": len(recorder.cycles),
        "polls": len(recorder.polls),
        "sweeps": len(recorder.sweeps),
        "fills": fills,
        "start": float(scenario.window_start),
        "window_end": float(scenario.window_start + scenario.window_length),
    }


def run_bare(scenario: Scenario, script: dict) -> dict:
    """The bare position manager over the scripted window; returns what it did (for the record)."""
    workdir = scratch_dir("clobsim-bare-")  # where sim.run keeps a ledger it deletes afterwards
    try:
        clock = ManualClock(script["start"])
        exchange = FakeExchange(clock, collateral=Decimal("1000"))
        logger = run_logger(files=False)  # as sim.run configures it for a run without files
        events: list = []
        audit = AuditLog(clock, logger)
        audit.listeners.append(events.append)
        ledger = Ledger(os.path.join(workdir, "ledger.sqlite"), synchronous="OFF")
        bot = Bot(clock, exchange, ledger, audit=audit)
        trade_of: dict[str, str] = {}  # sim trade id -> fake trade id
        bot.start()
        for at, _, action in script["actions"]:
            clock.t = max(clock.t, at)
            kind = action[0]
            if kind == "cycle":
                bot._guard("monitor", bot.monitor.cycle)
            elif kind == "poll":
                bot._guard("notifications", bot.notifications.poll)
            elif kind == "sweep":
                bot._guard("listing", bot.reconciler.sweep_listings)
            elif kind == "book":
                exchange.set_book(action[1], action[2], action[3])
            elif kind == "open":
                spec, token = action[1], action[2]
                exchange.credit(token, spec.size)
                bot.open_trade(
                    trade_id=spec.id,
                    symbol=scenario.symbol,
                    side=spec.side,
                    market=f"market-{scenario.name}",
                    token_id=token,
                    window_slug=f"{scenario.symbol.lower()}-window",
                    window_end=script["window_end"],
                    entry_price=spec.price,
                    entry_size=spec.size,
                    confidence=spec.confidence,
                )
            elif kind == "fill":
                sim_trade, token, side, size, price = action[1:]
                order = _open_order(exchange, token, Side(side))
                if order is not None:
                    size = min(Decimal(size), order.size - order.size_matched)
                    trade_of[sim_trade] = exchange.fill(order.order_id, size, price)
            elif kind == "trade_status" and action[1] in trade_of:
                _set_trade_status(exchange, trade_of[action[1]], action[2])
            elif kind == "resolve":
                exchange.resolve(f"market-{scenario.name}", action[2])
        bot.stop()
        ledger.close()
        return {"events": len(events), "orders": len(exchange.orders), "calls": len(exchange.calls)}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _open_order(exchange: FakeExchange, token: str, side: Side):
    for order_id in reversed(exchange.order_seq):
        order = exchange.orders[order_id]
        if order.token_id == token and order.side is side and order.status == "LIVE":
            return order
    return None


def _set_trade_status(exchange: FakeExchange, trade_id: str, status: str) -> None:
    for i, trade in enumerate(exchange.trades_list):
        if trade.trade_id == trade_id:
            exchange.trades_list[i] = replace(trade, status=status)


# ---- the pieces ------------------------------------------------------------------------------


def measure_windows(scenario: Scenario, repeat: int) -> dict:
    """Median wall seconds of one window: the bare loop, fast mode (the simulation alone, and with
    the checks, as sim.run does by default) and wire mode (the simulation alone). The four are
    timed in turn, `repeat` rounds after a warm-up round, so that a change in the machine's load
    hits them alike."""
    from clobsim.sim.checks import run as checked_run  # noqa: PLC0415
    from clobsim.sim.runner.harness import run  # noqa: PLC0415

    sample = checked_run(scenario, mode="fast")
    script = bare_script(scenario)
    bare_record = run_bare(scenario, script)
    pieces = {
        "bare": lambda: run_bare(scenario, script),
        "fast": lambda: run(scenario, mode="fast"),
        "fast_checked": lambda: checked_run(scenario, mode="fast"),
        "wire": lambda: run(scenario, mode="wire"),
    }
    walls: dict[str, list[float]] = {name: [] for name in pieces}
    # as clobsim's commands and workers run windows: many in one wall-clock session
    with wallclock.session(), collector.quiet():
        for round_ in range(max(1, repeat) + 1):
            for name, fn in pieces.items():
                started = time.perf_counter()
                fn()
                if round_:  # round 0 warms up: imports, caches, the first SQLite file
                    walls[name].append(time.perf_counter() - started)
    return {
        "workload": {
            "scenario": scenario.name,
            "simulated_seconds": sample.simulated_seconds,
            "passed": sample.passed,
            "audit_lines": len(sample.events),
            "trace_records": len(sample.trace),
            "monitor_cycles": script["cycles"],
            "notification_polls": script["polls"],
            "listing_sweeps": script["sweeps"],
            "bot_fills": script["fills"],
            "bare_audit_lines": bare_record["events"],
            "bare_exchange_calls": bare_record["calls"],
        },
        "seconds": {name: statistics.median(values) for name, values in walls.items()},
    }


def measure_explore(examples: int, searches: int = 1) -> dict:
    """Exploration's rate: `searches` searches of core, seeds 0, 1, ... (`examples` each, after an
    untimed warm-up search of a few examples: imports, strategies built once), the median rate.
    One search of a few dozen examples lasts about 2 s, so one alone moves with the load of the
    moment; the seeds differ so that no search reuses another's runs."""
    from clobsim.sim.explore.search import explore  # noqa: PLC0415

    rates, seconds, found = [], [], []
    with tempfile.TemporaryDirectory(prefix="clobsim-bench-explore-") as out:
        explore(bot="core", seed=10_000, examples=min(examples, 5), out=out, progress=None)
        for seed in range(max(1, searches)):
            state = explore(bot="core", seed=seed, examples=examples, out=out, progress=None)
            seconds.append(state.seconds)
            rates.append(state.examples / state.seconds if state.seconds > 0 else 0.0)
            found.append(state.path is not None)
    return {
        "examples": examples,
        "searches": len(rates),
        "seconds": statistics.median(seconds),
        "per_second": statistics.median(rates),
        "per_second_each": rates,
        "found": any(found),
    }


def rss_mb() -> float | None:
    """This process's resident memory now, in MB (Linux's /proc; None elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def measure_memory(examples: int, step: int = 250) -> dict:
    """RSS after every `step` exploration examples (seeded searches one after another, in this
    process): a finished run that stayed in memory would make it climb by ~3 MB an example."""
    from clobsim.sim.explore.search import explore  # noqa: PLC0415

    samples = [rss_mb()]
    done = 0
    with tempfile.TemporaryDirectory(prefix="clobsim-bench-memory-") as out:
        while done < examples:
            n = min(step, examples - done)
            explore(bot="core", seed=1000 + done, examples=n, out=out, progress=None)
            done += n
            gc.collect()
            samples.append(rss_mb())
    known = [x for x in samples if x is not None]
    # the first block warms up (imports, Hypothesis' caches): flatness is judged after it
    steady = known[1:] if len(known) > 2 else known
    return {
        "examples": done,
        "step": step,
        "rss_mb": samples,
        "growth_mb": (steady[-1] - steady[0]) if steady else None,
        "growth_mb_per_1000_examples": ((steady[-1] - steady[0]) * 1000 / (step * (len(steady) - 1)))
        if len(steady) > 1
        else None,
    }


# How far ahead the trades' window ends in measure_trade_scaling: every timed cycle, at every N,
# is far from the end (2 trades run ~2,000 one-second cycles; a 900 s window would end in the
# middle and the cycles after its end do other work than those before it).
WINDOW_AHEAD = 86_400.0


def measure_trade_scaling(counts: tuple[int, ...] = (2, 32, 1024), steps: int = 4096, rounds: int = 5) -> dict:
    """core's per-trade cost of a monitor cycle with N open trades (the bare bot: ManualClock,
    FakeExchange, its SQLite ledger): flat when a cycle does the same work per trade whatever N.
    Each N is the median of `rounds` timed stretches of about `steps` trade-steps each, after a
    collection: at 1,024 trades a stretch is four cycles, which one collection of the set-up's
    garbage, falling inside it, would double."""
    per_trade: dict[str, float] = {}
    for count in counts:
        workdir = scratch_dir("clobsim-bench-trades-")
        try:
            clock = ManualClock(1_764_028_800.0)
            exchange = FakeExchange(clock, collateral=Decimal(10 * count + 1000))
            ledger = Ledger(os.path.join(workdir, "ledger.sqlite"), synchronous="OFF")
            bot = Bot(clock, exchange, ledger, audit=AuditLog(clock, run_logger(files=False)))
            for i in range(1, count + 1):
                token = f"token-{i}"
                exchange.set_book(token, Decimal("0.73"), Decimal("0.75"))
                exchange.credit(token, Decimal(10))
                bot.open_trade(
                    trade_id=i,
                    symbol="BTC",
                    side="UP",
                    market=f"market-{i}",
                    token_id=token,
                    window_slug="btc-window",
                    window_end=clock.t + WINDOW_AHEAD,
                    entry_price=Decimal("0.74"),
                    entry_size=Decimal(10),
                    confidence=Decimal("0.85"),
                )
            for _ in range(2):  # the first cycles place the exit plans: not the steady state
                clock.advance(1)
                bot.monitor.cycle()
            cycles = max(3, steps // count)  # about `steps` trade-steps timed at every N
            stretches = []
            for _ in range(max(1, rounds)):
                gc.collect()
                started = time.perf_counter()
                for _ in range(cycles):
                    clock.advance(1)
                    bot.monitor.cycle()
                stretches.append((time.perf_counter() - started) / (cycles * count))
            per_trade[str(count)] = statistics.median(stretches)
            ledger.close()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    values = list(per_trade.values())
    return {"per_trade_seconds": per_trade, "largest_over_smallest": values[-1] / values[0]}


def measure_parallel(runs: int, workers: int, rounds: int = 1) -> dict:
    """`runs` windows (the workload with seeds 1..runs) on a warm pool of ONE worker process,
    then on a warm pool of `workers` (sim.runner.pool): like for like, both batches run in
    worker processes and pay the pool's dispatch (this process holds the heap of the other
    figures by now). The pools' start (processes started and
    warmed) is timed apart, so `speedup` is the steady state of a pool that serves many runs,
    and `speedup_with_start` counts the larger pool's start (it starts first) against one batch. The two
    batches alternate `rounds` times, and each figure is the median: a batch lasts a second or
    two, so a single pair moves with the load of the moment."""
    from clobsim.sim.runner.pool import WorkerPool  # noqa: PLC0415
    from clobsim.sim.tools.parallel import run_summaries  # noqa: PLC0415

    base = workload()
    jobs = [(base, seed) for seed in range(1, runs + 1)]
    serial_times, parallel_times = [], []
    identical = True
    started = time.perf_counter()
    with WorkerPool(workers) as pool:
        pool.warm()
        start_seconds = time.perf_counter() - started  # the first pool pays the start in full
        with WorkerPool(1) as single:
            single.warm()
            for _ in range(max(1, rounds)):
                started = time.perf_counter()
                serial = run_summaries(jobs, pool=single)
                serial_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                parallel = run_summaries(jobs, pool=pool)
                parallel_times.append(time.perf_counter() - started)
                identical = identical and serial == parallel
    serial_seconds = statistics.median(serial_times)
    parallel_seconds = statistics.median(parallel_times)
    speedup = serial_seconds / parallel_seconds if parallel_seconds > 0 else 0.0
    return {
        "runs": runs,
        "workers": workers,
        "rounds": len(serial_times),
        "serial_seconds": serial_seconds,
        "pool_start_seconds": start_seconds,
        "parallel_seconds": parallel_seconds,
        "speedup": speedup,
        "speedup_with_start": serial_seconds / (start_seconds + parallel_seconds),
        "efficiency": speedup / workers,
        "identical": identical,
    }


def bench(
    *,
    repeat: int = 7,
    explore_examples: int = 40,
    memory_examples: int = 2000,
    trade_counts: tuple[int, ...] = (2, 32, 1024),
    parallel_runs: int | None = None,
    workers: int | None = None,
    progress=None,
) -> dict:
    """Every figure of `clobsim bench`, as one JSON-ready dict."""
    workers = workers or os.cpu_count() or 1
    parallel_runs = parallel_runs or 12 * workers

    def say(text: str) -> None:
        if progress is not None:
            progress.write(text + "\n")
            progress.flush()

    scenario = workload()
    say(f"bench: one window, bare / fast / fast with checks / wire, {repeat} rounds ...")
    windows = measure_windows(scenario, repeat)
    say(f"bench: exploration, {repeat} searches of {explore_examples} examples ...")
    explore = measure_explore(explore_examples, repeat)
    say(f"bench: per-trade cost of a monitor cycle at {', '.join(map(str, trade_counts))} trades ...")
    scaling = measure_trade_scaling(trade_counts)
    say(f"bench: memory over {memory_examples} exploration examples ...")
    memory = measure_memory(memory_examples, step=max(1, min(250, memory_examples // 4)))
    say(f"bench: {parallel_runs} runs serially, then over {workers} worker processes, {repeat} rounds ...")
    parallel = measure_parallel(parallel_runs, workers, repeat)
    simulated = windows["workload"]["simulated_seconds"]
    s = windows["seconds"]
    return {
        "machine": machine(),
        "workload": windows["workload"],
        "repeat": repeat,
        "seconds": {
            "bare_window": s["bare"],
            "fast_window": s["fast"],
            "fast_window_checked": s["fast_checked"],
            "wire_window": s["wire"],
        },
        "ratios": {
            "fast_sim_per_wall": simulated / s["fast"],
            "fast_checked_sim_per_wall": simulated / s["fast_checked"],
            "wire_sim_per_wall": simulated / s["wire"],
            "fast_over_bare": s["fast"] / s["bare"],
            "fast_checked_over_bare": s["fast_checked"] / s["bare"],
            "wire_over_fast": s["wire"] / s["fast"],
            "explore_examples_per_second": explore["per_second"],
            "parallel_speedup": parallel["speedup"],
            "parallel_efficiency": parallel["efficiency"],
        },
        "goals": {
            "fast_window_under_0.1s": s["fast_checked"] < 0.1,
            "fast_over_bare_at_most_1.3": s["fast"] / s["bare"] <= 1.3,
            "fast_sim_per_wall_at_least_15000": simulated / s["fast"] >= 15000,
            "explore_at_least_25_per_second": explore["per_second"] >= 25,
            "per_trade_cost_flat_within_1.5": scaling["largest_over_smallest"] <= 1.5,
            # flat: under 10 MB per 1,000 examples after the first block (a leak was ~3 MB an example)
            "memory_flat": memory["growth_mb_per_1000_examples"] is not None
            and memory["growth_mb_per_1000_examples"] < 10,
            "parallel_speedup_at_least_1.7": parallel["speedup"] >= 1.7,
        },
        "trade_scaling": scaling,
        "memory": memory,
        "explore": explore,
        "parallel": parallel,
    }


def render(report: dict) -> str:
    m, w, s, r, p = (report["machine"], report["workload"], report["seconds"], report["ratios"], report["parallel"])
    ok = {True: "yes", False: "NO"}
    goals = report["goals"]
    return "\n".join(
        [
            f"clobsim bench: {m['cpus']} x {m['cpu']}, {m['implementation']} {m['python']}; "
            f"median of {report['repeat']}",
            f"workload: {w['scenario']} ({w['simulated_seconds']:.0f} simulated s: "
            f"{w['monitor_cycles']} monitor cycles, "
            f"{w['notification_polls']} notification polls, {w['trace_records']} trace records)",
            "",
            f"  fast mode          {r['fast_sim_per_wall']:8.0f} x real time  "
            f"{s['fast_window'] * 1000:7.1f} ms a window",
            f"    with the checks  {r['fast_checked_sim_per_wall']:8.0f} x real time  "
            f"{s['fast_window_checked'] * 1000:7.1f} ms"
            f"   goal < 100 ms: {ok[goals['fast_window_under_0.1s']]}",
            f"  wire mode          {r['wire_sim_per_wall']:8.0f} x real time  "
            f"{s['wire_window'] * 1000:7.1f} ms a window",
            f"  bare               {w['simulated_seconds'] / s['bare_window']:8.0f} x real time  "
            f"{s['bare_window'] * 1000:7.1f} ms a window",
            f"  fast / bare        {r['fast_over_bare']:8.2f}   (with the checks {r['fast_checked_over_bare']:.2f})"
            f"         goal <= 1.3: {ok[goals['fast_over_bare_at_most_1.3']]}",
            f"  wire / fast        {r['wire_over_fast']:8.2f}",
            f"  explore            {r['explore_examples_per_second']:8.1f} examples/s  "
            f"(median of {report['explore']['searches']} searches of {report['explore']['examples']}: "
            f"{report['explore']['seconds']:.1f} s each)",
            "  per-trade cost     "
            + ", ".join(f"{n} trades {v * 1e6:.0f} us" for n, v in report["trade_scaling"]["per_trade_seconds"].items())
            + f"  ({report['trade_scaling']['largest_over_smallest']:.2f}x; goal <= 1.5: "
            f"{ok[goals['per_trade_cost_flat_within_1.5']]})",
            f"  memory             {_memory_text(report['memory'])}  flat: {ok[goals['memory_flat']]}",
            f"  parallel           {r['parallel_speedup']:8.2f} x on {p['workers']} workers, efficiency "
            f"{r['parallel_efficiency']:.2f}  ({p['runs']} runs: {p['serial_seconds']:.2f} s serial, "
            f"{p['parallel_seconds']:.2f} s on the warm pool, started in {p['pool_start_seconds']:.2f} s: "
            f"{p['speedup_with_start']:.2f} x with the start; results identical: {ok[p['identical']]})",
        ]
    )


def _memory_text(memory: dict) -> str:
    samples = [f"{x:.0f}" for x in memory["rss_mb"] if x is not None]
    if not samples:
        return f"{memory['examples']} exploration examples (RSS not readable on this platform)"
    return (
        f"RSS {' -> '.join(samples)} MB every {memory['step']} of {memory['examples']} exploration examples "
        f"({memory['growth_mb_per_1000_examples']:+.1f} MB per 1,000 after the first block)"
    )
