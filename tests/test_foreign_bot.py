"""A bot of the user's own, run unchanged on virtual time: its threads, its network, its files,
and what the run does when it misbehaves. The bots are tests/foreign_bots/ and examples/racebot/."""

import os
import subprocess
import sys

import pytest

from clobsim.sim.bots.foreign import ForeignBot
from clobsim.sim.checks import run
from clobsim.sim.runner.scenario import from_dict
from clobsim.sim.tools.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOTS = os.path.join(ROOT, "tests", "foreign_bots")
RACEBOT = os.path.join(ROOT, "examples", "racebot")

QUIET = {
    "name": "foreign-quiet",
    "seed": 1,
    "market": {"symbol": "BTC", "price_model": {"kind": "scripted", "start": 0.80}, "taker_flow": {"rate": 0}},
    # these bots do not trade: their position opens after the last moment an exit must cover it
    "trades": [{"id": 1, "at": 880, "side": "UP", "price": 0.80, "size": 10.5}],
}


def quiet(**fields):
    return from_dict({**QUIET, **fields}, "<test>")


def bot(entry: str, **options) -> ForeignBot:
    return ForeignBot(os.path.join(BOTS, entry), **options)


def lines(result) -> list[str]:
    return result.lines


def failed(result) -> dict[str, tuple[str, ...]]:
    return {check.id: (check.message, *check.evidence) for check in result.failures}


def test_threads_locks_queues_and_timers_run_cooperatively_on_virtual_time():
    result = run(quiet(), bot=bot("threads_bot.py:main"))
    assert failed(result) == {}
    assert lines(result) == [
        "t=0.00 worker: holds the lock",
        "t=2.00 MainThread: took the lock after the worker",
        "t=2.00 MainThread: ready=True",
        "t=2.00 worker: got job a",
        "t=3.00 worker: got job b",
        "t=3.00 MainThread: worker alive=False",
        "t=6.00 MainThread: queue empty after 3s",
        "t=6.00 MainThread: semaphore busy=True",
        "t=8.50 MainThread: event wait timed out=True",
        "t=10.00 Thread-2: timer fired",
        "t=10.00 MainThread: monotonic advanced 10.00s, perf True",
        "t=10.00 MainThread: date 2025-11-25T00:00:10",
    ]


def test_gamma_and_data_api_are_answered_from_the_venue_and_other_hosts_by_stubs_or_refused():
    scenario = quiet(bot_stubs=[{"host": "prices.example.com", "path": "/v1/", "body": {"price": 97000}}])
    result = run(scenario, bot=bot("network_bot.py:main"))
    assert lines(result) == [
        "gamma: btc-updown-15m-1764028800 tokens True",
        "data: 0 positions",
        "feed: btc=97000",
        "refused: ConnectionError",
        "socket refused: ConnectionRefusedError",
    ]
    unstubbed = "the bot called GET unknown.example.org/secret/path, a host with no stub (add it to bot_stubs)"
    looked_up = "the bot looked up the address of 'example.net': only HTTP through httpx or requests is simulated"
    assert failed(result) == {"bot-contained": (unstubbed, unstubbed, looked_up)}


def test_a_bot_that_spins_without_sleeping_is_stopped_with_one_message_and_the_run_finishes():
    result = run(quiet(), bot=bot("misbehaving_bots.py:spins", spin_limit=0.3))
    assert lines(result) == ["about to spin"]
    message = "the bot's thread 'main' ran 0.3 s without sleeping or waiting (a loop that never yields?)"
    assert list(failed(result)) == ["bot-contained"]
    assert failed(result)["bot-contained"][0].startswith(message)
    assert result.simulated_seconds == 1050.0 and result.trace[-1]["action"] == "end"


def test_a_thread_that_never_yields_stops_the_whole_bot_with_one_message():
    result = run(quiet(), bot=bot("misbehaving_bots.py:spins_in_a_thread", spin_limit=0.3))
    assert lines(result) == ["main still sleeping"]
    assert list(failed(result)) == ["bot-contained"]
    assert failed(result)["bot-contained"][0].startswith("the bot's thread 'busy' ran 0.3 s without sleeping")


