"""The virtual resident's script on a call: a few actions, run in order on a ``Line``.

Example::

    script = [Wait("q1"), Say(mulaw.tone(440, 0.8), text="kolme"), Wait(seconds=0.5),
              Press("1"), Wait(), HangUp()]

``Wait()`` waits for the next mark the emulator echoes, ``Wait("q1")`` for mark ``q1``
(already echoed counts), ``Wait(seconds=2)`` just waits. ``Say`` plays μ-law audio into
the call (``Say.pcm`` converts 8 kHz int16); its ``text`` is what a ``<Gather
input="speech">`` reports, since the emulator recognises no speech. A callable script
``async def resident(line)`` may do the same with the ``Line`` API and read what it heard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import mulaw

if TYPE_CHECKING:
    from .line import Line


@dataclass(frozen=True)
class Wait:
    mark: str | None = None
    seconds: float | None = None
    timeout: float = 60.0


@dataclass(frozen=True)
class Say:
    audio: bytes
    text: str | None = None

    @classmethod
    def pcm(cls, samples: np.ndarray, text: str | None = None) -> Say:
        """From 8 kHz 16-bit linear samples."""
        return cls(mulaw.encode(samples), text)

    @classmethod
    def tone(cls, seconds: float = 0.8, text: str | None = None, freq: float = 440.0) -> Say:
        return cls(mulaw.tone(freq, seconds), text)


@dataclass(frozen=True)
class Press:
    digits: str
    gap: float = 0.15


@dataclass(frozen=True)
class Silence:
    seconds: float


@dataclass(frozen=True)
class Noise:
    seconds: float
    level: float = 0.05


@dataclass(frozen=True)
class HangUp:
    pass


Action = Wait | Say | Press | Silence | Noise | HangUp
Script = Sequence[Action] | Callable[["Line"], Awaitable[None]]


async def run_script(script: Script | None, line: Line, hangup_after: float) -> None:
    """Act out ``script`` on ``line``; without one, stay silent until ``hangup_after``."""
    if script is None:
        await line.sleep(hangup_after)
        await line.hangup()
        return
    if callable(script):
        await script(line)
        return
    for action in script:
        match action:
            case Wait(seconds=float() | int() as seconds):
                await line.sleep(seconds)
            case Wait(mark=mark, timeout=timeout):
                await line.wait_mark(mark, timeout)
            case Say(audio=audio, text=text):
                await line.say(audio, text)
            case Press(digits=digits, gap=gap):
                await line.press(digits, gap)
            case Silence(seconds=seconds):
                await line.sleep(seconds)
            case Noise(seconds=seconds, level=level):
                await line.say(mulaw.noise(seconds, level), None)
            case HangUp():
                await line.hangup()
                return
    # Script done but call still up: stay on the line quietly, as a person would.
    await line.sleep(hangup_after)
    await line.hangup()


def script_from_json(items: list[dict[str, object]]) -> list[Action]:
    """A script from the control API's JSON, e.g. ``[{"wait": "q1"}, {"press": "1"}]``.

    Keys: ``wait`` (mark name, or null for the next mark), ``wait_seconds``, ``say``
    (seconds of tone standing for speech; optional ``text``), ``press``, ``silence``,
    ``noise``, ``hangup``.
    """
    actions: list[Action] = []
    for item in items:
        if "wait" in item:
            mark = item["wait"]
            actions.append(Wait(mark=None if mark is None else str(mark)))
        elif "wait_seconds" in item:
            actions.append(Wait(seconds=float(item["wait_seconds"])))  # type: ignore[arg-type]
        elif "say" in item:
            text = item.get("text")
            actions.append(Say.tone(float(item["say"]), None if text is None else str(text)))  # type: ignore[arg-type]
        elif "press" in item:
            actions.append(Press(str(item["press"])))
        elif "silence" in item:
            actions.append(Silence(float(item["silence"])))  # type: ignore[arg-type]
        elif "noise" in item:
            actions.append(Noise(float(item["noise"])))  # type: ignore[arg-type]
        elif "hangup" in item:
            actions.append(HangUp())
        else:
            raise ValueError(f"unknown script action {sorted(item)}")
    return actions
