"""The report as JSON for counties' own dashboards: the build dict, written stably.

Keys keep their order and the schema's ``version`` field says which shape this is (see
``docs/report-schema.md`` and ``schema.json`` beside this module).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from kanavat.report.questions import Listed

SCHEMA_FILE = Path(__file__).with_name("schema.json")


class _Streamed(list):
    """A free-text list read as it is written: json's indented (pure-Python) encoder walks a
    list with ``len`` and ``for``, so this one need not hold its items."""

    def __init__(self, items: Listed) -> None:
        super().__init__()
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Listed):
            return _Streamed(o)
        return super().default(o)


def dumps(report: dict[str, Any]) -> str:
    out = io.StringIO()
    write(out, report)
    return out.getvalue()


def write(out: IO[str], report: dict[str, Any]) -> None:
    """Written as it is encoded (``json.dumps`` would first hold every piece in a list)."""
    for chunk in _Encoder(ensure_ascii=False, indent=2).iterencode(report):
        out.write(chunk)
    out.write("\n")


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text("utf-8"))
