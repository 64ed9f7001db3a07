"""Where the scenario library is: the checkout's scenarios/ folder, or its installed copy.

The library is the top-level scenarios/ folder of the source tree; a wheel ships the same files
as the data-only package sim.library (pyproject.toml maps it onto scenarios/), so the pytest
plugin's run_library() works after a plain `pip install`, not only in a checkout. An installed
copy wins when there is one; otherwise (a checkout, an editable install) the folder next to the
sim package is the library.
"""

from __future__ import annotations

import os
from importlib import resources

from clobsim.sim.runner.scenario import discover


def library_folder() -> str:
    """The folder holding the library's scenario files (regressions/ included)."""
    installed = resources.files("clobsim.sim") / "library"
    if installed.is_dir():
        return str(installed)
    checkout = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), os.pardir, "scenarios")
    return os.path.normpath(checkout)


def library_files() -> list[str]:
    """Every scenario file of the library, in `clobsim run`'s order."""
    return discover([library_folder()])
