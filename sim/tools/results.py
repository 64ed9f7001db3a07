"""What `clobsim run` prints: a narrow results table, then each failure in full.

The table holds one short row per scenario (a failed scenario's cell names its leading check and
how many more failed); the evidence, every failed check and the reproduce command follow below
it, one block per failed scenario, so a row never grows with the evidence.
"""

from __future__ import annotations

from tabulate import tabulate

HEADERS = ["scenario", "verdict", "seed", "orders", "fills", "faults", "failed checks"]


def failed_checks(record: dict) -> list[dict]:
    return [c for c in record["checks"] if not c["passed"]]


def lead_check(record: dict) -> dict:
    """The check that leads a failed scenario's verdict: the first failing invariant (the safety
    outcome), else the first failing expectation."""
    failed = failed_checks(record)
    return next((c for c in failed if c.get("kind") == "invariant"), failed[0])


def failed_cell(record: dict) -> str:
    failed = failed_checks(record)
    if not failed:
        return "-"
    lead = lead_check(record)
    others = len(dict.fromkeys(c["id"] for c in failed if c["id"] != lead["id"]))
    return lead["id"] + (f" +{others} more" if others else "")


def faults_cell(record: dict) -> str:
    silent = record.get("faults_silent")
    return f"{len(record['faults'])} ({len(silent)} silent)" if silent else str(len(record["faults"]))


def results_table(records: list[dict]) -> str:
    rows = [
        [
            r["scenario"],
            r["verdict"].upper(),
            r["seed"],
            r["orders"],
            r["fills"],
            faults_cell(r),
            failed_cell(r),
        ]
        for r in records
    ]
    return tabulate(rows, headers=HEADERS, tablefmt="github")


def failure_text(record: dict) -> str:
    lines = [f"\nFAIL {record['scenario']} ({record['file']})"]
    for check in failed_checks(record):
        lines.append(f"  {check['id']}: {check['message']}")
        lines.extend(f"    {item}" for item in check["evidence"])
    lines.append(f"  reproduce: {record['reproduce']}")
    return "\n".join(lines)
