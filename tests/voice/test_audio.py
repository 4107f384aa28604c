"""Telephone audio: G.711 mu-law bit-exactness, payloads, framing, resampling, prompts, tones."""

from __future__ import annotations

import base64
import os
import warnings

import numpy as np
import pytest
import soundfile

from kanavat.voice import audio

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)


def g711_ulaw_encode_reference(sample: int) -> int:
    """One sample, straight from G.711's mu-law description (as in the ITU/Sun reference code).

    Work on 14 bits, sign and magnitude; add the bias 33 so segment k spans 2^(k+5)..2^(k+6)-1;
    the code is sign (1 bit), segment (3 bits), 4 mantissa bits, and every bit is inverted.
    """
    value = sample >> 2  # 16-bit to 14-bit, floor as the reference C does
    sign = 0x80 if value < 0 else 0x00  # before the final inversion
    magnitude = min(abs(value), 8159) + 33
    segment = 0
    while segment < 8 and magnitude > (64 << segment) - 1:
        segment += 1
    if segment == 8:  # beyond the top segment: the loudest code
        return ~(sign | 0x7F) & 0xFF
    mantissa = (magnitude >> (segment + 1)) & 0x0F
    return ~(sign | (segment << 4) | mantissa) & 0xFF


def g711_ulaw_decode_reference(code: int) -> int:
    """One byte back to 16-bit linear: ((2·mantissa + 33)·2^segment − 33), scaled by 4."""
    code = ~code & 0xFF
    segment = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 1) + 33) << segment) - 33
    return -4 * magnitude if code & 0x80 else 4 * magnitude


def test_encode_matches_the_g711_reference_for_every_sample() -> None:
    expected = bytes(g711_ulaw_encode_reference(int(s)) for s in ALL_INT16)
    assert audio.ulaw_encode(ALL_INT16) == expected


def test_decode_matches_the_g711_reference_for_every_code() -> None:
    expected = [g711_ulaw_decode_reference(c) for c in range(256)]
    assert audio.ulaw_decode(bytes(range(256))).tolist() == expected


def test_codec_is_bit_exact_with_stdlib_audioop_where_it_still_exists() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")  # removed in Python 3.13
    assert audio.ulaw_encode(ALL_INT16) == audioop.lin2ulaw(ALL_INT16.tobytes(), 2)
    assert audio.ulaw_decode(bytes(range(256))).tobytes() == audioop.ulaw2lin(bytes(range(256)), 2)


