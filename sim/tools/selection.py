"""Which scenarios a command takes: every file of its PATHs validated before any runs (`load_all`),
then `-k PATTERN`, which chooses them by name as pytest's `-k` chooses tests.

The expression is pytest's own (`race`, `race and not cancel`, `(timeout or crash) and not
regressions`), compiled by pytest's matcher so that a user's habits carry over exactly: each word
matches, case-insensitively, as a substring of the scenario's name or of its file's path (so
`-k regressions` selects the regressions folder). pytest is already a dependency (the plugin);
its expression module is private, so this is the one place that touches it. It is imported only
when a pattern is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from clobsim.sim.runner.scenario import Scenario, ScenarioError, discover, load
from clobsim.sim.tools.errors import UsageError

if TYPE_CHECKING:
    from _pytest.mark.expression import Expression


def load_all(paths: list[str]) -> list[Scenario]:
    """Validate every file before running any: a bad file stops the run and loses nothing."""
    files = discover(paths)
    if not files:
        raise UsageError(f"no scenario files (*.yaml) under {', '.join(paths)}")
    scenarios = [load(path) for path in files]
    seen: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.name in seen:
            raise ScenarioError(
                scenario.source,
                "name",
                f"{scenario.name!r} is also the name of {seen[scenario.name]}; names must be unique",
            )
        seen[scenario.name] = scenario.source
    return scenarios


def compile_pattern(pattern: str, option: str = "-k") -> Expression:
    from _pytest.mark.expression import Expression  # noqa: PLC0415 - pytest's import is heavy; only for -k

    try:
        return Expression.compile(pattern)
    except SyntaxError as exc:
        raise UsageError(f"{option} {pattern!r}: not a valid expression: {exc.msg}") from None


def _matcher(pattern: str, scenario: Scenario):
    haystack = f"{scenario.name} {scenario.source or ''}".lower()

    def matches(word: str, /, **kwargs: object) -> bool:
        if kwargs:
            raise UsageError(f"-k {pattern!r}: keyword arguments ({word}(...)) are not supported")
        return word.lower() in haystack

    return matches


def select(scenarios: Sequence[Scenario], pattern: str | None) -> list[Scenario]:
    """The scenarios the expression keeps, in their order; all of them when there is none.
    An expression that keeps nothing is a usage error (a CI job would otherwise pass vacuously)."""
    if pattern is None:
        return list(scenarios)
    expression = compile_pattern(pattern)
    kept = [scenario for scenario in scenarios if expression.evaluate(_matcher(pattern, scenario))]
    if not kept:
        raise UsageError(f"-k {pattern!r}: no scenario's name or path matches (clobsim list scenarios)")
    return kept
