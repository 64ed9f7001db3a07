"""The bots a run can drive: core's position manager and the zoo of known-buggy variants.

`resolve(bot)` turns what a user names (`--bot NAME`, `sim.run(..., bot=...)`) into the factory
a run starts: "core", a zoo variant's name, or a Bot subclass of the caller's own. It is the one
place that knows the names, so the CLI, the pytest plugin and the harness agree on them.
"""

from __future__ import annotations

import os
import re
from typing import Any

from clobsim.core.bot import Bot
from clobsim.sim.bots.foreign import ForeignBot, is_entry_point, split
from clobsim.sim.bots.zoo import VARIANTS

CORE = "core"


def names() -> list[str]:
    return [CORE, *VARIANTS]


def bot_name(bot: Any) -> str:
    if isinstance(bot, ForeignBot):
        return bot.name
    return bot if isinstance(bot, str) else f"{bot.__module__}.{bot.__qualname__}"


def bot_slug(bot: Any) -> str:
    """A bot's name as it may appear in a scenario's name and file name (`clobsim run` accepts
    `^[a-z0-9][a-z0-9._-]*$`): a known name as it is; a Bot subclass by its class name in kebab
    case (MyBot: my-bot), never its repr."""
    if isinstance(bot, ForeignBot):
        text = os.path.splitext(os.path.basename(split(bot.entry)[0]))[0]
    elif isinstance(bot, str):
        text = bot
    else:
        text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", getattr(bot, "__name__", "bot"))
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return slug or "bot"


def foreign(
    bot: Any, env: tuple[tuple[str, str], ...] = (), positions: str | None = None, stubs: str | None = None
) -> Any:
    """What a user names, with a foreign bot's entry point (FILE.py:FUNC, module:func) made a
    ForeignBot: the one reading of `--bot` the CLI, sim.run and the pytest plugin share."""
    if isinstance(bot, ForeignBot) or not is_entry_point(bot):
        if env or positions or stubs:
            raise ValueError(
                "--bot-env, --bot-positions and --bot-stubs apply to a bot named by its entry point (FILE.py:FUNC)"
            )
        return bot
    return ForeignBot(bot, env, positions, stubs, base=os.getcwd())


def resolve(bot: Any) -> type[Bot]:
    """The Bot class for a name or a Bot subclass; ValueError names the known bots."""
    if isinstance(bot, type) and issubclass(bot, Bot):
        return bot
    if bot == CORE:
        return Bot
    if bot not in VARIANTS:
        raise ValueError(f"unknown bot {bot!r}; known: {CORE}{''.join(', ' + v for v in sorted(VARIANTS))}")
    return VARIANTS[bot]
