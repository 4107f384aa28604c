"""The segmenter on real (espeak-ng) speech and synthetic silence, noise and clicks."""

from __future__ import annotations

import numpy as np
import pytest
from whisper_fixtures import (
    RATE,
    Clip,
    silence,
    speech,
    tone,
    tools_available,
    trimmed,
    voiced_span,
    white_noise,
)

from kanavat.voice.vad import FRAME_SAMPLES, Segment, Segmenter, SpeechBegan, VadConfig

needs_tools = pytest.mark.skipif(not tools_available(), reason="needs espeak-ng and sox")


def run(segmenter: Segmenter, pcm: np.ndarray, chunk: int = FRAME_SAMPLES) -> list:
    events = []
    for start in range(0, len(pcm), chunk):
        events.extend(segmenter.feed(pcm[start : start + chunk]))
    return events


# webrtcvad's hangover: it reports speech ~0.1 s after the sound has stopped.
HANGOVER = 0.12


@needs_tools
@pytest.mark.parametrize("chunk", [160, 137, 800])
def test_answer_start_and_end_after_silence(chunk: int) -> None:
    words = speech(Clip("en osaa sanoa", "fi", 140))
    pcm = np.concatenate([silence(1.0), words, silence(2.0)])
    began, spoke_until = voiced_span(pcm)
    events = run(Segmenter(), pcm, chunk)

    assert [type(e) for e in events] == [SpeechBegan, Segment]
    start, segment = events
    assert start.at == pytest.approx(began, abs=0.08)
    assert segment.reason == "silence"
    assert segment.start == start.at
    assert spoke_until <= segment.end <= spoke_until + HANGOVER
    # Pre-roll before the start, post-roll after the end, nothing of the 0.7 s wait beyond.
    assert len(segment.pcm) / RATE == pytest.approx(segment.end - segment.start + 0.4, abs=0.03)


@needs_tools
def test_segment_ends_end_silence_after_the_sound_stops() -> None:
    pcm = np.concatenate([silence(0.5), speech(Clip("kyllä")), silence(2.0)])
    segmenter = Segmenter(VadConfig(end_silence=0.7))
    ended_at = None
    for start in range(0, len(pcm), FRAME_SAMPLES):
        if any(isinstance(e, Segment) for e in segmenter.feed(pcm[start : start + FRAME_SAMPLES])):
            ended_at = segmenter.seconds_fed
            break
    assert ended_at is not None
    _, spoke_until = voiced_span(pcm)
    assert spoke_until + 0.7 <= ended_at <= spoke_until + 0.7 + HANGOVER


@needs_tools
def test_pause_inside_an_answer_shorter_than_end_silence_keeps_one_segment() -> None:
    pcm = np.concatenate(
        [silence(0.5), trimmed(Clip("en osaa")), silence(0.5), trimmed(Clip("sanoa")), silence(1.5)]
    )
    events = run(Segmenter(VadConfig(end_silence=0.7)), pcm)
    segments = [e for e in events if isinstance(e, Segment)]
    assert len(segments) == 1
    assert segments[0].end - segments[0].start > 1.2


@needs_tools
def test_long_answer_is_cut_at_max_length() -> None:
    talk = np.concatenate(
        [speech(Clip("yksi kaksi kolme neljä viisi kuusi seitsemän", speed=120))] * 3
    )
    pcm = np.concatenate([silence(0.3), talk, silence(1.0)])
    events = run(Segmenter(VadConfig(max_length=3.0)), pcm)
    segments = [e for e in events if isinstance(e, Segment)]
    assert segments[0].reason == "max-length"
    assert segments[0].end - segments[0].start == pytest.approx(3.0, abs=0.03)
    assert len(segments[0].pcm) / RATE <= 3.0 + 0.2 + 0.03
    # Talk goes on after the cut: a new answer begins straight away.
    assert isinstance(events[events.index(segments[0]) + 1], SpeechBegan)


