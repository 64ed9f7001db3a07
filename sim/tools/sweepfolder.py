"""What `clobsim sweep` checks and names before it loads anything heavy: its seed arguments and
the files of its --out folder (sim.tools.sweep writes them)."""

from __future__ import annotations

import os

from clobsim.sim.tools.errors import UsageError

SUMMARY = "sweep.json"
REPORT = "report.md"
FAILING = "failing"


def parse_seeds(seeds: int | None, seed_range: str | None) -> list[int]:
    """--seeds N (1..N) or --seed-range A:B (A..B inclusive)."""
    if seed_range is not None:
        first, sep, last = seed_range.partition(":")
        try:
            a, b = int(first), int(last)
        except ValueError:
            raise UsageError(f"--seed-range: expected A:B (two integers), got {seed_range!r}") from None
        if not sep or a < 0 or b < a:
            raise UsageError(f"--seed-range: expected A:B with 0 <= A <= B, got {seed_range!r}")
        return list(range(a, b + 1))
    count = 10 if seeds is None else seeds
    if count < 1:
        raise UsageError(f"--seeds: must be a positive number, got {count}")
    return list(range(1, count + 1))


def check_out(out: str) -> None:
    """A sweep writes only into an empty folder or an earlier sweep's."""
    if os.path.isdir(out) and os.listdir(out) and not os.path.exists(os.path.join(out, SUMMARY)):
        raise UsageError(
            f"--out {out}: folder exists and is not a sweep folder (no {SUMMARY}); refusing to write into it"
        )
