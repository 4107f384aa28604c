"""Vosk (Kaldi) speech engine: one model per language, a grammar-restricted recogniser per answer.

The model is loaded once and shared by every call (vosk-server's pattern); each answer gets a
fresh ``KaldiRecognizer`` at 8 kHz whose grammar is that question's expected phrases. A grammar
forces every sound onto one of its phrases, and small models often lack the ``[unk]`` word that
would absorb everything else (vosk-model-small-ko has none), so a cough or an unrelated sentence
comes back as a confident "네". Hence the ``suspect`` cues below, which lower the confidence so
the dialog confirms instead of accepting. Knows nothing of calls, questions or the event loop.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import vosk
import webrtcvad

from kanavat.voice.audio import FRAME_SAMPLES, SAMPLE_RATE
from kanavat.voice.recognise import SpeechEvent, SpeechStarted, Transcript

log = logging.getLogger(__name__)

UNK = "[unk]"
MAX_ALTERNATIVES = 4
# Suspect answers never score above this, whatever the decoder's own posterior says.
SUSPECT_CEILING = 0.5
# Below this even an unflagged answer is worth confirming: the posterior is only over the
# grammar, so 0.75 means a competing phrase took a quarter (out-of-grammar speech lands here).
CONFIDENT = 0.8
PREROLL_SAMPLES = 4000  # 0.5 s of line kept before a speech onset: the onset is called late
SUSPECT_FACTOR = 0.7  # each further reason lowers it again
# A second hypothesis within ln 2 nats (half as likely) is "close": the decoder nearly chose it.
CLOSE_ALTERNATIVE = 0.5
# A word stretched far past its syllables is the decoder forcing noise or a sentence onto it.
WORD_BASE_S = 0.6
WORD_PER_SYLLABLE_S = 0.3
# Voiced audio this much longer than the recognised words is speech the grammar could not hold
# (measured: right answers within 0.05 s, "고마워요" forced onto a 0.3 s "아니요" 0.34 s over).
UNEXPLAINED_SPEECH_S = 0.3
# Speech detection: webrtcvad also fires on steady noise (measured: white noise at -26 dBFS
# is "speech" in every mode), so a frame counts only if it also stands above the recent floor.
VAD_MODE = 2
FLOOR_FRAMES = 100  # 2 s of history for the noise floor
ABOVE_FLOOR_DB = 9.0
MIN_SPEECH_DB = -55.0
ONSET_WINDOW = 8  # 160 ms
ONSET_FRAMES = 5  # voiced frames within the window that make "the caller started speaking"
MIN_UTTERANCE_FRAMES = 5  # fewer voiced frames than this: what Vosk heard was not speech
# A closed answer ends on the detector, not on Vosk's endpoint rules (which wait ~0.9 s of
# audio after the last word): 300 ms without a voiced frame after speech is the end of "kyllä",
# "kolme", "en osaa sanoa". Free text (no grammar) keeps Vosk's rules: people pause mid-sentence.
END_SILENCE_FRAMES = 15  # 300 ms

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_VOWELS = re.compile(r"[aeiouyäöåéáàíóú]+", re.IGNORECASE)
_PUNCT = re.compile(r"[^\w\s'-]+")


def set_quiet() -> None:
    """Vosk logs every model load and decode at INFO to stderr; keep call logs readable."""
    vosk.SetLogLevel(-1)


def normalise_phrase(phrase: str) -> str:
    """Lower case, punctuation dropped, single spaces: how Vosk vocabularies spell words."""
    return " ".join(_PUNCT.sub(" ", phrase).lower().split())


def syllables(word: str) -> int:
    """Rough syllable count (Hangul blocks, else vowel groups) for plausible word durations."""
    hangul = len(_HANGUL.findall(word))
    return max(1, hangul or len(_VOWELS.findall(word)))


@dataclass(frozen=True)
class Grammar:
    """A question's phrases as Vosk will decode them, and what had to be left out."""

    phrases: tuple[str, ...]
    dropped: tuple[str, ...]
    has_unk: bool

    def to_json(self) -> str:
        """Vosk grammar JSON; ``ensure_ascii=False`` because Vosk does not undo ``\\u`` escapes."""
        words = [*self.phrases, UNK] if self.has_unk else list(self.phrases)
        return json.dumps(words, ensure_ascii=False)


