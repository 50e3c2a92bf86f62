"""Stage 7 — mix & export. Entry points: :func:`place_line` / :func:`vocal_track` (sung lines -> the
vocal track and its timed lyrics), :func:`mix_track` (vocal + beat -> mastered stems) and
:func:`write_track` (Track -> WAV/MP3 stems, beat.mid, timings.json, lyrics.lrc).

May import: nothing else from airap (it receives arrays, timed lyrics, and reads the plan's and the
sung line's fields by name).
"""

from __future__ import annotations

import numpy as np

from .chain import duck, master, true_peak_db, vocal_chain
from .export import lrc, write_track
from .types import Stems, TimedLine, TimedSyllable, TimedWord, Track
from .vocals import CREW_DETUNE, PlacedLine, place_line, vocal_track

__all__ = ["CREW_DETUNE", "PlacedLine", "Stems", "Track", "TimedLine", "TimedSyllable", "TimedWord", "DUCK_DB_GENERATED",
           "DUCK_DB_UPLOAD", "lrc", "mix_track", "place_line", "true_peak_db", "vocal_track", "write_track"]

# How far the beat dips under the vocal, dB. Chosen by ear on the demo verses: an upload arrives
# mastered and dense, and dipping it as far as our sparser generated beats pumps audibly.
DUCK_DB_GENERATED = 4.0
DUCK_DB_UPLOAD = 3.0


def _stereo(y: np.ndarray) -> np.ndarray:
    return np.repeat(y[:, None], 2, axis=1) if y.ndim == 1 else y


def mix_track(vocal: np.ndarray, beat: np.ndarray, sr: int, vocal_level_db: float = 3.0,
              duck_db: float = DUCK_DB_GENERATED) -> Stems:
    """Vocal chain on the vocal, duck the beat under it, sit the vocal ``vocal_level_db`` above the
    beat (by RMS over the sung part), master to -14 LUFS / -1 dBTP.
    The mix and the two stems have the same length and gain staging."""
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
    return Stems(mix=mix, vocals=(v * gain).astype(np.float32), beat=(b * gain).astype(np.float32))
