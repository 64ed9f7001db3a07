"""The pytest plugin: a bot author's own test file, in its own pytest session, uses `clob_sim`."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from clobsim.sim.bots import bot_slug
from clobsim.sim.runner.library import library_files
from clobsim.sim.runner.scenario import load

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir))
README = os.path.join(ROOT, "README.md")


@pytest.fixture(autouse=True)
def this_checkout_first(monkeypatch):
    # the author's session is a subprocess: make it load the plugin from this checkout, not from
    # wherever the virtualenv's clobsim was installed from
    monkeypatch.setenv("PYTHONPATH", ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


AUTHOR_TESTS = """
import pytest
from clobsim.core.bot import Bot
from clobsim.core.fills import FillPath
from clobsim.core.model import FillSeen


class SloppyFills(FillPath):
    def apply(self, fill, *, source, detection="Delayed"):
        if source == "notification":  # the author's bug: notifications get their own keys
            fill = FillSeen(fill.trade_id + "/n", fill.order_id, fill.size, fill.price, fill.status)
        return super().apply(fill, source=source, detection=detection)


class SloppyBot(Bot):
    fill_path_class = SloppyFills


def test_the_reference_bot_is_safe(clob_sim):
    clob_sim.assert_safe(clob_sim.run(clob_sim.scenario()))


def test_my_bot_is_caught_double_counting(clob_sim):
    result = clob_sim.run(clob_sim.scenario(), bot=SloppyBot)
    with pytest.raises(AssertionError, match="ledger-matches-exchange"):
        clob_sim.assert_safe(result)


def test_a_fault_that_never_fires_fails_the_test(clob_sim):
    # the base window's scale-in fills before the exit: nothing is cancelled, so no race
    result = clob_sim.run(clob_sim.scenario(faults=[{"kind": "cancel_race", "trade": 1, "order": "scale-in"}]))
    assert result.passed
    with pytest.raises(AssertionError, match=r"faults\\[0\\] cancel_race \\(trade=1, order=scale-in\\) never fired"):
        clob_sim.assert_safe(result)
    clob_sim.assert_safe(result, require_faults=False)


def test_exploration_finds_my_bug(clob_sim):
    found = clob_sim.explore(bot=SloppyBot, examples=20, seed=0)
    assert found.path is not None and found.failures
    with pytest.raises(AssertionError) as caught:
        clob_sim.assert_safe(found)
    print("EXPLORE-MESSAGE", caught.value)
    print("EXPLORE-FILE", found.path)
