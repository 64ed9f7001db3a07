"""Reading run folders as untrusted input: `clobsim replay` and `clobsim report` take any folder.

A truncated or non-UTF-8 trace, a result.json of the wrong shape, a scenario name that would lead
outside the folder (`../../etc`), a missing file: each is UsageError (exit 2) naming the file
and what is wrong, never a traceback. JSON is parsed with sim.runner.inputs' recursion guard (a
deeply nested result.json once overflowed the C stack: exit 139).

Which scenario folders a run folder holds: the names in its run.json when it has one (a listed
folder without result.json is an error, not skipped); otherwise every subfolder, each of which
must hold a result.json.
"""

from __future__ import annotations

import logging
import math
import os
import re
from typing import Any

import jsonschema

from clobsim.sim.runner.inputs import InputError, clip, field_path, parse_json, problems, read_text
from clobsim.sim.runner.scenario import MAX_SEED
from clobsim.sim.tools.errors import UsageError
from clobsim.sim.trace import TRACE_FORMAT

RUN_MARKER = "run.json"
MAX_RUN_FILE = 256 * 1024 * 1024  # a trace of a day-long window is tens of MB
SCENARIO_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")  # the scenario files' `name` rule
# --log-level: the lowest level a run writes to audit.log and audit.jsonl (debug adds the audit
# trail's "Starting notification retrieval process" lines); result.json names it when not info
LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
LEVEL_NAMES = {level: name for name, level in LOG_LEVELS.items()}

_STRING = {"type": "string", "maxLength": 100_000}
_COUNT = {"type": "integer", "minimum": 0}
RESULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "scenario",
        "verdict",
        "seed",
        "mode",
        "bot",
        "simulated_seconds",
        "orders",
        "fills",
        "faults",
        "checks",
    ],
    "properties": {
        "scenario": {"type": "string", "pattern": f"^{SCENARIO_NAME.pattern}$"},
        "file": _STRING,
        "description": _STRING,
        "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED},
        "mode": {"enum": ["fast", "wire", "serve"]},  # serve: clobsim run --bot-cmd (sim.tools.serving)
        "bot": {"type": "string", "maxLength": 1000},
        "verdict": {"enum": ["pass", "fail"]},
        "simulated_seconds": {"type": "number", "minimum": 0},
        "orders": _COUNT,
        "fills": _COUNT,
        "faults": {"type": "array", "items": {"type": "string"}},
        "faults_fired": _COUNT,
        "faults_silent": {"type": "array", "items": {"type": "string"}},
        "bots_started": _COUNT,
        "audit_lines": _COUNT,
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "passed"],
                "properties": {
                    "id": _STRING,
                    "kind": _STRING,
                    "passed": {"type": "boolean"},
                    "message": _STRING,
                    "evidence": {"type": "array", "items": _STRING},
                },
            },
        },
        "reproduce": _STRING,
        "log_level": {"enum": list(LOG_LEVELS)},
        "scenario_data": {"type": "object"},
        "trace_format": {"type": "integer", "minimum": 1},
    },
}
MARKER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["scenarios"],
    "properties": {
        "scenarios": {"type": "array", "items": {"type": "string", "pattern": f"^{SCENARIO_NAME.pattern}$"}},
        "failed": {"type": "array", "items": {"type": "string"}},
    },
}


def read_text_file(path: str) -> str:
    try:
        return read_text(path, limit=MAX_RUN_FILE)
    except InputError as exc:
        raise UsageError(f"{path}: {exc}") from None


def read_json_file(path: str, schema: dict[str, Any] | None = None) -> Any:
    """A JSON file, checked against `schema`: UsageError naming the file and the field."""
    try:
        data = parse_json(read_text_file(path))
    except InputError as exc:
        raise UsageError(f"{path}: {exc}") from None
    for where, problem in problems(data):
        raise UsageError(f"{path}: {where}: {problem}")
    if schema is not None:
        errors = sorted(
            jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
        )
        if errors:
            error = errors[0]
            where = field_path(error.absolute_path) or "(top level)"
            raise UsageError(f"{path}: {where}: {clip(error.message, 200)}")
    return data


def read_jsonl(path: str) -> list[dict[str, Any]]:
    """The records of a JSON-lines file (trace.jsonl, audit.jsonl): objects with a finite time `t`."""
    records = []
    for number, line in enumerate(read_text_file(path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = parse_json(line)
        except InputError as exc:
            raise UsageError(f"{path}: line {number}: {exc}") from None
        t = record.get("t") if isinstance(record, dict) else None
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            raise UsageError(f'{path}: line {number}: expected an object with a finite time "t"')
        records.append(record)
    return records


def read_result(folder: str) -> dict[str, Any]:
    result = read_json_file(os.path.join(folder, "result.json"), RESULT_SCHEMA)
    assert isinstance(result, dict)  # RESULT_SCHEMA: an object
    return result


def check_replayable(folder: str, record: dict[str, Any]) -> None:
    """A replay compares traces line by line: a run recorded in another trace format (sim.trace's
    TRACE_FORMAT; a result.json without the field is format 1) cannot match, so it is refused
    before anything runs, with how to record it again."""
    version = record.get("trace_format", 1)
    if version != TRACE_FORMAT:
        when = "an older" if version < TRACE_FORMAT else "a newer"
        again = record.get("reproduce") or f"clobsim run {record.get('file', 'SCENARIO')}"
        raise UsageError(
            f"{folder}/result.json: trace_format: recorded in trace format {version} by {when} clobsim; "
            f"this one replays format {TRACE_FORMAT} only: record the run again ({clip(again, 300)})"
        )


def run_marker(folder: str) -> dict[str, Any]:
    """The run.json of a folder `clobsim report` is given (the --out folder of `clobsim run`)."""
    if not os.path.exists(folder):
        raise UsageError(f"{folder}: no such folder")
    if not os.path.isdir(folder):
        raise UsageError(f"{folder}: not a folder; `clobsim report` takes a run folder (clobsim run --out)")
    marker = os.path.join(folder, RUN_MARKER)
    if not os.path.exists(marker):
        raise UsageError(
            f"{folder}: not a clobsim run folder (no {RUN_MARKER}); "
            "`clobsim report` takes the --out folder of `clobsim run`"
        )
    meta = read_json_file(marker, MARKER_SCHEMA)
    assert isinstance(meta, dict)  # MARKER_SCHEMA: an object
    return meta


def check_report_folder(folder: str) -> None:
    """What `clobsim report` can refuse before it loads the report's modules: the folder, its
    run.json, and a result.json in each scenario folder. Their contents are read once, by the
    report itself (sim.tools.metrics.load_run: ~1 ms each, twice over would be wasted)."""
    run_marker(folder)
    scenario_folders(folder)


def scenario_folders(path: str) -> list[str]:
    """The scenario folders of a run folder (or the one scenario folder `path` is)."""
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file or folder")
    if not os.path.isdir(path):
        raise UsageError(f"{path}: not a folder")
    if os.path.exists(os.path.join(path, "result.json")):
        return [path]
    marker = os.path.join(path, RUN_MARKER)
    if os.path.exists(marker):
        names = read_json_file(marker, MARKER_SCHEMA)["scenarios"]
    else:
        names = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))
        if not names:
            raise UsageError(f"{path}: not a run folder (no {RUN_MARKER}, no result.json, no scenario folders)")
    folders = [os.path.join(path, name) for name in names]
    for folder in folders:
        if not os.path.exists(os.path.join(folder, "result.json")):
            raise UsageError(f"{folder}: no result.json; a run folder's scenario folders each hold one")
    return folders
