"""The mix stage's per-sample loops, compiled (numba, already installed with librosa).

Why compiled: the mix stage is a dozen per-sample steps (a high-pass, peaks, sibilance, gains, the
sum, the K-weighting, the true-peak search). As NumPy/SciPy calls each is a pass over song-sized
memory, and SciPy's ``sosfilt`` runs a biquad at ~10 ns per sample here: the stage took 0.55 s per
minute of audio on one core. Here each loop does all its steps on a sample while it is in a
register, in one pass per stage of the mix (benchmarks/mix_speed.py).

Only loops live here. What they compute is designed in :mod:`.chain` (the filters by SciPy and
pyloudnorm, the gains at control rate) and tests hold every loop to the SciPy reference.

Conventions: audio is a C-contiguous float32 [frames, channels] array (mono as [n, 1]); gains are
control-rate arrays, one value per ``hop`` frames, interpolated linearly from a block's value to the
next block's across the block (as :func:`chain.gain_slice`); a biquad is one SciPy second-order
section [b0, b1, b2, 1, a1, a2] run in transposed direct form II with float64 state. Loops index the
flat view of an array (frame i, channel ch at i * channels + ch) and keep filter states in local
tuples: both let the compiler keep the work in registers (2-4x faster than [i, ch] indexing and state
arrays, on one core of the 2-core VM). (Direct form I runs a lone biquad twice as fast, but inside
these loops, which are bound by their number of operations, its two extra states made them slower.)
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _block_gains(gain, k, hop):
    """(gain at the start of block k, its change per frame): linear to the next block's value."""
    g0 = gain[k]
    g1 = gain[k + 1] if k + 1 < len(gain) else gain[len(gain) - 1]
    return g0, (g1 - g0) / hop


REST = (0.0, 0.0)  # a biquad's state at rest


@njit(cache=True, inline="always")
def _section(sos):
    """(b0, b1, b2, a1, a2) of a SciPy section [b0, b1, b2, 1, a1, a2]."""
    return sos[0], sos[1], sos[2], sos[4], sos[5]


@njit(cache=True, inline="always")
def _biquad(x, state, coef):
    """One sample through one section (transposed direct form II): (output, next state)."""
    s1, s2 = state
    b0, b1, b2, a1, a2 = coef
    y = b0 * x + s1
    return y, (b1 * x - a1 * y + s2, b2 * x - a2 * y)


@njit(cache=True, fastmath={"contract"})
def analyse_voice(v, sos, hop, peaks, hiss, energy):
    """High-pass ``v`` ([n, 1] or [n, 2]) in place (one section ``sos``) and, per ``hop`` block over
    all channels: the peak, the peak of the second difference (sibilance) and the mean square of
    the filtered voice."""
    n, c = v.shape
    f = v.reshape(-1)
    coef = _section(sos)
    left = right = REST
    l1 = l2 = r1 = r2 = np.float32(0.0)  # the two previous filtered samples, each side
    for k in range(len(peaks)):
        start, stop = k * hop, min(n, (k + 1) * hop)
        pk = hs = e = 0.0
        for i in range(start, stop):
            yl, left = _biquad(np.float64(f[i * c]), left, coef)
            xl = np.float32(yl)
            f[i * c] = xl
            pk = max(pk, abs(xl))
            hs = max(hs, abs(xl - 2.0 * l1 + l2))
            l2, l1 = l1, xl
            e += yl * yl
            if c == 2:
                yr, right = _biquad(np.float64(f[i * 2 + 1]), right, coef)
                xr = np.float32(yr)
                f[i * 2 + 1] = xr
                pk = max(pk, abs(xr))
                hs = max(hs, abs(xr - 2.0 * r1 + r2))
                r2, r1 = r1, xr
                e += yr * yr
        peaks[k] = pk
        hiss[k] = hs
        energy[k] = e / max(1, (stop - start) * c)