def test_round_trip_codes_and_samples() -> None:
    codes = bytes(range(256))
    again = audio.ulaw_encode(audio.ulaw_decode(codes))
    # Every code survives decode+encode except 0x7F, negative zero, which comes back as 0xFF.
    assert [a for a, b in zip(codes, again, strict=True) if a != b] == [0x7F]
    assert again[0x7F] == 0xFF
    # Decoding an encoded sample lands within one quantisation step (coarser when louder).
    samples = ALL_INT16.astype(np.int32)
    error = np.abs(audio.ulaw_decode(audio.ulaw_encode(ALL_INT16)) - samples)
    assert error[np.abs(samples) < 100].max() <= 8
    assert np.all(error <= np.abs(samples) // 16 + 8)


def test_silence_is_0xff_and_decodes_to_zero() -> None:
    assert audio.ulaw_silence(20) == b"\xff" * 160
    assert not audio.ulaw_decode(audio.ulaw_silence(100)).any()
    assert audio.ulaw_encode(np.zeros(4, dtype=np.int16)) == b"\xff" * 4


def test_payloads_are_plain_base64_mulaw() -> None:
    assert audio.payload_to_ulaw("/////w==") == b"\xff\xff\xff\xff"  # twilio-protocol.md §6
    frame = audio.ulaw_encode(np.linspace(-8000, 8000, 160).astype(np.int16))
    payload = audio.ulaw_to_payload(frame)
    assert base64.b64decode(payload) == frame
    assert audio.payload_to_pcm(payload).dtype == np.int16
    assert len(audio.payload_to_pcm(payload)) == 160


def test_split_frames_gives_20_ms_frames_padded_with_silence() -> None:
    data = bytes(range(200)) * 2  # 400 bytes = 50 ms
    frames = list(audio.split_frames(data))
    assert [len(f) for f in frames] == [160, 160, 160]
    assert b"".join(frames)[:400] == data
    assert frames[-1][80:] == b"\xff" * 80
    assert [len(f) for f in audio.split_frames(data, pad=False)] == [160, 160, 80]
    assert list(audio.split_frames(b"")) == []


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def test_resample_keeps_pitch_and_dtype() -> None:
    t = np.arange(44100) / 44100
    tone = audio.to_int16(0.5 * np.sin(2 * np.pi * 1000 * t))
    out = audio.resample(tone, 44100)
    assert out.dtype == np.int16
    assert len(out) == 8000
    assert abs(_peak_hz(out, 8000) - 1000) < 2
    # 3 kHz survives, 5 kHz (above Nyquist at 8 kHz) is filtered out rather than aliased.
    high = audio.resample(audio.to_int16(0.5 * np.sin(2 * np.pi * 5000 * t)), 44100)
    assert np.abs(high[500:-500]).max() < 100
    assert audio.resample(tone, 8000, 8000) is tone


@pytest.mark.parametrize(
    ("fmt", "subtype", "rate", "channels"),
    [("WAV", "PCM_16", 22050, 1), ("FLAC", "PCM_24", 48000, 2), ("OGG", "VORBIS", 44100, 2)],
)
def test_load_pcm_reads_any_format_rate_and_channels(tmp_path, fmt, subtype, rate, channels):
    t = np.arange(rate) / rate
    left = 0.4 * np.sin(2 * np.pi * 440 * t)
    data = np.stack([left] * channels, axis=1) if channels > 1 else left
    path = tmp_path / f"tone.{fmt.lower()}"
    soundfile.write(path, data, rate, format=fmt, subtype=subtype)
    pcm = audio.load_pcm(path)
    assert pcm.dtype == np.int16
    assert abs(len(pcm) - 8000) <= 8
    assert abs(_peak_hz(pcm, 8000) - 440) < 3
    assert 0.3 * 32768 < np.abs(pcm).max() < 0.5 * 32768


def test_stereo_is_averaged_to_mono(tmp_path) -> None:
    rate = 16000
    t = np.arange(rate) / rate
    sine = 0.5 * np.sin(2 * np.pi * 300 * t)
    path = tmp_path / "opposed.wav"
    soundfile.write(path, np.stack([sine, -sine], axis=1), rate, subtype="FLOAT")
    assert np.abs(audio.load_pcm(path)).max() <= 2  # the channels cancel: mean, not left only


def test_prompt_cache_converts_once_and_notices_a_new_recording(tmp_path) -> None:
    path = tmp_path / "kysymys.wav"
    soundfile.write(path, np.full(16000, 0.1), 16000, subtype="PCM_16")
    first = audio.load_prompt_ulaw(path)
    assert len(first) == 8000
    assert audio.load_prompt_ulaw(path) is first  # cached: same object
    soundfile.write(path, np.full(8000, 0.2), 16000, subtype="PCM_16")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    second = audio.load_prompt_ulaw(path)
    assert len(second) == 4000
    audio.clear_prompt_cache()
    assert audio.load_prompt_ulaw(path) is not second


def test_ack_tone_is_short_soft_and_click_free() -> None:
    tone = audio.ack_tone()
    assert len(tone) == 960  # 120 ms at 8 kHz
    pcm = audio.ulaw_decode(tone).astype(np.int32)
    peak = np.abs(pcm).max()
    assert 0.05 * 32768 < peak < 0.2 * 32768  # audible but well below full scale
    assert np.abs(pcm[:5]).max() < peak * 0.1
    assert np.abs(pcm[-5:]).max() < peak * 0.1
    assert abs(_peak_hz(pcm, 8000) - 660) < 15
