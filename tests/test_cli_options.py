"""The CLI's options for CI and for reading runs: --version, -k, --junit-xml, --log-level, the
progress display (a terminal only, never in the outputs) and the narrow results table."""

from __future__ import annotations

import filecmp
import io
import os
import re
import xml.etree.ElementTree as ET
from importlib import metadata

import pytest
from junitparser import Failure, JUnitXml
from rich.console import Console

from clobsim.sim.tools import progress
from clobsim.sim.tools.cli import main

from .test_cli import clobsim, scenario

RETRIEVAL = "Starting notification retrieval process"


def library(tmp_path, *names):
    for name in names:
        scenario(tmp_path, name)
    return str(tmp_path / "scenarios")


def test_version_prints_the_installed_distribution_s_version():
    result = clobsim("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"clobsim {metadata.version('clobsim')}"


@pytest.mark.parametrize(
    ("pattern", "kept"),
    [
        ("race", ["cancel-race", "race-detected"]),
        ("RACE and not cancel", ["race-detected"]),
        ("timeout or detected", ["race-detected", "timeout"]),
        ("not (race or timeout)", ["quiet"]),
    ],
)
def test_k_selects_scenarios_by_name_as_pytest_does(tmp_path, capsys, pattern, kept):
    folder = library(tmp_path, "cancel-race", "race-detected", "timeout", "quiet")
    assert main(["list", "scenarios", "--dir", folder, "--names", "-k", pattern]) == 0
    assert capsys.readouterr().out.split() == kept


def test_k_runs_only_the_selected_scenarios_and_records_the_pattern(tmp_path, capsys):
    folder = library(tmp_path, "cancel-race", "quiet")
    out = tmp_path / "run"
    assert main(["run", folder, "-k", "quiet", "--out", str(out)]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["quiet", "run.json"]
    assert '"k": "quiet"' in (out / "run.json").read_text()


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("nothing-has-this-name", "clobsim: error: -k 'nothing-has-this-name': no scenario's name or path matches"),
        ("race and (", "clobsim: error: -k 'race and (': not a valid expression: expected not OR left parenthesis"),
    ],
)
def test_k_that_selects_nothing_or_does_not_parse_exits_2_before_running(tmp_path, pattern, message):
    folder = library(tmp_path, "quiet")
    result = clobsim("run", folder, "-k", pattern, "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and result.stderr.startswith(message) and len(result.stderr.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_junit_xml_has_one_testcase_per_scenario_and_a_failure_naming_the_invariant(tmp_path, capsys):
    folder = library(tmp_path, "alpha", "beta")
    xml = tmp_path / "out.xml"
    assert main(["run", folder, "--bot", "double-count", "--out", str(tmp_path / "run"), "--junit-xml", str(xml)]) == 1
    printed = capsys.readouterr().out
    root = ET.parse(xml).getroot()  # well-formed, and the shape CI servers read
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "2"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "clobsim" and suite.get("tests") == "2" and suite.get("errors") == "0"
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["alpha", "beta"]
    assert {c.get("classname") for c in cases} == {"clobsim.double-count"}
    assert cases[0].get("file") == os.path.join(folder, "alpha.yaml")

    parsed = JUnitXml.fromfile(str(xml))  # and what a JUnit reader makes of it
    (case, _) = [case for suite in parsed for case in suite]
    (failure,) = case.result
    assert isinstance(failure, Failure) and failure.type == "ledger-matches-exchange"
    assert failure.message.startswith(
        "ledger-matches-exchange: the ledger's position differs from the exchange's fills"
    )
    assert "trade #1: ledger position" in failure.message
    reproduce = next(line for line in printed.splitlines() if "reproduce: clobsim run" in line and "alpha" in line)
    assert reproduce.strip() in failure.text and "FAIL alpha" in failure.text


def test_junit_xml_passes_a_passing_run_and_its_bytes_do_not_depend_on_the_wall_clock(tmp_path):
    folder = library(tmp_path, "quiet")
    first, second = tmp_path / "1.xml", tmp_path / "2.xml"
    assert main(["run", folder, "--out", str(tmp_path / "a"), "--junit-xml", str(first)]) == 0
    assert main(["run", folder, "--out", str(tmp_path / "b"), "--junit-xml", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    (case,) = [case for suite in JUnitXml.fromfile(str(first)) for case in suite]
    assert case.name == "quiet" and case.is_passed


def test_junit_xml_into_a_missing_folder_exits_2_before_running(tmp_path):
    folder = library(tmp_path, "quiet")
    result = clobsim("run", folder, "--out", str(tmp_path / "run"), "--junit-xml", str(tmp_path / "no" / "x.xml"))
    assert result.returncode == 2 and "--junit-xml" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "run").exists()


def test_log_level_debug_writes_the_notification_retrieval_line_and_replays_identically(tmp_path, capsys):
    folder = library(tmp_path, "quiet")
    info, debug = tmp_path / "info", tmp_path / "debug"
    assert main(["run", folder, "--out", str(info)]) == 0
    assert main(["run", folder, "--out", str(debug), "--log-level", "debug"]) == 0
    assert RETRIEVAL not in (info / "quiet" / "audit.log").read_text()
    debug_lines = [line for line in (debug / "quiet" / "audit.log").read_text().splitlines() if RETRIEVAL in line]
    assert debug_lines and all(" DEBUG " in line for line in debug_lines)
    assert RETRIEVAL in (debug / "quiet" / "audit.jsonl").read_text()
    # the checks do not depend on the level; the reproduce command carries it
    assert "--log-level debug --out" in (debug / "quiet" / "result.json").read_text()
    capsys.readouterr()
    assert main(["replay", str(debug)]) == 0  # replayed at the level it was recorded at
    assert "quiet: identical" in capsys.readouterr().out


def test_progress_is_silent_off_a_terminal(tmp_path, capsys):
    folder = library(tmp_path, "quiet")
    assert main(["run", folder, "--out", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().err == ""


def test_progress_on_a_terminal_draws_a_bar_and_changes_no_output(tmp_path, capsys, monkeypatch):
    folder = library(tmp_path, "alpha", "beta")
    assert main(["run", folder, "--out", str(tmp_path / "plain")]) == 0
    plain = capsys.readouterr().out
    screen = io.StringIO()
    monkeypatch.setattr(progress, "stderr_console", lambda: Console(file=screen, force_terminal=True, width=100))
    assert main(["run", folder, "--out", str(tmp_path / "shown")]) == 0
    assert capsys.readouterr().out == plain.replace(str(tmp_path / "plain"), str(tmp_path / "shown"))
    assert "run [core]" in screen.getvalue() and "2/2" in screen.getvalue()
    for name in ("alpha", "beta"):
        comparison = filecmp.dircmp(tmp_path / "plain" / name, tmp_path / "shown" / name)
        assert comparison.diff_files == [] and comparison.left_only == comparison.right_only == []


def test_the_results_table_stays_narrow_and_summarizes_failed_checks(tmp_path, capsys):
    name = "a-rather-long-scenario-name-of-forty-chars"
    folder = library(tmp_path, name)
    assert main(["run", folder, "--bot", "double-count", "--out", str(tmp_path / "run")]) == 1
    lines = capsys.readouterr().out.splitlines()
    header, _, row = lines[:3]
    assert [cell.strip() for cell in header.split("|")[1:-1]] == [
        "scenario",
        "verdict",
        "seed",
        "orders",
        "fills",
        "faults",
        "failed checks",
    ]
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert cells[0] == name and cells[1] == "FAIL"
    assert cells[-1].startswith("ledger-matches-exchange +") and cells[-1].endswith(" more")
    # a row is the name plus about 90 characters, whatever the evidence; the details follow the table
    assert len(row) <= len(name) + 95
    assert lines[3] == "" and lines[4].startswith(f"FAIL {name} (")
    assert "  ledger-matches-exchange: the ledger's position differs" in "\n".join(lines[4:])


def test_sweep_and_explore_show_progress_on_a_terminal_only(tmp_path, capsys, monkeypatch):
    folder = library(tmp_path, "quiet")
    sweep = ["sweep", folder, "--seeds", "2", "--out", str(tmp_path / "sweep")]
    explore = ["explore", "--examples", "5", "--out", str(tmp_path / "found")]
    assert main(sweep) == 0 and main(explore) == 0
    quiet = capsys.readouterr()
    assert "\r" not in quiet.err and "searching" not in quiet.err  # no carriage-return lines in a CI log
    screen = io.StringIO()
    monkeypatch.setattr(progress, "stderr_console", lambda: Console(file=screen, force_terminal=True, width=100))
    assert main(sweep) == 0
    assert "sweep" in screen.getvalue() and "2/2" in screen.getvalue()
    assert main(explore) == 0
    assert "explore [core] searching: 5 runs" in screen.getvalue()

    def no_wall_time(text):
        return re.sub(r"\(\d+\.\d+s, ", "(", text)  # explore prints how long it searched

    assert no_wall_time(capsys.readouterr().out) == no_wall_time(quiet.out)