class VoskEngine:
    """One language's Vosk model, shared by all calls; thread-safe to ask for recognisers."""

    name = "vosk"
    # Vosk's grammar decoding rates a forced out-of-grammar word highly: confirm below 0.8.
    confirm_below = CONFIDENT

    def __init__(self, language: str, model_path: str | Path) -> None:
        path = Path(model_path)
        if not (path / "am").is_dir() and not (path / "conf").is_dir():
            raise FileNotFoundError(f"no Vosk model in {path} (expected am/ and conf/ folders)")
        set_quiet()
        self.language = language
        self.model_path = path
        self.model = vosk.Model(str(path))
        self._vocab: dict[str, bool] = {}
        self._vocab_lock = threading.Lock()
        self.has_unk = self.knows(UNK)

    def knows(self, word: str) -> bool:
        """Whether the model's vocabulary has ``word`` (Vosk's find_word gives -1 if not)."""
        with self._vocab_lock:
            known = self._vocab.get(word)
        if known is None:
            find = getattr(self.model, "find_word", None) or self.model.vosk_model_find_word
            known = find(word) >= 0
            with self._vocab_lock:
                self._vocab[word] = known
        return known

    def grammar(self, expected: Sequence[str]) -> Grammar:
        """Keep the phrases whose every word the model knows; unknown words cannot be decoded."""
        kept: list[str] = []
        dropped: list[str] = []
        for phrase in expected:
            norm = normalise_phrase(phrase)
            if not norm or norm in kept:
                continue
            if all(self.knows(word) for word in norm.split()):
                kept.append(norm)
            else:
                dropped.append(norm)
        if dropped:
            log.info(
                "voice.vosk.grammar language=%s kept=%d dropped=%d",
                self.language,
                len(kept),
                len(dropped),
            )
        return Grammar(tuple(kept), tuple(dropped), self.has_unk)

    def recogniser(self, expected: Sequence[str] | None) -> VoskRecogniser:
        """A recogniser for one answer: grammar-restricted if ``expected``, else free text."""
        grammar = self.grammar(expected) if expected is not None else None
        if grammar is not None and grammar.phrases:
            rec = vosk.KaldiRecognizer(self.model, SAMPLE_RATE, grammar.to_json())
        else:
            rec = vosk.KaldiRecognizer(self.model, SAMPLE_RATE)
        rec.SetWords(True)
        rec.SetMaxAlternatives(MAX_ALTERNATIVES)
        return VoskRecogniser(rec, grammar)


class SpeechDetector:
    """Has the caller started speaking? webrtcvad on 20 ms frames, gated by a noise floor."""

    def __init__(self) -> None:
        self._vad = webrtcvad.Vad(VAD_MODE)
        self._levels: deque[float] = deque(maxlen=FLOOR_FRAMES)
        self._recent: deque[bool] = deque(maxlen=ONSET_WINDOW)
        self._pending = np.zeros(0, dtype=np.int16)
        self.voiced_frames = 0  # since the last reset: the utterance's voiced length
        self.silent_frames = 0  # unvoiced frames since the last voiced one
        self.in_speech = False

    def reset(self) -> None:
        """A new utterance starts (after a transcript): re-arm the onset."""
        self._recent.clear()
        self.voiced_frames = 0
        self.silent_frames = 0
        self.in_speech = False

    def feed(self, pcm: np.ndarray) -> bool:
        """Take samples; True exactly when speech starts (once per utterance)."""
        samples = np.concatenate([self._pending, pcm]) if self._pending.size else pcm
        whole = len(samples) // FRAME_SAMPLES * FRAME_SAMPLES
        self._pending = samples[whole:].copy()
        started = False
        for start in range(0, whole, FRAME_SAMPLES):
            frame = samples[start : start + FRAME_SAMPLES]
            voiced = self._frame_voiced(frame)
            self._recent.append(voiced)
            self.voiced_frames += voiced
            self.silent_frames = 0 if voiced else self.silent_frames + 1
            if not self.in_speech and sum(self._recent) >= ONSET_FRAMES:
                self.in_speech = started = True
        return started

    def _frame_voiced(self, frame: np.ndarray) -> bool:
        power = float(np.mean(frame.astype(np.float64) ** 2))
        level = 10 * math.log10(power / 32768.0**2) if power > 0 else -120.0
        self._levels.append(level)
        if level < MIN_SPEECH_DB or level < min(self._levels) + ABOVE_FLOOR_DB:
            return False
        return self._vad.is_speech(frame.tobytes(), SAMPLE_RATE)

    @property
    def voiced_seconds(self) -> float:
        return self.voiced_frames * FRAME_SAMPLES / SAMPLE_RATE


