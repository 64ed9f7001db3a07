"""The docs that describe run folders and audit lines stay true to the code."""

from __future__ import annotations

import os

from clobsim.core.audit import TEMPLATES

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir))


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return handle.read()


def test_the_scenario_readme_catalogues_every_audit_line_kind_with_its_level():
    catalogue = read("scenarios", "README.md").split("## Catalogue of the audit lines", 1)[1]
    for kind, (level, *_rest) in TEMPLATES.items():
        row = next((line for line in catalogue.splitlines() if line.startswith(f"| `{kind}` |")), None)
        assert row is not None, kind
        assert (
            f"| {'DEBUG' if level == 10 else 'INFO' if level == 20 else 'WARNING' if level == 30 else 'ERROR'} |" in row
        )


def test_the_readme_greps_of_a_run_folder_name_its_audit_log():
    readme = read("README.md")
    greps = [line for line in readme.splitlines() if line.strip().startswith("grep ")]
    assert greps and all("audit.log" in line for line in greps)
