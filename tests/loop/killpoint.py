"""Run ``kanavat serve`` and SIGKILL it where telling a resident is promised.

    python killpoint.py POINT serve --config ... --port ...

``before_commit``: inside the transaction that puts an outcome's text in the outbox (nothing
committed). ``queued``: right after it commits, before the sender hands the text to the
provider. ``calling``: after a notice call is marked ``calling``, before the provider is
asked to place it. Test tooling only: the server itself is unchanged.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from kanavat.cli import main
from kanavat.loop import notices, tell
from kanavat.sender import Sender

POINT = sys.argv[1]


def _die(*args: Any, **kwargs: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


_deliver = Sender.deliver


async def deliver(self: Sender, row_ids: Any) -> Any:
    ids = list(row_ids)
    purposes = {
        r["purpose"]
        for r in self.store.query(
            f"SELECT purpose FROM outbound WHERE id IN ({','.join('?' * len(ids))})", ids
        )
    }
    if purposes & {"outcome", "answer"}:
        _die()
    return await _deliver(self, ids)


if POINT == "before_commit":
    notices.queued = _die  # type: ignore[assignment]
elif POINT == "queued":
    Sender.deliver = deliver  # type: ignore[method-assign]
elif POINT == "calling":
    tell.NoticeLane._call = _die  # type: ignore[method-assign]
else:
    raise SystemExit(f"unknown kill point {POINT}")

if __name__ == "__main__":
    main(sys.argv[2:])
