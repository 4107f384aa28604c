"""The chat page tells a visitor what came of their answers, and the answer to their
suggestion, when they next open it: one ``notice`` frame each (PROTOCOL.md), shown once.

Showing is one transaction: the outbound row (``shown``, as every chat reply) and the
notice marked told, so a visitor with two tabs open sees each notice in one of them.
"""

from __future__ import annotations

from typing import Any

from kanavat import attempts
from kanavat.attempts import OutboundStatus, Outgoing
from kanavat.config import Config
from kanavat.loop import notices
from kanavat.loop.tell import message_for
from kanavat.loop.texts import texts
from kanavat.store import Store


def frames(config: Config, store: Store, visitor: str) -> list[dict[str, Any]]:
    out = []
    for row in notices.for_visitor(store, visitor):
        text = message_for(config, store, row, "chat")
        if text is None:
            notices.fail(store, row["id"], "nothing_to_tell")
            continue
        with store.transaction():
            message = Outgoing("chat", None, row["kind"], campaign_id=row["campaign_id"])
            ids = attempts.enqueue(store, [message], status=OutboundStatus.SHOWN)
            if not notices.shown(store, row["id"], ids[0]):
                continue
        t = texts(row["language"])
        title = t["outcome"]["chat_title"] if row["kind"] == "outcome" else None
        title = title or t["suggestion"]["answer_title"]
        out.append(
            {
                "type": "notice",
                "kind": row["kind"],
                "lang": row["language"],
                "title": title,
                "text": text,
            }
        )
    return out
