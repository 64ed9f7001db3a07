"""The command line: exit codes 0/1/2, one clear message for bad input, run folders, replay."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from clobsim.sim.faults import names as fault_names
from clobsim.sim.tools.cli import main
from clobsim.sim.trace import TRACE_FORMAT

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
        [sys.executable, "-m", "clobsim.sim.tools.cli", *args],
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
    # patterns count from 1, as a reader counts the file's list, and print as the file spells them
    assert "expect.audit_in_order: missing pattern #3 'never printed'" in printed
    assert "last line matched before it (pattern #2): " in printed and "Exit plan complete" in printed
    assert "expect.counts: pattern 'SCALE-IN.*CANCELLED': expected 2 line(s), found 1" in printed
    # the reproduce command writes its own run folder, never over reports/latest
    assert (
        f"reproduce: clobsim run {path} --seed 3 --mode fast --bot core --out {os.path.join('reports', 'reproduce', 'wrong')}"
        in printed
    )


def test_a_regex_with_backslashes_prints_as_the_scenario_file_spells_it(tmp_path, capsys):
    path = scenario(tmp_path, "escaped")
    path.write_text(path.read_text().replace("- 'SETTLED: winner=WIN'", "- 'SETTLED: winner=LOSE \\| never'"))
    assert main(["run", str(path), "--out", str(tmp_path / "run")]) == 1
    printed = capsys.readouterr().out
    assert "missing pattern #4 'SETTLED: winner=LOSE \\| never'" in printed
    assert "\\\\|" not in printed


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
    moment = json.loads(lines[index])["t"] - json.loads(next(x for x in lines if '"action":"begin"' in x))["t"]
    lines[index] = lines[index].replace('"route":"POST /order"', '"route":"POST /orders"')
    trace.write_text("\n".join(lines) + "\n")
    assert main(["replay", str(trace)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "quiet: DIVERGED (seed 3, fast mode, bot core)"
    # when (seconds from the window start), what, and only the differing field, side by side
    assert printed[1].startswith(f"  first difference: trace.jsonl line {index + 1}, at t+{moment:.3f}s (")
    assert printed[2].startswith("    recorded: request POST /orders (seq ")
    assert printed[3].startswith("    replayed: request POST /order (seq ")
    rows = [line.split() for line in printed[6:]]
    assert rows == [["route", "POST", "/orders", "POST", "/order"]]


def test_replay_names_a_differing_audit_line_by_its_simulated_moment(tmp_path, capsys):
    scenario(tmp_path)
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "scenarios"), "--out", str(out)]) == 0
    audit = out / "quiet" / "audit.log"
    lines = audit.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if "Exit plan complete" in line)
    original = lines[index]
    lines[index] = original.replace("Exit plan complete", "Exit plan half done")
    audit.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["replay", str(out)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "quiet: DIVERGED (seed 3, fast mode, bot core)"
    clock = original[11:23]  # the audit line's own simulated time
    assert printed[1].startswith(f"  first difference: audit.log line {index + 1}, at t+")
    assert printed[1].endswith(f"s ({clock} simulated)")
    line = original[24:].split(None, 1)[1]
    assert printed[2] == "    recorded: INFO " + line.replace("Exit plan complete", "Exit plan half done")
    assert printed[3] == "    replayed: INFO " + line


def test_a_run_records_its_trace_format_and_replay_refuses_a_run_of_another_format_with_one_message(tmp_path, capsys):
    scenario(tmp_path)
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "scenarios"), "--out", str(out)]) == 0
    result_path = out / "quiet" / "result.json"
    record = json.loads(result_path.read_text())
    trace = [json.loads(line) for line in (out / "quiet" / "trace.jsonl").read_text().splitlines()]
    begin = next(r for r in trace if r.get("action") == "begin")
    assert record["trace_format"] == TRACE_FORMAT == 2
    assert begin == {"t": begin["t"], "type": "harness", "action": "begin", "scenario": "quiet", "seed": 3,
                     "mode": "fast", "protocol": "v2", "trace_format": 2}  # fmt: skip
    capsys.readouterr()
    assert main(["replay", str(out)]) == 0  # this format: replayed line by line
    assert "quiet: identical" in capsys.readouterr().out

    del record["trace_format"]  # as every run recorded before the format had a number (format 1)
    result_path.write_text(json.dumps(record))
    assert main(["replay", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"clobsim: error: {out / 'quiet'}/result.json: trace_format: recorded in trace format 1 by an older "
        f"clobsim; this one replays format 2 only: record the run again ({record['reproduce']})\n"
    )


def test_replay_with_another_bot_diverges_as_expected_and_its_checks_decide_the_exit(tmp_path, capsys):
    scenario(tmp_path)
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "scenarios"), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["replay", str(out), "--bot", "double-count"]) == 1
    printed = capsys.readouterr().out
    assert "quiet: diverged as expected under --bot double-count (" in printed and "DIVERGED" not in printed
    assert "checks with bot double-count: FAIL ledger-matches-exchange" in printed
    # the failed check with its evidence, as `clobsim run` prints it
    assert (
        "  ledger-matches-exchange: the ledger's position differs from the exchange's fills\n    trade #1:" in printed
    )


def test_replay_with_another_bot_whose_checks_pass_exits_0_though_it_diverged(tmp_path, capsys):
    scenario(tmp_path)
    out = tmp_path / "run"
    assert main(["run", str(tmp_path / "scenarios"), "--out", str(out), "--bot", "double-count"]) == 1
    capsys.readouterr()
    assert main(["replay", str(out), "--bot", "core"]) == 0
    printed = capsys.readouterr().out
    assert "quiet: diverged as expected under --bot core (" in printed and "recorded with bot double-count" in printed
    assert "first difference: trace.jsonl line" in printed and "checks with bot core: pass" in printed


def test_replay_of_something_that_is_not_a_run_exits_2(tmp_path):
    result = clobsim("replay", str(tmp_path))
    assert result.returncode == 2 and "not a run folder" in result.stderr


def test_list_names_prints_names_one_per_line_for_scripts(capsys):
    assert main(["list", "faults", "--names"]) == 0
    faults = capsys.readouterr().out.split()
    assert "cancel_race" in faults and "bot_crash" in faults and "ws_drop" in faults
    assert faults == fault_names()
    assert main(["list", "bots", "--names"]) == 0
    bots = capsys.readouterr().out.split()
    assert bots[0] == "core" and len(bots) >= 7
    assert main(["list", "invariants", "--names"]) == 0
    assert capsys.readouterr().out.split()[:6] == [
        "ledger-matches-exchange",
        "no-orphan-orders",
        "lifecycle-complete",
        "single-scale-in",
        "no-crash",
        "notifications-idempotent",
    ]
    assert main(["list", "invariants"]) == 0
    listed = [line.split(None, 1) for line in capsys.readouterr().out.splitlines()]
    reach = {name: text.split("]")[0].lstrip("[") for name, text in listed}  # which bots it judges
    assert reach["ledger-matches-exchange"] == "every bot; a foreign one with a positions hook"
    assert reach["lifecycle-complete"] == "core and the zoo"
    assert reach["no-orphan-orders"] == "every bot, a bot process too"
    assert reach["sells-covered"] == "every bot, foreign ones too"
    assert reach["bot-contained"] == "foreign bots"


def test_list_gives_every_name_a_one_line_description(capsys):
    from clobsim.sim.bots import names

    for what in ("bots", "faults", "invariants"):
        assert main(["list", what]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert main(["list", what, "--names"]) == 0
        assert [line.split()[0] for line in lines] == capsys.readouterr().out.split()
        assert all(len(line.split(None, 1)) == 2 for line in lines), what
    assert main(["list", "bots"]) == 0
    bots = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert list(bots) == names()
    assert bots["double-count"].startswith("keys fills by (trade, source)")
    assert main(["list", "invariants"]) == 0
    assert re.search(r"^ledger-matches-exchange +\[[^]]+\] each trade's ledger position", capsys.readouterr().out, re.M)
    assert main(["list", "scenarios", "-k", "cancel-race"]) == 0
    assert capsys.readouterr().out.startswith("cancel-race-fill-before-cancel  ")


def test_the_committed_json_schema_is_the_generated_one_and_ties_faults_to_their_parameters():
    import jsonschema

    from clobsim.sim.runner.scenario import export_schema

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
    from clobsim.core.config import StrategyConfig
    from clobsim.sim.runner.scenario import load

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
    from clobsim.sim import load, run
    from clobsim.sim.trace import TraceType

    scenario_ = load(os.path.join(ROOT, "scenarios", f"{name}.yaml"))
    result = run(scenario_)
    indexes = [i for i, f in enumerate(scenario_.faults) if f.kind == kind]
    records = [
        r
        for r in result.trace
        if r["type"] == TraceType.FAULT and r["kind"] == kind and r.get("phase") != "client timeout"
    ]
    assert records and {r["index"] for r in records} <= set(indexes)
