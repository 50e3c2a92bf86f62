"""Stage 7 — mix & export. Entry points: :func:`place_line` / :func:`vocal_track` (sung lines -> the
vocal track and its timed lyrics), :func:`mix_track` (vocal + beat -> mastered stems) and
:func:`write_track` (Track -> WAV/MP3 stems, beat.mid, timings.json, lyrics.lrc).

May import: nothing else from airap (it receives arrays, timed lyrics, and reads the plan's and the
sung line's fields by name).
"""

from __future__ import annotations

import numpy as np

from .adlibs import AdlibPlan, adlib_track, plan_adlibs
from .chain import (
    HOP,
    apply_gain,
    block_energy,
    duck_gain_blocks,
    kick_sidechain_gain,
    master,
    to_samples,
    true_peak_db,
    vocal_chain_peaks,
)
from .export import lrc, write_track
from .types import SectionSpan, Stems, TimedLine, TimedSyllable, TimedWord, Track
from .vocals import CREW_DETUNE, DOUBLE_DETUNE, PlacedLine, double_line, place_line, vocal_track

__all__ = ["AdlibPlan", "adlib_track", "plan_adlibs", "CREW_DETUNE", "DOUBLE_DETUNE", "double_line", "PlacedLine", "SectionSpan", "Stems", "Track", "TimedLine", "TimedSyllable", "TimedWord",
           "DUCK_DB_GENERATED", "DUCK_DB_UPLOAD", "lrc", "mix_track", "place_line", "true_peak_db", "vocal_track",
           "write_track"]

# How far the beat dips under the vocal, dB. Chosen by ear on the demo verses: an upload arrives
# mastered and dense, and dipping it as far as our sparser generated beats pumps audibly.
DUCK_DB_GENERATED = 4.0
DUCK_DB_UPLOAD = 3.0
BASS_SIDECHAIN_DB = 6.0  # the bass under every kick (generated beats: the kick times are known)
LEVEL_STEP = 4  # the vocal-over-beat level is matched on every 4th sample: an RMS needs no more


def _stereo(y: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, 2), np.float32)
    y = y[:n]
    out[: len(y)] = y[:, None] if y.ndim == 1 else y
    return out


def _sung_rms(y: np.ndarray, sung: np.ndarray) -> float:
    """RMS over the control blocks where the vocal sounds."""
    e = block_energy(y, step=LEVEL_STEP)
    sung = sung[: len(e)]
    return float(np.sqrt(e[sung].mean())) if sung.any() else 0.0


def mix_track(vocal: np.ndarray, beat: np.ndarray, sr: int, vocal_level_db: float = 3.0,
              duck_db: float = DUCK_DB_GENERATED, beat_stems: dict[str, np.ndarray] | None = None,
              kick_times: tuple[float, ...] = (), adlibs: np.ndarray | None = None) -> Stems:
    """Vocal chain on the vocal; with the beat's stems, the bass side-chained to the kick; the beat
    ducked under the vocal, the vocal ``vocal_level_db`` above the beat (RMS over the sung part), the
    sum glued and mastered to -14 LUFS / -1 dBTP. Every stem shares the mix's length and gain
    staging (before the bus glue and limiter), and the beat's stems sum to the beat stem."""
    n = max(len(vocal), len(beat))
    v = np.zeros(n, np.float32) if vocal.ndim == 1 else np.zeros((n, 2), np.float32)
    chained, v_peaks = vocal_chain_peaks(vocal.astype(np.float32), sr)
    v[: len(vocal)] = chained[:n]
    v_peaks = np.concatenate([v_peaks, np.zeros(max(0, -(-n // HOP) - len(v_peaks)))])[: -(-n // HOP)]
    parts: dict[str, np.ndarray] = {}
    if beat_stems:  # our own copies, processed in place from here on (each is a 50 MB array a song)
        parts = {k: _stereo(y, n) for k, y in beat_stems.items()}
        if "bass" in parts and len(kick_times):
            apply_gain(parts["bass"], kick_sidechain_gain(kick_times, sr, n, BASS_SIDECHAIN_DB), inplace=True)
        b = parts["drums"].copy()
        for k, y in parts.items():
            if k != "drums":
                b += y
    else:
        b = _stereo(beat.astype(np.float32), n)
    sung = v_peaks > 1e-3
    v_rms, b_rms = _sung_rms(v, sung), _sung_rms(b, sung)
    scale = np.float32(b_rms * 10 ** (vocal_level_db / 20) / v_rms) if v_rms > 0 and b_rms > 0 else np.float32(1)
    v *= scale
    duck = to_samples(duck_gain_blocks(v_peaks * scale, sr, duck_db), n)
    apply_gain(b, duck, inplace=True)
    mix = b + (v[:, None] if v.ndim == 1 else v)
    adl = None
    if adlibs is not None and np.any(adlibs):  # levelled like the lead
        adl = np.zeros((n, 2), np.float32)
        adl[: min(n, len(adlibs))] = adlibs[:n]
        adl *= scale
        mix += adl
    out, gain = master(mix, sr, inplace=True)
    g = np.float32(gain)
    duck *= g
    for y in parts.values():
        apply_gain(y, duck, inplace=True)
    b *= g
    v *= g
    return Stems(mix=out, vocals=_stereo(v, n), beat=b, parts=parts, adlibs=None if adl is None else adl * g)
