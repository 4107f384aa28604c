"""Telephone audio: G.711 mu-law, Media Streams payloads, 20 ms framing, resampling, prompts.

Twilio Media Streams carry base64 mu-law at 8 kHz mono in 20 ms (160-byte) frames; recognisers
take int16 PCM at 8 kHz; prompts are recorded at whatever rate the county had. This module is
the one place those meet. The stdlib ``audioop`` is gone in Python 3.13, so the codec is numpy
lookup tables, bit-exact with the classic Sun/ITU G.711 code that ``audioop`` and SoX use.
Knows nothing of websockets, calls or questions.
"""

from __future__ import annotations

import base64
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile
import soxr

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 160
FRAME_BYTES = FRAME_SAMPLES  # one mu-law byte per sample
ULAW_SILENCE = 0xFF  # G.711: positive zero

_BIAS = 0x84  # 132: added so every segment starts at a power of two
_CLIP = 8159  # largest 14-bit magnitude the Sun code keeps before the bias
_SEGMENT_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def _build_encode_table() -> np.ndarray:
    """mu-law byte for every int16 value (64 KiB), computed once with vector arithmetic.

    Follows the Sun reference (``linear2ulaw``): drop to 14 bits with an arithmetic shift,
    take the magnitude, add the bias, find the segment (exponent) and the 4-bit mantissa, then
    invert all bits as G.711 prescribes.
    """
    pcm = np.arange(-32768, 32768, dtype=np.int32)
    shifted = pcm >> 2  # arithmetic shift: floors negatives, as the C code does
    negative = shifted < 0
    magnitude = np.minimum(np.where(negative, -shifted, shifted), _CLIP) + (_BIAS >> 2)
    segment = np.searchsorted(_SEGMENT_END, magnitude, side="left")
    mantissa = (magnitude >> (np.minimum(segment, 7) + 1)) & 0x0F
    # Past the last segment the C code returns the loudest code, 0x7F before inversion.
    code = np.where(segment > 7, 0x7F, (segment << 4) | mantissa)
    code = np.where(negative, code ^ 0x7F, code ^ 0xFF)
    table = np.empty(65536, dtype=np.uint8)
    table[pcm.astype(np.int16).view(np.uint16)] = code.astype(np.uint8)
    return table


def _build_decode_table() -> np.ndarray:
    """int16 sample for every mu-law byte (Sun ``ulaw2linear``)."""
    code = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((code & 0x0F) << 3) + _BIAS) << ((code & 0x70) >> 4)
    return np.where(code & 0x80, _BIAS - t, t - _BIAS).astype(np.int16)


_ENCODE = _build_encode_table()
_DECODE = _build_decode_table()


def ulaw_encode(pcm: np.ndarray) -> bytes:
    """int16 samples to G.711 mu-law bytes."""
    samples = np.ascontiguousarray(pcm, dtype=np.int16)
    return _ENCODE[samples.view(np.uint16)].tobytes()


def ulaw_decode(data: bytes) -> np.ndarray:
    """G.711 mu-law bytes to int16 samples."""
    return _DECODE[np.frombuffer(data, dtype=np.uint8)]


def ulaw_silence(ms: int) -> bytes:
    """``ms`` milliseconds of mu-law silence (0xFF, not 0x00, which is full negative)."""
    return bytes([ULAW_SILENCE]) * (SAMPLE_RATE * ms // 1000)


def payload_to_ulaw(payload: str) -> bytes:
    """A Media Streams ``media.payload`` (base64) to raw mu-law bytes."""
    return base64.b64decode(payload)


def ulaw_to_payload(data: bytes) -> str:
    """Raw mu-law bytes to a Media Streams ``media.payload``: base64, no header."""
    return base64.b64encode(data).decode("ascii")


def payload_to_pcm(payload: str) -> np.ndarray:
    """A Media Streams payload straight to int16 samples for a recogniser."""
    return ulaw_decode(payload_to_ulaw(payload))


def split_frames(data: bytes, frame_bytes: int = FRAME_BYTES, pad: bool = True) -> Iterator[bytes]:
    """Cut mu-law audio into 20 ms frames, as Twilio sends them.

    With ``pad`` the last short frame is filled with silence so every frame has the same size.
    """
    for start in range(0, len(data), frame_bytes):
        frame = data[start : start + frame_bytes]
        if pad and len(frame) < frame_bytes:
            frame += bytes([ULAW_SILENCE]) * (frame_bytes - len(frame))
        yield frame


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples (-1..1) to int16, rounded and clipped rather than wrapped."""
    scaled = np.rint(np.asarray(samples, dtype=np.float64) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def resample(samples: np.ndarray, rate_in: int, rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono audio with soxr's high quality filter; int16 in gives int16 out."""
    if rate_in == rate_out:
        return samples
    is_int = np.issubdtype(samples.dtype, np.integer)
    floats = samples.astype(np.float32) / 32768.0 if is_int else samples.astype(np.float32)
    out = soxr.resample(floats, rate_in, rate_out, quality="HQ")
    return to_int16(out) if is_int else out


def load_pcm(path: str | Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Any file soundfile reads (wav, flac, ogg; any rate; stereo) as int16 mono at ``rate``."""
    data, rate_in = soundfile.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    return to_int16(resample(mono, rate_in, rate))


def telephone(pcm: np.ndarray) -> np.ndarray:
    """What a caller's 8 kHz int16 audio becomes after the G.711 leg: encode, then decode."""
    return ulaw_decode(ulaw_encode(pcm))


_prompt_lock = threading.Lock()
_prompt_cache: dict[Path, tuple[int, bytes]] = {}


def load_prompt_ulaw(path: str | Path) -> bytes:
    """A recorded prompt as ready 8 kHz mu-law bytes, cached by path and modification time.

    Every call plays the same prompts, so they are converted once; a re-recorded file (new
    mtime) is converted again on its next use without a restart.
    """
    resolved = Path(path).resolve()
    mtime = resolved.stat().st_mtime_ns
    with _prompt_lock:
        cached = _prompt_cache.get(resolved)
        if cached is not None and cached[0] == mtime:
            return cached[1]
    data = ulaw_encode(load_pcm(resolved))
    with _prompt_lock:
        _prompt_cache[resolved] = (mtime, data)
    return data


def clear_prompt_cache() -> None:
    """Forget converted prompts (tests; a changed voice folder)."""
    with _prompt_lock:
        _prompt_cache.clear()


def ack_tone(ms: int = 120, freq: float = 660.0, level_db: float = -18.0) -> bytes:
    """A short soft beep in mu-law: tells an elderly caller the answer was heard.

    Raised-cosine edges (10 ms) avoid clicks; the level stays well below speech prompts.
    """
    n = SAMPLE_RATE * ms // 1000
    t = np.arange(n) / SAMPLE_RATE
    wave = np.sin(2 * np.pi * freq * t) * 10 ** (level_db / 20)
    edge = min(SAMPLE_RATE // 100, n // 2)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(edge) / edge)
    wave[:edge] *= ramp
    wave[n - edge :] *= ramp[::-1]
    return ulaw_encode(to_int16(wave))


def keep_ulaw(out: Path, ulaw: bytes) -> float:
    """Write caller audio (mu-law, 8 kHz) as a mu-law WAV at ``out``, atomically, in a folder
    private to the server's user; its length in seconds."""
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pcm = ulaw_decode(ulaw)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".tmp-", suffix=".wav")
    os.close(fd)
    try:
        soundfile.write(tmp, pcm, SAMPLE_RATE, subtype="ULAW", format="WAV")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(pcm) / SAMPLE_RATE
