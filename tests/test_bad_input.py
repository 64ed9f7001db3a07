"""Bad input, as a user makes it: exit 2 and one message, fast; never a traceback, hang or segfault.

The reproducers of issue 15 are copied into tests/fixtures/bad-input/ (a clone has no
/work/shared). The CLI runs in process (main()), so a bug would surface as exit 3, which these
tests tell apart from exit 2; one subprocess test checks the real entry point and SIGINT.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clobsim.sim.faults import names as fault_names
from clobsim.sim.tools.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "bad-input")
BOUND = 20.0  # seconds: the bound for any bad input
SMALL = {
    "name": "small",
    "seed": 1,
    "market": {"price_model": {"kind": "scripted", "start": 0.8, "depth": 50}, "taker_flow": {"rate": 0}},
    "trades": [{"id": 1, "at": 5, "side": "UP", "price": 0.8, "size": 10.5, "confidence": 0.85}],
    "faults": [{"kind": "latency", "endpoint": "POST /order", "request_ms": 200}],
}


def cli(*args: str) -> tuple[int, str, float]:
    """(exit code, stderr, seconds) of clobsim in process."""
    err = io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(list(args))
    return code, err.getvalue(), time.monotonic() - start


def assert_refused(code: int, err: str, seconds: float, subject: str, bound: float = BOUND) -> None:
    assert code == 2, err
    assert err.startswith(f"clobsim: error: {subject}"), err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert seconds < bound


@pytest.fixture(scope="module")
def good_run():
    """A finished one-scenario run folder, made once; tests copy it before corrupting it."""
    with tempfile.TemporaryDirectory(prefix="clobsim-bad-input-") as tmp:
        scenario = os.path.join(tmp, "small.yaml")
        with open(scenario, "w", encoding="utf-8") as handle:
            yaml.safe_dump(SMALL, handle)
        out = os.path.join(tmp, "run")
        assert cli("run", scenario, "--out", out)[0] == 0
        yield out


def corrupted(good_run: str, tmp: str) -> tuple[str, str]:
    folder = os.path.join(tmp, "run")
    shutil.copytree(good_run, folder)
    return folder, os.path.join(folder, "small")


# ---- the reproducers ---------------------------------------------------------------------------

SCENARIO_FILES = sorted(
    os.path.basename(p) for p in glob.glob(os.path.join(FIXTURES, "*.yaml")) if not p.endswith("alerts-bomb.yaml")
)
MESSAGES = {
    "billion-laughs-description.yaml": "aliases expand to more than 100000 values",
    "bot-monitor-0.yaml": "bot.monitor_interval: must be >= 0.1, got 0",
    "counts-int-key.yaml": "expect.counts: key 1 must be a string",
    "fault-latency-inf.yaml": "faults[0].request_ms: must be a finite number, got inf",
    "float-tag.yaml": "malformed YAML: a value cannot be read",
    "name-long.yaml": "name: at most 100 characters, got 300",
    "outcomes-superscript.yaml": "expect.outcomes.trades.'²': names trade '²'",
    "rate-huge.yaml": "market.taker_flow.rate: must be <= 10, got 100000",
    "trade-id-huge.yaml": "trades[0].id: must be <= 9223372036854775807",
    "trade-size-nan.yaml": "trades[0].size: must be a finite number, got nan",
    "trades-many.yaml": "trades: one trade per token (UP, DOWN): at most 2, got 50",
}


def test_every_reproducer_scenario_is_known_here():
    assert sorted(MESSAGES) == SCENARIO_FILES


@pytest.mark.parametrize("name", SCENARIO_FILES)
def test_a_reproducer_scenario_is_refused_with_one_message_naming_file_and_field(name, tmp_path):
    path = os.path.join(FIXTURES, name)
    code, err, seconds = cli("run", path, "--out", str(tmp_path / "run"))
    assert_refused(code, err, seconds, path)
    assert MESSAGES[name] in err
    assert not (tmp_path / "run").exists()


def test_an_alias_bomb_as_alerts_file_is_refused(good_run):
    path = os.path.join(FIXTURES, "alerts-bomb.yaml")
    code, err, seconds = cli("report", good_run, "--alerts", path)
    assert_refused(code, err, seconds, f"--alerts {path}")
    assert "aliases expand to more than 100000 values" in err


@pytest.mark.parametrize("command", ["replay", "report"])
def test_a_deeply_nested_result_json_is_refused_not_a_segfault(command):
    folder = os.path.join(FIXTURES, "replay-segfault-run")
    code, err, seconds = cli(command, folder)
    assert_refused(code, err, seconds, os.path.join(folder, "scale-in-delayed-fill", "result.json"))
    assert "nested deeper than 32 levels" in err


# ---- corrupted and foreign run folders -----------------------------------------------------------


def _truncate_mid_line(folder, scenario):
    path = os.path.join(scenario, "trace.jsonl")
    data = open(path, "rb").read()
    open(path, "wb").write(data[: data.index(b"\n", 2000) - 10])
    return path, "not valid JSON"


def _non_utf8(folder, scenario):
    path = os.path.join(scenario, "audit.log")
    open(path, "ab").write(b"\xff\xfe broken\n")
    return path, "not UTF-8 text"


def _wrong_type(folder, scenario):
    path = os.path.join(scenario, "result.json")
    record = json.load(open(path, encoding="utf-8"))
    record["checks"] = "all good"
    json.dump(record, open(path, "w", encoding="utf-8"))
    return path, "checks: 'all good' is not of type 'array'"


def _outside(folder, scenario):
    path = os.path.join(folder, "run.json")
    marker = json.load(open(path, encoding="utf-8"))
    marker["scenarios"] = ["../../etc"]
    json.dump(marker, open(path, "w", encoding="utf-8"))
    return path, "scenarios[0]: '../../etc' does not match"


def _missing_file(folder, scenario):
    os.remove(os.path.join(scenario, "trace.jsonl"))
    return os.path.join(scenario, "trace.jsonl"), "no such file"


def _no_result(folder, scenario):
    os.remove(os.path.join(scenario, "result.json"))
    return scenario, "no result.json"


@pytest.mark.parametrize(
    "corrupt",
    [_truncate_mid_line, _non_utf8, _wrong_type, _outside, _missing_file, _no_result],
    ids=lambda f: f.__name__,
)
@pytest.mark.parametrize("command", ["replay", "report"])
def test_a_corrupted_run_folder_is_refused_by_replay_and_report(good_run, tmp_path, corrupt, command):
    folder, scenario = corrupted(good_run, str(tmp_path))
    subject, message = corrupt(folder, scenario)
    if command == "replay" and corrupt is _truncate_mid_line:
        message = "diverged"  # replay compares lines; a truncated trace is a divergence (exit 1)
        code, err, _ = cli(command, folder)
        assert code == 1
        return
    code, err, seconds = cli(command, folder)
    assert_refused(code, err, seconds, subject)
    assert message in err


# ---- the command line's own arguments --------------------------------------------------------------


def test_out_naming_a_file_or_an_unwritable_place_and_bad_numbers_exit_2(tmp_path):
    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    a_file = tmp_path / "a-file"
    a_file.write_text("keep")
    cases = [
        (("run", str(scenario), "--out", str(a_file)), "--out", "is a file, not a folder"),
        (("run", str(scenario), "--out", "/proc/nowhere/run"), "--out", "cannot write there"),
        (("run", str(scenario), "--seed", "-1", "--out", str(tmp_path / "r")), "--seed", "got -1"),
        (("explore", "--budget", "nan"), "--budget", "got nan"),
        (("explore", "--budget", "inf"), "--budget", "got inf"),
    ]
    for args, subject, message in cases:
        code, err, seconds = cli(*args)
        assert_refused(code, err, seconds, subject)
        assert message in err
    assert a_file.read_text() == "keep"


def test_an_internal_error_is_one_line_naming_the_command_and_exit_3(monkeypatch, good_run):
    from clobsim import sim

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(sim.tools.report, "write_reports", broken)
    code, err, _ = cli("report", good_run)
    assert code == 3
    assert err.startswith("clobsim: internal error in `clobsim report`: ZeroDivisionError: division by zero")
    assert "CLOBSIM_TRACEBACK=1" in err and len(err.strip().splitlines()) == 1


def interruptible() -> None:
    """A shell that starts a job in the background hands it SIGINT ignored, and Python then keeps
    it ignored: the child gets the default disposition, as a run started from a terminal has."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_stops_a_run_cleanly_and_keeps_the_previous_run_folder(good_run, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(good_run, out)
    before = sorted(os.listdir(out))
    library = os.path.join(ROOT, "scenarios")
    process = subprocess.Popen(
        [sys.executable, "-m", "clobsim.sim.tools.cli", "run", library, "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
        preexec_fn=interruptible,
    )
    deadline = time.monotonic() + 60
    while not glob.glob(str(tmp_path / ".run.partial-*" / "*" / "result.json")):  # a scenario has finished
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err == "clobsim: interrupted; `clobsim run` stopped\n"
    assert sorted(os.listdir(out)) == before  # the previous run, as it was
    assert not glob.glob(str(tmp_path / ".run.*"))  # the partial run is removed


# ---- fuzzing: generated malformed scenario files, run folders and alerts files ------------------------

NOT_A_NUMBER = st.one_of(
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e300, -1e300, 10**30, -(10**30)]),
    st.text(max_size=20),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
)
# (path, values that are wrong there whatever else the file holds)
SCENARIO_HOLES = [
    (("trades", 0, "size"), NOT_A_NUMBER),
    (("trades", 0, "at"), NOT_A_NUMBER),
    (("trades", 0, "price"), st.one_of(NOT_A_NUMBER, st.sampled_from([0, 1, -0.5, 2]))),
    (("trades", 0, "id"), st.one_of(NOT_A_NUMBER, st.sampled_from([0, -1, 2**63, 1e23]))),
    (("trades", 0, "side"), st.one_of(st.sampled_from(["up", "LEFT", "", 1]), st.none())),
    (("seed",), st.one_of(NOT_A_NUMBER, st.sampled_from([-1, 2**64, 0.5]))),
    (("market", "taker_flow", "rate"), st.one_of(NOT_A_NUMBER, st.floats(min_value=10.001, max_value=1e12))),
    (("market", "price_model", "depth"), NOT_A_NUMBER),
    (("faults", 0, "request_ms"), NOT_A_NUMBER),
    (("faults", 0, "endpoint"), st.text(max_size=30).filter(lambda s: not s.startswith(("POST", "GET", "DEL", "*")))),
    (("faults", 0, "kind"), st.text(max_size=30).filter(lambda s: s not in fault_names())),
    # not NOT_A_NUMBER: a bot override may be a numeric string ("5" is 5 s)
    (("bot", "monitor_interval"), st.sampled_from([0, 0.01, -1, 1e9, float("nan"), None, True, [1], "abc"])),
    (("name",), st.one_of(st.text(min_size=101, max_size=300), st.sampled_from(["", "Upper", "../x", "a b"]))),
    (("expect", "counts"), st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=3)),
    (("colour",), st.text()),
]


