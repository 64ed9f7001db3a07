"""Compare two run folders of the same scenarios run in fast and in wire mode.

    python -m sim.tools.samerun FAST_FOLDER WIRE_FOLDER

Fast mode must stay byte-identical to wire mode (design.md): per scenario folder, audit.log and
audit.jsonl are compared byte for byte, and trace.jsonl byte for byte once the one field that
names the mode (the harness "begin" record's "mode") is set to the same value. Prints one line
per difference and a summary; exits 0 when every scenario agrees, 1 otherwise, 2 when a folder
is missing or the two hold different scenarios.
"""

from __future__ import annotations

import sys
from pathlib import Path

SAME_BYTES = ("audit.log", "audit.jsonl")
TRACE = "trace.jsonl"
MODES = ('"mode":"fast"', '"mode":"wire"')


def _scenarios(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / TRACE).is_file())


def _without_mode(trace: str) -> str:
    """The trace with its single mode field neutralised (only the first occurrence: a venue
    payload further down that happened to contain the text must still count)."""
    positions = [(trace.find(m), m) for m in MODES if m in trace]
    if not positions:
        return trace
    index, text = min(positions)
    return trace[:index] + '"mode":"*"' + trace[index + len(text) :]


def differences(fast: Path, wire: Path) -> list[str]:
    """One line per file that differs, in scenario order; empty when the runs agree."""
    out = []
    for name in _scenarios(fast):
        for file in SAME_BYTES:
            if (fast / name / file).read_bytes() != (wire / name / file).read_bytes():
                out.append(f"{name}/{file}: differs")
        if _without_mode((fast / name / TRACE).read_text()) != _without_mode((wire / name / TRACE).read_text()):
            out.append(f"{name}/{TRACE}: differs beyond the mode field")
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m sim.tools.samerun FAST_FOLDER WIRE_FOLDER", file=sys.stderr)
        return 2
    fast, wire = Path(args[0]), Path(args[1])
    for folder in (fast, wire):
        if not folder.is_dir():
            print(f"error: {folder}: not a run folder", file=sys.stderr)
            return 2
    if _scenarios(fast) != _scenarios(wire):
        only = sorted(set(_scenarios(fast)) ^ set(_scenarios(wire)))
        print(f"error: the folders hold different scenarios: {', '.join(only)}", file=sys.stderr)
        return 2
    found = differences(fast, wire)
    for line in found:
        print(line)
    count = len(_scenarios(fast))
    print(f"{count - len({line.split('/')[0] for line in found})} of {count} scenarios agree byte for byte")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