"""


@pytest.mark.slow  # a whole pytest session of an author's tests (explorations included)
def test_a_bot_author_tests_their_own_bot_with_the_clob_sim_fixture(pytester):
    pytester.makepyfile(test_author=AUTHOR_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-s")
    result.assert_outcomes(passed=4)
    output = result.stdout.str()
    (path,) = re.findall(r"EXPLORE-FILE (\S+)", output)
    # named after the class, in a form `clobsim run` accepts; the message shows the finding
    assert os.path.basename(path).startswith("sloppy-bot-ledger-matches-exchange-")
    assert load(path).name == os.path.basename(path)[: -len(".yaml")]
    assert "explore [test_author.SloppyBot] found a violation" in output
    assert "ledger-matches-exchange: the ledger's position differs from the exchange's fills" in output
    assert f"reproduce: clob_sim.run({path!r}, bot=SloppyBot)" in output


def readme_plugin_example() -> str:
    with open(README, encoding="utf-8") as handle:
        text = handle.read()
    section = text[text.index("## For bot authors: the pytest plugin") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow  # a whole pytest session of an author's tests (explorations included)
def test_the_readme_plugin_example_runs_as_written_and_core_passes_it(pytester):
    pytester.makepyfile(test_readme=readme_plugin_example())
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    # the cancel race, one test per library scenario, the exploration: every library scenario's
    # faults fire under core (get-order-null-after-immediate-match was redesigned so that its
    # order_not_found_after_match bites), so assert_safe passes each one
    result.assert_outcomes(passed=1 + len(library_files()) + 1)


def test_the_readme_plugin_example_fails_a_bot_with_the_check_then_cancel_bug(pytester):
    example = readme_plugin_example()
    buggy = example.replace(
        "class MyReconciler(Reconciler):\n    ...  # your change to the position manager",
        "from clobsim.sim.bots.zoo import CheckThenCancelReconciler as MyReconciler",
    )
    assert buggy != example
    pytester.makepyfile(test_readme=buggy)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-k", "cancel_race")
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "AssertionError: ledger-matches-exchange failed for bot test_readme.MyBot on pytest" in output
    assert "trade #1: ledger position 0.00, exchange 10.50 (entry 10.50 + bought 10.50 - sold 10.50)" in output
    assert re.search(r"reproduce: clob_sim\.run\('.*/scenario\.yaml', bot=MyBot\)", output)


def test_the_readme_cancel_race_fires_under_core(tmp_path):
    from clobsim.sim.testing.pytest_plugin import ClobSim

    namespace: dict = {}
    exec(compile(readme_plugin_example(), "README.md", "exec"), namespace)  # the README's own scenario
    clob_sim = ClobSim(str(tmp_path))
    captured = {}
    clob_sim.assert_safe = lambda result: captured.setdefault("result", result)
    namespace["test_my_bot_survives_a_cancel_race"](clob_sim)
    result = captured["result"]
    fired = [(r["kind"], r["index"]) for r in result.trace if r["type"] == "fault"]
    assert ("cancel_race", 0) in fired and ("notification_drop", 1) in fired
    assert result.passed


def test_one_test_per_library_scenario_named_after_its_file(pytester):
    pytester.makepyfile(test_lib="def test_each(clob_scenario):\n    assert clob_scenario.endswith('.yaml')\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--collect-only")
    output = result.stdout.str()
    for path in library_files():
        name = os.path.basename(path)[: -len(".yaml")]
        assert f"test_each[{name}]" in output or f"test_each[regressions/{name}]" in output, name


def test_a_class_bot_gets_a_file_name_the_cli_accepts():
    class MyBot:
        pass

    class HTTPBot2:
        pass

    assert bot_slug(MyBot) == "my-bot"
    assert bot_slug(HTTPBot2) == "httpbot2"
    assert bot_slug("double-count") == "double-count"
    pattern = yaml.safe_load(open(os.path.join(ROOT, "scenarios", "scenario.schema.json")))
    assert re.fullmatch(pattern["properties"]["name"]["pattern"], "my-bot-ledger-matches-exchange-1a2b3c4d")


FOREIGN_AUTHOR_TESTS = """
import os
import pytest

RACEBOT = {racebot!r}
SCENARIO = os.path.join(RACEBOT, "scenarios", "cancel-race-at-exit.yaml")


def test_my_bot_survives_the_cancel_race(clob_sim):
    clob_sim.assert_safe(clob_sim.run(SCENARIO, bot=os.path.join(RACEBOT, "bot.py:main")))


def test_my_bot_with_the_race_bug_is_caught(clob_sim):
    result = clob_sim.run(
        SCENARIO,
        bot=os.path.join(RACEBOT, "bot.py:main"),
        bot_env={{"RACEBOT_BUG": "1"}},
        bot_positions=os.path.join(RACEBOT, "bot.py:positions"),
    )
    with pytest.raises(AssertionError) as caught:
        clob_sim.assert_safe(result)
    print("MESSAGE-START")
    print(caught.value)
"""


def test_a_bot_author_tests_their_own_program_through_the_plugin(pytester):
    pytester.makepyfile(test_foreign=FOREIGN_AUTHOR_TESTS.format(racebot=os.path.join(ROOT, "examples", "racebot")))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-s")
    result.assert_outcomes(passed=2)
    message = result.stdout.str().split("MESSAGE-START", 1)[1]
    racebot = os.path.join(ROOT, "examples", "racebot")
    assert message.splitlines()[1].startswith(
        f"ledger-matches-exchange failed for bot {racebot}/bot.py:main --bot-env RACEBOT_BUG=1 "
        f"--bot-positions {racebot}/bot.py:positions on racebot-cancel-race-at-exit: "
        "the bot's positions differ from the exchange's fills"
    )
    assert "the bot believes it holds 0.00, exchange 10.50 (entry 10.50 + bought 10.50 - sold 10.50)" in message
    assert "  invariant exit-covers-position: the exit plan did not cover the position" in message
    assert (
        f"  reproduce: clobsim run {racebot}/scenarios/cancel-race-at-exit.yaml --bot {racebot}/bot.py:main "
        f"--bot-env RACEBOT_BUG=1 --bot-positions {racebot}/bot.py:positions" in message
    )
