"""Timbre transforms for characters no voice pack gives (a chipmunk hype-man, a giant, a robot MC, a
child, a telephone voice), applied to each sung line before it is placed. Pure functions on arrays
(sample rate explicit); each keeps the line's length sample for sample, so every syllable stays where
the engine put it. What a character uses is data in its catalogue entry (``catalog.Timbre``)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .base import SungLine

ROBOT_HOP_S = 1 / 110  # the robot hums at 110 Hz: one zero-phase frame per period
TELEPHONE_BAND = (300.0, 3400.0)  # Hz, the classic narrow-band telephone channel
TELEPHONE_DRIVE = 2.5  # tanh drive of the cheap-speaker distortion


# The phase vocoder's STFT (samples at 24 kHz), by direction. A long window smears a consonant's burst
# over the vowels beside it, a short one cannot resolve a low voice's harmonics. Up: chosen on the dev
# lines of benchmarks/voices.py + fresh_en.txt (24 lines, 236 words, Kokoro, 92 BPM, rapped; `chip`
# +6 st): Whisper-base WER 1024/128 13.0 %, 768/96 8.4 %, 512/64 9.3 %, 512/32 8.4 %, 256/32 9.6 %,
# no transform 8.0 %. Down stays 1024/128: `titan` (-3 st) read 0.0 -> 6.7 % and rapped 3.3 -> 5.6 %
# on the held-out verse with 768/96 (benchmarks/voices.py --set heldout, session 17; dev 512/64 was
# level, 8.2 -> 8.1 %).
SHIFT_STFT_UP = (768, 96)
SHIFT_STFT_DOWN = (1024, 128)


def shift_pitch_and_formants(y: np.ndarray, sr: int, semitones: float) -> np.ndarray:
    """Pitch and formants together (the voice gets smaller or bigger, not only higher): a phase-vocoder
    time stretch then a resample (librosa)."""
    import librosa

    n_fft, hop = SHIFT_STFT_UP if semitones > 0 else SHIFT_STFT_DOWN
    return librosa.effects.pitch_shift(y, sr=sr, n_steps=semitones, n_fft=n_fft, hop_length=hop).astype(np.float32)


def robotize(y: np.ndarray, sr: int, hop_s: float = ROBOT_HOP_S) -> np.ndarray:
    """Every STFT frame resynthesised with zero phase, one frame per period: the spectral envelope
    (what is said) is kept, the pitch becomes a flat buzz at 1 / hop_s."""
    import librosa

    hop = max(1, int(round(sr * hop_s)))
    n_fft = 4 * hop
    mag = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop))
    return librosa.istft(mag.astype(np.complex64), n_fft=n_fft, hop_length=hop, length=len(y)).astype(np.float32)


def telephone(y: np.ndarray, sr: int) -> np.ndarray:
    """Band-limited to the telephone channel and driven into a small speaker's soft clipping."""
    from scipy import signal

    sos = signal.butter(4, TELEPHONE_BAND, "bandpass", fs=sr, output="sos")
    band = signal.sosfilt(sos, y)
    peak = max(float(np.abs(band).max()), 1e-9)
    return (np.tanh(TELEPHONE_DRIVE * band / peak) * peak).astype(np.float32)


EFFECTS = {"robot": robotize, "telephone": telephone}


def apply_timbre(sung: SungLine, semitones: float = 0.0, effect: str | None = None) -> SungLine:
    """The sung line with its timbre transformed, at the same length and loudness (RMS)."""
    y = sung.audio
    if semitones == 0.0 and effect is None:
        return sung
    rms = float(np.sqrt(np.mean(y**2))) if len(y) else 0.0
    if semitones:
        y = shift_pitch_and_formants(y, sung.sample_rate, semitones)
    if effect is not None:
        y = EFFECTS[effect](y, sung.sample_rate)
    out_rms = float(np.sqrt(np.mean(y**2))) if len(y) else 0.0
    if out_rms > 0:
        y = y * (rms / out_rms)
    return replace(sung, audio=y.astype(np.float32))
