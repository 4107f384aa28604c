"""What a turn says, as the chat channels show it: a websocket ``bot`` (or ``error``) frame
for the chat page (PROTOCOL.md), a list of bot messages for a Rasa REST widget.

Each reply is one outbound row holding the whole response, so a frame or request retried
with the same id is answered with exactly what the first one got.
"""

from __future__ import annotations

import json
from typing import Any

from kanavat.attempts import Outgoing
from kanavat.chat import render
from kanavat.chat.language import texts
from kanavat.conversations import Turn
from kanavat.privacy import commands as privacy_commands
from kanavat.questions.dialog import Prompt
from kanavat.turn.message import Message, Result


def welcome(language: str) -> dict[str, Any]:
    return {"status": "welcome", "lang": language, "question": None, "messages": []}


def turn_fields(turn: Turn) -> dict[str, Any]:
    return {
        "status": "done" if turn.done else "active",
        "lang": turn.language,
        "question": None if turn.done else render.open_question(turn.prompts),
        "messages": render.messages(turn.prompts),
    }


def error_frame(language: str, code: str, **fmt: Any) -> dict[str, Any]:
    text = fmt.pop("text", None) or texts(language)[code].format(**fmt)
    return {"type": "error", "code": code, "text": text}


def frame(message: Message, result: Result) -> dict[str, Any]:
    """The websocket frame answering an action (without its ``re``, which the socket adds)."""
    language = message.language or "fi"
    if result.error is not None:
        return error_frame(language, result.error, **result.error_fmt)
    now = turn_fields(result.turn) if result.turn is not None else welcome(language)
    extra: list[dict[str, Any]] = []
    for said in result.said:
        if said.paragraphs:
            reply = privacy_commands.Reply(said.key, said.language, said.paragraphs)
            extra += privacy_commands.chat_messages(reply)
    if extra:
        return {"type": "bot", **now, "messages": extra + now["messages"]}
    return {"type": "bot", **now}


def collect(
    recipient_id: str, prompts: tuple[Prompt, ...], paragraphs: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Bot messages as Rasa's CollectingOutputChannel would have collected them: text and
    ``buttons`` only when there are some (Rasa drops keys whose value is None), plain text
    split into one message per paragraph, as Rasa's ``send_text_message`` does."""
    out = [say(recipient_id, p) for p in paragraphs]
    for prompt in prompts:
        shown = render.message(prompt)
        if shown["buttons"]:
            out.append(
                {"recipient_id": recipient_id, "text": shown["text"], "buttons": shown["buttons"]}
            )
            continue
        text = shown["text"] if not shown["hint"] else f"{shown['text']}\n{shown['hint']}"
        out += [say(recipient_id, part) for part in text.strip().split("\n\n") if part.strip()]
    return out


def _collected(recipient_id: str, result: Result, language: str) -> list[dict[str, Any]]:
    if result.error is not None:
        return [say(recipient_id, texts(language)[result.error].format(**result.error_fmt))]
    out: list[dict[str, Any]] = []
    for said in result.said:
        out += collect(recipient_id, said.prompts, said.paragraphs)
    return out


def say(recipient_id: str, text: str) -> dict[str, Any]:
    return {"recipient_id": recipient_id, "text": text}


def render_result(message: Message, result: Result) -> list[Outgoing]:
    """One row per response: the page's frame, or the widget's list of messages."""
    purpose = "privacy" if result.outcome.startswith("privacy.") else "reply"
    if message.kind == "rest":
        sender = message.recipient or "default"
        language = result.language or (result.turn.language if result.turn else None)
        body: Any = _collected(sender, result, language or message.language or "fi")
    else:
        body = frame(message, result)
    campaign = message.campaign_id
    session = result.turn.session_id if result.turn else None
    return [
        Outgoing(
            "chat",
            json.dumps(body, ensure_ascii=False),
            purpose,
            campaign_id=campaign,
            session_id=session,
        )
    ]
