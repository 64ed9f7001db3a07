"""The bots a run can drive: core's position manager and the zoo of known-buggy variants.

`resolve(bot)` turns what a user names (`--bot NAME`, `sim.run(..., bot=...)`) into the factory
a run starts: "core", a zoo variant's name, or a Bot subclass of the caller's own. It is the one
place that knows the names, so the CLI, the pytest plugin and the harness agree on them.
"""

from __future__ import annotations

from typing import Any

from core.bot import Bot
from sim.bots.zoo import VARIANTS

CORE = "core"


def names() -> list[str]:
    return [CORE, *VARIANTS]


def bot_name(bot: Any) -> str:
    return bot if isinstance(bot, str) else f"{bot.__module__}.{bot.__qualname__}"


def resolve(bot: Any) -> type[Bot]:
    """The Bot class for a name or a Bot subclass; ValueError names the known bots."""
    if isinstance(bot, type) and issubclass(bot, Bot):
        return bot
    if bot == CORE:
        return Bot
    if bot not in VARIANTS:
        raise ValueError(f"unknown bot {bot!r}; known: {CORE}{''.join(', ' + v for v in sorted(VARIANTS))}")
    return VARIANTS[bot]
