"""Stage 7 — mix & export. Entry points: :func:`place_line` / :func:`vocal_track` (sung lines -> the
vocal track and its timed lyrics), :func:`mix_track` (vocal + beat -> mastered stems) and
:func:`write_track` (Track -> WAV/MP3 stems, beat.mid, timings.json, lyrics.lrc).

May import: nothing else from airap (it receives arrays, timed lyrics, and reads the plan's and the
sung line's fields by name).
"""

from __future__ import annotations

import ctypes
import os

import numpy as np

from . import kernels
from .adlibs import AdlibPlan, adlib_track, plan_adlibs
from .chain import (
    HOP,
    ROOM_DECIMATION,
    ROOM_WET,
    analyse_voice,
    duck_gain_blocks,
    frames,
    k_weighting_sos,
    kick_sidechain_blocks,
    master_gain,
    true_peak_blocks,
    true_peak_db,
    vocal_gain_blocks,
    voice_room,
)
from .export import lrc, write_track
from .types import SectionSpan, Stems, TimedLine, TimedSyllable, TimedWord, Track
from .vocals import CREW_DETUNE, DOUBLE_DETUNE, PlacedLine, double_line, harmony_line, place_line, vocal_track

__all__ = ["AdlibPlan", "adlib_track", "plan_adlibs", "CREW_DETUNE", "DOUBLE_DETUNE", "double_line", "harmony_line", "PlacedLine", "SectionSpan", "Stems", "Track", "TimedLine", "TimedSyllable", "TimedWord",
           "DUCK_DB_GENERATED", "DUCK_DB_UPLOAD", "lrc", "load_kernels", "mix_track", "place_line", "plain_pages", "reuse_freed_memory", "true_peak_db", "vocal_track",
           "write_track"]

# How far the beat dips under the vocal, dB. Chosen by ear on the demo verses: an upload arrives
# mastered and dense, and dipping it as far as our sparser generated beats pumps audibly.
DUCK_DB_GENERATED = 4.0
DUCK_DB_UPLOAD = 3.0
BASS_SIDECHAIN_DB = 6.0  # the bass under every kick (generated beats: the kick times are known)


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


# glibc's malloc (mallopt parameters): arrays under MMAP_THRESHOLD come from the heap, and up to
# TRIM_THRESHOLD of freed heap is kept for reuse rather than handed back to the kernel.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest: every control-rate array and most temporaries
TRIM_THRESHOLD = 256 << 20


def reuse_freed_memory() -> None:
    """Keep freed memory for the next array instead of returning it to the kernel. By default glibc
    maps every array over ~128 kB afresh and unmaps it when freed, and each fresh 4-kB page costs a
    fault when first written: ~3.7 us a page on the 2-core VMs, so a 1.2-MB control-rate array
    (one value per 32 samples of a 2-minute song) cost more to fault in than to compute, and the
    mix stage's gain arithmetic took twice as long (benchmarks/mix_speed.py). Song-sized arrays
    (over 32 MB) are still mapped and unmapped, so a long-lived process holds at most
    TRIM_THRESHOLD more than it uses. glibc only; a user's own MALLOC_* / GLIBC_TUNABLES settings win."""
    if any(k.startswith("MALLOC_") or k == "GLIBC_TUNABLES" for k in os.environ):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    except (OSError, AttributeError):  # not glibc: its own allocator's defaults
        pass


def load_kernels(sr: int = 44100) -> None:
    """Load the mix stage's compiled loops (:mod:`.kernels`) now, as a renderer loads its models: a
    tiny mix through every path. The first call after an install compiles them (~6 s, cached on
    disk), later processes load the cache (~0.4 s) — neither belongs in the first song's mix."""
    rng = np.random.default_rng(0)
    beat = (0.1 * rng.standard_normal((sr // 10, 2))).astype(np.float32)
    voice = beat[:, 0].copy()
    placed = [PlacedLine(audio=voice, start=0, timed=None), PlacedLine(audio=voice, start=10, timed=None, pan=0.5)]
    mix_track(vocal_track(placed, len(voice)), beat, sr, beat_stems={"drums": beat, "bass": beat, "music": beat},
              kick_times=(0.01,), adlibs=beat)
    mix_track(voice, beat, sr)


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

    Three passes over the audio (:mod:`.kernels`), with the gains worked out at control rate between
    them: analyse (vocal high-pass, peaks, sibilance; the beat bus from its stems), mix (vocal gain
    and room, ducking, the sum, its loudness and peaks), then the master's gain on every stem.
    ``consume``: the caller hands its arrays over, and those that fit are worked on in place."""
    n = max(len(vocal), len(beat))
    v = _buffer(vocal, n, False, consume)
    parts = {k: _buffer(y, n, True, consume) for k, y in (beat_stems or {}).items()}
    if parts:  # the beat bus is rebuilt from its stems: any buffer of the right shape will do
        b = _buffer(beat, n, True, consume) if consume else np.empty((n, 2), np.float32)
    else:
        b = _buffer(beat, n, True, consume)
    adl = _buffer(adlibs, n, True, consume) if adlibs is not None and np.any(adlibs) else None
    blocks = -(-n // HOP)

    voice = analyse_voice(v, sr)  # 1. analyse
    beat_energy = np.empty(blocks)
    if parts:
        if "bass" in parts and len(kick_times):
            kernels.scale_by_blocks(parts["bass"], kick_sidechain_blocks(kick_times, sr, n, BASS_SIDECHAIN_DB), 1.0, HOP)
        first, *rest = parts.values()
        np.copyto(b, first)
        for y in rest[:-1]:
            b += y
        kernels.add_and_measure(b, rest[-1] if rest else None, HOP, beat_energy)
    else:
        kernels.add_and_measure(b, None, HOP, beat_energy)
    gain = vocal_gain_blocks(voice.peaks, voice.hiss, sr)
    v_peaks = voice.peaks * gain
    sung = v_peaks > 1e-3
    v_rms = _sung_rms(voice.energy * np.square(gain), sung)
    b_rms = _sung_rms(beat_energy, sung)
    scale = b_rms * 10 ** (vocal_level_db / 20) / v_rms if v_rms > 0 and b_rms > 0 else 1.0
    duck = duck_gain_blocks(v_peaks * scale, sr, duck_db)
    v_gain = gain * scale

    wet = voice_room(v, v_gain, sr)  # 2. mix
    mix = np.empty((n, 2), np.float32)
    mix_peaks, k_energy = np.empty(blocks), np.empty(blocks)
    kernels.mix_down(frames(v, inplace=True), v_gain, 1 - ROOM_WET, wet, ROOM_DECIMATION, b, duck,
                     adl if adl is not None else np.zeros((0, 2), np.float32), scale, mix,
                     k_weighting_sos(sr), HOP, mix_peaks, k_energy)
    total, make_up = master_gain(k_energy, mix_peaks, lambda floor: true_peak_blocks(mix, floor, peaks=mix_peaks), sr)
    total = np.ones(blocks) if total is None else total

    kernels.scale_by_blocks(mix, total, 1.0, HOP)  # 3. the master's gain on the mix, its share on every stem
    for y in parts.values():
        kernels.scale_by_blocks(y, duck, make_up, HOP)
    g = np.float32(make_up)
    b *= g
    if v.ndim == 1:
        vocals = np.empty((n, 2), np.float32)
        np.multiply(v[:, None], g, out=vocals)
    else:
        vocals = v
        vocals *= g
    if adl is not None:
        kernels.scale_nonzero(adl, make_up)
    return Stems(mix=mix, vocals=vocals, beat=b, parts=parts, adlibs=adl)
