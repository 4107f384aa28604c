"""Finnish (and any other language Vosk lacks) speech recognition with faster-whisper, locally.

Whisper cannot stream: it transcribes whole utterances. So each recogniser cuts the call audio
into answers with the webrtcvad ``Segmenter`` (``vad.py``): speech start becomes
``SpeechStarted`` at once (barge-in), and each finished answer is resampled to 16 kHz and
transcribed. Closed questions pass their expected phrases to Whisper as a decoding bias and
are decoded straight through CTranslate2 (a 10 s window, two hearings, the whole n-best list
returned as ``Transcript.alternatives`` for the normaliser to weigh), speculatively once
the caller has paused; free text (``expected=None``) is heard once, unbiased. This module knows nothing of questions,
calls or the store, and never downloads a model: ``model_path`` must be a local directory.

Thread safety: one ``WhisperEngine`` (one model in memory) is shared by all calls.
CTranslate2 models may be used from several Python threads at once; calls queue for the
model's ``num_workers`` replicas (faster-whisper issue #100, maintainer's answer), and
faster-whisper's feature extractor and tokenizer keep no per-call state. A recogniser belongs
to one call and is fed from one thread at a time.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import ctranslate2
import numpy as np
import soxr
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_suppressed_tokens

from kanavat.voice import closed_set, whisper_closed
from kanavat.voice.hesitation import no_answer_yet
from kanavat.voice.recognise import SAMPLE_RATE, SpeechEvent, SpeechStarted, Transcript
from kanavat.voice.vad import (
    CLOSED_MAX_SECONDS,
    FREE_TEXT_MAX_SECONDS,
    Segment,
    Segmenter,
    SpeechBegan,
    VadConfig,
)

WHISPER_RATE = 16000
FRAMES_PER_SECOND = 100  # Whisper's log-mel hop is 10 ms
WHISPER_FRAMES = 3000  # the encoder's 30 s window
PROMPT_CACHE = 256  # questions' decoder prompts kept tokenized
Bias = Literal["hotwords", "prompt", "both", "none"]

# Whisper's own "nothing was said" rule (openai/whisper transcribe.py defaults): a window is
# silence when no_speech_prob > 0.6 and the text is also unlikely (avg_logprob < -1.0).
NO_SPEECH_PROB = 0.6
NO_SPEECH_LOGPROB = -1.0
NO_SPEECH_SOFT = 0.5

# avg_logprob -> confidence, piecewise linear through these points. Measured on 56 espeak-ng
# Finnish answers through mu-law, hotwords bias, beam 5: right answers p10/p50/p90 =
# -0.77/-0.37/-0.18; misrecognised ones and answers outside the list never above -0.77
# (p50 -1.1). -0.6 maps to 0.6, the dialog's default ``confirm_below``: answers above it
# (80 % of the right ones, none of the wrong ones, with some margin) are taken as heard; the
# rest are confirmed with the caller, not lost.
LOGPROB_POINTS = (-1.2, -0.6, -0.2)
CONFIDENCE_POINTS = (0.0, 0.6, 1.0)

# A phrase said this many times in a row is Whisper looping, not an emphatic caller.
LOOP_REPEATS = 4
PHRASE_LOOP_REPEATS = 3


def confidence_from(avg_logprob: float, no_speech_prob: float) -> float:
    """Map Whisper's scores to 0..1: piecewise linear in avg_logprob, lowered by no-speech odds.

    ``avg_logprob`` is the mean log-probability per token of the chosen text; exp() of it is
    the geometric mean token probability, but on short answers it is too flat to threshold
    (exp(-0.4) = 0.67 right vs exp(-0.9) = 0.41 wrong), so the measured boundary is placed
    at 0.6, where the dialog starts confirming. ``no_speech_prob`` is 0.1-0.6 even for
    clearly right one-word answers ("kyllä" ~0.4), so it only counts above
    ``NO_SPEECH_SOFT`` and takes the confidence to zero at 1.0.
    """
    mapped = float(np.interp(avg_logprob, LOGPROB_POINTS, CONFIDENCE_POINTS))
    speech_odds = float(np.interp(no_speech_prob, (NO_SPEECH_SOFT, 1.0), (1.0, 0.0)))
    return round(mapped * speech_odds, 3)


_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def words_of(text: str) -> list[str]:
    """Lowercased words without punctuation: enough to compare a transcript with phrases."""
    return _WORD.findall(text.lower())


def _contains(words: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return n > 0 and any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def prompt_echo(text: str, expected: Sequence[str], prompt: str | None) -> bool:
    """Did Whisper copy its bias into the transcript instead of hearing the caller?

    With little or unclear speech, Whisper tends to "transcribe" its prompt: the whole
    initial prompt, or the list of expected answers. One caller does not say most of the
    options in one breath, so the transcript holding at least half of them (and at least
    two) is treated as an echo.
    """
    said = words_of(text)
    if not said:
        return False
    if prompt:
        prompt_words = words_of(prompt)
        if len(prompt_words) >= 2 and _contains(said, prompt_words):
            return True
    phrases = {tuple(words_of(p)) for p in expected} - {()}
    found = sum(_contains(said, list(p)) for p in phrases)
    return found >= max(2, math.ceil(len(phrases) / 2))


def looping(text: str) -> bool:
    """A word or two-word phrase repeated ``LOOP_REPEATS`` times running (decoder loop).

    Two or three repeats ("ei ei ei") are ordinary speech; the text is kept as said and the
    answer normaliser collapses it.
    """
    # Parts of hyphened words count too: "BEE-EE-EE-EE" (a tone) is a loop of one syllable.
    said = [part for word in words_of(text) for part in word.split("-")]
    for size in (1, 2, 3):
        # A phrase of several words said three times running is a loop too: "en osaa sanoa,
        # en osaa sanoa, en osaa sanoa" (speech set, dev: taken as an answer at 0.8).
        repeats = LOOP_REPEATS if size == 1 else PHRASE_LOOP_REPEATS
        for start in range(len(said) - size * repeats + 1):
            unit = said[start : start + size]
            if all(
                said[start + k * size : start + (k + 1) * size] == unit for k in range(1, repeats)
            ):
                return True
    return False


@dataclass(frozen=True)
class Decoding:
    """How answers are decoded; the defaults are the measured best for Whisper base, Finnish.

    Always: the language fixed, no timestamps, no temperature fallback (beam search only: a
    retry at a higher temperature invents text for a short answer and doubles the wait), no
    previous text; Whisper's own no-speech rule is applied with the numbers kept.
    """

    # Measured with bench/whisper_decoding.py (python -m bench.whisper_decoding) (56 listed answers, 12 outside the list, full
    # recogniser): hotwords + beam 5 heard 47/56 and let no wrong answer reach 0.6; hotwords
    # + beam 1 43/56 (2 wrong accepted, and list-echo loops); initial_prompt 44/56 at beam 5,
    # 35/56 at beam 1. Beam 5 costs ~0.05 s at p50, ~0.2 s at p95 per answer.
    beam_size: int = 5
    bias: Bias = "hotwords"
    # Greedy decoding biased with a list sometimes loops ("ei, ei, ei, ..." or the whole list
    # again and again) until Whisper's 448-token limit, which costs seconds. A closed answer
    # never needs this many tokens; free text keeps the model's limit.
    closed_max_tokens: int = 40
    # The encoder hears a window this long (or the answer, if longer) instead of Whisper's
    # 30 s, most of which would be padding for a spoken answer. Measured on the Finnish set
    # (bench/whisper_accuracy.py): encoding 0.50 s -> 0.13 s at p50, and as many closed
    # answers heard right (91 vs 88 of 116); free text no worse, in half the time.
    window: float = CLOSED_MAX_SECONDS
    # Each closed answer is heard at these speeds in one batch: as said, and slowed
    # (resampled, so also lower). The n-best lists are pooled and weighed by the normaliser.
    # On the Finnish set: as said alone, 100 of 116 right; pooled with 0.85, 112.
    speeds: tuple[float, ...] = (1.0, 0.85)
    # Start decoding a closed answer after this much silence, before the segmenter's
    # ``end_silence`` has passed: if the caller says no more, the transcript is ready (or
    # nearly) when the answer ends; if they go on, the guess is dropped. None: wait.
    speculate_after: float | None = 0.2
    # Decide a closed answer among the question's phrases scored by the decoder
    # (whisper_closed.py), the free decode as fallback and out-of-set reference.
    closed_set: bool = False
    # Commands, skip and "don't know" phrases in the bias too. Left out, Whisper wrote fewer
    # of them in place of answers but heard "en osaa sanoa" never (speech set, dev quarter:
    # 62 % right and 2 misfiled without them, 69 % and none with them).
    bias_specials: bool = True

    def __post_init__(self) -> None:
        if not self.speeds or self.speeds[0] != 1.0 or any(v <= 0 for v in self.speeds):
            # The best transcript is the first hearing's: it must be the answer as said.
            raise ValueError(f"speeds must start with 1.0 and be positive, not {self.speeds}")


def bias_prompt(phrases: Sequence[str]) -> str:
    """The initial prompt for a closed question: the answers written as a caller would say."""
    return ", ".join(phrases) + "."


class WhisperEngine:
    """One faster-whisper model for one language, shared by every call in that language."""

    name = "faster-whisper"
    confirm_below = 0.6  # the avg_logprob mapping puts -0.6 at 0.6: see confidence_from

    def __init__(
        self,
        language: str,
        model_path: str | Path,
        *,
        compute_type: str = "int8",
        cpu_threads: int | None = None,
        num_workers: int = 1,
        decoding: Decoding | None = None,
        closed_vad: VadConfig | None = None,
        free_vad: VadConfig | None = None,
    ) -> None:
        """Load the model once (about 1-2 s for base).

        ``cpu_threads`` defaults to the machine's cores, at most 4 (more does not help a
        model this small): one answer decodes as fast as possible, and ``num_workers=1``
        makes concurrent answers queue rather than fight for the same cores.
        """
        path = Path(model_path)
        if not (path / "model.bin").is_file():
            # faster-whisper takes anything else for a hub model name and downloads it.
            raise FileNotFoundError(f"no Whisper model (model.bin) in {path}")
        self.language = language
        self.model_path = path
        self.decoding = decoding or Decoding()
        self.closed_vad = closed_vad or VadConfig(max_length=CLOSED_MAX_SECONDS)
        self.free_vad = free_vad or VadConfig(max_length=FREE_TEXT_MAX_SECONDS)
        threads = cpu_threads if cpu_threads is not None else min(4, os.cpu_count() or 1)
        self.cpu_threads = threads
        self.model = WhisperModel(
            str(path),
            device="cpu",
            compute_type=compute_type,
            cpu_threads=threads,
            num_workers=num_workers,
            local_files_only=True,
        )
        self._tokenizer = Tokenizer(
            self.model.hf_tokenizer,
            self.model.model.is_multilingual,
            task="transcribe",
            language=language,
        )
        self._suppress = get_suppressed_tokens(self._tokenizer, [-1])
        self._prompts: dict[tuple[str, ...], list[int]] = {}
        self._token_cache: dict[str, list[int]] = {}
        # Speculative decodes (see WhisperRecogniser): bounded to the cores, like CTranslate2.
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="whisper")

    def close(self) -> None:
        """Drop speculative decodes not yet started; a running one finishes."""
        self.pool.shutdown(wait=False, cancel_futures=True)

    def recogniser(self, expected: Sequence[str] | None) -> WhisperRecogniser:
        phrases = tuple(expected) if expected is not None else None
        vad = self.free_vad if phrases is None else self.closed_vad
        return WhisperRecogniser(self, phrases, Segmenter(vad))

    def transcribe(self, pcm: np.ndarray, expected: Sequence[str] | None) -> Transcript | None:
        """One answer (int16, 8 kHz) to a transcript, or None if nothing was said. Blocks.

        Calls CTranslate2 directly: faster-whisper's ``transcribe`` always pads to 30 s and
        returns one hypothesis. The encoder hears a window of ``window`` seconds (longer only
        for a longer answer). A closed answer is heard at each of ``speeds`` in one batch,
        biased with the question's phrases, and the whole beam of every hearing is pooled;
        free text (``expected=None``) is heard once, unbiased, and may run to the model's
        token limit.
        """
        if len(pcm) == 0:
            return None
        d = self.decoding
        closed = expected is not None
        speeds = d.speeds if closed else (1.0,)
        hearings = [to_whisper_rate(pcm, speed) for speed in speeds]
        features = self._features(hearings, round(d.window * FRAMES_PER_SECOND))
        encoded = np.asarray(self.model.model.encode(features, to_cpu=True))
        prompt = self._prompt(tuple(expected or ()))
        results = self.model.model.generate(
            ctranslate2.StorageView.from_array(encoded),
            [prompt] * len(hearings),
            beam_size=d.beam_size,
            num_hypotheses=d.beam_size if closed else 1,
            max_length=min(self.model.max_length, len(prompt) + d.closed_max_tokens)
            if closed
            else self.model.max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
        )
        heard = [self._hypotheses(r) for r in results]
        best = heard[0][0] if heard[0] else None
        if best is None or not best.text:  # Whisper heard nothing in the answer as said
            return None
        no_speech = results[0].no_speech_prob
        if no_speech > NO_SPEECH_PROB and best.avg_logprob < NO_SPEECH_LOGPROB:
            return None

        suspect: list[str] = []
        confidence = confidence_from(best.avg_logprob, no_speech)
        prompt_text = bias_prompt(expected) if closed and d.bias in ("prompt", "both") else None
        if closed and prompt_echo(best.text, expected or (), prompt_text):
            suspect.append("prompt-echo")
            confidence = 0.0
        if looping(best.text):
            suspect.append("repetition")
            confidence = min(confidence, 0.3)
        alternatives = (
            pooled([h for hs in heard for h in hs], expected or (), prompt_text) if closed else ()
        )
        detail = {
            "rule": "free decode",
            "n_best": [[h.text, round(h.avg_logprob, 3)] for h in heard[0]],
        }
        hearings = tuple(tuple((h.text, h.logprob) for h in hs) for hs in heard) if closed else ()
        transcript = Transcript(
            best.text, confidence, alternatives, tuple(suspect), detail, hearings
        )
        if closed and d.closed_set:
            seconds = len(pcm) / SAMPLE_RATE
            return whisper_closed.decide(
                self, encoded, tuple(expected or ()), heard, transcript, seconds
            )
        return transcript

    @property
    def tokenizer(self) -> Tokenizer:
        return self._tokenizer

    def tokens(self, text: str) -> list[int]:
        """``text`` tokenized, kept for the next answer (closed-set phrases recur)."""
        ids = self._token_cache.get(text)
        if ids is None:
            ids = self._tokenizer.encode(text)
            if len(self._token_cache) < 4096:
                self._token_cache[text] = ids
        return ids

    def _features(self, hearings: list[np.ndarray], window: int) -> ctranslate2.StorageView:
        """Log-mel features of each hearing, zero-padded alike (as faster-whisper pads)."""
        mels = [self.model.feature_extractor(a)[:, :-1] for a in hearings]
        frames = min(WHISPER_FRAMES, max(window, *(m.shape[1] for m in mels)))
        batch = np.zeros((len(mels), mels[0].shape[0], frames), dtype=np.float32)
        for n, mel in enumerate(mels):
            batch[n, :, : min(frames, mel.shape[1])] = mel[:, :frames]
        return ctranslate2.StorageView.from_array(batch)

    def _prompt(self, expected: tuple[str, ...]) -> list[int]:
        """The decoder prompt faster-whisper builds for ``hotwords``/``initial_prompt``."""
        cached = self._prompts.get(expected)
        if cached is not None:
            return cached
        phrases = [p.strip() for p in expected if p.strip()]
        if not self.decoding.bias_specials:
            phrases = [p for p in phrases if not closed_set.special(p, self.language)]
        tokenizer, half = self._tokenizer, self.model.max_length // 2
        prompt: list[int] = []
        if phrases and self.decoding.bias != "none":
            prompt.append(tokenizer.sot_prev)
            if self.decoding.bias in ("hotwords", "both"):
                prompt += tokenizer.encode(" " + ", ".join(phrases))[: half - 1]
            if self.decoding.bias in ("prompt", "both"):
                prompt += tokenizer.encode(" " + bias_prompt(phrases))[-(half - 1) :]
        prompt += [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        if len(self._prompts) < PROMPT_CACHE:
            self._prompts[expected] = prompt
        return prompt

    def _hypotheses(self, result: ctranslate2.models.WhisperGenerationResult) -> list[Hypothesis]:
        eot = self._tokenizer.eot
        found = []
        for ids, score in zip(result.sequences_ids, result.scores, strict=True):
            # As faster-whisper's generate_with_fallback: CTranslate2 divides the score by
            # the length (length_penalty 1); avg_logprob divides the sum by length + 1.
            total = score * len(ids)
            text = self._tokenizer.decode([t for t in ids if t < eot]).strip()
            found.append(Hypothesis(text, total / (len(ids) + 1), total))
        return found


@dataclass(frozen=True)
class Hypothesis:
    text: str
    avg_logprob: float
    logprob: float  # of the whole text


def pooled(
    hypotheses: list[Hypothesis], expected: Sequence[str], prompt: str | None
) -> tuple[tuple[str, float], ...]:
    """Every plausible hypothesis with its share of their probability, best first.

    Loops and echoes of the bias are left out: they would vote for phrases nobody said.
    """
    kept = [
        h
        for h in hypotheses
        if h.text and not looping(h.text) and not prompt_echo(h.text, expected, prompt)
    ]
    if not kept:
        return ()
    top = max(h.logprob for h in kept)
    weights: dict[str, float] = {}
    for h in kept:
        weights[h.text] = weights.get(h.text, 0.0) + math.exp(h.logprob - top)
    total = sum(weights.values())
    ranked = sorted(weights.items(), key=lambda kv: kv[1], reverse=True)
    return tuple((text, round(w / total, 4)) for text, w in ranked)


def to_whisper_rate(pcm: np.ndarray, speed: float = 1.0) -> np.ndarray:
    """8 kHz int16 to Whisper's 16 kHz float; ``speed`` < 1 plays it slower (and lower)."""
    audio = np.asarray(pcm, dtype=np.float32) / 32768.0
    return soxr.resample(audio, SAMPLE_RATE, WHISPER_RATE / speed, quality="HQ").astype(np.float32)


