"""The run layer's log level: DEBUG audit lines reach audit.log and audit.jsonl when a run asks
for them, and nothing else about the run changes."""

from __future__ import annotations

import json
import logging
import os

from clobsim import sim
from clobsim.sim.runner.scenario import load

SCENARIO = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "scenarios", "scale-in-immediate-fill.yaml")
RETRIEVAL = "🔍 NOTIFICATION AUDIT: Starting notification retrieval process"


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read().splitlines()


def test_a_debug_run_writes_the_notification_retrieval_line_and_otherwise_the_same_log(tmp_path):
    scenario = load(SCENARIO)
    info = sim.run(scenario, out_dir=str(tmp_path / "info"))
    debug = sim.run(scenario, out_dir=str(tmp_path / "debug"), log_level=logging.DEBUG)

    info_log = read(tmp_path / "info" / "audit.log")
    debug_log = read(tmp_path / "debug" / "audit.log")
    retrievals = [line for line in debug_log if line.endswith(RETRIEVAL)]
    assert retrievals and all(" DEBUG " in line for line in retrievals)
    assert not any(RETRIEVAL in line for line in info_log)
    # the DEBUG lines are added, nothing else moves
    assert [line for line in debug_log if " DEBUG " not in line] == info_log

    twin = [json.loads(line) for line in read(tmp_path / "debug" / "audit.jsonl")]
    assert sum(1 for r in twin if r["level"] == "DEBUG" and r["kind"] == "notif.retrieve_start") == len(retrievals)
    assert [c.to_dict() for c in debug.checks] == [c.to_dict() for c in info.checks]
    assert debug.trace_jsonl() == info.trace_jsonl()


def test_the_default_run_leaves_the_logger_at_info_for_the_next_run(tmp_path):
    scenario = load(SCENARIO)
    sim.run(scenario, out_dir=str(tmp_path / "debug"), log_level=logging.DEBUG)
    sim.run(scenario, out_dir=str(tmp_path / "info"))
    assert not any(" DEBUG " in line for line in read(tmp_path / "info" / "audit.log"))
