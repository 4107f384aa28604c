"""The Vosk engine with the real Korean model, fed espeak-ng speech as a phone call delivers it.

Every clip goes 22 kHz speech -> sox 8 kHz -> G.711 mu-law -> int16 -> 20 ms frames. espeak-ng's
Korean is robotic and vosk-model-small-ko is small, so some words are misheard (measured: see
``test_korean_numbers``); the tests assert what works and that doubtful answers are flagged.
"""

from __future__ import annotations

import asyncio
import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import soundfile
from speech_fixtures import needs_speech_tools, noise, pad, silence_pcm, speak, to_telephone

from kanavat.voice import audio
from kanavat.voice.engines import EngineError, SpeechEngines, load_engine, recognise_file
from kanavat.voice.recognise import SpeechStarted, Transcript
from kanavat.voice.vosk_engine import (
    CONFIDENT,
    SUSPECT_CEILING,
    Grammar,
    Hypothesis,
    VoskEngine,
    count_phrases,
    judge,
)

pytestmark = [pytest.mark.slow, needs_speech_tools]

YES, NO = "네", "아니요"
NATIVE = ["하나", "둘", "셋", "넷", "다섯"]
SINO = ["일", "이", "삼", "사", "오"]
CLOSED = [YES, NO, *NATIVE, *SINO]


def stream(engine: VoskEngine, pcm: np.ndarray, expected: list[str] | None) -> list:
    """Feed ``pcm`` in 20 ms frames as the call does; all events, then finish()'s transcript."""
    recogniser = engine.recogniser(expected)
    events = []
    for start in range(0, len(pcm), audio.FRAME_SAMPLES):
        events += recogniser.feed(pcm[start : start + audio.FRAME_SAMPLES])
    final = recogniser.finish()
    return [*events, final] if final is not None else events


def transcripts(events: list) -> list[Transcript]:
    return [e for e in events if isinstance(e, Transcript)]


def said(text: str, lang: str = "ko") -> np.ndarray:
    return pad(to_telephone(speak(text, lang)))


# --- vocabulary and grammar ------------------------------------------------------------------


def test_model_vocabulary_has_the_answers_but_no_unk(vosk_ko: VoskEngine) -> None:
    assert all(vosk_ko.knows(w) for w in CLOSED)
    assert not vosk_ko.knows("[unk]")
    assert not vosk_ko.has_unk
    assert not vosk_ko.knows("hello")


def test_grammar_keeps_hangul_unescaped_and_drops_unknown_words(vosk_ko: VoskEngine) -> None:
    grammar = vosk_ko.grammar(["네", "아니요!", "네", "모르겠어요", "hello world", ""])
    assert grammar.phrases == ("네", "아니요")
    assert grammar.dropped == ("모르겠어요", "hello world")
    assert grammar.to_json() == '["네", "아니요"]'  # no \\u escapes, no [unk] for this model
    assert json.loads(Grammar(("kyllä",), (), True).to_json()) == ["kyllä", "[unk]"]


def test_count_phrases_prefers_the_longest_phrase() -> None:
    assert count_phrases(["en", "tiedä"], ["en tiedä", "en", "kyllä"]) == 1
    assert count_phrases(["kyllä", "en", "tiedä"], ["en tiedä", "kyllä"]) == 2
    assert count_phrases(["kyllä"], ["kyllä"]) == 1


def test_judge_lowers_confidence_for_each_reason() -> None:
    grammar = Grammar(("네", "아니요"), (), False)
    sure = judge([Hypothesis("네", 1.0, (("네", 0.3, 0.6),))], grammar, voiced_s=0.3)
    assert (sure.text, sure.confidence, sure.suspect) == ("네", 1.0, ())
    forced = judge(
        [Hypothesis("네 아니요", 0.9, (("네", 0.3, 0.6), ("아니요", 0.7, 1.2)))], grammar, 3.0
    )
    assert forced.suspect == ("no-unk-several-words", "no-unk-unexplained-speech")
    assert forced.confidence < SUSPECT_CEILING
    stretched = judge([Hypothesis("네", 1.0, (("네", 0.0, 1.6),))], grammar, 1.6)
    assert stretched.suspect == ("no-unk-long-word",)
    unk = judge([Hypothesis("[unk]", 0.9, (("[unk]", 0.1, 0.5),))], Grammar(("네",), (), True), 1)
    assert (unk.text, unk.confidence) == ("", 0.0)


# --- right answers -----------------------------------------------------------------------------


@pytest.mark.parametrize("word", [YES, NO])
@pytest.mark.parametrize("grammar", [[YES, NO], CLOSED], ids=["yes-no", "yes-no-numbers"])
def test_yes_and_no_are_recognised_through_the_phone_line(vosk_ko, word, grammar) -> None:
    events = stream(vosk_ko, said(word), grammar)
    assert isinstance(events[0], SpeechStarted)
    (result,) = transcripts(events)
    if grammar == [YES, NO] or word == NO:
        assert result.text == word
        assert result.confidence > 0.6
        assert not result.suspect
    else:  # 네 and 넷 differ by a final stop: either right, or wrong and flagged
        assert result.text == word or result.suspect
        assert result.text == word or result.confidence <= SUSPECT_CEILING


