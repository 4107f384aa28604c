"""How a spoken closed answer was decided, for ``kanavat speech try``: the rule that chose and
what it weighed (each hypothesis of the engine's n-best list with what the normaliser reads in
it), plus the engine's own steps (Whisper: a hesitation held, the answer heard after it)."""

from __future__ import annotations

from typing import Any

from kanavat.questions.model import Question
from kanavat.questions.normalise import Input, Result, normalise
from kanavat.voice.recognise import Transcript

RULES = {
    "n-best": "n-best: the reading with the most weight among the hypotheses (asked about)",
    "closest": "closest: the expected phrase nearest the transcript (asked about)",
    "interpreted": "interpreted: a scale or meaning word read into a value (asked about)",
    "hearings agree": (
        "hearings agree: every hearing's best and nearly all hypotheses read this value "
        "(taken without asking)"
    ),
}


def decided_by(
    question: Question,
    transcript: Transcript | None,
    given: Input,
    result: Result,
    language: str,
) -> dict[str, Any]:
    if transcript is None:
        return {"rule": "nothing heard"}
    if result.kind == "no_match":
        rule = f"no answer ({result.reason})"
    else:
        rule = RULES.get(result.reason or "", "transcript: read as heard")
    hypotheses = []
    for text, weight in given.alternatives:
        reading = normalise(question, Input("speech", text), language)
        read = reading.value if reading.kind != "no_match" else f"no_match:{reading.reason}"
        hypotheses.append([text, weight, read])
    hearings = [
        [[text, round(logprob, 3)] for text, logprob in hearing] for hearing in given.hearings
    ]
    return {
        "rule": rule,
        "engine": dict(transcript.detail),
        "hypotheses": hypotheses,
        "hearings": hearings,
    }
