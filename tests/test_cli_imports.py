"""The CLI answers bad input before it loads the simulator.

Loading the harness, the real clients (their signing stack, pydantic models), hypothesis and
aiohttp takes seconds on a busy machine; a wrong path, field or flag must not wait for them. Each
test runs the CLI in a fresh interpreter and reads which heavy modules that interpreter loaded:
the assertion is on sys.modules, not on time, so it holds on any machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# what a run needs and bad input must never load
HEAVY = (
    "py_clob_client",
    "py_clob_client_v2",
    "polymarket",
    "eth_account",
    "pydantic",
    "simpy",
    "greenlet",
    "freezegun",
    "hypothesis",
    "httpx",
    "aiohttp",
    "matplotlib",
    "clobsim.sim.exchange.gateway",
    "clobsim.sim.runner.harness",
    "clobsim.sim.checks",
)

# main() in a fresh interpreter; argparse's own usage errors leave through SystemExit
PROBE = f"""
import json, sys
from clobsim.sim.tools.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def probe(*args: str, cwd: str = ROOT) -> tuple[int, list[str], str]:
    """(exit code, the heavy modules loaded, stderr) of `clobsim ARGS` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    return seen["code"], seen["heavy"], done.stderr


def one_message(err: str) -> str:
    lines = err.strip().splitlines()
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def bad_scenario(tmp_path) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "bad",
                "trades": [{"id": 1, "at": 5, "side": "UP", "price": 0.8, "size": 10, "confidence": 0.85}],
                "faults": [{"kind": "latency", "endpoint": "POST /order", "request_ms": 200, "at": -1}],
            }
        )
    )
    return str(path)


def test_a_missing_scenario_path_is_refused_without_loading_the_simulator():
    code, heavy, err = probe("run", "/nonexistent/scenarios")
    assert (code, heavy) == (2, [])
    assert one_message(err) == "clobsim: error: /nonexistent/scenarios: no such file"


def test_a_bad_scenario_field_is_refused_without_loading_the_simulator(bad_scenario):
    code, heavy, err = probe("run", bad_scenario)
    assert (code, heavy) == (2, [])
    assert one_message(err).startswith(f"clobsim: error: {bad_scenario}: faults[0].at: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--bot", "no-such-bot"), "clobsim: error: --bot: unknown bot 'no-such-bot'"),
        (("--bot", "/nonexistent/bot.py:main"), "clobsim: error: --bot: /nonexistent/bot.py: no such file"),
        (("--seed", "-1"), "clobsim: error: --seed: must be a whole number"),
        (("--workers", "0"), "clobsim: error: --workers: must be a positive number"),
        (("-k", "no-scenario-is-named-so"), "clobsim: error: -k 'no-scenario-is-named-so': no scenario"),
        (("--out", "README.md"), "clobsim: error: --out README.md: is a file"),
        (("--speed", "2"), "clobsim: error: --speed: only with --bot-cmd"),
        (("--seed", "abc"), "clobsim run: error: argument --seed: invalid int value: 'abc'"),
        (("--mode", "slow"), "clobsim run: error: argument --mode: invalid choice: 'slow'"),
    ],
)
def test_a_bad_flag_value_is_refused_without_loading_the_simulator(args, message):
    code, heavy, err = probe("run", "scenarios/", *args)
    assert (code, heavy) == (2, [])
    assert one_message(err).startswith(message)


SERVED = os.path.join("examples", "wsbots", "scenarios", "user-channel-fills.yaml")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", SERVED, "--bot-cmd", "true", "--speed", "-1"), "clobsim: error: --speed: must be a number"),
        (("run", SERVED, "--bot-cmd", "true", "--mode", "wire"), "clobsim: error: --mode: not with --bot-cmd"),
        (("run", SERVED, "--bot-cmd", "true", "--connect-timeout", "0"), "clobsim: error: --connect-timeout: "),
        (("run", "scenarios/", "--bot-cmd", "true"), "clobsim: error: run --bot-cmd: give exactly one scenario"),
        (("serve", SERVED, "--port", "99999"), "clobsim: error: --port: must be from 0"),
        (("serve", "/nonexistent.yaml"), "clobsim: error: /nonexistent.yaml: no such file"),
    ],
)
def test_bad_input_to_server_mode_is_refused_without_loading_the_server_or_the_simulator(args, message):
    code, heavy, err = probe(*args)
    assert (code, heavy) == (2, [])
    assert one_message(err).startswith(message)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("explore", "--budget", "-1"), "clobsim: error: --budget: must be a positive number"),
        (("explore", "--bot", "no-such-bot"), "clobsim: error: --bot: unknown bot 'no-such-bot'"),
        (("sweep", "scenarios/", "--bots", "no-such-bot"), "clobsim: error: --bots: unknown bot 'no-such-bot'"),
        (("bench", "--repeat", "0"), "clobsim: error: --repeat: must be a positive number"),
        (("replay", "/nonexistent/run"), "clobsim: error: /nonexistent/run: no such file or folder"),
        (("sweep", "scenarios/", "--seed-range", "5:1"), "clobsim: error: --seed-range: expected A:B with 0 <= A"),
        (("sweep", "/nonexistent.yaml"), "clobsim: error: /nonexistent.yaml: no such file"),
        (("report", "/nonexistent/run"), "clobsim: error: /nonexistent/run: no such folder"),
        (("report", "docs"), "clobsim: error: docs: not a clobsim run folder (no run.json)"),
    ],
)
def test_bad_input_to_the_other_commands_is_refused_without_loading_the_simulator(args, message):
    code, heavy, err = probe(*args)
    assert (code, heavy) == (2, [])
    assert one_message(err).startswith(message)


def test_the_probe_sees_the_simulator_when_a_command_loads_it():
    # `list invariants` reads the checks' registry, which loads the harness: the probe must see it,
    # or the tests above would pass on a probe that sees nothing
    code, heavy, _ = probe("list", "invariants", "--names")
    assert code == 0
    assert {"simpy", "py_clob_client", "clobsim.sim.runner.harness", "clobsim.sim.checks"} <= set(heavy)
