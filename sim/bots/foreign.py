"""A foreign bot: the user's own program, named by its entry point, run unchanged.

    --bot path/to/bot.py:main      a file and a function in it
    --bot package.module:func      an importable module and a function in it

A ForeignBot is data (the entry point, the environment the user adds, an optional position hook):
it crosses worker processes as it is, and each run imports the bot afresh from it, so module-level
state never leaks from one run into the next and names a bot binds at import (`from time import
sleep`) bind the simulation's. Loading and the errors a user can make are here; the run itself
(virtual time, the bot's threads, its network) is sim.runner.foreign's.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# `KEY=VALUE`: an environment variable's name as POSIX shells accept it
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MODULE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class BotLoadError(ValueError):
    """The entry point cannot be loaded: one sentence naming the file or module and what is wrong."""


def is_entry_point(text: Any) -> bool:
    """Whether a --bot value names an entry point (FILE.py:FUNC or module:func) rather than a known bot."""
    return isinstance(text, str) and ":" in text


def parse_env(pairs: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """`KEY=VALUE` items (--bot-env, repeatable); a later KEY wins. ValueError names the bad item."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not ENV_KEY.match(key):
            raise ValueError(f"{pair!r} is not KEY=VALUE (KEY: letters, digits and _, not starting with a digit)")
        env[key] = value
    return tuple(sorted(env.items()))


def env_items(values: Any) -> tuple[tuple[str, str], ...]:
    """A bot's added environment from a mapping or from KEY=VALUE strings, in one order."""
    if isinstance(values, dict):
        return parse_env(f"{key}={value}" for key, value in values.items())
    return parse_env(values or ())


@dataclass(frozen=True)
class ForeignBot:
    """A user's bot: `entry` is FILE.py:FUNC or module:func; `env` is added to the bot's
    environment; `positions` optionally names a hook (same forms) that returns what the bot
    believes it holds, {token id: shares}, read when the run ends; `stubs` optionally names a hook
    answering the bot's requests to other hosts: (method, url) -> (status, JSON body) or None,
    asked after the scenario's `bot_stubs`. `spin_limit` bounds, in wall
    seconds, how long one of its threads may run without sleeping or waiting (a loop that never
    yields cannot be preempted on virtual time: the run stops the bot past it)."""

    entry: str
    env: tuple[tuple[str, str], ...] = ()
    positions: str | None = None
    stubs: str | None = None
    base: str = field(default="", compare=False)  # where relative FILE paths were given from
    # wall seconds one of its threads may run without sleeping or waiting before the run stops it
    spin_limit: float = 5.0

    def __post_init__(self) -> None:
        if not self.base:  # relative FILE paths are the caller's: fixed before any run changes directory
            object.__setattr__(self, "base", os.getcwd())
        for spec in self.hooks():
            split(spec)  # a malformed spec is refused where it is given

    @property
    def name(self) -> str:
        """The bot as the CLI names it, options included: a run's record reproduces with it."""
        words = [self.entry] + [f"--bot-env {key}={value}" for key, value in self.env]
        if self.positions:
            words.append(f"--bot-positions {self.positions}")
        if self.stubs:
            words.append(f"--bot-stubs {self.stubs}")
        return " ".join(words)

    def hooks(self) -> list[str]:
        """The entry point and the hooks given, each FILE.py:FUNC or module:func."""
        return [spec for spec in (self.entry, self.positions, self.stubs) if spec is not None]

    def check(self) -> None:
        """Load the entry point and the hook once, as a run would, so a bad value fails before
        any run starts (the CLI's exit 2). Modules this imports are forgotten again."""
        with fresh_imports(self):
            for spec in self.hooks():
                load(spec, self.base)