def test_blips_shorter_than_min_speech_are_ignored() -> None:
    clicks = []
    for _ in range(4):
        clicks += [silence(0.6), tone(0.08, 300, 0.5)]
    pcm = np.concatenate([*clicks, silence(1.0)])
    segmenter = Segmenter(VadConfig(aggressiveness=0))
    assert run(segmenter, pcm) == []
    assert segmenter.finish() is None
    # The same tone held longer than min_speech is taken for speech (webrtcvad is no
    # phonetician): proves the blips were dropped for their length, not their sound.
    events = run(Segmenter(VadConfig(aggressiveness=0)), np.concatenate([tone(0.5, 300, 0.5)]))
    assert [type(e) for e in events] == [SpeechBegan]


def test_silence_and_line_hiss_make_no_events() -> None:
    for pcm in (silence(5.0), white_noise(5.0, level=0.01)):
        segmenter = Segmenter()
        assert run(segmenter, pcm) == []
        assert segmenter.finish() is None


@needs_tools
def test_finish_returns_speech_in_progress() -> None:
    words = speech(Clip("kotihoito"))
    segmenter = Segmenter()
    events = run(segmenter, np.concatenate([silence(0.4), words]))
    assert [type(e) for e in events] == [SpeechBegan]
    assert segmenter.in_speech
    segment = segmenter.finish()
    assert segment is not None and segment.reason == "finish"
    assert len(segment.pcm) >= len(words) * 0.8
    assert segmenter.finish() is None


@needs_tools
def test_pre_roll_keeps_audio_before_the_detected_start() -> None:
    words = speech(Clip("hyvä"))
    pcm = np.concatenate([silence(1.0), words, silence(1.5)])
    (_, segment) = run(Segmenter(VadConfig(pre_roll=0.2)), pcm)
    first_voiced_sample = int(segment.start * RATE)
    kept_from = first_voiced_sample - int(0.2 * RATE)
    assert np.array_equal(
        segment.pcm[: len(segment.pcm)], pcm[kept_from : kept_from + len(segment.pcm)]
    )


@needs_tools
def test_two_answers_in_one_stream_make_two_segments() -> None:
    pcm = np.concatenate(
        [
            silence(0.3),
            speech(Clip("kyllä")),
            silence(1.2),
            speech(Clip("ei", "fi+f2")),
            silence(1.0),
        ]
    )
    events = run(Segmenter(), pcm)
    assert [type(e) for e in events] == [SpeechBegan, Segment, SpeechBegan, Segment]


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="aggressiveness"):
        VadConfig(aggressiveness=4)
    with pytest.raises(ValueError, match="end_silence"):
        VadConfig(end_silence=0)


@needs_tools
def test_peek_shows_the_answer_as_it_will_be_cut_if_no_more_speech_comes() -> None:
    segmenter = Segmenter(VadConfig(end_silence=0.7))
    pcm = np.concatenate([silence(0.5), trimmed(Clip("kolme")), silence(2.0)])
    peeked = None
    cut = None
    for start in range(0, len(pcm), FRAME_SAMPLES):
        events = segmenter.feed(pcm[start : start + FRAME_SAMPLES])
        if peeked is None and segmenter.silence >= 0.25:
            peeked = segmenter.peek()
            assert peeked is not None and segmenter.in_speech  # peeking changes nothing
        cut = next((e for e in events if isinstance(e, Segment)), None)
        if cut is not None:
            break
    assert peeked is not None and cut is not None
    assert (peeked.start, peeked.end) == (cut.start, cut.end)
    assert np.array_equal(peeked.pcm, cut.pcm)
    assert segmenter.peek() is None and segmenter.silence == 0.0


@needs_tools
def test_short_first_syllable_before_a_stop_is_kept() -> None:
    # Slow "yksi": "y", then ~0.15 s of unvoiced "ks". With a 0.1 s onset gap the "y" was
    # dropped as a blip, the answer began at "si", and Whisper heard "kaksi".
    words = trimmed(Clip("yksi", "fi+m3", 130))
    lead = 0.5
    pcm = np.concatenate([silence(lead), words, silence(1.5)])
    segments = [e for e in run(Segmenter(VadConfig()), pcm) if isinstance(e, Segment)]
    assert len(segments) == 1
    began = segments[0].start - VadConfig().pre_roll  # where the kept audio begins
    assert began <= lead + 0.01
