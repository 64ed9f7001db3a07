"""`clobsim list bots|faults|invariants|scenarios`: each name with one line saying what it is.

By default a two-column listing (name, then its one-line description); `--names` prints the
names alone, one per line, for scripts (`for s in $(clobsim list scenarios --names)`). Each
description comes from where the thing is defined: the zoo's SUMMARIES, a fault kind's summary
(the one its JSON schema carries), an invariant's registry entry (led by the bots it judges), a
scenario file's description.
"""

from __future__ import annotations

from clobsim.sim.bots import CORE
from clobsim.sim.bots.zoo import SUMMARIES, VARIANTS
from clobsim.sim.checks import REGISTRY
from clobsim.sim.faults import CATALOGUE
from clobsim.sim.faults import names as fault_names
from clobsim.sim.runner.scenario import Scenario

CORE_SUMMARY = "the position manager under test (core/), as it trades live"
WIDTH = 110  # a description is cut to one line of about this many characters


def first_line(text: str, width: int = WIDTH) -> str:
    """The first sentence of a description, on one line, cut at `width` characters."""
    flat = " ".join(str(text or "").split())
    end = flat.find(". ")
    sentence = flat if end < 0 else flat[: end + 1]
    return sentence if len(sentence) <= width else sentence[: width - 1].rstrip() + "…"


def bots() -> list[tuple[str, str]]:
    return [(CORE, CORE_SUMMARY)] + [(name, SUMMARIES[name]) for name in VARIANTS]


def faults() -> list[tuple[str, str]]:
    return [(name, CATALOGUE[name].summary) for name in fault_names()]


def invariants() -> list[tuple[str, str]]:
    """Each invariant's description led by which bots it judges (a foreign bot: only some)."""
    return [(invariant.id, f"[{invariant.reach.label}] {invariant.description}") for invariant in REGISTRY]


def scenarios(loaded: list[Scenario]) -> list[tuple[str, str]]:
    return [(scenario.name, scenario.description or "(no description)") for scenario in loaded]


def render(entries: list[tuple[str, str]], *, names_only: bool = False) -> str:
    if names_only:
        return "\n".join(name for name, _ in entries)
    width = max((len(name) for name, _ in entries), default=0)
    return "\n".join(f"{name.ljust(width)}  {first_line(text)}" for name, text in entries)
