"""Stage 7 — mix & export. Entry points: :func:`mix_track` (vocal + beat -> mastered Track) and
:func:`write_track` (Track -> WAV/MP3 stems, beat.mid, timings.json, lyrics.lrc).

May import: nothing else from airap (it receives arrays and timed lyrics).
"""

from __future__ import annotations

import numpy as np

from .chain import duck, master, true_peak_db, vocal_chain
from .export import lrc, write_track
from .types import TimedLine, TimedSyllable, TimedWord, Track

__all__ = ["Track", "TimedLine", "TimedSyllable", "TimedWord", "mix_track", "write_track", "lrc", "true_peak_db"]


def _stereo(y: np.ndarray) -> np.ndarray:
    return np.repeat(y[:, None], 2, axis=1) if y.ndim == 1 else y


def mix_track(vocal: np.ndarray, beat: np.ndarray, sr: int, vocal_level_db: float = 3.0,
              duck_db: float = 4.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vocal chain on the vocal, duck the beat under it, sit the vocal ``vocal_level_db`` above the
    beat (by RMS over the sung part), master to -14 LUFS / -1 dBTP.
    Returns (mix, vocal stem, beat stem), all the same length and gain staging."""
    n = max(len(vocal), len(beat))
    v = np.zeros((n, 2), np.float32)
    b = np.zeros((n, 2), np.float32)
    v[: len(vocal)] = _stereo(vocal_chain(vocal.astype(np.float32), sr))
    b[: len(beat)] = _stereo(beat.astype(np.float32))
    sung = np.abs(v[:, 0]) > 1e-3
    if sung.any() and np.any(b[sung]):
        v_rms = np.sqrt(np.mean(v[sung] ** 2))
        b_rms = np.sqrt(np.mean(b[sung] ** 2))
        v *= (b_rms * 10 ** (vocal_level_db / 20)) / max(v_rms, 1e-9)
    b = duck(b, v, sr, duck_db)
    mix, gain = master(v + b, sr)
    return mix, (v * gain).astype(np.float32), (b * gain).astype(np.float32)
