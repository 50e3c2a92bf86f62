"""Stage 7 — mix & export. Entry points: :func:`place_line` / :func:`vocal_track` (sung lines -> the
vocal track and its timed lyrics), :func:`mix_track` (vocal + beat -> mastered stems) and
:func:`write_track` (Track -> WAV/MP3 stems, beat.mid, timings.json, lyrics.lrc).

May import: nothing else from airap (it receives arrays, timed lyrics, and reads the plan's and the
sung line's fields by name).
"""

from __future__ import annotations

import os

import numpy as np

from .adlibs import AdlibPlan, adlib_track, plan_adlibs
from .chain import (
    HOP,
    LoudnessMeter,
    VocalChain,
    block_peak,
    chunks,
    duck_gain_blocks,
    gain_slice,
    kick_sidechain_blocks,
    master_gain,
    scale_frames,
    true_peak_blocks,
    true_peak_db,
)
from .export import lrc, write_track
from .types import SectionSpan, Stems, TimedLine, TimedSyllable, TimedWord, Track
from .vocals import CREW_DETUNE, DOUBLE_DETUNE, PlacedLine, double_line, harmony_line, place_line, vocal_track

__all__ = ["AdlibPlan", "adlib_track", "plan_adlibs", "CREW_DETUNE", "DOUBLE_DETUNE", "double_line", "harmony_line", "PlacedLine", "SectionSpan", "Stems", "Track", "TimedLine", "TimedSyllable", "TimedWord",
           "DUCK_DB_GENERATED", "DUCK_DB_UPLOAD", "lrc", "mix_track", "place_line", "plain_pages", "true_peak_db", "vocal_track",
           "write_track"]

# How far the beat dips under the vocal, dB. Chosen by ear on the demo verses: an upload arrives
# mastered and dense, and dipping it as far as our sparser generated beats pumps audibly.
DUCK_DB_GENERATED = 4.0
DUCK_DB_UPLOAD = 3.0
BASS_SIDECHAIN_DB = 6.0  # the bass under every kick (generated beats: the kick times are known)
LEVEL_STEP = 4  # the vocal-over-beat level is matched on every 4th sample: an RMS needs no more


def plain_pages() -> None:
    """Song-sized buffers on ordinary pages, for the rest of the process. numpy asks the kernel for
    transparent huge pages on large arrays; once a long-lived process (a Renderer after one song) has
    fragmented its memory, the kernel compacts memory when each fresh page is first written: a new
    54-MB stem (2.5 minutes of stereo) then took 0.15 s to fill instead of 0.03 s, half of the
    render's mix stage (benchmarks/mix_speed.py). A user's own NUMPY_MADVISE_HUGEPAGE is left alone."""
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _set_madvise_hugepage
    _set_madvise_hugepage(False)


def _buffer(y: np.ndarray, n: int, stereo: bool, consume: bool) -> np.ndarray:
    """``y`` as a float32 buffer of ``n`` frames (stereo: [n, 2]) that this stage may write: ``y``
    itself when the caller hands it over and it already fits (no fresh song-sized array), else a
    zero-padded copy."""
    shape = (n, 2) if stereo else (n,) + y.shape[1:]
    if consume and y.shape == shape and y.dtype == np.float32 and y.flags.c_contiguous and y.flags.writeable:
        return y
    out = np.zeros(shape, np.float32)
    y = y[:n]
    out[: len(y)] = y[:, None] if stereo and y.ndim == 1 else y
    return out