def test_a_bot_that_loops_forever_ends_at_the_horizon():
    result = run(quiet(), bot=bot("misbehaving_bots.py:loops_forever"))
    assert failed(result) == {}
    assert result.trace[-1]["t"] == QUIET_END


QUIET_END = 1_764_028_800 + 900 + 30 + 120  # window start + length + resolution delay + settling


def test_asyncio_is_refused_with_a_message_naming_it():
    result = run(quiet(), bot=bot("misbehaving_bots.py:uses_asyncio"))
    message = (
        "asyncio.run: a foreign bot's asyncio loop is not supported on virtual time "
        "(run threads, time.sleep and the blocking clients; docs/own-bot.md)"
    )
    assert failed(result)["bot-contained"] == (message, message)
    assert failed(result)["no-crash"] == ("an exception escaped a bot task", f"main: Unsupported: {message}")


def test_an_exception_escaping_the_bot_is_a_no_crash_failure():
    result = run(quiet(), bot=bot("misbehaving_bots.py:crashes"))
    assert failed(result) == {
        "no-crash": ("an exception escaped a bot task", "main: ValueError: the strategy divided by zero")
    }


def test_the_bot_works_in_a_fresh_directory_of_its_own_with_the_environment_it_was_given(tmp_path):
    out = tmp_path / "run"
    result = run(quiet(), bot=bot("misbehaving_bots.py:writes_files", env=(("GREETING", "hello"),)), out_dir=str(out))
    assert lines(result) == ["cwd is the run's: True", "env: hello"]
    assert (out / "bot" / "state.txt").read_text() == "kept\n"
    assert os.getcwd() != str(out / "bot") and "GREETING" not in os.environ