# A closed answer's first piece that is no answer yet ("öö", "ehkä", a short piece saying no
# listed answer: hesitation.py) is held this long after its last voiced moment for the rest;
# the speech set's hesitations pause 0.5-1.5 s. Other answers end after ``end_silence``.
HOLD_SILENCE = 1.7
# A reading of the first piece with at least this share of the pooled hypotheses' weight
# that says an answer makes the piece an answer (not held).
HOLD_READING = 0.3
# The pause inside a held answer is shortened to this when the pieces are heard together.
JOIN_GAP = 0.25
# A free-text answer is decoded in its pause too while it is this short (a greeting, a
# sentence: then the next question follows the end silence, not the end silence and a
# decode); a longer one pauses often, and each guess would be a long decode queued ahead of
# other calls' answers.
FREE_SPECULATE_SECONDS = 6.0


class WhisperRecogniser:
    """One answer's recogniser: segments the stream and transcribes each finished answer.

    It is done after its first non-empty transcript (one recogniser per answer); audio fed
    after that is ignored. A segment Whisper finds empty (a cough the VAD let through) keeps
    it listening. An answer (free text only while short) is decoded speculatively once the
    caller has been quiet for ``Decoding.speculate_after``, in the engine's pool; the guess
    is used if the answer then ends where it was taken, and dropped if the caller goes on.
    """

    def __init__(
        self, engine: WhisperEngine, expected: tuple[str, ...] | None, segmenter: Segmenter
    ) -> None:
        self.engine = engine
        self.expected = expected
        self.segmenter = segmenter
        self.done = False
        self._guess: tuple[float, Future[Transcript | None]] | None = None
        # A first piece that was no answer yet (``_hold``): its segment, transcript and why.
        self._held: tuple[Segment, Transcript, str] | None = None
        self._joined = False  # an answer was heard after a held piece: hold no more

    def feed(self, pcm: np.ndarray) -> list[SpeechEvent]:
        if self.done:
            return []
        events: list[SpeechEvent] = []
        for event in self.segmenter.feed(pcm):
            if isinstance(event, SpeechBegan):
                events.append(SpeechStarted())
            elif isinstance(event, Segment):
                transcript = self._transcribe(event)
                if transcript is None:
                    continue
                if self._hold(event, transcript):
                    continue
                events.append(transcript)
                break
        held = self._held
        quiet = not self.done and not self.segmenter.in_speech
        if held is not None and quiet and self.segmenter.seconds_fed >= held[0].end + HOLD_SILENCE:
            events.append(self._release())
        if not self.done:
            self._speculate()
        return events

    def finish(self) -> Transcript | None:
        if self.done:
            return None
        segment = self.segmenter.finish()
        transcript = self._transcribe(segment) if segment is not None else None
        if transcript is None and self._held is not None:
            return self._release()
        return transcript

    def _hold(self, segment: Segment, transcript: Transcript) -> bool:
        """Keep a closed answer's first piece that is no answer yet, and listen on."""
        if self.expected is None or self._held is not None or self._joined:
            return False
        why = no_answer_yet(
            transcript.text,
            segment.end - segment.start,
            self.expected,
            self.engine.language,
            # Heard otherwise as said but as an answer by most of the beam ("kolme" slowed,
            # "todemaa" as said): an answer, not the start of one.
            [text for text, weight in transcript.alternatives if weight >= HOLD_READING],
        )
        if why is None:
            return False
        self._held = (segment, transcript, why)
        self.done = False
        return True

    def _release(self) -> Transcript:
        """Nothing more came: the held first piece is the answer after all."""
        assert self._held is not None
        _, transcript, why = self._held
        self._held, self.done = None, True
        return replace(transcript, detail={**transcript.detail, "held": why, "rule": "held-alone"})

    def _audio(self, segment: Segment) -> np.ndarray:
        """What Whisper hears of a segment: after a held piece that said no answer, both
        pieces with the pause between them shortened ("en minä ... saa"); after filled
        pauses, the rest alone ("öö ... kolme": "kolme")."""
        if self._held is None or self._held[2] != "no-answer":
            return segment.pcm
        gap = np.zeros(round(JOIN_GAP * SAMPLE_RATE), dtype=np.int16)
        return np.concatenate([self._held[0].pcm, gap, segment.pcm])

    def _speculate(self) -> None:
        after = self.engine.decoding.speculate_after
        if after is None or self.segmenter.silence < after:
            return
        segment = self.segmenter.peek()
        if segment is None or (self._guess is not None and self._guess[0] == segment.end):
            return
        if self.expected is None and segment.end - segment.start > FREE_SPECULATE_SECONDS:
            return
        self.close()
        future = self.engine.pool.submit(
            self.engine.transcribe, self._audio(segment), self.expected
        )
        self._guess = (segment.end, future)

    def close(self) -> None:
        """Cancel a speculative decode not yet started (one running finishes, unused)."""
        if self._guess is not None:
            self._guess[1].cancel()
            self._guess = None

    def _transcribe(self, segment: Segment) -> Transcript | None:
        guess, self._guess = self._guess, None
        if guess is not None and guess[0] == segment.end:
            transcript = guess[1].result()
        else:
            if guess is not None:
                guess[1].cancel()
            transcript = self.engine.transcribe(self._audio(segment), self.expected)
        if transcript is not None and self._held is not None:
            _, before, why = self._held
            rule = "joined" if why == "no-answer" else "after-filled-pause"
            detail = {**transcript.detail, "held": why, "held_heard": before.text, "rule": rule}
            transcript = replace(transcript, detail=detail)
            self._held, self._joined = None, True
        if transcript is not None:
            self.done = True
        return transcript