def _energy(y: np.ndarray, hop: int = HOP) -> np.ndarray:
    """Mean square per ``hop`` block over channels, reading every LEVEL_STEP-th sample (a level estimate)."""
    x = y[:, None] if y.ndim == 1 else y
    c = x[: len(x) // hop * hop:LEVEL_STEP]
    return np.einsum("ij,ij->i", c, c).reshape(-1, hop // LEVEL_STEP).mean(axis=1) / x.shape[1]


def _sung_rms(energy: np.ndarray, sung: np.ndarray) -> float:
    """RMS over the control blocks where the vocal sounds."""
    m = min(len(energy), len(sung))
    e, sung = energy[:m], sung[:m]
    return float(np.sqrt(e[sung].mean())) if sung.any() else 0.0


def mix_track(vocal: np.ndarray, beat: np.ndarray, sr: int, vocal_level_db: float = 3.0,
              duck_db: float = DUCK_DB_GENERATED, beat_stems: dict[str, np.ndarray] | None = None,
              kick_times: tuple[float, ...] = (), adlibs: np.ndarray | None = None,
              consume: bool = False) -> Stems:
    """Vocal chain on the vocal (:func:`chain.vocal_chain`); with the beat's stems, the bass
    side-chained to the kick; the beat ducked under the vocal, the vocal ``vocal_level_db`` above the
    beat (RMS of the dry voice over its sung part), the sum glued and mastered to -14 LUFS / -1 dBTP.
    Every stem shares the mix's length and gain staging (before the bus glue and limiter), and the
    beat's stems sum to the beat stem.

    Three passes over ``chain.CHUNK``-frame slices, each doing all its per-sample work while the
    slice is in cache: analyse (vocal high-pass, peaks, hiss; the beat bus), then mix (vocal gain and
    room, ducking, the sum, its loudness and peaks), then the master's gain on every stem.
    ``consume``: the caller hands its arrays over, and those that fit are worked on in place."""
    n = max(len(vocal), len(beat))
    v = _buffer(vocal, n, False, consume)
    parts = {k: _buffer(y, n, True, consume) for k, y in (beat_stems or {}).items()}
    if parts:  # the beat bus is rebuilt from its stems: any buffer of the right shape will do
        b = _buffer(beat, n, True, consume) if consume else np.empty((n, 2), np.float32)
    else:
        b = _buffer(beat, n, True, consume)
    kick = kick_sidechain_blocks(kick_times, sr, n, BASS_SIDECHAIN_DB) if "bass" in parts and len(kick_times) else None
    adl = _buffer(adlibs, n, True, consume) if adlibs is not None and np.any(adlibs) else None

    chain = VocalChain(sr, v.shape[1:])
    voice_energy, beat_energy = [], []
    # ad-libs are silent in most slices: those are never written, so their pages are never touched
    # (a fresh page costs more to write than the arithmetic on it)
    adl_live = [adl is not None and bool(np.any(adl[a:z])) for a, z in chunks(n)]
    for a, z in chunks(n):  # 1. analyse
        vs = v[a:z]
        chain.analyse(vs)
        voice_energy.append(_energy(vs))
        if parts:
            if kick is not None:
                scale_frames(parts["bass"][a:z], gain_slice(kick, a, z))
            first, *rest = parts.values()
            np.copyto(b[a:z], first[a:z])
            for y in rest:
                b[a:z] += y[a:z]
        beat_energy.append(_energy(b[a:z]))
    peaks, gain = chain.gain_blocks()
    voice_energy, beat_energy = np.concatenate(voice_energy), np.concatenate(beat_energy)
    v_peaks = peaks * gain
    sung = v_peaks > 1e-3
    v_rms = _sung_rms(voice_energy * np.square(gain[: len(voice_energy)]), sung)
    b_rms = _sung_rms(beat_energy, sung)
    scale = b_rms * 10 ** (vocal_level_db / 20) / v_rms if v_rms > 0 and b_rms > 0 else 1.0
    duck = duck_gain_blocks(v_peaks * scale, sr, duck_db)
    v_gain = gain * scale

    meter = LoudnessMeter(sr)
    mix = np.empty((n, 2), np.float32)
    mix_peaks = []
    for i, (a, z) in enumerate(chunks(n)):  # 2. mix
        vs, bs, ms = v[a:z], b[a:z], mix[a:z]
        chain.finish(vs, gain_slice(v_gain, a, z))
        scale_frames(bs, gain_slice(duck, a, z))
        if vs.ndim == 1:
            np.copyto(ms, bs)
            ms[:, 0] += vs
            ms[:, 1] += vs
        else:
            np.add(bs, vs, out=ms)
        if adl_live[i]:  # levelled like the lead
            adl[a:z] *= np.float32(scale)
            ms += adl[a:z]
        mix_peaks.append(block_peak(ms))
        meter.add(ms)
    mix_peaks = np.concatenate(mix_peaks)
    total, make_up = master_gain(meter.blocks(), mix_peaks,
                                 lambda floor: true_peak_blocks(mix, floor, peaks=mix_peaks), sr)
    total = np.ones(len(mix_peaks)) if total is None else total
    g = np.float32(make_up)
    part_gain = duck * make_up
    vocals = v if v.ndim == 2 else np.empty((n, 2), np.float32)
    for i, (a, z) in enumerate(chunks(n)):  # 3. the master's gain on the mix, its share on every stem
        scale_frames(mix[a:z], gain_slice(total, a, z))
        if parts:
            pg = gain_slice(part_gain, a, z)
            for y in parts.values():
                scale_frames(y[a:z], pg)
        b[a:z] *= g
        if v.ndim == 1:
            np.multiply(v[a:z], g, out=vocals[a:z, 0])
            vocals[a:z, 1] = vocals[a:z, 0]
        else:
            v[a:z] *= g
        if adl_live[i]:
            adl[a:z] *= g
    return Stems(mix=mix, vocals=vocals, beat=b, parts=parts, adlibs=adl)