def test_korean_numbers(vosk_ko: VoskEngine) -> None:
    """Measured with espeak-ng: Sino-Korean 이 삼 오 are heard; 일 and 사 become 이; of the
    native numbers only 하나 and 넷 survive 8 kHz (다섯 -> 넷). Keep the accuracy from falling."""
    heard = {}
    for words in (SINO, NATIVE):
        for word in words:
            results = transcripts(stream(vosk_ko, said(word), words))
            heard[word] = results[0].text if results else ""
    print("numbers heard:", heard)
    assert [w for w in SINO if heard[w] == w] in (["이", "삼", "오"], ["이", "삼"])
    # The bare vowel 오 is now and then heard as nothing (test_parallel_recognisers_...),
    # never as another number.
    assert heard["오"] in ("오", "")
    assert heard["넷"] == "넷"
    assert sum(heard[w] == w for w in NATIVE) >= 1


# --- wrong answers: never a confident accept ---------------------------------------------------

OUT_OF_GRAMMAR = [
    ("오늘 날씨가 정말 좋네요 공원에 산책하러 갈까요", "ko"),
    ("저는 잘 모르겠어요", "ko"),
    ("모르겠어요", "ko"),
    ("I would like to speak to someone about my appointment", "en"),
]


@pytest.mark.parametrize(("text", "lang"), OUT_OF_GRAMMAR, ids=lambda v: str(v)[:12])
@pytest.mark.parametrize("grammar", [[YES, NO], CLOSED, NATIVE], ids=["yes-no", "all", "native"])
def test_out_of_grammar_speech_is_suspect(vosk_ko, text, lang, grammar) -> None:
    results = transcripts(stream(vosk_ko, said(text, lang), grammar))
    print(text, [(r.text, r.confidence, r.suspect) for r in results])
    assert results, "speech should give some transcript"
    for result in results:  # flagged, or at least below the confidence worth accepting
        assert result.confidence < CONFIDENT
        assert result.suspect or len(text) < 12


@pytest.mark.xfail(
    strict=False,
    reason="known gap: a short unknown word may be forced onto one grammar word with full "
    "confidence (no [unk] in vosk-model-small-ko); 고마워요/글쎄요 are caught only with yes/no",
)
@pytest.mark.parametrize(
    ("text", "lang"),
    [("잠깐만요", "ko"), ("no", "en"), ("고마워요", "ko"), ("글쎄요", "ko"), ("yes please", "en")],
)
@pytest.mark.parametrize("grammar", [[YES, NO], NATIVE], ids=["yes-no", "native"])
def test_short_out_of_grammar_word_is_suspect(vosk_ko, text, lang, grammar) -> None:
    for result in transcripts(stream(vosk_ko, said(text, lang), grammar)):
        assert result.suspect or result.confidence < CONFIDENT


def test_dropped_phrases_make_every_answer_suspect(vosk_ko: VoskEngine) -> None:
    (result,) = transcripts(stream(vosk_ko, said(NO), [YES, NO, "모르겠어요"]))
    assert result.text == NO
    assert "no-unk-dropped-phrases" in result.suspect
    assert result.confidence <= SUSPECT_CEILING


# --- no speech ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["silence", "white-noise-quiet", "white-noise-loud", "mulaw-0x7f-zero"]
)
def test_no_speech_gives_no_transcript_and_no_barge_in(vosk_ko, kind) -> None:
    pcm = {
        "silence": lambda: silence_pcm(3),
        "white-noise-quiet": lambda: to_telephone(noise(3, 0.05)),
        "white-noise-loud": lambda: to_telephone(noise(3, 0.3)),
        "mulaw-0x7f-zero": lambda: audio.ulaw_decode(b"\x7f" * 24000),
    }[kind]()
    events = stream(vosk_ko, pcm, CLOSED)
    assert not any(isinstance(e, SpeechStarted) for e in events)
    assert all(not t.text for t in transcripts(events))


def test_garbage_audio_does_not_crash(vosk_ko: VoskEngine) -> None:
    rng = np.random.default_rng(7)
    pcm = audio.ulaw_decode(rng.integers(0, 256, 3 * 8000, dtype=np.uint8).tobytes())
    for grammar in (CLOSED, None):
        events = stream(vosk_ko, pcm, grammar)
        assert all(isinstance(e, SpeechStarted | Transcript) for e in events)
    recogniser = vosk_ko.recogniser(CLOSED)  # odd chunk sizes, empty chunks, then nothing at all
    for size in (0, 1, 7, 159, 161, 0, 3000):
        recogniser.feed(pcm[:size])
    recogniser.finish()
    assert vosk_ko.recogniser([YES]).finish() is None


