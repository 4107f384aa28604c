"""Prompts as text messages: short, in the contact's language, within one or two segments.

GSM-7 fits 160 characters (153 per part when concatenated); a single character outside it
switches the whole message to UCS-2 (70 / 67). Typographic dashes and quotes would do that
for no benefit, so they are replaced with their plain equivalents first.
"""

from __future__ import annotations

from kanavat.questions.dialog import Prompt

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
GSM7 = frozenset(GSM7_BASIC | GSM7_EXTENDED)
PLAIN = str.maketrans(
    {"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "\u00a0": " "}
)
MAX_SEGMENTS = 2


def plain(text: str) -> str:
    return text.translate(PLAIN)


def is_gsm7(text: str) -> bool:
    return GSM7.issuperset(text)


def segments(text: str) -> int:
    """How many SMS parts a body takes (Twilio bills and paces per part)."""
    if is_gsm7(text):
        units = len(text) + sum(text.count(c) for c in GSM7_EXTENDED)  # escape + character
        single, part = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2  # UTF-16 code units
        single, part = 70, 67
    if units <= single:
        return 1
    return -(-units // part)


def prompt_text(prompt: Prompt) -> str:
    """One prompt as text: the message, then the reply hint (with numbered options)."""
    body = prompt.text.strip()
    if prompt.hint:
        body = f"{body}\n{prompt.hint.strip()}"
    return plain(body)


def messages(prompts: tuple[Prompt, ...], footer: str | None = None) -> list[str]:
    """Pack prompts into as few messages as fit in two segments each, in order."""
    out: list[str] = []
    current = ""
    for prompt in prompts:
        text = prompt_text(prompt)
        if footer and prompt.key == "intro" and not _mentions_stop(text):
            text = f"{text} {plain(footer)}"
        candidate = f"{current}\n\n{text}" if current else text
        if current and segments(candidate) > MAX_SEGMENTS:
            out.append(current)
            current = text
        else:
            current = candidate
    if current:
        out.append(current)
    return out


def _mentions_stop(text: str) -> bool:
    """The intro already says how to stop: no need to say it twice."""
    return any(word in text for word in ("LOPETA", "SLUTA", "STOP"))
