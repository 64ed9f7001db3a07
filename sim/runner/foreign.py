"""One run of a foreign bot: the user's own program, unmodified, against the simulated CLOB.

    sim.run(scenario, bot=ForeignBot("examples/racebot/bot.py:main", env=(("RACEBOT_BUG", "1"),)))

The venue, market, faults and trace are the harness's (sim.runner.harness._Run); what differs is
the bot. Its entry function runs as the main task of the kernel, with, for the run's duration:
- its threads, sleeps, locks, events, conditions, semaphores and queues cooperative on virtual
  time (sim.runner.coop), its clocks frozen to the virtual one (freezegun, as for core);
- every HTTP request answered in process (sim.clients.services): the real clients reach the
  simulated CLOB whatever host they were given (wire mode, always), Gamma and the Data API are
  answered from the venue, other hosts by the scenario's `bot_stubs` or a stubs hook (whose
  failure, being the user's code, is the bot's crash);
- a fresh working directory `<run>/bot/` (the process's cwd while the bot runs, and
  $CLOBSIM_WORKDIR) for its files, SQLite and locks; its environment: CONNECTION_ENV plus the
  user's --bot-env;
- its log records (from its own files' code) captured as the run's audit lines, so a scenario's
  audit expectations apply to them.

What the scenario's `trades` mean to a foreign bot: at each trade's `at` the venue credits the
bot's account with `size` shares of the trade's token (the entry it holds), which the bot sees
in its balance and in the Data API's positions. A bot_crash fault stops every task of the bot and
calls its entry function again, in the same working directory.

The run ends at the horizon whatever the bot does; what the bot could not be allowed to do (spin,
call an unstubbed host, start asyncio) is kept in RunResult.bot_stopped, which the bot-contained
check reports. An exception escaping any of its threads is a no-crash failure.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal, InvalidOperation
from typing import Any

from clobsim.core.audit import AuditEvent, attach_file_logs, detach
from clobsim.sim.bots.foreign import BotLoadError, ForeignBot, fresh_imports, load
from clobsim.sim.clients.services import BotNetwork, ClobChannel, Services, Stub, url_parts
from clobsim.sim.clients.virtual_time import virtual_sleeps
from clobsim.sim.clients.wire import SimTransport, installed
from clobsim.sim.exchange.protocol import V1
from clobsim.sim.faults import CATALOGUE
from clobsim.sim.runner.coop import Cooperative
from clobsim.sim.runner.harness import (
    BOT_CREDS,
    BOT_KEY,
    CHAIN_ID,
    HOST,
    RUNNERS,
    RunResult,
    _order_salts,
    _Run,
    run_logger,
)
from clobsim.sim.trace import HarnessAction, TraceType

# The environment every foreign bot gets: the names py-clob-client's examples read, and the
# market's slug (a bot finds the market through Gamma by it). --bot-env adds and overrides.
CONNECTION_ENV = ("CLOB_HOST", "CHAIN_ID", "PK", "CLOB_API_KEY", "CLOB_SECRET", "CLOB_PASS_PHRASE", "MARKET_SLUG")
LEVEL_KIND = {logging.DEBUG: "external.debug", logging.INFO: "external.info", logging.WARNING: "external.warning"}


class ForeignRun(_Run):
    def __init__(self, scenario: Any, seed: int, mode: str, bot: Any, workdir: str, protocol: str | None = None):
        super().__init__(scenario, seed, "wire", bot, workdir, protocol)  # the bot's own clients: wire
        self.spec: ForeignBot = bot
        self.bot_dir = os.path.join(os.path.abspath(workdir), "bot")
        self.coop = Cooperative(self.kernel, spin_limit=bot.spin_limit)
        self.generation = 0
        self.entry: Any = None

    def _resolve(self, bot: Any) -> Any:
        return None  # loaded when the run begins, under the run's patches

    # ---- the bot's world ---------------------------------------------------------------------

    def bot_env(self) -> dict[str, str]:
        env = {
            "CLOB_HOST": HOST,
            "CHAIN_ID": str(CHAIN_ID),
            "PK": BOT_KEY,
            "CLOB_API_KEY": BOT_CREDS.api_key,
            "CLOB_SECRET": BOT_CREDS.api_secret,
            "CLOB_PASS_PHRASE": BOT_CREDS.api_passphrase,
            "MARKET_SLUG": self.market.slug,
            "CLOBSIM_WORKDIR": self.bot_dir,
        }
        env.update(dict(self.spec.env))
        return env

    def stubs(self) -> list[Stub]:
        """The scenario's `bot_stubs`, in order (a stubs hook, when given, is asked after them)."""
        return [_scenario_stub(item) for item in self.scenario.bot_stubs]

    # ---- the bot's host (BotHost) ------------------------------------------------------------

    def bot_is_up(self) -> bool:
        return bool(self.bot_up.triggered)

    def kill_bot(self) -> None:
        self.coop.kill_all()
        self.bot_up = self.env.event()

    def replace_bot(self) -> None:
        pass  # the same program starts again, on the files it left

    def start_bot(self) -> None:
        self.generation += 1
        entry = self.entry
        self.tasks.append(self.coop.spawn_main("main", lambda: entry()))
        self._trace(TraceType.BOT, action="started", generation=self.generation)
        if not self.bot_up.triggered:
            self.bot_up.succeed()

    def _open_trades(self):
        for spec in sorted(self.scenario.trades, key=lambda t: (t.at, t.id)):
            yield self.env.timeout(max(0.0, self.scenario.window_start + spec.at - self.env.now))
            token = self.trade_tokens[spec.id]
            self.venue.deposit(BOT_CREDS.api_key, token, spec.size)
            self._trace(
                TraceType.HARNESS, action=HarnessAction.OPEN_TRADE, trade=spec.id, token=token, size=str(spec.size)
            )

    # ---- the run -----------------------------------------------------------------------------

    def execute(self, out_dir: str | None, log_level: int = logging.INFO) -> RunResult:
        shutil.rmtree(self.bot_dir, ignore_errors=True)
        os.makedirs(self.bot_dir)
        network = BotNetwork(
            SimTransport(self.gateway),
            Services(self.venue, self.address, BOT_CREDS.api_key),
            self.stubs(),
            self.coop.active,
        )
        believed = None
        with ExitStack() as stack:
            run_logger(files=bool(out_dir), level=log_level)
            if out_dir:
                os.makedirs(out_dir, exist_ok=True)
                handlers = attach_file_logs(
                    self.logger,
                    master_path=os.path.abspath(os.path.join(out_dir, "audit.log")),
                    jsonl_path=os.path.abspath(os.path.join(out_dir, "audit.jsonl")),
                    level=log_level,
                )
                stack.callback(detach, self.logger, handlers)
            stack.enter_context(self.wall_clock)
            random.seed(self.seed)
            stack.enter_context(_order_salts(self.seed))
            stack.enter_context(virtual_sleeps(self.clock.sleep))
            stack.enter_context(installed(ClobChannel(network)))
            stack.enter_context(network.installed())
            stack.enter_context(_environment(self.bot_env()))
            stack.enter_context(_cwd(self.bot_dir))
            stack.enter_context(_seeded_uuids(self.seed))
            roots = stack.enter_context(fresh_imports(self.spec))
            stack.enter_context(_captured_logs(roots, min(log_level, logging.INFO), self._bot_line))
            stack.enter_context(self.coop.installed())
            hook, import_error = None, ""
            try:
                self.entry = load(self.spec.entry, self.spec.base)
                hook = load(self.spec.positions, self.spec.base) if self.spec.positions else None
                if self.spec.stubs:
                    network.stubs.append(load(self.spec.stubs, self.spec.base))
            except BotLoadError:
                raise
            except Exception as exc:  # the bot's own module failed as it was imported: its crash
                import_error = f"import {self.spec.entry}: {type(exc).__name__}: {exc}"
            self._trace(
                TraceType.HARNESS,
                action=HarnessAction.BEGIN,
                scenario=self.scenario.name,
                seed=self.seed,
                mode=self.mode,
                bot=self.spec.name,
                **({} if self.protocol == V1 else {"protocol": self.protocol}),
            )
            self.model.begin()
            self.network.begin()
            self.env.process(self._open_trades())
            self.env.process(self._housekeeping())
            for index, fault in enumerate(self.scenario.faults):
                CATALOGUE[fault.kind].begin_bot(self, fault, index)
            if not import_error:
                self.start_bot()
            self.run_to_end()
            self.kernel.close()
            if hook is not None:
                believed = self._believed(hook)
            self._trace(TraceType.HARNESS, action=HarnessAction.END)
        return self._result(
            ledger_path="",
            task_errors=[import_error] * bool(import_error)
            + [f"{t.name}: {t.error_text}" for t in self.kernel.tasks if t.error is not None],
            bots_started=self.generation,
            foreign=True,
            bot_stopped=self.coop.stopped + network.refused,
            believed_positions=believed,
        )

    def _bot_line(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            line += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        kind = LEVEL_KIND.get(record.levelno, "external.error" if record.levelno > logging.INFO else "external.debug")
        event = AuditEvent(float(self.env.now), kind, {"line": line})
        self.events.append(event)
        if self.logger.isEnabledFor(event.level):
            self.logger.log(event.level, line, extra={"audit_event": event})

    def _believed(self, hook: Any) -> dict[str, Decimal] | None:
        """The positions hook's answer, {token id: shares}; a hook that fails is reported."""
        try:
            answer = hook()
            return {str(token): Decimal(str(size)) for token, size in sorted(dict(answer).items())}
        except (Exception, InvalidOperation) as exc:  # the user's code: any failure is reported, not raised
            self.coop.stopped.append(f"the positions hook {self.spec.positions} failed: {type(exc).__name__}: {exc}")
            return None


def _scenario_stub(item: dict) -> Stub:
    host, prefix = item["host"], item.get("path", "/")
    method, status, body = item.get("method"), int(item.get("status", 200)), item.get("body")

    def stub(request_method: str, url: str) -> tuple[int, Any] | None:
        request_host, path = url_parts(url)
        if request_host != host or not path.startswith(prefix) or (method and method != request_method):
            return None
        return status, body

    return stub


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _seeded_uuids(seed: int) -> Iterator[None]:
    """uuid.uuid4 (a bot's client order ids, request ids) drawn from the run's seed, so the ids
    a bot logs are the same in every run of the scenario. os.urandom and secrets stay real."""
    generator = random.Random(f"{seed}:uuid")
    real = uuid.uuid4

    def uuid4() -> uuid.UUID:
        return uuid.UUID(int=generator.getrandbits(128), version=4)

    uuid.uuid4 = uuid4
    try:
        yield
    finally:
        uuid.uuid4 = real


@contextmanager
def _cwd(path: str) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


class _BotLines(logging.Handler):
    """The bot's log records (those its own files emit) as audit lines."""

    def __init__(self, roots: list[str], sink: Any):
        super().__init__(logging.DEBUG)
        self.roots = [root + os.sep for root in roots]
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if any(record.pathname.startswith(root) for root in self.roots):
            self.sink(record)


@contextmanager
def _captured_logs(roots: list[str], level: int, sink: Any) -> Iterator[None]:
    """Capture at `level` and up whatever logging setup the bot makes: the root logger gets the
    capturing handler first (a bot's logging.basicConfig then adds no stderr handler) and the level."""
    root = logging.getLogger()
    handler = _BotLines(roots, sink)
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


RUNNERS[ForeignBot] = ForeignRun

__all__ = ["ForeignRun"]
