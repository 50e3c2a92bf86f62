"""WORLD vocoder features (pyworld, MIT): cheap to analyse, smooth (easy to learn), fast to
synthesise, and pitch/timing are separate controls. Pure functions on numpy arrays."""

from __future__ import annotations

import warnings

import numpy as np

SAMPLE_RATE = 24000
HOP_SECONDS = 0.0125  # two feature frames per Kokoro duration frame (25 ms)
FFT_SIZE = 1024
N_MGC = 40
N_BAP = 3  # WORLD's coded aperiodicity bands at 24 kHz
FEATURE_DIM = 2 + N_MGC + N_BAP  # [log f0 (interpolated), voiced, mgc..., bap...]
LOG_F0_COLUMN, VOICED_COLUMN = 0, 1
MGC_COLUMN, BAP_COLUMN = 2, 2 + N_MGC  # where the mel-cepstrum (c0 first) and the coded aperiodicity start


def _pw():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyworld

    return pyworld


def world_features(y: np.ndarray, sr: int = SAMPLE_RATE, frames: int | None = None) -> np.ndarray:
    """Audio -> [frames, FEATURE_DIM] float32. ``frames`` trims/pads to an exact count."""
    pw = _pw()
    x = np.ascontiguousarray(y, dtype=np.float64)
    f0, t = pw.dio(x, sr, frame_period=HOP_SECONDS * 1000)
    f0 = pw.stonemask(x, f0, t, sr)
    sp = pw.cheaptrick(x, f0, t, sr, fft_size=FFT_SIZE)
    ap = pw.d4c(x, f0, t, sr, fft_size=FFT_SIZE)
    mgc = pw.code_spectral_envelope(sp, sr, N_MGC)
    bap = pw.code_aperiodicity(ap, sr)
    voiced = (f0 > 0).astype(np.float64)
    lf0 = np.log(np.maximum(f0, 1.0))
    if voiced.any():  # interpolate log f0 through unvoiced frames: a smooth target
        idx = np.flatnonzero(voiced)
        lf0 = np.interp(np.arange(len(f0)), idx, lf0[idx])
    else:
        lf0[:] = np.log(120.0)
    feats = np.concatenate([lf0[:, None], voiced[:, None], mgc, bap], axis=1).astype(np.float32)
    if frames is not None:
        if len(feats) >= frames:
            feats = feats[:frames]
        else:
            feats = np.concatenate([feats, np.repeat(feats[-1:], frames - len(feats), axis=0)])
    return feats


def envelope_log_power(feats: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """[frames, FEATURE_DIM] -> each frame's spectral envelope's total power (natural log). Adding d
    to the mel-cepstrum's c0 (column MGC_COLUMN) adds d to it: the envelope is exp(c0 + ...) in power."""
    mgc = np.ascontiguousarray(np.asarray(feats, dtype=np.float64)[:, MGC_COLUMN:BAP_COLUMN])
    return np.log(_pw().decode_spectral_envelope(mgc, sr, FFT_SIZE).sum(axis=1) + 1e-30)


def world_synthesize(feats: np.ndarray, sr: int = SAMPLE_RATE, f0_scale: float = 1.0) -> np.ndarray:
    """[frames, FEATURE_DIM] -> float32 audio."""
    pw = _pw()
    feats = np.asarray(feats, dtype=np.float64)
    f0 = np.exp(feats[:, 0]) * f0_scale * (feats[:, 1] > 0.5)
    mgc = np.ascontiguousarray(feats[:, 2 : 2 + N_MGC])
    bap = np.ascontiguousarray(np.minimum(feats[:, 2 + N_MGC :], 0.0))
    sp = pw.decode_spectral_envelope(mgc, sr, FFT_SIZE)
    ap = pw.decode_aperiodicity(bap, sr, FFT_SIZE)
    y = pw.synthesize(np.ascontiguousarray(f0), sp, np.clip(ap, 0.0, 1.0), sr, HOP_SECONDS * 1000)
    return y.astype(np.float32)


def griffinlim_from_logspec(log_magnitude: np.ndarray, sr: int = SAMPLE_RATE, n_iter: int = 32) -> np.ndarray:
    """Baseline: linear log-magnitude [frames, FFT_SIZE//2+1] -> audio by Griffin-Lim (librosa)."""
    import librosa

    hop = int(HOP_SECONDS * sr)
    return librosa.griffinlim(np.exp(log_magnitude.T), n_iter=n_iter, hop_length=hop, n_fft=FFT_SIZE,
                              momentum=0.99).astype(np.float32)
