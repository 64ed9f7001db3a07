"""`clobsim run --bot-cmd`: bots in other processes, through their real clients and real sockets.

- a Python bot (py-clob-client-v2 + websockets, examples/wsbots/bot.py) and a TypeScript bot on
  Polymarket's official @polymarket/clob-client-v2 (tests/tsbot/bot.ts) place, cancel and read
  their fills from the user channel;
- with the user channel's events dropped, the bot that trusts the channel alone fails and the one
  that also reads REST passes;
- a bot that exits at once or never connects is a setup error (exit 2, one message), and nothing
  of it is left running.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import time

import pytest

from clobsim.sim.tools.cli import main

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
SCENARIOS = os.path.join(ROOT, "examples", "wsbots", "scenarios")
FILLS = os.path.join(SCENARIOS, "user-channel-fills.yaml")
DROPS = os.path.join(SCENARIOS, "user-channel-drops-fill.yaml")
PYBOT = f"{shlex.quote(sys.executable)} {shlex.quote(os.path.join(ROOT, 'examples', 'wsbots', 'bot.py'))}"
TSBOT_DIR = os.path.join(ROOT, "tests", "tsbot")
TSX = os.path.join(TSBOT_DIR, "node_modules", ".bin", "tsx")


def run_bot(scenario: str, command: str, out, *extra: str) -> tuple[int, dict, list[str]]:
    code = main(["run", scenario, "--bot-cmd", command, "--speed", "10", "--out", str(out), *extra])
    folder = os.path.join(str(out), os.path.basename(scenario).removesuffix(".yaml"))
    with open(os.path.join(folder, "result.json"), encoding="utf-8") as handle:
        record = json.load(handle)
    with open(os.path.join(folder, "bot.stdout.log"), encoding="utf-8") as handle:
        return code, record, handle.read().splitlines()


def failed(record: dict) -> list[str]:
    return [c["id"] for c in record["checks"] if not c["passed"]]


def fill_reported(lines: list[str]) -> bool:
    return any(line.startswith("FILL ") and " size=10 " in line for line in lines) and "POSITION UP 10" in lines


def test_a_python_bot_receives_its_fill_and_its_cancellation_over_the_user_channel(tmp_path, monkeypatch):
    monkeypatch.setenv("WSBOT_MODE", "channel")
    code, record, lines = run_bot(FILLS, PYBOT, tmp_path / "run")
    assert (code, failed(record)) == (0, [])
    assert fill_reported(lines) and any(line.startswith("CANCELLED order=0x") for line in lines)
    assert record["mode"] == "serve" and record["bot_process"]["exit_code"] == 0
    assert (record["orders"], record["fills"]) == (2, 1)
    with open(tmp_path / "run" / "user-channel-fills" / "trace.jsonl", encoding="utf-8") as handle:
        pushes = [json.loads(line) for line in handle if '"type":"push"' in line]
    user = [(p["event_type"], p["message_type"]) for p in pushes if p["channel"] == "user"]
    assert ("trade", "TRADE") in user and ("order", "CANCELLATION") in user


def test_a_server_mode_run_folder_is_refused_by_replay_and_report_with_one_message(tmp_path, capsys):
    code, _, _ = run_bot(FILLS, PYBOT, tmp_path / "run")
    assert code == 0
    capsys.readouterr()
    folder = str(tmp_path / "run" / "user-channel-fills")
    assert main(["replay", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.startswith(
        f"clobsim: error: {folder}: a server-mode run (clobsim run --bot-cmd) happened in wall time and cannot be "
        "replayed; run it again: clobsim run "
    )
    assert main(["report", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == (
        f"clobsim: error: {folder}: a server-mode run (clobsim run --bot-cmd) has no audit log of core's to report "
        "on; its result.json, trace.jsonl and bot.stdout.log are the record\n"
    )


def test_the_expectations_match_the_log_file_the_bot_names(tmp_path, monkeypatch):
    monkeypatch.setenv("WSBOT_MODE", "channel")
    log = tmp_path / "bot.log"
    command = f"{PYBOT} > {shlex.quote(str(log))}"
    code, record, stdout = run_bot(FILLS, command, tmp_path / "run", "--bot-log", str(log))
    assert (code, failed(record), stdout) == (0, [], [])
    assert record["bot_process"]["output"] == str(log)


def test_dropped_user_channel_events_fail_the_bot_that_trusts_the_channel_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("WSBOT_MODE", "channel")
    code, record, lines = run_bot(DROPS, PYBOT, tmp_path / "run")
    assert code == 1
    assert failed(record) == ["expect.audit_in_order"]
    assert lines == ["POSITION UP 0"]
    assert record["faults_fired"] >= 1 and record["faults_silent"] == []


def test_dropped_user_channel_events_pass_the_bot_that_also_reads_rest(tmp_path, monkeypatch):
    monkeypatch.setenv("WSBOT_MODE", "rest")
    code, record, lines = run_bot(DROPS, PYBOT, tmp_path / "run")
    assert (code, failed(record)) == (0, [])
    assert fill_reported(lines)
    assert record["faults_fired"] >= 1 and record["faults_silent"] == []


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (CI installs nodejs and npm)")
def test_a_typescript_bot_on_the_official_npm_client_receives_its_fill_over_the_user_channel(tmp_path):
    assert os.path.exists(TSX), (
        "tests/tsbot/node_modules is missing: `make venv` runs npm ci there when node is present"
    )
    code, record, lines = run_bot(
        FILLS, f"{shlex.quote(TSX)} {shlex.quote(os.path.join(TSBOT_DIR, 'bot.ts'))}", tmp_path / "run"
    )
    assert (code, failed(record)) == (0, []), lines
    assert fill_reported(lines) and any(line.startswith("CANCELLED order=0x") for line in lines)


def test_a_bot_that_exits_at_once_is_a_setup_error_with_one_message(tmp_path, capsys):
    code = main(["run", FILLS, "--bot-cmd", "echo broken >&2; exit 3", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "clobsim: error: --bot-cmd: the bot exited with code 3 before it connected to the server; "
        "its stderr ends: broken\n"
    )
    assert not os.path.exists(tmp_path / "run")  # nothing half-written


def test_a_bot_that_never_connects_is_stopped_and_is_a_setup_error(tmp_path, capsys):
    pid_file = tmp_path / "pid"
    command = f"echo $$ > {shlex.quote(str(pid_file))}; exec sleep 600"
    started = time.monotonic()
    code = main(["run", FILLS, "--bot-cmd", command, "--connect-timeout", "1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("clobsim: error: --bot-cmd: the bot did not connect to the server within 1 s")
    assert time.monotonic() - started < 30
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # stopped, not left behind


def test_a_bot_still_running_at_the_horizon_is_stopped_and_judged(tmp_path):
    pid_file = tmp_path / "pid"
    reach = "import httpx, os; httpx.get(os.environ['CLOBSIM_CLOB_HOST'] + '/ok')"
    command = (
        f"echo $$ > {shlex.quote(str(pid_file))}; {shlex.quote(sys.executable)} -c {shlex.quote(reach)}; exec sleep 600"
    )
    code = main(["run", FILLS, "--bot-cmd", command, "--speed", "400", "--out", str(tmp_path / "run")])
    with open(tmp_path / "run" / "user-channel-fills" / "result.json", encoding="utf-8") as handle:
        record = json.load(handle)
    assert code == 1  # it never traded: the scenario's expected lines are missing
    assert failed(record) == ["expect.audit_in_order"]
    assert record["bot_process"]["exit_code"] is None and record["simulated_seconds"] == 720
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


def test_an_interrupted_run_stops_the_bot_and_exits_130(tmp_path):
    import signal
    import subprocess

    pid_file = tmp_path / "pid"
    reach = "import httpx, os; httpx.get(os.environ['CLOBSIM_CLOB_HOST'] + '/ok')"
    command = (
        f"{shlex.quote(sys.executable)} -c {shlex.quote(reach)}; echo $$ > {shlex.quote(str(pid_file))}; exec sleep 600"
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clobsim.sim.tools.cli",
            "run",
            FILLS,
            "--bot-cmd",
            command,
            "--out",
            str(tmp_path / "run"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal, not a background job
    )
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, (out, err)
    assert err == "clobsim: interrupted; `clobsim run` stopped\n"
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert not os.path.exists(tmp_path / "run")  # the partial run folder is discarded


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (CI installs nodejs and npm)")
def test_the_typescript_bot_type_checks_against_the_clients_types():
    import subprocess

    tsc = os.path.join(TSBOT_DIR, "node_modules", ".bin", "tsc")
    done = subprocess.run([tsc, "-p", "tsconfig.json"], cwd=TSBOT_DIR, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_v1_venue_serves_the_python_bot_on_py_clob_client(tmp_path, monkeypatch):
    monkeypatch.setenv("WSBOT_MODE", "channel")
    code, record, lines = run_bot(FILLS, PYBOT, tmp_path / "run", "--protocol", "v1")
    assert (code, failed(record)) == (0, [])
    assert fill_reported(lines)
    with open(tmp_path / "run" / "user-channel-fills" / "trace.jsonl", encoding="utf-8") as handle:
        begin = next(r for r in map(json.loads, handle) if r["type"] == "harness")
    assert (begin["action"], begin["mode"], begin["protocol"]) == ("begin", "serve", "v1")


def test_a_bot_process_is_judged_by_the_invariants_that_reach_it_then_by_its_output(tmp_path):
    # the window played without any bot: what a bot process that never traded is judged on
    from clobsim.sim.checks import REGISTRY, Reach
    from clobsim.sim.checks.bot_process import bot_process_checks
    from clobsim.sim.runner.scenario import load
    from clobsim.sim.server.session import Session

    session = Session(load(FILLS), seed=None, protocol=None, speed=1.0, workdir=str(tmp_path))
    session.begin(0.0)
    session.finish()
    result = session.result(bot="cmd: none", task_errors=[])
    checks = [(c.id, c.passed) for c in bot_process_checks(result, ["POSITION UP 0"])]
    venue_side = [invariant.id for invariant in REGISTRY if invariant.reach is Reach.VENUE]
    assert venue_side == [
        "no-orphan-orders",
        "no-crash",
        "balances-non-negative",
        "no-repair-loop",
        "simulator-healthy",
    ]
    assert checks[: len(venue_side)] == [(id_, True) for id_ in venue_side]
    # its output has no FILL line (audit_in_order fails); it left no order open (outcomes pass)
    assert checks[len(venue_side) :] == [("expect.audit_in_order", False), ("expect.outcomes", True)]