def split(spec: str) -> tuple[str, str]:
    """(file or module, function name) of an entry point; BotLoadError when malformed."""
    target, sep, func = spec.rpartition(":")
    if not sep or not target or not func:
        raise BotLoadError(f"{spec!r}: expected FILE.py:FUNC or module:func")
    if not func.isidentifier():
        raise BotLoadError(f"{spec!r}: {func!r} is not a function name")
    if not target.endswith(".py") and not MODULE_PATH.match(target):
        raise BotLoadError(f"{spec!r}: {target!r} is neither a .py file nor a module name")
    return target, func


def _root(spec: str, base: str) -> str | None:
    """The folder a FILE.py entry point's own modules live in (put first on sys.path)."""
    target, _ = split(spec)
    if not target.endswith(".py"):
        return None
    return os.path.dirname(os.path.abspath(os.path.join(base, target)))


def load(spec: str, base: str = "") -> Callable[..., Any]:
    """The function an entry point names, its module imported now; BotLoadError otherwise."""
    target, func = split(spec)
    if target.endswith(".py"):
        path = os.path.abspath(os.path.join(base, target))
        if not os.path.isfile(path):
            raise BotLoadError(f"{target}: no such file")
        name = os.path.splitext(os.path.basename(path))[0]
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise BotLoadError(f"{target}: not a Python file")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module  # the bot's own modules may import it by name
        try:
            module_spec.loader.exec_module(module)
        except SyntaxError as exc:
            raise BotLoadError(f"{target}: line {exc.lineno}: {exc.msg}") from None
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            raise BotLoadError(f"{target}: no such module ({exc})") from None
        except SyntaxError as exc:
            raise BotLoadError(f"{target}: {exc.filename} line {exc.lineno}: {exc.msg}") from None
    if not hasattr(module, func):
        raise BotLoadError(f"{target}: no function {func!r}")
    entry = getattr(module, func)
    if not callable(entry):
        raise BotLoadError(f"{target}: {func!r} is not callable ({type(entry).__name__})")
    return entry


def own_roots(bot: ForeignBot) -> list[str]:
    """The folders whose code is the bot's (its FILE.py's folder, or its top-level package's):
    modules from there are imported afresh per run, and log records from there are its lines."""
    roots = []
    for spec in bot.hooks():
        root = _root(spec, bot.base)
        if root is None:
            top = split(spec)[0].split(".")[0]
            found = importlib.util.find_spec(top)
            if found is not None and found.origin:
                root = os.path.dirname(found.origin)
        if root and root not in roots:
            roots.append(root)
    return roots


def _is_own(module: types.ModuleType | None, roots: list[str]) -> bool:
    path = getattr(module, "__file__", None)
    return bool(path) and any(os.path.abspath(str(path)).startswith(root + os.sep) for root in roots)


@contextmanager
def fresh_imports(bot: ForeignBot) -> Iterator[list[str]]:
    """Import the bot's own modules afresh for the duration, and forget them afterwards: a
    FILE.py's folder is first on sys.path (as when the file is run), the caller's directory last
    for a module:func; its modules already imported are set aside and put back."""
    saved_path = list(sys.path)
    set_aside: dict[str, types.ModuleType] = {}
    roots: list[str] = []
    before = set(sys.modules)
    try:
        if not all(split(spec)[0].endswith(".py") for spec in bot.hooks()):
            sys.path.append(bot.base)  # module:func is importable from where the user named it
        roots = own_roots(bot)
        set_aside = {name: m for name, m in sys.modules.items() if _is_own(m, roots)}
        for name in set_aside:
            del sys.modules[name]
        before = set(sys.modules)
        entry_root = _root(bot.entry, bot.base)
        if entry_root is not None:
            sys.path.insert(0, entry_root)
        yield roots
    finally:
        sys.path[:] = saved_path
        for name in sorted(set(sys.modules) - before):
            if _is_own(sys.modules.get(name), roots) or name in _file_module_names(bot):
                del sys.modules[name]
        sys.modules.update(set_aside)


def _file_module_names(bot: ForeignBot) -> set[str]:
    names = set()
    for spec in bot.hooks():
        if split(spec)[0].endswith(".py"):
            names.add(os.path.splitext(os.path.basename(split(spec)[0]))[0])
    return names