@njit(cache=True, fastmath=True)
def scale_by_blocks(y, gain, factor, hop):
    """``y`` ([n, 1] or [n, 2]) times the interpolated control-rate ``gain`` times ``factor``, in place."""
    n, c = y.shape
    f = y.reshape(-1)
    last = len(gain) - 1
    for k in range(min(len(gain), -(-n // hop))):
        g0 = np.float32(gain[k] * factor)  # float32 ramps: 3x faster than float64 ones here
        dg = (np.float32(gain[min(k + 1, last)] * factor) - g0) / np.float32(hop)
        start = k * hop
        if c == 2:
            for t in range(min(n, start + hop) - start):
                g = g0 + dg * np.float32(t)
                f[2 * (start + t)] *= g
                f[2 * (start + t) + 1] *= g
        else:
            for t in range(min(n, start + hop) - start):
                f[start + t] *= g0 + dg * np.float32(t)


# scale_nonzero's block: a block of silence is found by one vectorised max (the per-sample test
# it replaced kept the loop scalar: 0.125 s for 1.86 minutes of stereo, a third of the mix stage).
SILENT_BLOCK = 1024


@njit(cache=True, fastmath=True)
def scale_nonzero(y, factor):
    """``y`` times ``factor`` in place, writing only blocks that are not silent: a mostly silent
    layer (the ad-libs) keeps its untouched pages untouched (a fresh page costs more to write than
    the work)."""
    f = y.reshape(-1)
    g = np.float32(factor)
    for a in range(0, len(f), SILENT_BLOCK):
        z = min(len(f), a + SILENT_BLOCK)
        loud = np.float32(0.0)
        for j in range(a, z):
            loud = max(loud, abs(f[j]))
        if loud > 0.0:
            for j in range(a, z):
                f[j] *= g


@njit(cache=True, fastmath=True)
def add_and_measure(out, stem, hop, energy):
    """``out`` += ``stem`` and the mean square of the sum per ``hop`` block over all channels
    (``stem`` None: ``out`` as it is)."""
    n, c = out.shape
    f = out.reshape(-1)
    g = f if stem is None else stem.reshape(-1)
    for k in range(len(energy)):
        a, z = k * hop * c, min(n, (k + 1) * hop) * c
        e = 0.0
        for j in range(a, z):
            if stem is not None:
                f[j] += g[j]
            e += f[j] * f[j]
        energy[k] = e / max(1, z - a)


@njit(cache=True, fastmath=True)
def low_rate_mid(v, gain, hop, factor, out):
    """The room's input: the mid of ``v`` times the interpolated ``gain``, averaged over blocks of
    ``factor`` frames (``factor`` divides ``hop``). ``out`` holds len(v) // factor values."""
    n, c = v.shape
    f = v.reshape(-1)
    scale = 1.0 / (factor * c)
    for k in range(-(-n // hop)):
        g0, dg = _block_gains(gain, k, hop)
        start = k * hop
        m = min(len(out) * factor, start + hop) - start  # whole blocks of ``factor`` only
        for q in range(m // factor):
            s = 0.0
            for t in range(q * factor, (q + 1) * factor):
                g = g0 + dg * t
                if c == 2:
                    s += (f[2 * (start + t)] + f[2 * (start + t) + 1]) * g
                else:
                    s += f[start + t] * g
            out[start // factor + q] = s * scale


@njit(cache=True, fastmath={"contract"})
def mix_down(v, v_gain, dry, wet, factor, b, duck, adlibs, adlib_scale, mix, k_sos, hop, peaks, k_energy):
    """The mix, one pass: the voice ([n, 1] or [n, 2]) times its gain, its ``dry`` share plus the
    room's ``wet`` (values at 1 / ``factor`` of the rate, ``factor`` dividing ``hop``, read linearly
    between), in place; the beat ducked in place; ad-libs (if any: [n, 2] else [0, 2]) levelled by
    ``adlib_scale`` in place; their sum in ``mix`` ([n, 2]). Per ``hop`` block: the mix's peak and
    the energy of its K-weighting (``k_sos``, two sections), summed over samples and channels as
    BS.1770 reads it."""
    n, c = v.shape
    vf, bf, mf, af = v.reshape(-1), b.reshape(-1), mix.reshape(-1), adlibs.reshape(-1)
    has_adlibs = adlibs.shape[0] > 0
    shelf, high_pass = _section(k_sos[0]), _section(k_sos[1])
    l_shelf = l_hp = r_shelf = r_hp = REST  # the K-weighting's states, left and right
    step = 1.0 / factor
    for k in range(len(peaks)):
        start, stop = k * hop, min(n, (k + 1) * hop)
        gv0, dgv = _block_gains(v_gain, k, hop)
        gd0, dgd = _block_gains(duck, k, hop)
        j, phase = start // factor, 0  # the room's value at or before frame i, and i's place after it
        pk = e = 0.0
        for i in range(start, stop):
            gv = (gv0 + dgv * (i - start)) * dry
            gd = np.float32(gd0 + dgd * (i - start))
            room = wet[j] + (wet[j + 1] - wet[j]) * (phase * step)
            phase += 1
            if phase == factor:
                j, phase = j + 1, 0
            vl = np.float32(vf[i * c] * gv + room)
            vf[i * c] = vl
            vr = vl
            if c == 2:
                vr = np.float32(vf[i * 2 + 1] * gv + room)
                vf[i * 2 + 1] = vr
            bl, br = bf[2 * i] * gd, bf[2 * i + 1] * gd
            bf[2 * i], bf[2 * i + 1] = bl, br
            xl, xr = bl + vl, br + vr
            if has_adlibs:
                al, ar = af[2 * i], af[2 * i + 1]
                if al != 0.0 or ar != 0.0:
                    al, ar = np.float32(al * adlib_scale), np.float32(ar * adlib_scale)
                    af[2 * i], af[2 * i + 1] = al, ar
                    xl, xr = xl + al, xr + ar
            mf[2 * i], mf[2 * i + 1] = xl, xr
            pk = max(pk, abs(xl), abs(xr))
            y, l_shelf = _biquad(np.float64(xl), l_shelf, shelf)
            zl, l_hp = _biquad(y, l_hp, high_pass)
            y, r_shelf = _biquad(np.float64(xr), r_shelf, shelf)
            zr, r_hp = _biquad(y, r_hp, high_pass)
            e += zl * zl + zr * zr
        peaks[k] = pk
        k_energy[k] = e


@njit(cache=True, fastmath={"contract"})
def k_weighted_energy(y, k_sos, hop, k_energy):
    """Per ``hop`` block, the energy of the K-weighted ``y`` ([n, 1] or [n, 2]; two sections),
    summed over samples and channels: :func:`mix_down`'s meter on its own."""
    n, c = y.shape
    f = y.reshape(-1)
    shelf, high_pass = _section(k_sos[0]), _section(k_sos[1])
    l_shelf = l_hp = r_shelf = r_hp = REST
    for k in range(len(k_energy)):
        e = 0.0
        for i in range(k * hop, min(n, (k + 1) * hop)):
            y, l_shelf = _biquad(np.float64(f[i * c]), l_shelf, shelf)
            z, l_hp = _biquad(y, l_hp, high_pass)
            e += z * z
            if c == 2:
                y, r_shelf = _biquad(np.float64(f[i * 2 + 1]), r_shelf, shelf)
                z, r_hp = _biquad(y, r_hp, high_pass)
                e += z * z
        k_energy[k] = e


@njit(cache=True)
def add_true_peaks(x, floor, fir, hop, peaks):
    """Raise ``peaks`` (per ``hop`` block: the sample peaks) to the 4x-interpolated peak within
    +-0.875 samples of every local maximum of |x[:, ch]| louder than ``floor``; blocks whose sample
    peak is under ``floor`` are skipped. ``fir``: [taps, phases], column p of the window
    x[j - taps + 1 .. j] giving the value at original time j - delay + p / phases. A peak between
    two samples sits next to a local maximum of the samples. (The first and last taps / 2 samples
    are left to the sample peak: their windows would need samples not there.)"""
    n, c = x.shape
    f = x.reshape(-1)
    taps, phases = fir.shape
    half = taps // 2
    for kb in range(len(peaks)):
        if peaks[kb] <= floor:
            continue
        best_block = peaks[kb]
        for j in range(max(kb * hop, half) * c, min((kb + 1) * hop, n - half - 1) * c):
            a = abs(f[j])
            if a <= floor or a < abs(f[j - c]) or a < abs(f[j + c]):
                continue
            for first in (half, half - 1):  # windows starting 6 and 5 samples before the maximum
                for p in range(phases):
                    acc = 0.0
                    for t in range(taps):
                        acc += f[j + (t - first) * c] * fir[t, p]
                    best_block = max(best_block, abs(acc))
        peaks[kb] = best_block


@njit(cache=True, fastmath=True)
def add_panned(out, piece, start, left, right):
    """out[start + t] += piece[t] * (left, right) ([n, 2]; [n, 1]: ``left`` only), the piece cut to ``out``."""
    n, c = out.shape
    f = out.reshape(-1)
    gl, gr = np.float32(left), np.float32(right)
    m = min(len(piece), n - start)
    if c == 2:
        for t in range(m):
            f[2 * (start + t)] += piece[t] * gl
            f[2 * (start + t) + 1] += piece[t] * gr
    else:
        for t in range(m):
            f[start + t] += piece[t] * gl
