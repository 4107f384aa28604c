"""The report as JSON for counties' own dashboards: the build dict, written stably.

Keys keep their order and the schema's ``version`` field says which shape this is (see
``docs/report-schema.md`` and ``schema.json`` beside this module).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

SCHEMA_FILE = Path(__file__).with_name("schema.json")


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2) + "\n"


def write(out: IO[str], report: dict[str, Any]) -> None:
    out.write(dumps(report))


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text("utf-8"))
