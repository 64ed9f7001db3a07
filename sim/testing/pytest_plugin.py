"""clobsim's pytest plugin: the `clob_sim` fixture, for bot authors testing their own code.

Installed with clobsim (entry point `pytest11`), so any test can ask for it:

    from clobsim.core.bot import Bot
    from clobsim.core.reconciliation import Reconciler

    class MyReconciler(Reconciler):
        ...                                  # your change to the position manager

    class MyBot(Bot):
        reconciler_class = MyReconciler

    def test_my_bot_survives_a_cancel_race(clob_sim):
        scenario = clob_sim.scenario(
            # a taker sweeps the crowd's asks and fills the exit plan while the scale-in still rests,
            # so the bot must cancel the scale-in: the race lands between its status read and its cancel
            events=[{"at": 700, "kind": "take", "token": "UP", "side": "BUY", "size": 1000, "price": 0.99}],
            faults=[
                {"kind": "cancel_race", "trade": 1, "order": "scale-in"},
                {"kind": "notification_drop", "from": 700, "to": 720},  # only a read after the cancel finds the fill
            ],
        )
        clob_sim.assert_safe(clob_sim.run(scenario, bot=MyBot))

    def test_my_bot_passes_the_library(clob_sim, clob_scenario):   # one test per library scenario
        clob_sim.assert_safe(clob_sim.run(clob_scenario, bot=MyBot))

    def test_exploration_finds_nothing(clob_sim):
        clob_sim.assert_safe(clob_sim.explore(bot=MyBot, examples=200))

assert_safe fails the test with one message a reader can act on: the invariant or expectation
that failed, its evidence, the faults that never fired (a fault that never fires tests nothing,
so it fails the test too unless `require_faults=False`), and the command that runs it again.
This is the README's example ("For bot authors"), which tests/test_plugin.py runs as written: with
a smaller taker the exit fills before the scale-in is cancelled and the cancel race never fires.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest

# A quiet window in which the bot scales in, its exit fills at 0.99, and the market resolves Up.
BASE_SCENARIO = {
    "name": "pytest",
    "seed": 1,
    "market": {
        "price_model": {"kind": "scripted", "start": 0.70, "points": [{"at": 480, "price": 0.76}]},
        "taker_flow": {"rate": 0},
    },
    "events": [
        {"at": 600, "kind": "take", "token": "UP", "side": "SELL", "size": 400, "price": 0.75},
        {"at": 700, "kind": "take", "token": "UP", "side": "BUY", "size": 100, "price": 0.99},
    ],
    "trades": [{"id": 1, "at": 300, "side": "UP", "price": 0.70, "size": 10.5, "confidence": 0.85}],
}


class ClobSim:
    """What the fixture hands a test: build scenarios, run them against a bot, check them."""

    def __init__(self, workdir: str):
        self.workdir = workdir
        self._runs = 0

    def scenario(self, **fields):
        """A scenario from the base quiet window, with the given top-level fields replaced."""
        from clobsim.sim.runner.scenario import from_dict  # noqa: PLC0415 - the plugin loads with every pytest session

        data = copy.deepcopy(BASE_SCENARIO)
        data.update(copy.deepcopy(fields))
        return from_dict(data, "<clob_sim.scenario>")

    def load(self, path: str):
        from clobsim.sim.runner.scenario import load  # noqa: PLC0415 - the plugin loads with every pytest session

        return load(path)

    def run(
        self,
        scenario,
        *,
        bot: Any = "core",
        seed: int | None = None,
        mode: str = "fast",
        bot_env: Any = (),
        bot_positions: str | None = None,
        bot_stubs: str | None = None,
    ):
        """Run a Scenario (or a path to a scenario file); the result carries every check.

        `bot` may be your own program, named by its entry point ("path/to/bot.py:main" or
        "package.module:func", docs/own-bot.md), with `bot_env` ({KEY: VALUE}), its
        `bot_positions` and `bot_stubs` hooks; it runs in wire mode, on the real clients it creates.

        The run's files (audit.log, trace.jsonl, ...) are kept in the test's tmp_path, with the
        scenario as scenario.yaml when it was built in memory, so a failure can be run again."""
        import yaml  # noqa: PLC0415 - the plugin loads with every pytest session

        from clobsim.sim.checks import run  # noqa: PLC0415 - the plugin loads with every pytest session

        if isinstance(scenario, (str, os.PathLike)):
            scenario = self.load(str(scenario))
        self._runs += 1
        out = os.path.join(self.workdir, f"run-{self._runs}-{scenario.name}")
        from clobsim.sim.bots import foreign  # noqa: PLC0415 - the plugin loads with every pytest session
        from clobsim.sim.bots.foreign import env_items  # noqa: PLC0415 - the plugin loads with every pytest session

        bot = foreign(bot, env_items(bot_env), bot_positions, bot_stubs)
        result = run(scenario, bot=bot, seed=seed, mode=mode, out_dir=out)
        source = scenario.source
        if not (source and os.path.isfile(source)):
            source = os.path.join(out, "scenario.yaml")
            with open(source, "w", encoding="utf-8") as handle:
                yaml.safe_dump(scenario.raw, handle, sort_keys=False, allow_unicode=True)
        result.extras["clob_sim"] = {"file": source, "bot": bot, "out": out}
        return result

    def run_library(self, *, bot: Any = "core", mode: str = "fast", folder: str | None = None):
        """Every library scenario run against the bot (prefer the `clob_scenario` fixture: one
        test per scenario, each failing on its own)."""
        from clobsim.sim.runner.library import library_folder  # noqa: PLC0415 - the plugin loads with every pytest session
        from clobsim.sim.runner.scenario import discover  # noqa: PLC0415 - the plugin loads with every pytest session

        return [self.run(path, bot=bot, mode=mode) for path in discover([folder or library_folder()])]

    def explore(self, *, bot: Any = "core", examples: int = 200, seed: int = 0):
        """A seeded exploration (sim.explore.search) of the bot; the default 200 examples find
        most zoo variants at seed 0 (README: "For bot authors")."""
        from clobsim.sim.explore.search import explore  # noqa: PLC0415 - the plugin loads with every pytest session

        return explore(bot=bot, seed=seed, examples=examples, out=os.path.join(self.workdir, "explored"), progress=None)

    @staticmethod
    def assert_safe(result, *, require_faults: bool = True) -> None:
        """Fail the test with the evidence when any invariant or expectation failed, or (with
        require_faults) when one of the scenario's faults never fired. Takes a run's result or
        an exploration (which fails when it found a violation)."""
        if hasattr(result, "summary"):  # an Exploration
            if result.found is not None:
                raise AssertionError(result.summary())
            return
        message = failure_message(result, require_faults=require_faults)
        if message:
            raise AssertionError(message)


def unfired_faults(result) -> list[str]:
    """The scenario's faults that left no fault record in the trace, described (every kind's
    firing is recorded with the fault's index: sim.trace.fires_per_fault counts them)."""
    from clobsim.sim.trace import fault_records, fires_per_fault  # noqa: PLC0415 - the plugin loads with every pytest session

    faults = list((result.scenario.raw or {}).get("faults") or [])
    counts = fires_per_fault(faults, fault_records(result.trace))
    described = []
    for index, (fault, count) in enumerate(zip(faults, counts, strict=True)):
        if count == 0:
            params = ", ".join(f"{k}={v}" for k, v in fault.items() if k != "kind")
            described.append(f"faults[{index}] {fault.get('kind')}" + (f" ({params})" if params else ""))
    return described


