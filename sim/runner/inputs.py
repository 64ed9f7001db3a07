"""Untrusted input files (scenarios, alerts, run folders) read with caps.

A user's mistake, or a hostile file, must end as ONE message naming the file and the place, never
a traceback, a hang, gigabytes of memory or a segfault. So:

- YAML goes through a SafeLoader that refuses duplicate keys, nesting deeper than MAX_DEPTH and
  alias graphs that expand to more than MAX_NODES nodes (a 631-byte "billion laughs" document is
  a few nodes composed but 10^9 once anything walks it: jsonschema, json.dump, our own checks).
- Every file is refused beyond MAX_FILE_BYTES before it is parsed.
- JSON is parsed under `bounded_recursion`: py_ecc (imported with eth_account for order signing)
  raises the interpreter's recursion limit to 100000, and the C JSON decoder then overflows the C
  stack on a deeply nested document (exit 139) instead of raising RecursionError.
- `problems` walks a loaded tree without recursion and finds non-finite numbers (YAML `.nan`,
  `.inf`; JSON `NaN`, `Infinity`), keys that are not strings and nesting beyond the cap.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 32  # a scenario is 6 levels deep; a result.json with its scenario about 10
MAX_NODES = 100_000  # after alias expansion; the largest library scenario has about 300
SAFE_RECURSION_LIMIT = 1000 + 4 * MAX_DEPTH
SHORT = 60  # characters of a user's value quoted in a message


class InputError(ValueError):
    """Bad input at `where` (a field path or 'line L, column C'; may be empty)."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}" if where else message)
        self.where, self.message = where, message


def shorten(value: Any, limit: int = SHORT) -> str:
    """repr(value), cut to `limit` characters with the full length said: messages stay one line."""
    return clip(repr(value), limit)


def clip(text: str, limit: int = SHORT) -> str:
    """`text` on one line, cut to `limit` characters with the full length said."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} characters)"


def field_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += (
            f"[{part}]" if isinstance(part, int) and not isinstance(part, bool) else (f".{part}" if out else str(part))
        )
    return out


@contextmanager
def bounded_recursion(limit: int = SAFE_RECURSION_LIMIT) -> Iterator[None]:
    """Lower the recursion limit for the duration (never raise it), so deep input is a RecursionError."""
    previous = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(min(previous, limit))
    except RecursionError:  # already deeper than `limit`: keep the limit we have
        pass
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def read_text(path: str, limit: int = MAX_FILE_BYTES) -> str:
    """The file's text; InputError for a missing, unreadable, huge or non-UTF-8 file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except IsADirectoryError:
        raise InputError("", "is a folder, not a file") from None
    except FileNotFoundError:
        raise InputError("", "no such file") from None
    except OSError as exc:
        raise InputError("", f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:
        raise InputError("", f"larger than {limit} bytes; refusing to parse it")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("", f"not UTF-8 text (byte {exc.start})") from None


class _Loader(yaml.SafeLoader):
    """SafeLoader with the caps above and no silent duplicate keys."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1

    def get_single_data(self) -> Any:
        node = self.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return self.construct_document(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {shorten(key)}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: Node) -> None:
    """Refuse an alias graph whose expansion is too big, too deep, or infinite (a recursive alias).

    Iterative post-order over the composed graph, each node once: sizes and depths of shared
    (aliased) nodes are memoized, so a bomb is measured without being expanded."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if size[key] > MAX_NODES:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases expand to more than {MAX_NODES} values", node.start_mark
                )
            if depth[key] > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases nest deeper than {MAX_DEPTH} levels", node.start_mark
                )
            continue
        if key in size:
            continue
        if key in active:
            raise yaml.composer.ComposerError(None, None, "a recursive alias (refers to itself)", node.start_mark)
        active.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in reversed(_children(node)))


def load_yaml(path: str) -> Any:
    """The YAML (or JSON) document in `path`; InputError naming the line and the problem."""
    text = read_text(path)
    try:
        with bounded_recursion():
            return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(where, f"malformed YAML: {problem}") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a tag that cannot build its value: !!float abc
        raise InputError("", f"malformed YAML: a value cannot be read: {clip(str(exc))}") from None
    except RecursionError:
        raise InputError("", f"malformed YAML: nested deeper than {MAX_DEPTH} levels") from None


def parse_json(text: str) -> Any:
    """JSON text, parsed without a chance of overflowing the C stack; InputError when malformed."""
    try:
        with bounded_recursion():
            return json.loads(text)
    except RecursionError:
        raise InputError("", f"not valid JSON: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise InputError("", f"not valid JSON: {clip(str(exc), 120)}") from None


def load_json(path: str) -> Any:
    return parse_json(read_text(path))


def problems(data: Any, *, int_keys_at: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(field path, problem) for every non-finite number, non-string key and too-deep nesting.

    Integer keys are allowed only in the mappings whose paths are in `int_keys_at` (a scenario's
    expect.outcomes.trades is keyed by trade id, written unquoted)."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        value, parts = stack.pop()
        if len(parts) > MAX_DEPTH:
            yield field_path(parts), f"nested deeper than {MAX_DEPTH} levels"
            continue
        if isinstance(value, float) and not math.isfinite(value):
            yield field_path(parts), f"must be a finite number, got {value!r}"
        elif isinstance(value, dict):
            here = field_path(parts)
            for key in value:
                ok = isinstance(key, str) or (
                    isinstance(key, int) and not isinstance(key, bool) and here in int_keys_at
                )
                if not ok:
                    yield (here or "(top level)"), f"key {shorten(key)} must be a string (quote it)"
            stack.extend((value[k], (*parts, k)) for k in reversed(list(value)))
        elif isinstance(value, list):
            stack.extend((item, (*parts, i)) for i, item in reversed(list(enumerate(value))))
