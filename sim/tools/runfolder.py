"""Where `clobsim run` writes: a fresh temporary folder beside `--out`, renamed onto it at the end.

This module is checked before any scenario runs (a bad `--out` is bad input, exit 2), so it
imports nothing of the simulator; what the folder holds is sim.tools.runs.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from clobsim.sim.tools.errors import UsageError
from clobsim.sim.tools.folders import RUN_MARKER

DEFAULT_OUT = os.path.join("reports", "latest")


class RunFolder:
    """An interrupted or crashed run (SIGINT, an internal error) leaves the previous run folder as
    it was and removes its own partial one. A folder clobsim did not write (no run.json) is never
    replaced; `--out` naming a file, or a place where nothing can be written, is refused before
    anything runs."""

    def __init__(self, out: str):
        self.out = out
        if os.path.exists(out) and not os.path.isdir(out):
            raise UsageError(f"--out {out}: is a file, not a folder")
        if os.path.isdir(out) and os.listdir(out) and not os.path.exists(os.path.join(out, RUN_MARKER)):
            raise UsageError(
                f"--out {out}: folder exists and is not a clobsim run folder (no {RUN_MARKER}); "
                "refusing to overwrite it"
            )
        parent = os.path.dirname(os.path.abspath(out))
        try:
            os.makedirs(parent, exist_ok=True)
            self.partial = tempfile.mkdtemp(prefix=f".{os.path.basename(os.path.abspath(out))}.partial-", dir=parent)
        except OSError as exc:
            raise UsageError(f"--out {out}: cannot write there: {exc.strerror or exc}") from None

    def commit(self) -> None:
        """Put the finished run in place of the previous one (two renames; the old one is then removed)."""
        previous = None
        if os.path.exists(self.out):
            previous = tempfile.mkdtemp(
                prefix=f".{os.path.basename(os.path.abspath(self.out))}.old-",
                dir=os.path.dirname(os.path.abspath(self.out)),
            )
            os.rmdir(previous)
            os.rename(self.out, previous)
        os.rename(self.partial, self.out)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)

    def discard(self) -> None:
        shutil.rmtree(self.partial, ignore_errors=True)
