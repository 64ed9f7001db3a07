"""The progress display of `run`, `explore` and `sweep` (rich), on the terminal only.

It is drawn on stderr when stderr is a terminal and is transient (erased when the command
ends), so the printed table and every file a command writes are the same with or without it.
Not on a terminal (a CI log, a pipe, a test) it draws nothing at all: no carriage returns in logs.
`CLOBSIM_PROGRESS=0` turns it off on a terminal too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

PROGRESS_ENV = "CLOBSIM_PROGRESS"


def stderr_console() -> Console:
    return Console(stderr=True)


def shown(console: Console) -> bool:
    return console.is_terminal and os.environ.get(PROGRESS_ENV) != "0"


class Bar:
    """A counted task (`run`'s scenarios, `sweep`'s cases): advance() as each one finishes."""

    def __init__(self, progress: Progress | None, description: str, total: int):
        self._progress = progress
        self._task = progress.add_task(description, total=total) if progress is not None else None

    def advance(self, steps: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, steps)


@contextmanager
def bar(description: str, total: int, console: Console | None = None) -> Iterator[Bar]:
    console = console or stderr_console()
    if not shown(console):
        yield Bar(None, description, total)
        return
    columns = (
        TextColumn("{task.description}", markup=False),  # bot names in [brackets] are not markup
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield Bar(progress, description, total)


class StatusStream:
    """A text stream for progress lines of the form `\\rexplore [...] searching: 40 runs, ...`
    (sim.explore writes them): each line becomes the text of a rich status line."""

    def __init__(self, progress: Progress, task: TaskID):
        self._progress, self._task = progress, task

    def write(self, text: str) -> int:
        line = text.replace("\r", "").strip()
        if line:
            self._progress.update(self._task, description=line)
        return len(text)

    def flush(self) -> None:
        pass


@contextmanager
def status(description: str, console: Console | None = None) -> Iterator[StatusStream | None]:
    """A spinner with the latest progress line; None (no progress lines at all) off a terminal."""
    console = console or stderr_console()
    if not shown(console):
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}", markup=False))
    with Progress(*columns, console=console, transient=True) as progress:
        yield StatusStream(progress, progress.add_task(description, total=None))
