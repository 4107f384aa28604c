"""G.711 μ-law encode/decode in numpy, for the virtual resident's voice.

The emulator must not import ``kanavat.voice`` (it stands in for Twilio and stays
independent of the code under test), so it carries its own tiny codec.
"""

from __future__ import annotations

import numpy as np

_BIAS = 0x84
_CLIP = 32635
SILENCE = 0xFF  # μ-law byte for zero amplitude


def encode(pcm: np.ndarray) -> bytes:
    """16-bit linear PCM (any int/float array, int16 range) to μ-law bytes."""
    x = np.clip(np.asarray(pcm, dtype=np.int32), -_CLIP, _CLIP)
    sign = np.where(x < 0, 0x80, 0)
    mag = np.abs(x) + _BIAS
    exponent = np.clip(np.floor(np.log2(mag)).astype(np.int32) - 7, 0, 7)
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def decode(data: bytes) -> np.ndarray:
    """μ-law bytes to int16 PCM."""
    u = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    mag = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -mag, mag).astype(np.int16)


def tone(freq: float, seconds: float, level: float = 0.3, rate: int = 8000) -> bytes:
    """A sine tone as μ-law: a stand-in for speech that any VAD will notice."""
    t = np.arange(int(seconds * rate)) / rate
    return encode(np.sin(2 * np.pi * freq * t) * level * 32767)


def noise(seconds: float, level: float = 0.05, rate: int = 8000, seed: int = 0) -> bytes:
    """Low white noise as μ-law: a line that is not digitally silent."""
    rng = np.random.default_rng(seed)
    return encode(rng.normal(0, level * 32767, int(seconds * rate)))


def silence(seconds: float, rate: int = 8000) -> bytes:
    return bytes([SILENCE]) * int(seconds * rate)
