"""One run: core, unmodified, against the simulated CLOB on virtual time.

    result = sim.run(scenario, seed=7, mode="fast" | "wire", bot="core")

The same adapter (core.clob_adapter.ClobExchange) is used in both modes; only the client under
it differs: the REAL py-clob-client ClobClient over the in-process transport (wire), or the
look-alike that calls the gateway directly (fast). Everything that varies draws from generators seeded
by the run's seed; py-clob-client's own nondeterminism (order salt from time x global random, header
timestamps, the tick-size cache clock) is pinned by seeding the global `random` with the run's
seed and freezing wall-clock time to the simulated clock (sim.runner.wallclock: freezegun, moved at
every task resume).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import random
import shutil
import tempfile
import types
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from py_clob_client.clob_types import ApiCreds
from py_clob_client.signer import Signer
from py_clob_client_v2.order_utils import utils as v2_order_utils
from py_order_utils import utils as py_order_utils_utils

from clobsim.core.audit import AuditEvent, AuditLog, attach_file_logs, dated_line, detach, render
from clobsim.core.bot import Bot
from clobsim.core.clob_adapter import ClobExchange
from clobsim.core.config import CLOB_CLIENT_V1, CLOB_CLIENT_V2, StrategyConfig
from clobsim.core.ledger import Ledger
from clobsim.core.ports import CodePoint
from clobsim.sim.bots import bot_name, foreign, resolve
from clobsim.sim.bots.foreign import ForeignBot, env_items
from clobsim.sim.clients.fast import FastClobClient
from clobsim.sim.clients.fast_v2 import FastClobClientV2
from clobsim.sim.clients.virtual_time import virtual_sleeps
from clobsim.sim.exchange.gateway import Gateway
from clobsim.sim.exchange.protocol import PROTOCOLS, V1, V2
from clobsim.sim.exchange.venue import Venue
from clobsim.sim.faults import CATALOGUE
from clobsim.sim.faults.network import Network
from clobsim.sim.runner.kernel import Kernel, Runaway, SimClock, Task, WatchedEnvironment, max_events
from clobsim.sim.runner.market import MarketModel
from clobsim.sim.runner.scenario import Scenario, ScenarioError
from clobsim.sim.runner.wallclock import RunClock
from clobsim.sim.trace import TRACE_FORMAT, HarnessAction, TraceType, to_microsecond

HOST = "https://clob.sim"
CHAIN_ID = 137
BOT_KEY = "0x" + "4b" * 32  # a fixed test key: ids depend on it, so it never changes
BOT_ADDRESS = Signer(BOT_KEY, CHAIN_ID).address()  # derived once: an elliptic-curve multiplication
BOT_CREDS = ApiCreds(
    api_key="00000000-0000-4000-8000-00000000b075",
    api_secret="c2ltdWxhdGVkLWNsb2Itc2VjcmV0LWtleS0wMDAwMDA=",
    api_passphrase="clobsim-passphrase",
)
COLLATERAL = Decimal("1000")
SETTLE_HORIZON = 120.0  # seconds simulated after resolution
STOP_CHECK_EVERY = 10.0  # simulated seconds between a run's questions to its stop_when
# A run that may stop early (a pilot of sim.explore's) asks whether it has seen enough with its
# trace so far and the simulated moment it is complete up to.
StopWhen = Callable[[list[dict], float], bool]
MODES = ("fast", "wire")
# the client core trades through when the scenario's `bot.clob_client` does not say
DEFAULT_CLIENT = {V1: CLOB_CLIENT_V1, V2: CLOB_CLIENT_V2}


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    mode: str
    bot: str
    events: list[AuditEvent]
    trace: list[dict]
    venue: Venue
    ledger_path: str
    owner: str
    trade_tokens: dict[int, str]
    task_errors: list[str]
    internal_errors: list[str]
    simulated_seconds: float
    bots_started: int = 1
    protocol: str = V1
    # a bot of the user's own (sim.runner.foreign): clobsim sees only its venue side and its lines
    foreign: bool = False
    bot_stopped: list[str] = field(default_factory=list)  # why a foreign bot was stopped or refused
    believed_positions: dict[str, Decimal] | None = None  # a foreign bot's positions hook, per token
    # a bot process clobsim cannot look inside (server mode): the venue's records and its exit code
    process: bool = False
    checks: list = field(default_factory=list)  # sim.checks' Check records, filled by its judge
    extras: dict[str, Any] = field(default_factory=dict)
    # core's last ledger, closed (or killed with its bot): it still answers reads from its mirror,
    # which holds exactly what the file holds (a change reaches it only once committed); None
    # for a bot that keeps its own books
    final_ledger: Ledger | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list:
        return [c for c in self.checks if not c.passed]

    @property
    def lines(self) -> list[str]:
        return [render(e) for e in self.events]

    def audit_log(self, level: int = logging.INFO) -> str:
        return "".join(
            dated_line(e.time, render(e), logging.getLevelName(e.level)) + "\n" for e in self.events if e.level >= level
        )

    def trace_jsonl(self) -> str:
        return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":"), default=str) + "\n" for r in self.trace)

    def ledger(self) -> Ledger:
        return Ledger(self.ledger_path)

    def release(self) -> None:
        """Drop what the run recorded (its trace, audit events and venue history), for a caller
        done with the result that keeps only a verdict: they go at once, instead of when the
        cyclic garbage collector next finds the run's parts (which refer to each other) and frees
        them with it, a collection every few runs that walks and frees thousands of records."""
        self.trace.clear()
        self.events.clear()
        self.venue.events.clear()


def run_logger(*, files: bool, level: int = logging.INFO) -> logging.Logger:
    """The one logger of every run (runs in a process are serial; logging keeps every logger
    forever, so a logger per run would leak over an exploration's thousands of runs).

    Lines reach files only through the handlers a run with an out_dir attaches (`level` and up:
    INFO unless the run asks for DEBUG lines), never logging's stderr fallback. Without files the
    logger is switched off: the audit events are still collected (AuditLog's listeners), but no
    LogRecord is built for nobody."""
    logger = logging.getLogger("clobsim.run")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    level = level if files else logging.CRITICAL + 1
    if logger.level != level:
        logger.setLevel(level)
    return logger


class _Probe:
    """core's Probe port in a run: tells the listeners (fault kinds acting on the bot) which code
    point the bot reached; a listener may stop the bot right there (BotHost.crash_here)."""

    def __init__(self, listeners: list[Callable[[str], None]]):
        self.listeners = listeners

    def reached(self, point: CodePoint) -> None:
        for listener in self.listeners:
            listener(point.value)


class _Run:
    def __init__(self, scenario: Scenario, seed: int, mode: str, bot: Any, workdir: str, protocol: str | None = None):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected fast or wire")
        self.protocol = protocol or scenario.protocol
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {self.protocol!r}; expected {' or '.join(PROTOCOLS)}")
        self.scenario, self.seed, self.mode, self.bot_name = scenario, seed, mode, bot_name(bot)
        self.workdir = workdir
        self.make_bot = self._resolve(bot)
        # Independent streams, each from the run's seed: the market's history (prices, takers)
        # does not depend on how many requests the bot makes (network jitter draws), so
        # `replay --bot` replays the same market against other code.
        self.market_rng = random.Random(f"{seed}:market")
        self.network_rng = random.Random(f"{seed}:network")
        start = scenario.window_start
        self.window_start = float(start)  # BotHost's
        self.env = WatchedEnvironment(float(start), max_events(0))  # bounded by the horizon below
        self.wall_clock = RunClock(self.env.now)
        self.kernel = Kernel(self.env, on_resume=self.wall_clock.move_to)
        self.clock = SimClock(self.kernel)
        # core's Probe port: the listeners (bot_crash's `point`) hear every code point the bot reaches
        self.code_point_listeners: list[Callable[[str], None]] = []
        self.trace: list[dict] = []
        self._stamp_at, self._stamp_value = float("nan"), 0.0  # _stamp's last instant (nan: none)
        self.events: list[AuditEvent] = []
        # the clock the venue reads thousands of times a run: Environment.now's getter, bound
        # (read statically: mypy types a property read on the class as its getter's signature)
        self.venue = Venue(inspect.getattr_static(type(self.env), "now").fget.__get__(self.env), protocol=self.protocol)
        self.venue.listeners.append(self._trace_venue)
        market_spec = scenario.market
        self.market = self.venue.open_updown_market(
            scenario.symbol,
            start,
            tick_size=scenario.tick_size,
            min_size=str(scenario.min_size),
            window_seconds=scenario.window_length,
            taker_fee_rate=scenario.fee_rate,
            fee_exponent=scenario.fee_exponent,
        )
        self.address = BOT_ADDRESS
        self.venue.open_account(
            BOT_CREDS.api_key, BOT_CREDS.api_secret, BOT_CREDS.api_passphrase, self.address, collateral=COLLATERAL
        )
        self.trade_tokens = {
            t.id: self.market.token("Up" if t.side == "UP" else "Down").token_id for t in scenario.trades
        }
        self.model = MarketModel(
            self.env,
            self.venue,
            self.market,
            self.market_rng,
            window_start=start,
            window_length=scenario.window_length,
            price_model=market_spec.get("price_model"),
            taker_flow=market_spec.get("taker_flow"),
            events=scenario.events,
            resolution=market_spec.get("resolution", "auto"),
            resolution_delay=scenario.resolution_delay,
            trace=self._trace,
        )
        self.horizon = scenario.window_length + scenario.resolution_delay + SETTLE_HORIZON
        self.env.max_events = max_events(self.horizon)
        self.network = Network(
            self.env,
            self.kernel.wait,
            self.kernel.soon,
            self.venue,
            self.network_rng,
            list(scenario.faults),
            window_start=start,
            horizon=self.horizon,
            owner=BOT_CREDS.api_key,
            trade_tokens=self.trade_tokens,
            trace=self._trace,
            doom=lambda trade_id, after: self.model.doomed.__setitem__(trade_id, after),
        )
        self.gateway = Gateway(self.venue, self.network)  # speaks the venue's protocol
        self.network.gateway = self.gateway
        self.config = StrategyConfig().with_overrides(
            # the bot prices on the market's tick (a V2 market may quote in 0.005 or 0.0025);
            # the scenario's choice wins
            {"clob_client": DEFAULT_CLIENT[self.protocol], "tick_size": scenario.tick_size, **scenario.bot}
        )
        self.ledger_path = os.path.join(workdir, "ledger.sqlite")
        self.logger = run_logger(files=False)
        self.tasks: list[Task] = []
        self.bots: list[Bot] = []
        self.bot: Bot  # the running bot process (bot_crash replaces it); set when the run begins
        self.bot_up = self.env.event()  # fires when a (re)started bot is running
        self.stop_when: StopWhen | None = None  # set by run(): stop once the trace holds enough
        self.stopped_at: float | None = None  # the moment a stop_when ended the run, if one did

    def _resolve(self, bot: Any) -> Any:
        return resolve(bot)

    # ---- plumbing ----------------------------------------------------------------------------

    def _stamp(self, now: float) -> float:
        """A record's "t": the time rounded to the microsecond. Records come in bursts at one
        instant (a re-quote's levels, a request and the venue events it causes): each instant is
        rounded once."""
        if now != self._stamp_at:
            self._stamp_at, self._stamp_value = now, to_microsecond(now)
        return self._stamp_value

    def _trace(self, record_type: str, /, **fields) -> None:
        self.trace.append({"t": self._stamp(self.env.now), "type": record_type, **fields})

    record = _trace  # sim.faults.kind.BotHost's name for it

    def _trace_venue(self, event: dict) -> None:
        """_trace(TraceType.VENUE, event=<kind>, fields=<fields>), for every venue event (thousands a run)."""
        self.trace.append(
            {
                "t": self._stamp(event["time"]),
                "type": TraceType.VENUE,
                "event": event["kind"],
                "fields": event["fields"],
            }
        )  # event["time"] is env.now

    def _client(self):
        v2 = self.config.clob_client == CLOB_CLIENT_V2
        if self.mode == "fast":
            fast = FastClobClientV2 if v2 else FastClobClient
            return fast(HOST, chain_id=CHAIN_ID, key=BOT_KEY, creds=BOT_CREDS, gateway=self.gateway)
        if v2:
            from py_clob_client_v2.client import ClobClient as ClobClientV2  # noqa: PLC0415 - wire mode only

            return ClobClientV2(HOST, chain_id=CHAIN_ID, key=BOT_KEY, creds=BOT_CREDS)
        from py_clob_client.client import ClobClient  # noqa: PLC0415 - wire mode only

        return ClobClient(HOST, chain_id=CHAIN_ID, key=BOT_KEY, creds=BOT_CREDS)

    def _new_bot(self) -> Bot:
        exchange = ClobExchange(self._client(), chain_id=CHAIN_ID, client_name=self.config.clob_client)
        audit = AuditLog(self.clock, self.logger)
        audit.listeners.append(self.events.append)
        bot = self.make_bot(
            self.clock,
            exchange,
            Ledger(self.ledger_path, synchronous="OFF"),
            config=self.config,
            audit=audit,
            probe=_Probe(self.code_point_listeners),
        )
        self.bots.append(bot)
        return bot

    # ---- processes ---------------------------------------------------------------------------

    def _open_trades(self):
        for spec in sorted(self.scenario.trades, key=lambda t: (t.at, t.id)):
            yield self.env.timeout(max(0.0, self.scenario.window_start + spec.at - self.env.now))
            if not self.bot_up.triggered:
                yield self.bot_up  # the bot is down (bot_crash): the trade opens when it is back
            token = self.trade_tokens[spec.id]
            self.venue.deposit(BOT_CREDS.api_key, token, spec.size)
            self._trace(
                TraceType.HARNESS, action=HarnessAction.OPEN_TRADE, trade=spec.id, token=token, size=str(spec.size)
            )
            self.bot.open_trade(
                trade_id=spec.id,
                symbol=self.scenario.symbol,
                side=spec.side,
                market=self.market.condition_id,
                token_id=token,
                window_slug=self.market.slug,
                window_end=self.scenario.window_start + self.scenario.window_length,
                entry_price=spec.price,
                entry_size=spec.size,
                confidence=spec.confidence,
            )

    # ---- the bot's host (sim.faults.kind.BotHost: what bot_crash acts on) ------------------------

    def bot_is_up(self) -> bool:
        return bool(self.bot_up.triggered)

    def kill_bot(self) -> None:
        for task in self.tasks:
            self.kernel.kill(task)
        self.bot.stop()
        self.bot.ledger.close()
        self.bot_up = self.env.event()

    def on_code_point(self, listener: Callable[[str], None]) -> None:
        self.code_point_listeners.append(listener)

    def crash_here(self) -> None:
        """Kill the bot from inside its running task, at a code point: the calling task stops
        at once; kill_bot (the other tasks, the ledger) follows at the same instant."""
        self.kernel.die_here()

    def replace_bot(self) -> None:
        self.bot = self._new_bot()

    def start_bot(self) -> None:
        bot = self.bot
        (first_name, first_loop), *others = bot.tasks()

        def first() -> None:
            # start-up's reconcile pass makes requests, so it runs inside a task: the first one,
            # ahead of its loop (a live bot runs it before it starts its threads)
            bot.start()
            first_loop()

        self.tasks.append(self.kernel.spawn(first_name, first))
        for name, loop in others:
            self.tasks.append(self.kernel.spawn(name, loop))
        self._trace(TraceType.BOT, action="started", generation=len(self.bots))
        if not self.bot_up.triggered:
            self.bot_up.succeed()

    def _housekeeping(self):
        """The venue's own clockwork: the heartbeat dead-man switch and GTD expiry, every 5 s."""
        while True:
            yield self.env.timeout(5.0)
            self.venue.heartbeat_sweep()
            self.venue.expire_orders()

    # ---- the clock ---------------------------------------------------------------------------

    @property
    def end(self) -> float:
        """The simulated moment the run is over: its horizon after the window's start."""
        return self.window_start + self.horizon

    def run_to_end(self) -> None:
        """Run to the horizon; a run with a `stop_when` goes in steps of STOP_CHECK_EVERY (and one
        ending at the window's end) and ends at the first step after which it says yes.

        Stepping changes nothing that happens: each step's end is one more simpy event, urgent,
        scheduled after every event already due at that moment, so the events run in the same
        order; it counts toward the watchdog's bound (a hundred of them against 100,000)."""
        if self.stop_when is None:
            self.run_until(self.end)
            return
        window_end = self.window_start + self.scenario.window_length
        now = self.env.now
        while now < self.end:
            step_end = min(now + STOP_CHECK_EVERY, self.end)
            if now < window_end < step_end:
                step_end = window_end
            self.run_until(step_end)
            now = step_end
            if now < self.end and self.stop_when(self.trace, now):
                self.stopped_at = now
                return

    def run_until(self, until: float) -> None:
        """Run the simulation up to the simulated moment `until` (nothing happens if it is past).
        A run the watchdog stops (one that would never end) is the scenario's error, not clobsim's."""
        if until <= self.env.now:
            return
        try:
            self.env.run(until=until)
        except Runaway as stop:
            raise ScenarioError(
                self.scenario.source,
                "",
                f"the watchdog stopped the run at t+{stop.at - self.window_start:.3f}s: {stop.cause}",
            ) from None

    # ---- the venue alone (server mode) -------------------------------------------------------

    def begin_venue(self, mode: str) -> None:
        """Start the market, the faults and the venue's clockwork without a bot: in server mode
        (sim.server) the bot is another process. Each of the scenario's trades deposits its
        shares into the bot's account at its `at` (the position a bot process is handed; it is
        told nothing else of it), and faults that act on core's process (bot_crash) have nothing
        to act on."""
        self._trace(
            TraceType.HARNESS,
            action=HarnessAction.BEGIN,
            scenario=self.scenario.name,
            seed=self.seed,
            mode=mode,
            protocol=self.protocol,
        )
        self.model.begin()
        self.network.begin()
        self.env.process(self._deposit_trades())
        self.env.process(self._housekeeping())

    def _deposit_trades(self):
        for spec in sorted(self.scenario.trades, key=lambda t: (t.at, t.id)):
            yield self.env.timeout(max(0.0, self.scenario.window_start + spec.at - self.env.now))
            token = self.trade_tokens[spec.id]
            self.venue.deposit(BOT_CREDS.api_key, token, spec.size)
            self._trace(
                TraceType.HARNESS, action=HarnessAction.OPEN_TRADE, trade=spec.id, token=token, size=str(spec.size)
            )

    def venue_result(self, mode: str, *, bot: str, task_errors: list[str]) -> RunResult:
        """The results of a server-mode run: the venue's side only (no audit events, no ledger
        of clobsim's own: the bot keeps its books)."""
        self._trace(TraceType.HARNESS, action=HarnessAction.END)
        return RunResult(
            scenario=self.scenario,
            seed=self.seed,
            mode=mode,
            bot=bot,
            events=[],
            trace=self.trace,
            venue=self.venue,
            ledger_path=self.ledger_path,
            owner=BOT_CREDS.api_key,
            trade_tokens=self.trade_tokens,
            task_errors=task_errors,
            internal_errors=list(self.gateway.internal_errors),
            simulated_seconds=round(self.env.now - self.window_start, 6),
            bots_started=1,
            protocol=self.protocol,
            process=True,
        )

    # ---- the run -----------------------------------------------------------------------------

    def execute(self, out_dir: str | None, log_level: int = logging.INFO) -> RunResult:
        with ExitStack() as stack:
            handlers = []
            run_logger(files=bool(out_dir), level=log_level)
            if out_dir:
                os.makedirs(out_dir, exist_ok=True)
                handlers = attach_file_logs(
                    self.logger,
                    master_path=os.path.join(out_dir, "audit.log"),
                    jsonl_path=os.path.join(out_dir, "audit.jsonl"),
                    level=log_level,
                )
                stack.callback(detach, self.logger, handlers)
            stack.enter_context(self.wall_clock)
            random.seed(self.seed)  # bot code may draw from the global generator: pinned too
            stack.enter_context(_order_salts(self.seed))
            stack.enter_context(virtual_sleeps(self.clock.sleep))
            if self.mode == "wire":
                from clobsim.sim.clients.wire import SimTransport, installed  # noqa: PLC0415

                stack.enter_context(installed(SimTransport(self.gateway)))
            self.bot = self._new_bot()
            # a v1 run's trace is the one recorded before protocols existed: no protocol field,
            # and a trace without one replays as v1
            extra = {} if self.protocol == V1 else {"protocol": self.protocol}
            self._trace(
                TraceType.HARNESS,
                action=HarnessAction.BEGIN,
                scenario=self.scenario.name,
                seed=self.seed,
                mode=self.mode,
                **extra,
                trace_format=TRACE_FORMAT,
            )
            self.model.begin()
            self.network.begin()
            self.env.process(self._open_trades())
            self.env.process(self._housekeeping())
            for index, fault in enumerate(self.scenario.faults):
                CATALOGUE[fault.kind].begin_bot(self, fault, index)
            self.start_bot()
            self.run_to_end()
            self.bot.stop()
            self.kernel.close()
            for bot in self.bots:
                bot.ledger.close()
            self._trace(TraceType.HARNESS, action=HarnessAction.END)
        return self._result(
            ledger_path=self.ledger_path,
            task_errors=[f"{t.name}: {t.error_text}" for t in self.tasks if t.error is not None],
            bots_started=len(self.bots),
        )

    def _result(self, *, ledger_path: str, task_errors: list[str], bots_started: int, **extra: Any) -> RunResult:
        """The run's result: what every kind of bot's run records, and what is its own (`extra`)."""
        return RunResult(
            scenario=self.scenario,
            seed=self.seed,
            mode=self.mode,
            bot=self.bot_name,
            events=self.events,
            trace=self.trace,
            venue=self.venue,
            ledger_path=ledger_path,
            owner=BOT_CREDS.api_key,
            trade_tokens=self.trade_tokens,
            task_errors=task_errors,
            internal_errors=list(self.gateway.internal_errors),
            simulated_seconds=self.horizon if self.stopped_at is None else self.stopped_at - self.window_start,
            bots_started=bots_started,
            protocol=self.protocol,
            final_ledger=self.bots[-1].ledger if self.bots else None,
            **extra,
        )


def stage(scenario: Scenario, *, seed: int | None = None, protocol: str | None = None, workdir: str) -> _Run:
    """A run's venue, market, network and gateway on its simpy environment, not started and
    without a bot: sim.server advances it from its event loop (`begin_venue`, `run_until`)."""
    return _Run(scenario, scenario.seed if seed is None else seed, "wire", "core", workdir, protocol)


# Runs of other kinds of bot, by the type that names the bot: sim.runner.foreign registers the
# foreign bots' run here when imported (sim.checks imports it), so this module never imports it.
RUNNERS: dict[type, type[_Run]] = {}


def _runner(bot: Any) -> type[_Run]:
    if isinstance(bot, ForeignBot) and ForeignBot not in RUNNERS:
        raise RuntimeError("a foreign bot's run is sim.runner.foreign's: import it (sim.run does)")
    return RUNNERS.get(type(bot), _Run)


def scratch_dir(prefix: str) -> str:
    """A temporary folder for files a run deletes when it ends (the ledger of a run without an
    out_dir, the oracles' replica): in memory (/dev/shm) unless TMPDIR says otherwise, since on
    a disk the creation and deletion of SQLite's three files cost more than a whole window."""
    shm = "/dev/shm"
    if "TMPDIR" not in os.environ and os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        try:
            return tempfile.mkdtemp(prefix=prefix, dir=shm)
        except OSError:
            pass
    return tempfile.mkdtemp(prefix=prefix)


class _order_salts:
    """Both py-clob-clients draw each order's salt from the global `random` (py_order_utils'
    generate_seed, py_clob_client_v2's generate_order_salt). Another thread of the process (a Dask
    worker's event loop, say) may draw from it too, mid-run; so during a run the salts come from a
    generator of the run's own, seeded alike: the same sequence the global one gives after
    random.seed(seed) when nothing else draws. A run speaks one protocol, so one generator serves
    whichever client it uses."""

    def __init__(self, seed: int):
        generator = random.Random(seed)
        self.draw = generator.random
        self.module = types.SimpleNamespace(random=generator.random)

    def __enter__(self) -> None:
        self.previous = py_order_utils_utils.random, v2_order_utils.random
        py_order_utils_utils.random = self.draw
        v2_order_utils.random = self.module

    def __exit__(self, *exc: object) -> Literal[False]:
        py_order_utils_utils.random, v2_order_utils.random = self.previous
        return False


Judge = Callable[[RunResult], list]


def run(
    scenario: Scenario,
    *,
    seed: int | None = None,
    mode: str = "fast",
    bot: Any = "core",
    out_dir: str | None = None,
    keep_ledger: bool = False,
    judge: Judge | None = None,
    protocol: str | None = None,
    log_level: int = logging.INFO,
    bot_env: Any = (),
    bot_positions: str | None = None,
    bot_stubs: str | None = None,
    stop_when: StopWhen | None = None,
) -> RunResult:
    """Run one scenario; returns audit events, the trace, and the final venue and ledger state.

    `bot` is "core", a zoo variant's name, a Bot subclass, or a bot of the user's own named by its
    entry point ("path/to/bot.py:main", "package.module:func"; sim.runner.foreign runs it), with
    `bot_env` (a mapping, or KEY=VALUE strings) added to its environment, `bot_positions` its
    positions hook and `bot_stubs` its stubs hook (same forms). A ForeignBot is taken as it is.

    `judge` (sim.checks passes its check_all) is called on the result while the ledger still
    exists, and its checks are kept in `result.checks`: the runner knows nothing of checks.

    The ledger lives in `out_dir` when given (as ledger.sqlite), else in a temporary folder that
    is removed afterwards unless keep_ledger (RunResult.ledger() then reopens it).

    `protocol` (v1 or v2) overrides the scenario's `market.protocol` (default v2).

    `log_level` is the lowest level written to audit.log and audit.jsonl (out_dir runs only):
    INFO by default; logging.DEBUG adds the audit trail's DEBUG lines ("Starting notification
    retrieval process", every few seconds). The audit events a run collects, and so its checks,
    do not depend on it.

    `stop_when` (exploration's pilot runs, which read only the start of a run): asked every
    STOP_CHECK_EVERY simulated seconds, and at the window's end, with the trace so far and the
    moment it is complete up to; the run ends there once it says yes. What happened up to then
    is what a whole run has, the rest never happens; `result.simulated_seconds` says how far
    it went and `result.extras["stopped_at"]` that it was cut short.
    """
    seed = scenario.seed if seed is None else seed
    bot = foreign(bot, env_items(bot_env), bot_positions, bot_stubs)
    workdir = out_dir or (tempfile.mkdtemp(prefix="clobsim-") if keep_ledger else scratch_dir("clobsim-"))
    if out_dir:
        for name in ("audit.log", "audit.jsonl", "ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
            path = os.path.join(out_dir, name)
            if os.path.exists(path):
                os.remove(path)
    try:
        runner = _runner(bot)(scenario, seed, mode, bot, workdir, protocol)
        runner.stop_when = stop_when
        result = runner.execute(out_dir, log_level)
        if runner.stopped_at is not None:
            result.extras["stopped_at"] = result.simulated_seconds
        if judge is not None:
            result.checks = judge(result)
        if not (out_dir or keep_ledger):
            result.extras["ledger_snapshot"] = _final_snapshot(result)
        return result
    finally:
        if not (out_dir or keep_ledger):
            shutil.rmtree(workdir, ignore_errors=True)


def _final_snapshot(result: RunResult) -> dict:
    """The ledger's content, for results whose database file is not kept: read from core's last
    ledger (RunResult.final_ledger), since reopening the file would read the same rows again,
    for about as much as the rest of a run's teardown."""
    if result.final_ledger is not None:
        return _snapshot(result.final_ledger)
    ledger = Ledger(result.ledger_path)  # a foreign bot: it keeps its own books
    try:
        return _snapshot(ledger)
    finally:
        ledger.close()


def _snapshot(ledger: Ledger) -> dict:
    return {
        "trades": ledger.trades(),
        "orders": ledger.orders(),
        "fills": ledger.fills(),
        "positions": {t.trade_id: ledger.position(t.trade_id) for t in ledger.trades()},
    }
