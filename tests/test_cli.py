"""The command line: exit codes 0/1/2, one clear message for bad input, run folders, replay."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sim.tools.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

QUIET = """\
name: {name}
seed: 3
market:
  price_model: {{kind: scripted, start: 0.70, points: [{{at: 480, price: 0.76}}, {{at: 700, price: 0.995}}]}}
  taker_flow: {{rate: 0}}
events:
  - {{at: 720, kind: take, token: UP, side: BUY, size: 60, price: 0.99}}
trades:
  - {{id: 1, at: 300, side: UP, price: 0.70, size: 10.5, confidence: 0.85}}
expect:
  audit_in_order:
    - 'SCALE-IN PLACEMENT: Initiating maker order \\| size=10\\.50, price=\\$0\\.75'
    - 'Exit plan complete'
    - 'Successfully cancelled scale-in order 0x[0-9a-f]+'
    - 'SETTLED: winner=WIN'
  counts:
    'SCALE-IN.*CANCELLED': 1
  outcomes:
    trades: {{1: {{state: SETTLED, position: 0}}}}
{extra}"""


def scenario(tmp_path, name="quiet", extra="", folder="scenarios"):
    directory = tmp_path / folder
    directory.mkdir(exist_ok=True)
    path = directory / f"{name}.yaml"
    path.write_text(QUIET.format(name=name, extra=extra), encoding="utf-8")
    return path


def clobsim(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "sim.tools.cli", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": ROOT},
    )


def test_a_passing_run_exits_0_prints_the_table_and_writes_the_run_folder(tmp_path, capsys):
    scenario(tmp_path)
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "scenarios"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| quiet" in printed and "PASS" in printed and "1 passed, 0 failed" in printed
    for name in ("audit.log", "audit.jsonl", "trace.jsonl", "result.json"):
        assert (out / "quiet" / name).stat().st_size > 0, name
    record = json.loads((out / "quiet" / "result.json").read_text())
    assert record["verdict"] == "pass" and record["seed"] == 3 and record["mode"] == "fast"
    assert {c["id"] for c in record["checks"]} >= {
        "ledger-matches-exchange",
        "no-orphan-orders",
        "lifecycle-complete",
        "single-scale-in",
        "no-crash",
        "notifications-idempotent",
    }
    assert json.loads((out / "run.json").read_text())["scenarios"] == ["quiet"]


def test_a_failing_expectation_exits_1_with_the_evidence_and_the_command_that_reproduces_it(tmp_path, capsys):
    path = scenario(tmp_path, "wrong", extra="")
    text = path.read_text().replace("'SCALE-IN.*CANCELLED': 1", "'SCALE-IN.*CANCELLED': 2")
    text = text.replace("- 'Exit plan complete'", "- 'Exit plan complete'\n    - 'never printed'")
    path.write_text(text)
    assert main(["run", str(path), "--out", str(tmp_path / "run")]) == 1
    printed = capsys.readouterr().out
    assert "FAIL wrong" in printed
    assert "expect.audit_in_order: missing pattern #2 'never printed'" in printed
    assert "last line matched before it (pattern #1): " in printed and "Exit plan complete" in printed
    assert "expect.counts: pattern 'SCALE-IN.*CANCELLED': expected 2 line(s), found 1" in printed
    assert f"reproduce: clobsim run {path} --seed 3 --mode fast --bot core" in printed


def test_an_invariant_failure_names_the_invariant_and_the_ledger_and_exchange_figures(tmp_path, capsys):
    scenario(tmp_path)
    assert main(["run", str(tmp_path / "scenarios"), "--bot", "double-count", "--out", str(tmp_path / "r")]) == 1
    printed = capsys.readouterr().out
    assert "ledger-matches-exchange: the ledger's position differs from the exchange's fills" in printed
    assert "trade #1: ledger position" in printed and "exchange 0.00" in printed


@pytest.mark.parametrize(
    "content, message",
    [
        ("name: x\ntrades: [\n", "malformed YAML"),
        (
            "name: x\ntrades:\n  - {at: 1, side: UP, price: 0.5, size: 5, colour: red}\n",
            "trades[0].colour: unknown key",
        ),
        ("name: x\ntrades:\n  - {at: 1, side: UP, price: 0.5, size: five}\n", "trades[0].size: must be of type number"),
        ("name: x\ntrades:\n  - {at: -4, side: UP, price: 0.5, size: 5}\n", "trades[0].at: must be >= 0, got -4"),
        (
            "name: x\ntrades:\n  - {at: 4, side: UP, price: 1.5, size: 5}\n",
            "trades[0].price: must be a price strictly between 0 and 1, got 1.5",
        ),
        (
            "name: x\ntrades:\n  - {at: 950, side: UP, price: 0.5, size: 5}\n",
            "trades[0].at: 950 is at or after the window's end",
        ),
        (
            "name: x\ntrades:\n  - {at: 4, side: UP, price: 0.5, size: 5}\nfaults:\n  - {kind: cancel_race, trade: 2, order: exit}\n",
            "faults[0].trade: names trade 2, but the scenario opens trades [1]",
        ),
        (
            "name: x\ntrades:\n  - {at: 4, side: UP, price: 0.5, size: 5}\nfaults:\n  - {kind: latency}\n  - {kind: stale_read, trade: 1, order: exit, at: -1}\n",
            "faults[1].at: must be >= 0, got -1",
        ),
    ],
)
def test_bad_input_exits_2_with_one_message_naming_file_and_field(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    result = clobsim("run", str(path), "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"clobsim: error: {path}: ")
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()  # nothing was run or written


def test_a_missing_file_and_an_unknown_bot_exit_2(tmp_path):
    missing = clobsim("run", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "nope.yaml: no such file" in missing.stderr
    scenario(tmp_path)
    unknown = clobsim("run", str(tmp_path / "scenarios"), "--bot", "nobody", "--out", str(tmp_path / "r"))
    assert unknown.returncode == 2 and "--bot: unknown bot 'nobody'" in unknown.stderr
    assert "Traceback" not in missing.stderr + unknown.stderr


def test_run_refuses_to_wipe_a_folder_it_did_not_write(tmp_path):
    scenario(tmp_path)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = clobsim("run", str(tmp_path / "scenarios"), "--out", str(precious))
    assert result.returncode == 2 and "not a clobsim run folder" in result.stderr
    assert (precious / "notes.txt").read_text() == "keep me"


def test_replay_of_a_run_folder_is_identical_and_of_an_edited_trace_names_the_first_difference(tmp_path, capsys):
    scenario(tmp_path)
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "scenarios"), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["replay", str(out)]) == 0
    assert "quiet: identical" in capsys.readouterr().out

    trace = out / "quiet" / "trace.jsonl"
    lines = trace.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if '"route":"POST /order"' in line)
    lines[index] = lines[index].replace('"route":"POST /order"', '"route":"POST /orders"')
    trace.write_text("\n".join(lines) + "\n")
    assert main(["replay", str(trace)]) == 1
    printed = capsys.readouterr().out
    assert f"first differing event, trace.jsonl line {index + 1}:" in printed
    assert '"route":"POST /orders"' in printed.split("recorded:")[1].split("replayed:")[0]
    assert '"route":"POST /order"' in printed.split("replayed:")[1]


def test_replay_with_another_bot_replays_the_same_market_and_reports_its_checks(tmp_path, capsys):
    scenario(tmp_path)
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "scenarios"), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["replay", str(out), "--bot", "double-count"]) == 1
    printed = capsys.readouterr().out
    assert "DIVERGED" in printed and "checks with bot double-count: FAIL ledger-matches-exchange" in printed


def test_replay_of_something_that_is_not_a_run_exits_2(tmp_path):
    result = clobsim("replay", str(tmp_path))
    assert result.returncode == 2 and "not a run folder" in result.stderr


def test_list_prints_names_one_per_line(capsys):
    assert main(["list", "faults"]) == 0
    faults = capsys.readouterr().out.split()
    assert "cancel_race" in faults and "bot_crash" in faults and len(faults) == 20
    assert main(["list", "bots"]) == 0
    bots = capsys.readouterr().out.split()
    assert bots[0] == "core" and len(bots) >= 7
    assert main(["list", "invariants"]) == 0
    listed = [line.split(None, 1) for line in capsys.readouterr().out.splitlines()]
    assert [item[0] for item in listed][:6] == [
        "ledger-matches-exchange",
        "no-orphan-orders",
        "lifecycle-complete",
        "single-scale-in",
        "no-crash",
        "notifications-idempotent",
    ]
    reach = dict(listed)  # which bots each invariant judges: a foreign bot only some
    assert reach["ledger-matches-exchange"] == "every bot; a foreign one with a positions hook"
    assert reach["lifecycle-complete"] == "core and the zoo"
    assert reach["no-orphan-orders"] == "every bot, foreign ones too"
    assert reach["bot-contained"] == "foreign bots"


def test_the_committed_json_schema_is_the_generated_one_and_ties_faults_to_their_parameters():
    import jsonschema

    from sim.runner.scenario import export_schema

    with open(os.path.join(ROOT, "scenarios", "scenario.schema.json"), encoding="utf-8") as handle:
        committed = json.load(handle)
    assert committed == json.loads(json.dumps(export_schema()))  # regenerate: sim.scenario.write_schema()
    validator = jsonschema.Draft202012Validator(committed)
    good = {
        "name": "x",
        "trades": [{"at": 1, "side": "UP", "price": 0.5, "size": 5}],
        "faults": [{"kind": "stale_read", "trade": 1, "order": "exit", "duration": 30}],
    }
    assert list(validator.iter_errors(good)) == []
    bad = {**good, "faults": [{"kind": "stale_read", "trade": 1, "order": "exit", "colour": "red"}]}
    assert list(validator.iter_errors(bad))  # an editor flags the unknown fault parameter


@pytest.mark.parametrize(
    "override, message",
    [
        ("monitor_interval: abc", "bot.monitor_interval: must be a number, got 'abc'"),
        ("verify_attempts: 2.5", "bot.verify_attempts: must be a whole number, got 2.5"),
        ("scale_in_tiers: [{min_confidence: 0.9}]", "bot.scale_in_tiers[0]: must have exactly"),
        ("colour: red", "bot.colour: unknown key"),
    ],
)
def test_a_bad_bot_override_exits_2_naming_the_key(tmp_path, override, message):
    path = tmp_path / "bot.yaml"
    path.write_text(f"name: x\nbot: {{{override}}}\ntrades:\n  - {{at: 10, side: UP, price: 0.5, size: 5}}\n")
    result = clobsim("run", str(path), "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_scale_in_tiers_can_be_overridden_from_a_scenario(tmp_path):
    from core.config import StrategyConfig
    from sim.runner.scenario import load

    path = tmp_path / "tiers.yaml"
    path.write_text(
        "name: x\nbot: {scale_in_tiers: [{min_confidence: 0.9, min_price: 0.8, max_time_left: 500}]}\n"
        "trades:\n  - {at: 10, side: UP, price: 0.5, size: 5}\n"
    )
    config = StrategyConfig().with_overrides(load(str(path)).bot)
    assert [(str(t.min_confidence), str(t.min_price), t.max_time_left) for t in config.scale_in_tiers] == [
        ("0.9", "0.8", 500)
    ]


SILENT = "faults:\n  - {kind: latency, endpoint: POST /orders, from: 10, to: 20, request_ms: 500}\n"


def test_a_fault_that_never_fired_is_a_warning_and_a_failure_under_strict(tmp_path, capsys):
    path = scenario(tmp_path, extra=SILENT)
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--report"]) == 0
    out = capsys.readouterr().out
    assert "| 1 (1 silent) |" in out
    assert "warning: quiet: faults[0] (latency) never fired; it tests nothing" in out
    record = json.loads((tmp_path / "run" / "quiet" / "result.json").read_text())
    assert record["faults_silent"] == ["faults[0] (latency)"]
    report = (tmp_path / "run" / "report.md").read_text()
    assert "`silent_faults_max`" in report and "never fired: faults[0] (latency)" in report
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--strict"]) == 1
    assert "--strict: 1 scenario(s) have faults that never fired" in capsys.readouterr().out


def test_a_fault_that_fired_is_not_silent_and_passes_under_strict(tmp_path, capsys):
    fired = SILENT.replace("POST /orders", "POST /order").replace("from: 10, to: 20", "from: 290, to: 320")
    path = scenario(tmp_path, extra=fired)
    assert main(["run", str(path), "--out", str(tmp_path / "run"), "--strict"]) == 0
    assert "never fired" not in capsys.readouterr().out
    assert json.loads((tmp_path / "run" / "quiet" / "result.json").read_text())["faults_silent"] == []


@pytest.mark.parametrize(
    "name, kind",
    [
        ("bot-crash-during-scale-in-cancel", "bot_crash"),
        ("notifications-lost-duplicated-resolution-by-polling", "notification_duplicate"),
        ("latency-spikes-and-html-403", "latency"),
    ],
)
def test_every_kind_s_firing_carries_the_fault_s_index(name, kind):
    from sim import load, run
    from sim.trace import TraceType

    scenario_ = load(os.path.join(ROOT, "scenarios", f"{name}.yaml"))
    result = run(scenario_)
    indexes = [i for i, f in enumerate(scenario_.faults) if f.kind == kind]
    records = [
        r
        for r in result.trace
        if r["type"] == TraceType.FAULT and r["kind"] == kind and r.get("phase") != "client timeout"
    ]
    assert records and {r["index"] for r in records} <= set(indexes)
