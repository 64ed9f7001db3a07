"""The pytest plugin: a bot author's own test file, in its own pytest session, uses `clob_sim`."""

import pytest

AUTHOR_TESTS = """
import pytest
from core.bot import Bot
from core.fills import FillPath
from core.model import FillSeen


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


def test_a_fault_of_my_choosing(clob_sim):
    scenario = clob_sim.scenario(faults=[{"kind": "cancel_race", "trade": 1, "order": "scale-in"}])
    clob_sim.assert_safe(clob_sim.run(scenario))


def test_exploration_finds_my_bug(clob_sim):
    found = clob_sim.explore(bot=SloppyBot, examples=20, seed=0)
    assert found.path is not None and found.failures
"""


@pytest.mark.slow
def test_a_bot_author_tests_their_own_bot_with_the_clob_sim_fixture(pytester):
    pytester.makepyfile(test_author=AUTHOR_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=4)
