"""One entry point from (store, campaign, format) to text, shared by the CLI and the route."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime

from kanavat.config import Config
from kanavat.report import csv_out, html, json_out
from kanavat.report.build import build_report
from kanavat.store import Store


def render(
    store: Store,
    config: Config,
    campaign: str,
    fmt: str,
    *,
    language: str | None = None,
    by: Iterable[str] | None = None,
    compare: str | None = None,
    now: datetime | None = None,
    stream: bool = True,
) -> str:
    """The report as text. With ``stream`` (when the store is this caller's own) free-text
    answers are read from the store while written; a store shared with other threads (the
    server's) should not have a read in progress between its statements: pass False."""
    report = build_report(
        store, config, campaign, language=language, by=by, compare=compare, now=now, stream=stream
    )
    if fmt == "json":
        return json_out.dumps(report)
    if fmt == "csv":
        out = io.StringIO()
        csv_out.write(out, report)
        return out.getvalue()
    return html.render(report)
