"""Vocal chain, side-chains, bus glue and loudness mastering. Functions on numpy arrays (float32,
sample rate explicit), in librosa's style.

Why it is fast: every dynamics stage (compressor, de-esser, ducking, side-chain, glue, limiter)
computes its gain at a control rate of one value per ``HOP`` samples, where envelopes are smooth
anyway, and applies it by linear interpolation; loudness is measured once on the K-weighted mix
and re-aimed on its block energies; the true-peak limiter oversamples only the samples loud enough
to reach the ceiling. The per-sample loops are compiled (:mod:`.kernels`), each doing all its steps
in one pass; this module designs what they run (filters, gains) and keeps them to SciPy's."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage, signal

from . import kernels

TARGET_LUFS = -14.0
CEILING_DBTP = -1.0
HOP = 32  # samples per control value: 0.7 ms at 44.1 kHz, well under every attack time used here
TRUE_PEAK_HEADROOM_DB = 3.5  # samples this far under the ceiling cannot overshoot it between samples
# (a band-limited signal's inter-sample peak exceeds its sample peak by at most ~3 dB, at fs/4)
OVERSAMPLE = 4  # true peak per ITU-R BS.1770-4 Annex 2: 4x, a 48-tap (12 per phase) interpolator


def db_to_gain(db):
    return np.exp(np.asarray(db) * (np.log(10.0) / 20.0))  # 10 ** (db / 20), 3x faster than np.power


def block_peak(y: np.ndarray, hop: int = HOP) -> np.ndarray:
    """Peak |y| of each ``hop``-frame block, all channels: the control-rate view of a signal.
    (A stereo block is 2 * hop contiguous values; ``reduceat`` over them is ~3x faster than
    ``abs().reshape().max(axis=1)``.)"""
    flat = np.ascontiguousarray(y).ravel()
    step = hop * (1 if y.ndim == 1 else y.shape[1])
    if flat.size == 0:
        return np.zeros(0, np.float32)
    starts = np.arange(0, flat.size, step)
    return np.maximum(np.maximum.reduceat(flat, starts), -np.minimum.reduceat(flat, starts))


def frames(y: np.ndarray, inplace: bool = False) -> np.ndarray:
    """``y`` as the kernels take it: a C-contiguous float32 [frames, channels] array (mono as [n, 1]),
    the same memory when it already is one (``inplace``: it must be, the caller wants ``y`` written)."""
    x = np.ascontiguousarray(y, np.float32)
    if inplace and not np.shares_memory(x, y):
        raise ValueError("in-place audio work needs a C-contiguous float32 buffer")
    return x[:, None] if x.ndim == 1 else x


def follow(blocks: np.ndarray, sr: int, attack: float, release: float, hop: int = HOP) -> np.ndarray:
    """Envelope follower on a control-rate peak signal: rises within ``attack`` s (running max),
    falls with a one-pole ``release``."""
    rate = sr / hop
    x = ndimage.maximum_filter1d(blocks.astype(np.float64), size=max(1, int(round(attack * rate))))
    a = np.exp(-1.0 / (release * rate))
    return np.maximum(signal.lfilter([1 - a], [1, -a], x), 0.0)


def gain_slice(gain: np.ndarray, a: int, b: int, hop: int = HOP) -> np.ndarray:
    """Control-rate gain -> one gain per sample for samples a..b-1 (``a`` a multiple of ``hop``,
    float32): linear from each block's value to the next one's across the block, so a sample never
    sees more than its block's or the next's gain."""
    g = np.asarray(gain, np.float32)
    i, j = a // hop, -(-b // hop)
    seg = g[i:j]
    nxt = np.concatenate([g[i + 1:j + 1], g[-1:]])[: len(seg)]
    w = np.arange(hop, dtype=np.float32) / hop
    return (seg[:, None] + (nxt - seg)[:, None] * w).ravel()[: b - a]


def to_samples(gain: np.ndarray, n: int, hop: int = HOP) -> np.ndarray:
    """:func:`gain_slice` for samples 0..n-1."""
    return gain_slice(gain, 0, n, hop)


def apply_block_gain(y: np.ndarray, gain: np.ndarray, factor: float = 1.0, hop: int = HOP) -> np.ndarray:
    """``y`` (a float32 buffer) times a control-rate ``gain`` (per ``hop`` block, interpolated) and
    ``factor``, in place."""
    kernels.scale_by_blocks(frames(y, inplace=True), np.asarray(gain, np.float64), float(factor), hop)
    return y


def _to_db(x: np.ndarray) -> np.ndarray:
    return 20 * np.log10(np.maximum(x, 1e-6))


def _compressor_db(peaks: np.ndarray, sr: int, threshold_db: float = -20.0, ratio: float = 3.0,
                   makeup_db: float = 4.0, attack: float = 0.003, release: float = 0.1) -> np.ndarray:
    env_db = _to_db(follow(peaks, sr, attack, release))
    return -np.maximum(env_db - threshold_db, 0.0) * (1 - 1 / ratio) + makeup_db


# Wideband de-esser. Sibilance is read as the level of the signal's second difference (a 12 dB/octave
# high-pass: 0.5 at 5 kHz, 0.02 at 1 kHz) against the signal's own level. On the demo verses (EN and
# ZH vocal stems of Kokoro voices) that ratio sits at -19 dB on the median block and reaches +2 to
# +3 dB on the harshest 's'/'sh'/'x' (99th percentile); blocks over SIBILANCE_DB are turned down by
# the excess, at most DEESS_MAX_DB: that touches roughly the top 5-10 % of sung blocks.
SIBILANCE_DB = -4.0
DEESS_MAX_DB = 6.0


def deess_cut_db(peaks: np.ndarray, hiss: np.ndarray, sr: int) -> np.ndarray:
    """Control-rate cut (dB, <= 0) of the wideband de-esser from the block peaks of the signal and of
    its second difference."""
    level = follow(peaks, sr, 0.002, 0.05)
    return -np.clip(_to_db(follow(hiss, sr, 0.002, 0.05)) - _to_db(level) - SIBILANCE_DB, 0.0, DEESS_MAX_DB)


# The room runs at a quarter of the sample rate (11 kHz): its response is low-passed at ROOM_TOP_HZ,
# under that rate's Nyquist, so block-averaging its input and interpolating its tail back lose little
# of what it has, at a sixteenth of full rate's convolution. It was half rate with a 5-kHz top until
# the mix stage was timed (benchmarks/mix_speed.py): its FFTs were then a seventh of the stage.
ROOM_DECIMATION = 4
ROOM_TOP_HZ = 4000.0
ROOM_DECAY_S = 0.5
ROOM_WET = 0.12


@lru_cache(maxsize=8)
def _room(sr: int, decay: float, seed: int) -> np.ndarray:
    """Small room at rate ``sr``: exponentially decaying, low-passed noise after a 20 ms pre-delay
    (keeps consonants clear)."""
    rng = np.random.default_rng(seed)
    n = int(decay * sr)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    top = min(ROOM_TOP_HZ, 0.4 * sr)  # under the room rate's Nyquist (a 24-kHz voice runs its room at 6 kHz)
    ir = signal.sosfilt(signal.butter(2, top, fs=sr, output="sos"), ir)
    ir /= np.sqrt(np.sum(ir**2)) + 1e-9
    return np.concatenate([np.zeros(int(0.02 * sr)), ir]).astype(np.float32)


def room_tail(low: np.ndarray, sr: int, decay: float = ROOM_DECAY_S, wet: float = ROOM_WET,
              seed: int = 0) -> np.ndarray:
    """The room's share, already scaled by ``wet``, for an input at 1 / ``ROOM_DECIMATION`` of ``sr``
    (:func:`block_average`): len(low) + 2 values, the last two the start of the tail after the input
    (the 20-ms pre-delay keeps the input out of them), so every frame, the few after the last whole
    block too, can be read between two values."""
    ir = _room(sr // ROOM_DECIMATION, decay, seed)
    out = np.zeros(len(low) + 2, np.float32)
    if len(low):
        tail = signal.oaconvolve(low, ir)[: len(low) + 2]
        out[: len(tail)] = tail
    out *= np.float32(wet)
    return out


def block_average(y: np.ndarray, factor: int = ROOM_DECIMATION) -> np.ndarray:
    """Mono ``y`` at 1 / ``factor`` of its rate: the mean of each ``factor`` samples (a trailing
    partial block dropped)."""
    m = len(y) // factor
    return np.asarray(y[: m * factor], np.float32).reshape(m, factor).mean(axis=1, dtype=np.float32)


def from_low_rate(tail: np.ndarray, n: int, factor: int = ROOM_DECIMATION) -> np.ndarray:
    """``n`` frames from values at 1 / ``factor`` of the rate (``n // factor + 2`` of them): frame i
    read linearly between values i // factor and the next."""
    i = np.arange(n)
    j = i // factor
    frac = (i - j * factor).astype(np.float32) / np.float32(factor)
    return tail[j] + (tail[j + 1] - tail[j]) * frac


def reverb(y: np.ndarray, sr: int, decay: float = ROOM_DECAY_S, wet: float = ROOM_WET, seed: int = 0) -> np.ndarray:
    """Mono ``y`` in the vocal room: its dry share plus :func:`room_tail`."""
    y = np.asarray(y, np.float32)
    return y * np.float32(1 - wet) + from_low_rate(room_tail(block_average(y), sr, decay, wet, seed), len(y))


def highpass_sos(sr: int) -> np.ndarray:
    """The vocal chain's high-pass: 2nd-order Butterworth at 90 Hz, one section."""
    return signal.butter(2, 90.0, "highpass", fs=sr, output="sos")[0]


@dataclass(frozen=True)
class VoiceBlocks:
    """Per ``HOP`` block of the high-passed voice: its peak, the peak of its second difference (the
    de-esser's sibilance) and its mean square."""

    peaks: np.ndarray
    hiss: np.ndarray
    energy: np.ndarray


def analyse_voice(v: np.ndarray, sr: int) -> VoiceBlocks:
    """High-pass ``v`` (a float32 [n] or [n, channels] buffer) in place and read its blocks."""
    x = frames(v, inplace=True)
    blocks = -(-len(x) // HOP)
    peaks, hiss, energy = np.empty(blocks), np.empty(blocks), np.empty(blocks)
    kernels.analyse_voice(x, highpass_sos(sr), HOP, peaks, hiss, energy)
    return VoiceBlocks(peaks, hiss, energy)


def voice_room(v: np.ndarray, gain: np.ndarray, sr: int) -> np.ndarray:
    """The room's low-rate share (:func:`room_tail`) for the voice ``v`` under its control-rate
    ``gain``: a stereo (doubled) voice sends its mid to the one room."""
    x = frames(v)
    low = np.empty(len(x) // ROOM_DECIMATION, np.float32)
    kernels.low_rate_mid(x, np.asarray(gain, np.float64), HOP, ROOM_DECIMATION, low)
    return room_tail(low, sr)


def vocal_chain(vocal: np.ndarray, sr: int) -> np.ndarray:
    """High-pass, de-essing and compression (one gain: the compressor hears the de-essed level),
    a touch of room."""
    v = np.array(vocal, np.float32)
    blocks = analyse_voice(v, sr)
    gain = vocal_gain_blocks(blocks.peaks, blocks.hiss, sr)
    x = frames(v)
    wet = from_low_rate(voice_room(x, gain, sr), len(x))
    apply_block_gain(x, gain, 1 - ROOM_WET)
    x += wet[:, None]
    return v


def vocal_gain_blocks(peaks: np.ndarray, hiss: np.ndarray, sr: int) -> np.ndarray:
    """The vocal chain's control-rate gain from the high-passed voice's block peaks and hiss peaks:
    de-essing and compression as one gain (the compressor hears the de-essed level)."""
    cut = deess_cut_db(peaks, hiss, sr)
    return db_to_gain(cut + _compressor_db(peaks * db_to_gain(cut), sr))


def duck_gain_blocks(vocal_peaks: np.ndarray, sr: int, depth_db: float = 4.0) -> np.ndarray:
    """Side-chain from the vocal (its block peaks): the beat's control-rate gain, down by up to
    ``depth_db`` while the vocal sounds."""
    env = follow(vocal_peaks, sr, 0.01, 0.25)
    loud = env[env > 1e-4]
    level = np.clip(env / (np.percentile(loud, 90) if loud.size else 1.0), 0, 1)
    return db_to_gain(-depth_db * level)


def kick_sidechain_blocks(kick_times, sr: int, n: int, depth_db: float = 6.0, release: float = 0.12) -> np.ndarray:
    """Side-chain from the kick, whose times the generator knows exactly: the bass's control-rate
    gain dips ``depth_db`` on every kick and comes back over ``release`` s, so kick and bass do not
    fight. ``n``: samples covered."""
    t = (np.arange(-(-n // HOP)) + 0.5) * HOP / sr
    kicks = np.sort(np.asarray(kick_times, dtype=np.float64))
    if kicks.size == 0:
        return np.ones(len(t))
    idx = np.searchsorted(kicks, t, side="right") - 1
    since = np.where(idx >= 0, t - kicks[np.maximum(idx, 0)], np.inf)
    return db_to_gain(-depth_db * np.exp(-since / release))


def kick_sidechain_gain(kick_times, sr: int, n: int, depth_db: float = 6.0, release: float = 0.12) -> np.ndarray:
    return to_samples(kick_sidechain_blocks(kick_times, sr, n, depth_db, release), n)


def glue_gain(peaks: np.ndarray, sr: int, ratio: float = 2.0, max_cut_db: float = 2.5) -> np.ndarray:
    """Mix-bus glue, control rate (from :func:`block_peak`): a slow 2:1 compressor whose threshold
    sits 4 dB under the mix's own loud level (its 90th-percentile envelope), so it only rounds the
    peaks whatever the input level."""
    env_db = _to_db(follow(peaks, sr, 0.01, 0.2))
    threshold = np.percentile(env_db, 90) - 4.0
    return db_to_gain(-np.minimum(np.maximum(env_db - threshold, 0.0) * (1 - 1 / ratio), max_cut_db))


# -- loudness and true peak --------------------------------------------------------------------------

@lru_cache(maxsize=4)
def k_weighting_sos(sr: int) -> np.ndarray:
    """The BS.1770 K-weighting as second-order sections (pyloudnorm's filter design)."""
    from pyloudnorm import IIRfilter

    shelf = IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sr, "high_shelf")
    hp = IIRfilter(0.0, 0.5, 38.0, sr, "high_pass")
    return np.vstack([np.concatenate([shelf.b, shelf.a]), np.concatenate([hp.b, hp.a])])


def loudness_blocks(y: np.ndarray, sr: int) -> np.ndarray:
    """Per ``HOP``-sample block, the energy of the K-weighted ``y`` ([n] or [n, channels]) summed over
    samples and channels (the last, partial block dropped)."""
    x = frames(y)
    energy = np.empty(len(x) // HOP)
    kernels.k_weighted_energy(x, k_weighting_sos(sr), HOP, energy)
    return energy


@lru_cache(maxsize=4)
def _hop_of_block(n_blocks: int, sr: int, hop: int) -> tuple[np.ndarray, int]:
    """(the 100-ms BS.1770 hop each ``hop``-sample block starts in, the number of whole hops)."""
    hop_samples = round(0.1 * sr)
    return np.arange(n_blocks) * hop // hop_samples, n_blocks * hop // hop_samples


def hop_energy(blocks: np.ndarray, sr: int, gain: np.ndarray | None = None, hop: int = HOP) -> np.ndarray:
    """Mean square per 100-ms BS.1770 hop, from :func:`loudness_blocks` (times a control-rate ``gain``)."""
    e = blocks if gain is None else blocks * np.square(gain[: len(blocks)], dtype=np.float64)
    hops, n_hops = _hop_of_block(len(e), sr, hop)
    keep = np.searchsorted(hops, n_hops)  # hops ascend: the blocks before this one start in a whole hop
    return np.bincount(hops[:keep], weights=e[:keep], minlength=n_hops) / round(0.1 * sr)


def gated_loudness(energy: np.ndarray) -> float:
    """BS.1770-4 integrated loudness from 100-ms hop energies: 400-ms blocks with 75 % overlap, the
    -70 LUFS absolute gate, then the -10 LU relative gate."""
    if len(energy) < 4:
        return float("-inf")
    z = np.convolve(energy, np.ones(4) / 4, mode="valid")
    lk = -0.691 + 10 * np.log10(np.maximum(z, 1e-20))
    z = z[lk >= -70.0]
    if z.size == 0:
        return float("-inf")
    rel = -0.691 + 10 * np.log10(z.mean()) - 10.0
    z = z[-0.691 + 10 * np.log10(z) >= rel]
    return float(-0.691 + 10 * np.log10(z.mean()))


@lru_cache(maxsize=1)
def _interpolator() -> np.ndarray:
    """[12 taps, 4 phases] of a 4x windowed-sinc interpolator: column p of window x[j-11..j] gives
    the upsampled value at original time j - 5.875 + p/4 (the filter's delay is 23.5/4 samples)."""
    # cut-off at the original Nyquist, Kaiser beta 5: reads white noise within 0.02 dB of scipy's
    # resample_poly (the long-filter reference the benchmarks measure with)
    h = signal.firwin(12 * OVERSAMPLE, 1.0 / OVERSAMPLE, window=("kaiser", 5.0)) * OVERSAMPLE
    return np.stack([h[p::OVERSAMPLE][::-1] for p in range(OVERSAMPLE)], axis=1).astype(np.float32)


def true_peak_blocks(y: np.ndarray, floor: float, hop: int = HOP, peaks: np.ndarray | None = None) -> np.ndarray:
    """Per ``hop`` block, the larger of the sample peak and the 4x-interpolated peaks next to every
    local maximum louder than ``floor`` (quieter ones cannot reach a ceiling ``TRUE_PEAK_HEADROOM_DB``
    above)."""
    x = frames(y)
    peaks = (block_peak(x, hop) if peaks is None else peaks).astype(np.float64)
    kernels.add_true_peaks(x, float(floor), _interpolator(), hop, peaks)
    return peaks


def true_peak_db(y: np.ndarray, sr: int) -> float:
    """True peak (dBTP) by 4x oversampling (ITU-R BS.1770-4 Annex 2): the independent measure."""
    up = signal.resample_poly(y, 4, 1, axis=0)
    return float(20 * np.log10(max(np.max(np.abs(up)), 1e-9)))


def limiter_gain(peaks: np.ndarray, ceiling: float, sr: int, window: float = 0.01, hop: int = HOP) -> np.ndarray:
    """Control-rate gain of a look-ahead brick-wall limiter. A min filter over +-``window`` then a
    moving average ``window`` wide: each averaged value is a minimum over a window that contains
    the block, so the gain is smooth (10 ms attack and release) and never above what a peak needs."""
    need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-9))
    w = max(1, int(round(window * sr / hop)))
    g = ndimage.uniform_filter1d(ndimage.minimum_filter1d(need, size=2 * w + 1), size=w)
    # the per-sample gain interpolates between neighbouring blocks: keep it under theirs too
    return np.minimum(g, ndimage.minimum_filter1d(need, size=3))


def master_gain(energy: np.ndarray, peaks: np.ndarray, true_peaks, sr: int, target_lufs: float = TARGET_LUFS,
                ceiling_db: float = CEILING_DBTP, glue: bool = True):
    """The master as a control-rate gain: glue (optional), the gain to ``target_lufs`` and a true-peak
    limiter to ``ceiling_db``. ``energy``: K-weighted block energies (:func:`loudness_blocks`);
    ``peaks``: block peaks; ``true_peaks(floor)``: block true peaks counting the samples over
    ``floor``. Returns (total gain per block or None for silence, the make-up gain)."""
    bus = glue_gain(peaks, sr) if glue else np.ones(len(peaks))
    loud = gated_loudness(hop_energy(energy, sr, bus))
    if not np.isfinite(loud):
        return None, 1.0
    ceiling = float(db_to_gain(ceiling_db - 0.25))  # our 4x estimate reads up to ~0.15 dB under resample_poly's
    gain = float(db_to_gain(target_lufs - loud))
    floor_gain, tp = 0.0, peaks
    for _ in range(6):  # limiting lowers loudness a little: re-aim and limit again
        if gain > floor_gain:  # the candidates found for a gain up to 3 dB above this one serve the re-aims
            floor_gain = 1.41 * gain
            tp = true_peaks(ceiling / float(db_to_gain(TRUE_PEAK_HEADROOM_DB)) / (floor_gain * bus.max()))
        total = gain * bus * limiter_gain(gain * bus * tp, ceiling, sr)
        err = target_lufs - gated_loudness(hop_energy(energy, sr, total))
        if abs(err) < 0.05:
            break
        gain *= float(db_to_gain(err))
    return total, gain


def master(mix: np.ndarray, sr: int, target_lufs: float = TARGET_LUFS, ceiling_db: float = CEILING_DBTP,
           glue: bool = True, inplace: bool = False):
    """:func:`master_gain` applied to a whole array (``inplace``: a float32 buffer the caller owns).
    Returns (audio, make-up gain)."""
    out = mix if inplace and mix.dtype == np.float32 else mix.astype(np.float32)
    peaks = block_peak(out)
    total, gain = master_gain(loudness_blocks(out, sr), peaks,
                              lambda floor: true_peak_blocks(out, floor, peaks=peaks), sr, target_lufs, ceiling_db, glue)
    if total is None:
        return out, 1.0
    return apply_block_gain(out, total), gain
