"""Vocal chain, side-chain ducking and loudness mastering. Pure functions on numpy arrays
(float32, sample rate explicit), in librosa's style."""

from __future__ import annotations

import numpy as np
from scipy import ndimage, signal

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0


def db_to_gain(db: float) -> float:
    return float(10 ** (db / 20))


def highpass(y: np.ndarray, sr: int, cutoff: float = 90.0) -> np.ndarray:
    sos = signal.butter(4, cutoff, "highpass", fs=sr, output="sos")
    return signal.sosfilt(sos, y, axis=0).astype(np.float32)


def envelope(y: np.ndarray, sr: int, attack: float = 0.005, release: float = 0.08) -> np.ndarray:
    """Peak-ish amplitude envelope of a mono or stereo signal (max over channels)."""
    x = np.abs(y if y.ndim == 1 else y.max(axis=1)).astype(np.float64)
    # attack by a short running max, release by a one-pole smoother
    x = ndimage.maximum_filter1d(x, size=max(1, int(attack * sr)))
    a = np.exp(-1.0 / (release * sr))
    return signal.lfilter([1 - a], [1, -a], x).astype(np.float32)


def compress(y: np.ndarray, sr: int, threshold_db: float = -20.0, ratio: float = 3.0,
             makeup_db: float = 4.0) -> np.ndarray:
    env_db = 20 * np.log10(np.maximum(envelope(y, sr, 0.003, 0.1), 1e-6))
    over = np.maximum(env_db - threshold_db, 0.0)
    gain_db = -over * (1 - 1 / ratio) + makeup_db
    g = (10 ** (gain_db / 20)).astype(np.float32)
    return y * (g if y.ndim == 1 else g[:, None])


def reverb(y: np.ndarray, sr: int, decay: float = 0.6, wet: float = 0.12, seed: int = 0) -> np.ndarray:
    """Small room: convolution with exponentially decaying, low-passed noise."""
    rng = np.random.default_rng(seed)
    n = int(decay * sr)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    ir = signal.sosfilt(signal.butter(2, 5000, fs=sr, output="sos"), ir)
    ir /= np.sqrt(np.sum(ir**2)) + 1e-9
    pre = int(0.02 * sr)  # 20 ms pre-delay keeps consonants clear
    ir = np.concatenate([np.zeros(pre), ir])
    tail = signal.fftconvolve(y, ir if y.ndim == 1 else ir[:, None], axes=0)[: len(y)]
    return ((1 - wet) * y + wet * tail).astype(np.float32)


def vocal_chain(vocal: np.ndarray, sr: int) -> np.ndarray:
    """High-pass, compression, a touch of reverb."""
    v = highpass(vocal, sr, 90.0)
    v = compress(v, sr)
    return reverb(v, sr)


def duck(beat: np.ndarray, vocal: np.ndarray, sr: int, depth_db: float = 4.0) -> np.ndarray:
    """Side-chain: pull the beat down by up to ``depth_db`` while the vocal sounds (never the reverse)."""
    env = envelope(vocal, sr, 0.01, 0.25)
    level = np.clip(env / (np.percentile(env[env > 1e-4], 90) if np.any(env > 1e-4) else 1.0), 0, 1)
    g = (10 ** (-depth_db * level / 20)).astype(np.float32)
    return beat * (g[:, None] if beat.ndim == 2 else g)


def true_peak_db(y: np.ndarray, sr: int) -> float:
    """True peak (dBTP) by 4x oversampling (ITU-R BS.1770-4 Annex 2)."""
    up = signal.resample_poly(y, 4, 1, axis=0)
    return float(20 * np.log10(max(np.max(np.abs(up)), 1e-9)))


def peak_envelope(y: np.ndarray) -> np.ndarray:
    """Per-sample peak of the 4x-oversampled signal (all channels): what a true-peak limiter must see."""
    up = np.abs(signal.resample_poly(y, 4, 1, axis=0))
    peak = up.max(axis=1) if up.ndim == 2 else up
    return peak[: 4 * len(y)].reshape(len(y), 4).max(axis=1) if len(peak) >= 4 * len(y) else np.resize(peak, len(y))


def limit(y: np.ndarray, sr: int, ceiling_db: float = CEILING_DBTP, lookahead: float = 0.005,
          peak: np.ndarray | None = None) -> np.ndarray:
    """Look-ahead brick-wall limiter on the 4x-oversampled peak envelope: the smoothed gain never
    exceeds the gain each peak needs (min filter of width 2L, then a moving average of width L).
    ``peak``: the envelope of ``y`` when the caller has it (it scales with gain: no need to redo it)."""
    ceiling = db_to_gain(ceiling_db)
    peak = peak_envelope(y) if peak is None else peak
    need = np.minimum(1.0, ceiling / np.maximum(peak, 1e-9))
    L = max(1, int(lookahead * sr))
    g = ndimage.minimum_filter1d(need, size=2 * L + 1)
    g = ndimage.uniform_filter1d(g, size=L)
    g = np.minimum(g, ndimage.minimum_filter1d(need, size=3))
    return (y * (g[:, None] if y.ndim == 2 else g)).astype(np.float32)


def master(mix: np.ndarray, sr: int, target_lufs: float = TARGET_LUFS, ceiling_db: float = CEILING_DBTP):
    """Normalise to ``target_lufs`` integrated and limit to ``ceiling_db`` dBTP. Returns (audio, gain)
    where gain is the linear gain applied before limiting (stems get the same)."""
    import pyloudnorm

    meter = pyloudnorm.Meter(sr)
    loud = meter.integrated_loudness(mix)
    if not np.isfinite(loud):
        return mix, 1.0
    gain = db_to_gain(target_lufs - loud)
    out = mix * gain
    peak = peak_envelope(mix)  # oversample once; the envelope of mix * gain is gain * this
    for _ in range(4):  # limiting lowers loudness a little: re-aim and limit again
        out = limit(out, sr, ceiling_db - 0.1, peak=gain * peak)
        err = target_lufs - meter.integrated_loudness(out)
        if abs(err) < 0.1:
            break
        gain *= db_to_gain(err)
        out = mix * gain
    if true_peak_db(out, sr) > ceiling_db:
        out = limit(out, sr, ceiling_db - 0.3)
    return out.astype(np.float32), gain