class VoskRecogniser:
    """One answer's decoder. ``feed`` gives SpeechStarted, then a Transcript when the answer
    ends: a closed answer after 300 ms of silence on the detector, free text at Vosk's own
    endpoint."""

    def __init__(self, rec: vosk.KaldiRecognizer, grammar: Grammar | None) -> None:
        self._rec = rec
        self._grammar = grammar
        self._closed = grammar is not None and bool(grammar.phrases)  # a closed answer
        self._speech = SpeechDetector()
        self._decoding = False  # the decoder only runs from a speech onset to its result
        self._preroll: list[np.ndarray] = []

    def feed(self, pcm: np.ndarray) -> list[SpeechEvent]:
        """Decode only around speech: a call is mostly silence and prompts, and Vosk costs as
        much on silence as on words, so the line is held in a short pre-roll until the
        detector hears an onset, then fed (with the pre-roll) until the endpoint's result."""
        samples = np.ascontiguousarray(pcm, dtype=np.int16)
        events: list[SpeechEvent] = []
        if self._speech.feed(samples):
            events.append(SpeechStarted())
            if not self._decoding:
                self._decoding = True
                samples = np.concatenate([*self._preroll, samples])
                self._preroll = []
        if not self._decoding:
            self._keep_preroll(samples)
            return events
        if self._rec.AcceptWaveform(samples.tobytes()):
            self._decoding = False
            transcript = self._result(self._rec.Result())
            if transcript is not None:
                events.append(transcript)
        elif self._ended():
            self._decoding = False
            transcript = self._result(self._rec.FinalResult())
            if transcript is not None:
                events.append(transcript)
        return events

    def _ended(self) -> bool:
        """Has a closed answer ended by the detector: speech, then 300 ms without a voice?"""
        speech = self._speech
        return (
            self._closed
            and speech.in_speech
            and speech.voiced_frames >= MIN_UTTERANCE_FRAMES
            and speech.silent_frames >= END_SILENCE_FRAMES
        )

    def close(self) -> None:
        """Nothing runs ahead of ``feed``: nothing to drop."""

    def finish(self) -> Transcript | None:
        if not self._decoding and self._speech.voiced_frames < MIN_UTTERANCE_FRAMES:
            self._speech.reset()
            return None  # nothing worth decoding was heard
        if self._preroll:
            self._rec.AcceptWaveform(np.concatenate(self._preroll).tobytes())
            self._preroll = []
        self._decoding = False
        return self._result(self._rec.FinalResult())

    def _keep_preroll(self, samples: np.ndarray) -> None:
        self._preroll.append(samples)
        while sum(len(p) for p in self._preroll) - len(self._preroll[0]) >= PREROLL_SAMPLES:
            self._preroll.pop(0)

    def _result(self, raw: str) -> Transcript | None:
        """Turn one Vosk segment result into a Transcript; None when nothing was said."""
        voiced = self._speech.voiced_frames
        voiced_s = self._speech.voiced_seconds
        self._speech.reset()
        hypotheses = _hypotheses(json.loads(raw))
        if not hypotheses or not hypotheses[0].text:
            return None
        if voiced < MIN_UTTERANCE_FRAMES:
            return None  # the decoder heard words in noise or silence the VAD never called speech
        return judge(hypotheses, self._grammar, voiced_s)


