"""Prompts as chat messages: a bubble of text, a hint, and quick-reply buttons.

A button's payload is the option's value itself ("yes", "3", an option id), which the engine
reads back as a ``button`` input. The engine's hint for closed questions lists the options as
numbered lines for SMS; in chat the buttons say that, so the hint is shown only when there
are no buttons ("Vastaa numerolla.", "Kirjoita vastauksesi omin sanoin.").
"""

from __future__ import annotations

from typing import Any

from kanavat.questions.dialog import Prompt


def title(label: str) -> str:
    """Button titles start with a capital ("kyllä" is a word in a sentence, "Kyllä" a button)."""
    return label[:1].upper() + label[1:]


def buttons(prompt: Prompt) -> list[dict[str, str]]:
    return [{"title": title(c.label), "payload": c.value} for c in prompt.options]


def message(prompt: Prompt) -> dict[str, Any]:
    """One prompt as the websocket protocol's ``message`` object (see PROTOCOL.md)."""
    asks = prompt.expects != "none"
    return {
        "key": prompt.key,
        "text": prompt.text,
        "hint": prompt.hint if asks and not prompt.options else "",
        "buttons": buttons(prompt) if asks else [],
        "question": prompt.question_id if asks else None,
        "free_text": prompt.free_text,
    }


def messages(prompts: tuple[Prompt, ...]) -> list[dict[str, Any]]:
    return [message(p) for p in prompts]


def open_question(prompts: tuple[Prompt, ...]) -> str | None:
    """The id of the question the visitor is asked last, if any (a reconnect compares it)."""
    for prompt in reversed(prompts):
        if prompt.expects != "none":
            return prompt.question_id
    return None
