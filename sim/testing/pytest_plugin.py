"""clobsim's pytest plugin: the `clob_sim` fixture, for bot authors testing their own code.

Installed with clobsim (entry point `pytest11`), so any test can ask for it:

    from core.bot import Bot
    from core.monitor import Monitor

    class MyMonitor(Monitor):
        ...                                  # your change to the position manager

    class MyBot(Bot):
        monitor_class = MyMonitor

    def test_my_bot_survives_a_cancel_race(clob_sim):
        scenario = clob_sim.scenario(faults=[{"kind": "cancel_race", "trade": 1, "order": "scale-in"}])
        clob_sim.assert_safe(clob_sim.run(scenario, bot=MyBot))

    def test_my_bot_against_the_library(clob_sim):
        for result in clob_sim.run_library(bot=MyBot):
            clob_sim.assert_safe(result)

    def test_exploration_finds_nothing(clob_sim):
        assert clob_sim.explore(bot=MyBot, examples=30).path is None
"""

from __future__ import annotations

import copy
import os

import pytest

LIBRARY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scenarios")

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
        from sim.runner.scenario import from_dict  # noqa: PLC0415 - the plugin loads with every pytest session

        data = copy.deepcopy(BASE_SCENARIO)
        data.update(copy.deepcopy(fields))
        return from_dict(data, "<clob_sim.scenario>")

    def load(self, path: str):
        from sim.runner.scenario import load  # noqa: PLC0415 - the plugin loads with every pytest session

        return load(path)

    def run(self, scenario, *, bot="core", seed: int | None = None, mode: str = "fast"):
        """Run a Scenario (or a path to a scenario file); the result carries every check."""
        from sim.checks import run  # noqa: PLC0415 - the plugin loads with every pytest session

        if isinstance(scenario, (str, os.PathLike)):
            scenario = self.load(str(scenario))
        self._runs += 1
        out = os.path.join(self.workdir, f"run-{self._runs}-{scenario.name}")
        return run(scenario, bot=bot, seed=seed, mode=mode, out_dir=out)

    def run_library(self, *, bot="core", mode: str = "fast", folder: str = LIBRARY):
        from sim.runner.scenario import discover  # noqa: PLC0415 - the plugin loads with every pytest session

        return [self.run(path, bot=bot, mode=mode) for path in discover([folder])]

    def explore(self, *, bot="core", examples: int = 50, seed: int = 0):
        from sim.explore.search import explore  # noqa: PLC0415 - the plugin loads with every pytest session

        return explore(bot=bot, seed=seed, examples=examples, out=os.path.join(self.workdir, "explored"), progress=None)

    @staticmethod
    def assert_safe(result) -> None:
        """Fail the test with the evidence when any invariant or expectation failed."""
        if result.passed:
            return
        lines = [f"{result.scenario.name} (seed {result.seed}, {result.mode} mode, bot {result.bot}):"]
        for check in result.failures:
            lines.append(f"  {check.id}: {check.message}")
            lines.extend(f"    {item}" for item in check.evidence)
        raise AssertionError("\n".join(lines))


@pytest.fixture
def clob_sim(tmp_path) -> ClobSim:
    """Run clobsim scenarios and exploration against your own Bot subclass."""
    return ClobSim(str(tmp_path))
