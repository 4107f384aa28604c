"""Run ``kanavat serve`` and SIGKILL it at the Nth write of a campaign's finish.

    python killpoint.py N MARKER serve --config ... --port ...

Counts the store writes (``Store.execute`` of anything but a SELECT) made inside
``outcomes.finish_campaign`` and kills the process at write N, as a power cut would. If the
finish returns before that, the number of writes it made goes to MARKER and the process is
killed right after it (after the commit). Test tooling only: the server itself is unchanged.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

from kanavat.cli import main
from kanavat.outreach import outcomes
from kanavat.store import Store

KILL_AT = int(sys.argv[1])
MARKER = Path(sys.argv[2])
writes = 0
armed = False
_execute = Store.execute
_finish = outcomes.finish_campaign


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def execute(self: Store, sql: str, params: Any = ()) -> Any:
    global writes
    if armed and not sql.lstrip().upper().startswith("SELECT"):
        writes += 1
        if writes == KILL_AT:
            _die()
    return _execute(self, sql, params)


def finish_campaign(*args: Any, **kwargs: Any) -> int:
    global armed
    armed = True
    settled = _finish(*args, **kwargs)
    MARKER.write_text(str(writes))
    _die()
    return settled


Store.execute = execute  # type: ignore[method-assign]
outcomes.finish_campaign = finish_campaign  # type: ignore[assignment]

if __name__ == "__main__":
    main(sys.argv[3:])
