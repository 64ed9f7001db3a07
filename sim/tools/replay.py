"""`clobsim replay`: re-execute recorded runs and compare them with what was recorded.

A replay runs the recorded scenario again (same seed, mode, protocol and audit level) and compares
trace.jsonl, then audit.log, line by line. The first difference is printed readably: when it
happened (simulated seconds from the window start, and the simulated clock), what it is (a
request's route, a venue event, a fault), and only the fields that differ, side by side.

Outcomes (design.md's exit codes: 1 only when a check failed or a replay diverged):
- same code (no --bot, or the recorded bot): `identical` exits 0; `DIVERGED` exits 1: the run is
  no longer deterministic, or the code changed behaviour.
- other code (--bot naming another bot): the same market is replayed against different requests,
  so a divergence is expected: `diverged as expected under --bot NAME`. It does not fail the
  replay by itself; the checks of the new run decide (1 when one fails, with its evidence).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tabulate import tabulate

from clobsim.sim.bots import resolve as resolve_bot
from clobsim.sim.bots.foreign import is_entry_point
from clobsim.sim.exchange.protocol import V1
from clobsim.sim.runner.inputs import clip
from clobsim.sim.runner.scenario import from_dict
from clobsim.sim.tools.errors import UsageError
from clobsim.sim.tools.folders import LOG_LEVELS, check_replayable, read_result, read_text_file, scenario_folders
from clobsim.sim.trace import HarnessAction, TraceType

REPLAYED = ("trace.jsonl", "audit.log")  # the recorded files a replay compares, in this order
CELL = 48  # a field's value is cut to this many characters in the side-by-side table


class Outcome:
    IDENTICAL = "identical"
    DIVERGED = "DIVERGED"
    EXPECTED = "diverged as expected"


@dataclass(frozen=True)
class Difference:
    file: str
    line: int
    recorded: str
    replayed: str


def replay_targets(path: str) -> list[str]:
    if os.path.isfile(path):
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.exists(os.path.join(folder, "result.json")):
            raise UsageError(f"{path}: no result.json beside the trace; replay needs the recorded run's folder")
        return [folder]
    return scenario_folders(path)


def first_difference(recorded: list[str], replayed: list[str]) -> tuple[int, str, str] | None:
    for index in range(max(len(recorded), len(replayed))):
        a = recorded[index] if index < len(recorded) else ""
        b = replayed[index] if index < len(replayed) else ""
        if a != b:
            return index + 1, a, b
    return None


# ---- the readable divergence --------------------------------------------------------------------


def window_start(trace_lines: list[str]) -> float:
    """The simulated moment the window starts: the trace's `harness begin` record."""
    for line in trace_lines:
        record = _record(line)
        if record.get("type") == TraceType.HARNESS and record.get("action") == HarnessAction.BEGIN:
            return float(record["t"])
    return float(_record(trace_lines[0]).get("t", 0.0)) if trace_lines else 0.0


def _record(line: str) -> dict:
    try:
        record = json.loads(line)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"params.id": ..., "body.status": ...}: nested fields by dotted path, lists by index."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix: value}


def describe(record: dict) -> str:
    """What a trace record is, in a few words: `request GET /data/order`, `venue trade_matched`..."""
    if not record:
        return "(end of file)"
    kind = str(record.get("type", "?"))
    what = record.get("route") or record.get("event") or record.get("action") or record.get("kind") or ""
    seq = f" (seq {record['seq']})" if "seq" in record else ""
    return f"{kind} {what}{seq}".strip()


def _cell(value: Any) -> str:
    if value is _MISSING:
        return "-"
    return clip(json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value, CELL)


_MISSING = object()


def _when(seconds: float, start: float) -> str:
    clock = datetime.fromtimestamp(start + seconds, tz=UTC).strftime("%H:%M:%S.%f")[:-3]
    return f"t+{seconds:.3f}s ({clock} simulated)"


def render_trace_difference(difference: Difference, start: float) -> list[str]:
    recorded, replayed = _record(difference.recorded), _record(difference.replayed)
    moments = [float(r["t"]) - start for r in (recorded, replayed) if "t" in r]
    lines = [
        f"  first difference: {difference.file} line {difference.line}, at {_when(min(moments), start)}"
        if moments
        else f"  first difference: {difference.file} line {difference.line}",
        f"    recorded: {describe(recorded)}",
        f"    replayed: {describe(replayed)}",
    ]
    a, b = flatten(recorded), flatten(replayed)
    rows = []
    for key in list(dict.fromkeys([*a, *b])):
        left, right = a.get(key, _MISSING), b.get(key, _MISSING)
        if left != right:
            value_a = f"t+{float(left) - start:.3f}s" if key == "t" and left is not _MISSING else _cell(left)
            value_b = f"t+{float(right) - start:.3f}s" if key == "t" and right is not _MISSING else _cell(right)
            rows.append([key, value_a, value_b])
    if rows:
        table = tabulate(rows, headers=["field", "recorded", "replayed"], tablefmt="simple", disable_numparse=True)
        lines.extend("    " + row for row in table.splitlines())
    return lines


