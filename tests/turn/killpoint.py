"""Run ``kanavat serve`` and SIGKILL it at one step of the next resident's turn.

    python killpoint.py STEP CHANNEL KIND SKIP serve --config ... --port ...

Watches the store's statements (``Store._run``, which every statement and
``Store.transaction``'s BEGIN and COMMIT go through, and ``Store._defer``, which a write
sent with the transaction's next statement goes through) and the provider's SMS call; once the
inbound event of CHANNEL/KIND (``sms``/``inbound``, ``chat``/``ws``) after the first SKIP
ones is being stored, it
kills the process, as a power cut would, at STEP:

- ``receiving``: as the event's row is inserted, before its commit (nothing is stored);
- ``event``: right after the event's commit (stored, not handled);
- ``answer``: right after the answer's insert, inside the turn's transaction;
- ``outbox``: right after the reply's outbox insert, inside the turn's transaction;
- ``handled``: right after the turn's commit (the reply queued, not sent);
- ``rest``: when the provider has taken the reply, before its answer is recorded;
- ``sent``: right after the reply's sid is recorded.

Test tooling only: the server itself is unchanged.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from kanavat.cli import main
from kanavat.provider import TwilioProvider
from kanavat.store import Store

STEP, CHANNEL, KIND = sys.argv[1:4]
state: dict[str, Any] = {"armed": False, "event_commit": False, "handling": False}
state["skip"] = int(sys.argv[4])
_execute = Store._run
_deferred = Store._defer
_send_sms = TwilioProvider.send_sms


def _die() -> None:
    sys.stderr.write(f"killpoint: SIGKILL at {STEP}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def execute(self: Store, sql: str, params: Any = ()) -> Any:
    text = " ".join(sql.split()).upper()
    ours = list(params or [])[1:3] == [CHANNEL, KIND]
    if not state["armed"] and text.startswith("INSERT INTO EVENTS") and ours:
        state["skip"] -= 1
        if state["skip"] >= 0:
            return _execute(self, sql, params)
        state["armed"] = True
        if STEP == "receiving":
            _die()
        result = _execute(self, sql, params)
        if self._depth == 0:  # stored in a statement of its own: committed
            after_event_commit()
        else:
            state["event_commit"] = True
        return result
    result = _execute(self, sql, params)
    if not state["armed"]:
        return result
    if state["event_commit"] and text == "COMMIT":
        state["event_commit"] = False
        after_event_commit()
        return result
    after_statement(text)
    return result


def after_event_commit() -> None:
    if STEP == "event":
        _die()
    state["handling"] = True


def defer(self: Store, sql: str, params: Any = ()) -> None:
    _deferred(self, sql, params)
    if state["armed"]:
        after_statement(" ".join(sql.split()).upper())


def after_statement(text: str) -> None:
    if STEP == "answer" and text.startswith("INSERT INTO ANSWERS"):
        _die()
    if STEP == "outbox" and text.startswith("INSERT INTO OUTBOUND"):
        _die()
    if state["handling"] and text.startswith("UPDATE EVENTS SET OUTCOME"):
        state["handling"] = "finished"
    elif state["handling"] == "finished" and text == "COMMIT":
        state["handling"] = False
        if STEP == "handled":
            _die()
    if STEP == "sent" and text.startswith("UPDATE OUTBOUND SET SID"):
        _die()


async def send_sms(self: TwilioProvider, *args: Any, **kwargs: Any) -> Any:
    result = await _send_sms(self, *args, **kwargs)
    if state["armed"] and STEP == "rest":
        _die()
    return result


Store._run = execute  # type: ignore[method-assign]
Store._defer = defer  # type: ignore[method-assign]
TwilioProvider.send_sms = send_sms  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[5:])