def failure_message(result, *, require_faults: bool = True) -> str:
    """The assertion message for a run, or "" when it is safe."""
    from clobsim.sim.bots import bot_name  # noqa: PLC0415 - the plugin loads with every pytest session
    from clobsim.sim.explore.search import reproduce_hint  # noqa: PLC0415 - the plugin loads with every pytest session

    failures = result.failures
    unfired = unfired_faults(result) if require_faults else []
    if not failures and not unfired:
        return ""
    meta = result.extras.get("clob_sim", {})
    bot = meta.get("bot", result.bot)
    lines = []
    if failures:
        first = failures[0]
        lines.append(f"{first.id} failed for bot {bot_name(bot)} on {result.scenario.name}: {first.message}")
    else:
        lines.append(f"{unfired[0]} never fired on {result.scenario.name}: the run tests nothing of it")
    lines.append(f"  (seed {result.seed}, {result.mode} mode, {result.simulated_seconds:.0f} simulated seconds)")
    for check in failures:
        lines.append(f"  {check.kind} {check.id}: {check.message}")
        lines.extend(f"    {item}" for item in check.evidence)
    for fault in unfired:
        lines.append(f"  fault that never fired: {fault}")
    if "file" in meta:
        hint = reproduce_hint(meta["file"], bot)
        if isinstance(bot, str) and result.seed != result.scenario.seed:
            hint += f" --seed {result.seed}"
        lines.append(f"  reproduce: {hint}")
        lines.append(f"  run files: {meta['out']}")
    return "\n".join(lines)


@pytest.fixture
def clob_sim(tmp_path) -> ClobSim:
    """Run clobsim scenarios and exploration against your own Bot subclass."""
    return ClobSim(str(tmp_path))


@pytest.fixture
def clob_scenario(request) -> str:
    """The path of one library scenario: a test asking for it runs once per scenario of the
    library shipped with clobsim (ids are the scenario files' names)."""
    return request.param


def pytest_generate_tests(metafunc) -> None:
    if "clob_scenario" not in metafunc.fixturenames:
        return
    from clobsim.sim.runner.library import library_files, library_folder  # noqa: PLC0415 - only for tests that ask

    folder = library_folder()
    paths = library_files()
    ids = [os.path.relpath(path, folder)[: -len(".yaml")] for path in paths]
    metafunc.parametrize("clob_scenario", paths, ids=ids, indirect=True)