def _set(data: dict, path: tuple, value) -> dict:
    data = json.loads(json.dumps(data))
    target = data
    for part in path[:-1]:
        target = target.setdefault(part, {}) if isinstance(part, str) else target[part]
    target[path[-1]] = value
    return data


def _yaml_text(data) -> str:
    return yaml.safe_dump(data, allow_unicode=True)


malformed_scenarios = st.one_of(
    st.sampled_from(SCENARIO_HOLES).flatmap(
        lambda hole: hole[1].map(lambda value: _yaml_text(_set(SMALL, hole[0], value)))
    ),
    st.text(max_size=200),  # anything at all: never a scenario (no name and trades)
    st.integers(1, 40).map(lambda n: "a: " + "[" * n * 2 + "]" * n * 2),  # deep nesting
    st.integers(3, 9).map(  # alias bombs of growing size
        lambda n: (
            "name: x\ntrades: []\n"
            + "".join(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}" if i else "lol"] * 10) + "]\n" for i in range(n))
        )
    ),
    st.sampled_from([_yaml_text(SMALL) + "name: again\n", _yaml_text(SMALL).replace("seed: 1", "seed: .nan")]),
)


FUZZ = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(text=malformed_scenarios)
def test_fuzz_a_malformed_scenario_file_exits_2_with_one_message(text):
    with tempfile.TemporaryDirectory(prefix="clobsim-fuzz-") as tmp:
        path = os.path.join(tmp, "bad.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        code, err, seconds = cli("run", path, "--out", os.path.join(tmp, "run"))
        assert_refused(code, err, seconds, path, bound=5)


NOT_TEXT = st.sampled_from([None, 5, True, [], {"a": 1}])
# (field of result.json, values that are wrong there)
RESULT_HOLES = {
    "seed": NOT_A_NUMBER,
    "mode": st.one_of(NOT_TEXT, st.text(max_size=10).filter(lambda s: s not in ("fast", "wire"))),
    "verdict": st.one_of(NOT_TEXT, st.text(max_size=10).filter(lambda s: s not in ("pass", "fail"))),
    "bot": NOT_TEXT,
    "simulated_seconds": st.sampled_from([float("nan"), float("inf"), -1, "10", None, True, [1]]),
    "orders": st.sampled_from([-1, 0.5, "3", None, float("nan"), [], {}]),
    "checks": st.sampled_from(["all good", 3, [1], [{"id": 1, "passed": True}], [{"id": "x"}], {"a": 1}]),
    "faults": st.sampled_from([[1], "latency", None, [None]]),
    "scenario": st.sampled_from(["../x", "", "Upper", "a/b", 5, None, "x" * 101]),
}


@FUZZ
@given(
    hole=st.sampled_from(sorted(RESULT_HOLES)).flatmap(lambda key: st.tuples(st.just(key), RESULT_HOLES[key])),
    garbage=st.binary(max_size=20).map(lambda b: b"\xff" + b),
    where=st.sampled_from(["result.json", "trace.jsonl", "audit.jsonl", "audit.log"]),
)
def test_fuzz_a_corrupted_run_folder_exits_2_with_one_message(good_run, hole, garbage, where):
    with tempfile.TemporaryDirectory(prefix="clobsim-fuzz-") as tmp:
        folder, scenario = corrupted(good_run, tmp)
        path = os.path.join(scenario, where)
        if where == "result.json":
            record = json.load(open(path, encoding="utf-8"))
            record[hole[0]] = hole[1]
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(record))  # NaN and Infinity as JavaScript writes them
        else:
            with open(path, "ab") as handle:
                handle.write(garbage)  # never UTF-8: 0xff starts no character
        code, err, seconds = cli("report", folder)
        assert_refused(code, err, seconds, scenario, bound=5)


