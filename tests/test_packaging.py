"""The distribution: every package of the tree is shipped, and the scenario library with it, so
the plugin's run_library() and `clob_scenario` work after a plain `pip install` (not only in a
checkout)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile

import pytest

from clobsim.sim.runner.library import library_files, library_folder

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir))


def tree_packages() -> set[str]:
    found = {"clobsim"}
    for top in ("core", "sim"):
        for folder, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            if "__init__.py" in files:
                found.add("clobsim." + os.path.relpath(folder, ROOT).replace(os.sep, "."))
    return found


def test_the_listed_packages_are_the_trees_packages_plus_the_library():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        setuptools = tomllib.load(handle)["tool"]["setuptools"]
    assert set(setuptools["packages"]) == tree_packages() | {"clobsim.sim.library", "clobsim.sim.library.regressions"}
    assert setuptools["package-dir"] == {"clobsim.sim.library": "scenarios"}


def test_in_a_checkout_the_library_is_the_scenarios_folder():
    assert library_folder() == os.path.join(ROOT, "scenarios")
    assert any(path.endswith("cancel-race-fill-before-cancel.yaml") for path in library_files())
    assert any("/regressions/" in path for path in library_files())


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    """The names in a wheel built once for this module's tests."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    # built from a copy, so that setuptools' build/ and egg-info never land in the checkout
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), source / name)
    for name in ("clobsim", "core", "sim", "scenarios"):
        # symlinks=True: clobsim/core and clobsim/sim stay links to the top-level folders, as in a checkout
        shutil.copytree(
            os.path.join(ROOT, name), source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__")
        )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("clobsim-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def test_the_wheel_ships_every_library_file(wheel_names):
    shipped = wheel_names
    folder = library_folder()
    expected = {
        "clobsim/sim/library/" + os.path.relpath(path, folder).replace(os.sep, "/")
        for path in library_files()
        + [os.path.join(folder, "README.md"), os.path.join(folder, "scenario.schema.json")]
        + [os.path.join(folder, "regressions", "README.md")]
    }
    assert expected <= shipped, sorted(expected - shipped)
    assert "clobsim/sim/testing/pytest_plugin.py" in shipped and "clobsim/core/bot.py" in shipped


def test_the_wheel_installs_one_import_name_so_a_users_core_and_sim_packages_keep_theirs(wheel_names):
    tops = {name.split("/")[0] for name in wheel_names}
    assert tops == {"clobsim", "clobsim-0.1.0.dist-info"}