def test_racebot_passes_its_scenarios_and_its_race_bug_fails_named_invariants_with_evidence(capsys, tmp_path):
    entry = os.path.join(RACEBOT, "bot.py:main")
    scenarios = os.path.join(RACEBOT, "scenarios")
    assert main(["run", scenarios, "--bot", entry, "--out", str(tmp_path / "safe")]) == 0
    assert "3 passed, 0 failed  (wire mode" in capsys.readouterr().out
    hook = os.path.join(RACEBOT, "bot.py:positions")
    args = ["run", scenarios, "--bot", entry, "--bot-env", "RACEBOT_BUG=1", "--bot-positions", hook]
    assert main([*args, "--out", str(tmp_path / "bug")]) == 1
    out = capsys.readouterr().out
    assert "FAIL racebot-cancel-race-at-exit" in out
    assert "  ledger-matches-exchange: the bot's positions differ from the exchange's fills\n" in out
    assert "the bot believes it holds 0.00, exchange 10.50 (entry 10.50 + bought 10.50 - sold 10.50)" in out
    assert "  exit-covers-position: the exit plan did not cover the position\n" in out
    assert "for 267s the bot held 10.50 shares with live exit orders for only 0.00" in out
    assert "2 passed, 1 failed" in out


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nope/bot.py:main", "--bot: nope/bot.py: no such file"),
        ("examples/racebot/bot.py:nope", "--bot: examples/racebot/bot.py: no function 'nope'"),
        ("examples/racebot/bot.py:EXIT_PRICE", "--bot: examples/racebot/bot.py: 'EXIT_PRICE' is not callable (float)"),
        ("no_such_module_here:main", "--bot: no_such_module_here: no such module"),
    ],
)
def test_a_bad_bot_entry_point_exits_2_with_one_message(value, message, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    assert main(["run", "examples/racebot/scenarios/", "--bot", value, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"clobsim: error: {message}")


def test_two_runs_of_racebot_in_two_processes_are_byte_identical(tmp_path):
    outputs = []
    for index, hashseed in enumerate(("1", "2")):
        out = tmp_path / f"run{index}"
        command = [sys.executable, "-m", "clobsim.sim.tools.cli", "run", os.path.join(RACEBOT, "scenarios")]
        command += ["--bot", os.path.join(RACEBOT, "bot.py:main"), "--out", str(out)]
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        subprocess.run(command, check=True, env=env, cwd=ROOT, capture_output=True, timeout=300)
        outputs.append(
            {
                (scenario, name): (out / scenario / name).read_bytes()
                for scenario in ("racebot-cancel-race-at-exit", "racebot-crash-and-restart", "racebot-day-in-the-life")
                for name in ("audit.log", "audit.jsonl", "trace.jsonl")
            }
        )
    assert outputs[0] == outputs[1]
    assert b"RACE CONDITION DETECTED" in outputs[0][("racebot-cancel-race-at-exit", "audit.log")]


def test_the_ids_and_numbers_a_bot_draws_are_the_same_in_every_run_of_a_seed():
    first, again = (run(quiet(), bot=bot("misbehaving_bots.py:draws_ids")).lines for _ in range(2))
    other = run(quiet(seed=2), bot=bot("misbehaving_bots.py:draws_ids")).lines
    assert first == again and first != other and first[0].startswith("ids ")


def test_every_real_client_the_bot_creates_reaches_the_simulated_clob_whatever_host_it_was_given():
    result = run(
        quiet(trades=[{"id": 1, "at": 0, "side": "UP", "price": 0.80, "size": 10.5}]), bot=bot("clients_bot.py:main")
    )
    assert result.lines == ["v1 book bids: 4", "v2 open orders: 0", "sdk shares: 10500000"]
    assert list(failed(result)) == ["exit-covers-position"]  # it only reads: the position it holds has no exit


def test_a_stubs_hook_answers_the_hosts_the_scenario_does_not_after_the_scenarios_own_stubs():
    scenario = quiet(bot_stubs=[{"host": "prices.example.com", "body": {"price": 97000}}])
    result = run(scenario, bot=bot("network_bot.py:main", stubs=os.path.join(BOTS, "network_bot.py:stubs")))
    assert result.lines[2:4] == ["feed: btc=97000", "other: {'ok': True}"]
    assert list(failed(result)) == ["bot-contained"]  # the socket, which no stub can answer


def test_a_blind_re_post_after_a_timeout_fails_no_duplicate_placement_with_both_orders_named():
    scenario = quiet(faults=[{"kind": "timeout_after_apply", "endpoint": "POST /order"}])
    result = run(scenario, bot=bot("reposting_bot.py:main"))
    assert result.lines == [
        "attempt 1: PolyApiException[status_code=None, error_message=Request exception!]",
        "attempt 2: live",
    ]
    message, evidence = failed(result)["no-duplicate-placement"]
    assert message == "an order whose outcome was unknown was placed twice"
    assert evidence.startswith("BUY 10 @ 0.5: order 0x") and "though the bot's answer was none (a timeout)" in evidence
    assert "; the bot placed the same order again at 2025-11-25 00:00:" in evidence
    assert list(failed(result)) == ["no-duplicate-placement"]  # its cancel_all then took both copies off the book


def test_a_bot_named_as_module_and_function_is_imported_from_where_it_was_named(monkeypatch):
    monkeypatch.chdir(os.path.join(ROOT, "tests"))
    result = run(quiet(), bot=ForeignBot("foreign_bots.misbehaving_bots:draws_ids"))
    assert result.lines[0].startswith("ids ") and failed(result) == {}


def test_replay_of_a_foreign_bots_run_says_how_to_run_it_again(capsys, tmp_path):
    out = tmp_path / "runs"
    scenario = os.path.join(RACEBOT, "scenarios", "day-in-the-life.yaml")
    assert main(["run", scenario, "--bot", os.path.join(RACEBOT, "bot.py:main"), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["replay", str(out / "racebot-day-in-the-life")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.endswith(f"replay takes clobsim's own bots; run a bot of your own again with: clobsim run {scenario} "
                         f"--seed 1 --mode wire --bot {RACEBOT}/bot.py:main "
                         "--out reports/reproduce/racebot-day-in-the-life")  # fmt: skip
