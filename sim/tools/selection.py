"""`-k PATTERN`: choose scenarios by name, as pytest's `-k` chooses tests.

The expression is pytest's own (`race`, `race and not cancel`, `(timeout or crash) and not
regressions`), compiled by pytest's matcher so that a user's habits carry over exactly: each word
matches, case-insensitively, as a substring of the scenario's name or of its file's path (so
`-k regressions` selects the regressions folder). pytest is already a dependency (the plugin);
its expression module is private, so this is the one place that touches it.
"""

from __future__ import annotations

from collections.abc import Sequence

from _pytest.mark.expression import Expression

from clobsim.sim.runner.scenario import Scenario
from clobsim.sim.tools.errors import UsageError


def compile_pattern(pattern: str, option: str = "-k") -> Expression:
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