def _bad_threshold(rule: str, value) -> bool:
    if rule == "colour" or isinstance(value, bool):
        return True
    if value is None:
        return False
    return not isinstance(value, (int, float)) or value != value or value in (float("inf"), float("-inf")) or value < 0


@FUZZ
@given(
    content=st.one_of(
        st.dictionaries(st.sampled_from(["race_detections_max", "colour", "http_errors_max"]), NOT_A_NUMBER, min_size=1)
        .filter(lambda d: any(_bad_threshold(k, v) for k, v in d.items()))
        .map(_yaml_text),
        st.just("race_detections_max: .nan\n"),
        st.just("{1: 2}\n"),
        st.just("race_detections_max: 1\nrace_detections_max: 2\n"),
        st.integers(3, 9).map(
            lambda n: "".join(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}" if i else "1"] * 10) + "]\n" for i in range(n))
        ),
    )
)
def test_fuzz_a_malformed_alerts_file_exits_2_with_one_message(good_run, content):
    with tempfile.TemporaryDirectory(prefix="clobsim-fuzz-") as tmp:
        path = os.path.join(tmp, "alerts.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(content)
        code, err, seconds = cli("report", good_run, "--alerts", path)
        assert_refused(code, err, seconds, f"--alerts {path}", bound=5)


# ---- the runner's watchdog: runs that cannot finish end with a message naming the cause --------------


def test_a_run_whose_virtual_clock_stops_advancing_is_stopped_by_the_watchdog():
    import dataclasses

    from clobsim.sim import run
    from clobsim.sim.runner.scenario import ScenarioError, from_dict

    # monitor_interval 0 passes core's own config check but is a loop that never waits; the
    # scenario loader refuses it, so the watchdog is met by building the Scenario around it
    spinning = dataclasses.replace(from_dict(SMALL, "small.yaml"), bot={"monitor_interval": 0})
    start = time.monotonic()
    with pytest.raises(ScenarioError) as stopped:
        run(spinning)
    assert time.monotonic() - start < BOUND
    assert str(stopped.value) == (
        "small.yaml: the watchdog stopped the run at t+0.000s: the virtual clock stopped advancing: "
        "10000 events at one instant (a loop that never waits: an interval of 0?)"
    )


def test_a_run_whose_event_count_explodes_is_stopped_by_the_watchdog(monkeypatch):
    from clobsim import sim
    from clobsim.sim import run
    from clobsim.sim.runner.scenario import ScenarioError, from_dict

    monkeypatch.setattr(sim.runner.kernel, "MIN_EVENTS", 500)
    monkeypatch.setattr(sim.runner.kernel, "EVENTS_PER_SECOND", 0)  # a window takes ~3500 events
    with pytest.raises(ScenarioError, match=r"the event count exploded: more than 500 events"):
        run(from_dict(SMALL, "small.yaml"))


# ---- the loader's refusals, one by one ---------------------------------------------------------------

TRADE = "trades:\n  - {at: 5, side: UP, price: 0.8, size: 10}\n"


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: x\nname: y\n" + TRADE, "line 2, column 1: malformed YAML: duplicate key 'name'"),
        ("name: x\n" + TRADE + "expect: {counts: {true: 1}}\n", "expect.counts: key True must be a string"),
        ("name: x\n" + TRADE + "a: &a [*a]\n", "malformed YAML: a recursive alias (refers to itself)"),
        ("name: x\n" + TRADE + "deep: " + "[" * 40 + "]" * 40 + "\n", "malformed YAML: nested deeper than 32 levels"),
        ("name: x\n" + TRADE + "description: '" + "x" * 1_000_001 + "'\n", "larger than 1000000 bytes"),
        (
            "name: x\ntrades:\n  - {at: 5, side: UP, price: 0.8, size: 10}\n  - {at: 6, side: UP, price: 0.8, size: 10}\n",
            "trades[1].side: trade #1 (trades[0]) already holds UP; one trade per token",
        ),
        (
            "name: x\n" + TRADE + "faults: [{kind: latency, endpoint: POST /ordr}]\n",
            "faults[0].endpoint: must be one of",
        ),
        (
            "name: x\n" + TRADE + "faults: [{kind: latency, endpoint: '" + "y" * 500 + "'}]\n",
            "; got 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy… (502 characters)",
        ),
        ("name: x\n" + TRADE + "bot: {monitor_interval: '0'}\n", "bot.monitor_interval: must be >= 0.1, got 0.0"),
        ("name: x\n" + TRADE + "faults: [{kind: bot_crash, at: 10, restart_after: .inf}]\n", "must be a finite number"),
        (b"name: \xff\n", "not UTF-8 text"),
    ],
)
def test_the_loader_refuses_with_one_message(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    code, err, seconds = cli("run", str(path), "--out", str(tmp_path / "run"))
    assert_refused(code, err, seconds, str(path), bound=5)
    assert message in err
