"""Line numbers for TOML key paths, since ``tomllib`` gives none.

A light scan of table headers (``[a.b]``, ``[[a.b]]`` counted per array) and ``key =`` lines;
a path that is not found resolves to its longest known prefix (an inline table's keys share the
line of the table). Good enough to point an official at the right line.
"""

from __future__ import annotations

import re

Path = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _split_key(key: str) -> list[str]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', key)
    return [a or b or c for a, b, c in parts]


def line_index(text: str) -> dict[Path, int]:
    lines: dict[Path, int] = {}
    counters: dict[tuple[str, ...], int] = {}
    table: Path = ()
    depth = 0  # bracket depth of a multi-line value: keys inside it are not top-level keys
    array: Path | None = None  # a multi-line array being read: its elements get lines too
    element = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0] if '"' not in line else line
        if depth == 1 and array is not None and stripped.strip()[:1] not in ("", "]"):
            lines.setdefault((*array, element), number)  # one element per line: options = [
            element += 1
        if depth == 0:
            header = _HEADER.match(line)
            if header:
                names = tuple(_split_key(header.group(2)))
                if header.group(1) == "[[":
                    index = counters.get(names, -1) + 1
                    counters[names] = index
                    table = (*_with_arrays(names, counters), index)
                else:
                    table = _with_arrays(names, counters)
                lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                path = table + tuple(_split_key(key.group(1)))
                lines.setdefault(path, number)
                array, element = (path, 0) if stripped.rstrip().endswith("[") else (None, 0)
        depth += stripped.count("[") + stripped.count("{")
        depth -= stripped.count("]") + stripped.count("}")
        depth = max(depth, 0)
    return lines


def _with_arrays(names: tuple[str, ...], counters: dict[tuple[str, ...], int]) -> Path:
    """``[questionnaires.x.questions.y]`` inside an array of tables refers to its last element."""
    path: list[str | int] = []
    for i, name in enumerate(names):
        path.append(name)
        prefix = names[: i + 1]
        if prefix in counters and i < len(names) - 1:
            path.append(counters[prefix])
    return tuple(path)


def line_of(index: dict[Path, int], path: Path) -> int | None:
    for size in range(len(path), 0, -1):
        if path[:size] in index:
            return index[path[:size]]
    return None