def test_speech_started_comes_promptly(vosk_ko: VoskEngine) -> None:
    pcm = said(NO)
    onset = int(np.argmax(np.abs(pcm) > 500)) // audio.FRAME_SAMPLES
    recogniser = vosk_ko.recogniser([YES, NO])
    for index, start in enumerate(  # noqa: B007 (index used after the loop)
        range(0, len(pcm), audio.FRAME_SAMPLES)
    ):
        if SpeechStarted() in recogniser.feed(pcm[start : start + audio.FRAME_SAMPLES]):
            break
    assert 0 <= index - onset <= 10  # within 200 ms of the first loud sample


def _end_to_transcript_s(engine: VoskEngine, expected: list[str] | None) -> float | None:
    """Seconds of line audio from the last loud sample of an answer to its transcript."""
    pcm = np.concatenate([said(NO), silence_pcm(3.0)])
    last = int(np.nonzero(np.abs(pcm) > 500)[0][-1])
    recogniser = engine.recogniser(expected)
    for start in range(0, len(pcm), audio.FRAME_SAMPLES):
        events = recogniser.feed(pcm[start : start + audio.FRAME_SAMPLES])
        if transcripts(events):
            assert expected is None or transcripts(events)[0].text == NO
            return (start + audio.FRAME_SAMPLES - last) / audio.SAMPLE_RATE
    return None


def test_closed_answer_ends_on_the_detector_within_half_a_second(vosk_ko: VoskEngine) -> None:
    """~300 ms of silence ends "아니요", not Vosk's endpoint rules (measured ~0.9 s)."""
    waited = _end_to_transcript_s(vosk_ko, [YES, NO])
    assert waited is not None and waited < 0.5


def test_free_text_keeps_vosks_own_endpoint(vosk_ko: VoskEngine) -> None:
    """People pause inside a sentence: without a grammar the detector does not end it."""
    waited = _end_to_transcript_s(vosk_ko, None)
    assert waited is None or waited > 0.5


def test_free_text_runs_without_grammar(vosk_ko: VoskEngine) -> None:
    (result,) = transcripts(stream(vosk_ko, said("이"), None))
    assert result.text == "이"
    assert not any(s.startswith(("no-unk", "grammar")) for s in result.suspect)


# --- throughput, threads, files, registry ------------------------------------------------------


def test_parallel_recognisers_share_one_model(vosk_ko: VoskEngine) -> None:
    # Words recognised the same whatever was decoded before: Vosk's result for an ambiguous
    # word (네/넷) shifts slightly with the shared model's history, even serially. So does
    # espeak's bare "오" (one short vowel): heard as nothing in 6 of 1,440 decodes on a
    # busy machine, serially as well, so no matter of threads; it is left out.
    clips = {word: said(word) for word in ("이", "삼")}
    jobs = list(clips.items()) * 6
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(lambda job: transcripts(stream(vosk_ko, job[1], SINO))[0].text, jobs))
    elapsed = time.perf_counter() - started
    assert texts == [w for w, _ in jobs]
    audio_s = sum(len(pcm) for _, pcm in jobs) / audio.SAMPLE_RATE
    print(f"{len(jobs)} streams, {audio_s:.1f} s audio in {elapsed:.2f} s wall, 4 threads")


def test_recognise_file_takes_the_call_path(vosk_ko, tmp_path) -> None:
    pcm22, rate = soundfile.read(speak(NO, "ko"), dtype="float32")
    stereo = tmp_path / "vastaus.flac"
    soundfile.write(stereo, np.stack([pcm22, pcm22], axis=1), rate)
    for path in (speak(NO, "ko"), stereo):
        result = recognise_file(vosk_ko, path, [YES, NO])
        assert result is not None
        assert result.text == NO
    silent = tmp_path / "hiljaa.wav"
    soundfile.write(silent, np.zeros(16000), 16000)
    assert recognise_file(vosk_ko, silent, [YES, NO]) is None


async def test_registry_runs_decodes_off_the_event_loop(vosk_ko) -> None:
    with SpeechEngines({"ko": vosk_ko}, workers=2) as engines:
        assert engines.engine_for("ko") is vosk_ko
        assert engines.engine_for("fi") is None  # no model: keypad only
        recogniser = engines.engine_for("ko").recogniser([YES, NO])
        pcm = said(YES)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        events = await engines.run(recogniser.feed, pcm)
        final = await engines.run(recogniser.finish)
        task.cancel()
        assert [t.text for t in transcripts([*events, final] if final else events)] == [YES]
        assert ticks > 0


def test_registry_errors_say_what_is_wrong(tmp_path) -> None:
    with pytest.raises(EngineError, match="unknown speech engine 'kaldi'"):
        load_engine("kaldi", "ko", tmp_path)
    with pytest.raises(EngineError, match="no Vosk model"):
        load_engine("vosk", "ko", tmp_path)
    with pytest.raises(EngineError, match="no Vosk model"):
        SpeechEngines.load({"ko": ("vosk", tmp_path / "missing")})