@dataclass(frozen=True)
class Hypothesis:
    text: str
    probability: float
    words: tuple[tuple[str, float, float], ...]  # word, start, end (seconds)


def _hypotheses(result: dict[str, Any]) -> list[Hypothesis]:
    """Vosk's n-best as posteriors: its scores are log-likelihoods, so softmax them.

    Alternatives with the same text (different alignments) are one hypothesis.
    """
    alternatives = result.get("alternatives")
    if alternatives is None:  # max alternatives 0: plain result with per-word conf
        words = tuple((w["word"], w["start"], w["end"]) for w in result.get("result", []))
        confs = [w.get("conf", 1.0) for w in result.get("result", [])]
        text = result.get("text", "")
        return [Hypothesis(text, min(confs, default=0.0), words)] if text else []
    if not alternatives:
        return []
    top = max(a["confidence"] for a in alternatives)
    merged: dict[str, Hypothesis] = {}
    for alt in alternatives:
        weight = math.exp(alt["confidence"] - top)
        text = alt.get("text", "")
        words = tuple((w["word"], w["start"], w["end"]) for w in alt.get("result", []))
        old = merged.get(text)
        merged[text] = Hypothesis(
            text, weight + (old.probability if old else 0.0), old.words if old else words
        )
    total = sum(h.probability for h in merged.values())
    ranked = sorted(merged.values(), key=lambda h: h.probability, reverse=True)
    return [Hypothesis(h.text, h.probability / total, h.words) for h in ranked]


def count_phrases(words: Sequence[str], phrases: Sequence[str]) -> int:
    """How many grammar phrases the words spell, matching the longest phrase first."""
    by_length = sorted((p.split() for p in phrases), key=len, reverse=True)
    count = i = 0
    while i < len(words):
        step = next((len(p) for p in by_length if list(words[i : i + len(p)]) == p), 1)
        count += 1
        i += step
    return count


def judge(hypotheses: Sequence[Hypothesis], grammar: Grammar | None, voiced_s: float) -> Transcript:
    """Best hypothesis as a Transcript, with the reasons to doubt it and a confidence to match."""
    best = hypotheses[0]
    words = [w for w, _, _ in best.words] or best.text.split()
    reasons: list[str] = []
    if UNK in words:
        words = [w for w in words if w != UNK]
        reasons.append("unk")
    text = " ".join(words)
    if not text:
        return Transcript("", 0.0, suspect=("unk-only",))
    runner_up = next((h for h in hypotheses[1:] if h.text != best.text), None)
    if runner_up is not None and runner_up.probability >= CLOSE_ALTERNATIVE * best.probability:
        reasons.append("close-alternative")
    if grammar is not None:
        prefix = "grammar" if grammar.has_unk else "no-unk"
        if grammar.phrases and count_phrases(words, grammar.phrases) > 1:
            reasons.append(f"{prefix}-several-words")
        if not grammar.phrases:
            reasons.append("grammar-empty")
        elif grammar.dropped:
            reasons.append(f"{prefix}-dropped-phrases")
        if any(
            end - start > WORD_BASE_S + WORD_PER_SYLLABLE_S * syllables(w)
            for w, start, end in best.words
        ):
            reasons.append(f"{prefix}-long-word")
        spoken = sum(end - start for _, start, end in best.words)
        if voiced_s - spoken > UNEXPLAINED_SPEECH_S:
            reasons.append(f"{prefix}-unexplained-speech")
    confidence = best.probability
    if reasons:
        confidence = min(confidence, SUSPECT_CEILING) * SUSPECT_FACTOR ** (len(reasons) - 1)
    alternatives = tuple(
        (" ".join(w for w in h.text.split() if w != UNK), round(h.probability, 4))
        for h in hypotheses[1:]
    )
    return Transcript(text, round(confidence, 4), alternatives, tuple(reasons))