def _audit_seconds(line: str, start: float) -> float | None:
    try:
        stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    except ValueError:
        return None
    return stamp.timestamp() - start


def render_audit_difference(difference: Difference, start: float) -> list[str]:
    found = (_audit_seconds(difference.recorded, start), _audit_seconds(difference.replayed, start))
    moments = [s for s in found if s is not None]
    where = f", at {_when(min(moments), start)}" if moments else ""
    return [
        f"  first difference: {difference.file} line {difference.line}{where}",
        f"    recorded: {_audit_text(difference.recorded)}",
        f"    replayed: {_audit_text(difference.replayed)}",
    ]


def _audit_text(line: str) -> str:
    """An audit.log line without its date and time (the moment is printed above): `LEVEL line`."""
    if not line:
        return "(end of file)"
    level, _, text = line[24:].partition(" ")
    return clip(f"{level} {text.lstrip()}", 300)


def check_lines(checks: list) -> list[str]:
    lines = []
    for check in checks:
        lines.append(f"  {check.id}: {check.message}")
        lines.extend(f"    {item}" for item in check.evidence)
    return lines


# ---- the command --------------------------------------------------------------------------------


def _bot(name: str, where: str) -> None:
    try:
        resolve_bot(name)
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None


def replay(path: str, *, bot: str | None = None, log_level: str | None = None, out=print) -> int:
    """Replay every recorded run under `path`; the exit code (module docstring)."""
    if bot is not None:
        _bot(bot, "--bot")
    # every recorded run is read and checked before the first is replayed: bad input costs nothing
    recorded_runs = []
    for folder in replay_targets(path):
        record = read_result(folder)
        if record["mode"] == "serve":
            raise UsageError(
                f"{folder}: a server-mode run (clobsim run --bot-cmd) happened in wall time and cannot be "
                f"replayed; run it again: {clip(str(record.get('reproduce', '')), 300)}"
            )
        check_replayable(folder, record)
        if is_entry_point(str(bot or record["bot"])):
            again = record.get("reproduce")
            raise UsageError(f"{folder}: replay takes clobsim's own bots; run a bot of your own again with: {again}")
        if "scenario_data" not in record:
            raise UsageError(f"{folder}/result.json: field 'scenario_data' is missing")
        scenario = from_dict(record["scenario_data"], f"{folder}/result.json: scenario_data")
        _bot(bot or record["bot"], f"{folder}/result.json: bot")
        recorded = {name: read_text_file(os.path.join(folder, name)).splitlines() for name in REPLAYED}
        recorded_runs.append((record, scenario, recorded))
    from clobsim.sim.checks import run  # noqa: PLC0415 - heavy import, once every recorded run is read

    failed = 0
    for record, scenario, recorded_files in recorded_runs:
        replay_bot = bot or record["bot"]
        other_code = replay_bot != record["bot"]
        # a run recorded at DEBUG replays at DEBUG, or its audit.log would differ by those lines
        level = LOG_LEVELS[log_level or record.get("log_level", "info")]
        with tempfile.TemporaryDirectory(prefix="clobsim-replay-") as tmp:
            # a record without a protocol was written by a v1 run (or before protocols existed)
            result = run(
                scenario,
                seed=record["seed"],
                mode=record["mode"],
                bot=replay_bot,
                out_dir=tmp,
                protocol=record.get("protocol", V1),
                log_level=level,
            )
            replayed = {"trace.jsonl": result.trace_jsonl().splitlines()}
            with open(os.path.join(tmp, "audit.log"), encoding="utf-8") as handle:
                replayed["audit.log"] = handle.read().splitlines()
        difference = None
        for name in REPLAYED:
            found = first_difference(recorded_files[name], replayed[name])
            if found is not None:
                difference = Difference(name, *found)
                break
        if difference is None:
            outcome = Outcome.IDENTICAL
        else:
            outcome = Outcome.EXPECTED if other_code else Outcome.DIVERGED
        how = f"seed {record['seed']}, {record['mode']} mode, bot {replay_bot}" + (
            f", recorded with bot {record['bot']}" if other_code else ""
        )
        if outcome == Outcome.EXPECTED:
            headline = f"{record['scenario']}: {outcome} under --bot {replay_bot} ({how})"
        else:
            headline = f"{record['scenario']}: {outcome} ({how})"
        out(headline)
        if difference is not None:
            start = window_start(recorded_files["trace.jsonl"])
            render = render_trace_difference if difference.file == "trace.jsonl" else render_audit_difference
            out("\n".join(render(difference, start)))
        if other_code:
            verdict = "pass" if result.passed else f"FAIL {', '.join(dict.fromkeys(c.id for c in result.failures))}"
            out(f"  checks with bot {replay_bot}: {verdict}")
            if result.failures:
                out("\n".join(check_lines(result.failures)))
            failed += not result.passed
        else:
            failed += outcome == Outcome.DIVERGED
    return 1 if failed else 0
