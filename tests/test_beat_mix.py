import numpy as np
import pytest

from airap.beat import BeatGrid, generate_beat
from airap.catalog import STYLES, check_bpm, get_style
from airap.errors import InputError
from airap.mix import mix_track, true_peak_db


@pytest.mark.parametrize("style", sorted(STYLES))
def test_beat_kicks_land_on_the_grid(style):
    import librosa

    beat = generate_beat(get_style(style), BeatGrid.regular(100, 4), seed=3, sample_rate=22050)
    assert beat.grid.n_bars == 4
    y = beat.stems["drums"].mean(axis=1)
    onsets = librosa.onset.onset_detect(y=y, sr=22050, units="time", backtrack=False)
    # every downbeat carries a kick: an onset of the drum stem within 40 ms of it
    for db in beat.grid.downbeats[1:4]:  # (no onset can be detected at t=0)
        assert np.min(np.abs(onsets - db)) < 0.04
    names = [inst.name for inst in beat.midi.instruments]
    assert names[:3] == ["drums", "bass", "chords"]
    # the stems are sample-aligned and sum to the beat
    assert set(beat.stems) == {"drums", "bass", "music"}
    assert np.allclose(sum(beat.stems.values()), beat.audio, atol=1e-6)


def test_bpm_bounds():
    for bad in (0, 1000, 59, 181, "abc", float("nan")):
        with pytest.raises(InputError):
            check_bpm(bad)


def test_swing_grid():
    g = BeatGrid.regular(120, 2, swing=0.6)
    assert g.slot_time(0, 1) == pytest.approx(0.6 * 0.25)
    assert g.slot_time(1, 0) == pytest.approx(2.0)


def test_master_hits_loudness_and_true_peak():
    import pyloudnorm

    sr = 44100
    t = np.arange(sr * 6) / sr
    vocal = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32)
    beat = np.repeat((0.5 * np.sign(np.sin(2 * np.pi * 55 * t))).astype(np.float32)[:, None], 2, axis=1)
    stems = mix_track(vocal, beat, sr)
    mix, v, b = stems.mix, stems.vocals, stems.beat
    assert mix.shape == v.shape == b.shape
    assert abs(pyloudnorm.Meter(sr).integrated_loudness(mix) + 14) < 0.5
    assert true_peak_db(mix, sr) <= -0.95


def _music(sr: int, seconds: float, seed: int = 0) -> np.ndarray:
    """A loud, band-limited stereo test mix: bass, chords and noise bursts (hats)."""
    from scipy import signal

    rng = np.random.default_rng(seed)
    t = np.arange(int(sr * seconds)) / sr
    tone = 0.4 * np.sin(2 * np.pi * 55 * t) + 0.2 * np.sin(2 * np.pi * 330 * t) * (np.sin(2 * np.pi * 1.5 * t) > 0)
    hats = signal.sosfilt(signal.butter(4, [6000, 15000], "bandpass", fs=sr, output="sos"), rng.standard_normal(len(t)))
    hats *= (np.sin(2 * np.pi * 4 * t) > 0.9) * 0.6
    left, right = tone + hats, tone + np.roll(hats, 37)
    return np.stack([left, right], axis=1).astype(np.float32)


def test_our_loudness_and_true_peak_match_the_references():
    import pyloudnorm

    from airap.mix.chain import block_peak, gated_loudness, hop_energy, loudness_blocks, true_peak_blocks

    sr = 44100
    y = _music(sr, 8.0)
    ours = gated_loudness(hop_energy(loudness_blocks(y, sr), sr))
    assert abs(ours - pyloudnorm.Meter(sr).integrated_loudness(y)) < 0.01
    est = 20 * np.log10(true_peak_blocks(y, 0.0).max())
    assert abs(est - true_peak_db(y, sr)) < 0.2 and est >= 20 * np.log10(float(block_peak(y).max())) - 1e-6


def test_master_limits_a_hot_mix_and_hits_loudness():
    import pyloudnorm

    from airap.mix.chain import master

    sr = 44100
    y = 3.0 * _music(sr, 10.0, seed=1)  # clipping-hot input
    out, gain = master(y, sr)
    assert abs(pyloudnorm.Meter(sr).integrated_loudness(out) + 14) < 0.3
    assert true_peak_db(out, sr) <= -1.0 and 0 < gain < 1


def test_deesser_turns_down_hiss_not_vowels():
    from scipy import signal

    from airap.mix.chain import HOP, analyse_voice, deess_cut_db

    sr = 44100
    t = np.arange(sr) / sr
    vowel = 0.3 * np.sin(2 * np.pi * 180 * t) * (t < 0.5)
    hiss = signal.sosfilt(signal.butter(4, 5000, "highpass", fs=sr, output="sos"),
                          np.random.default_rng(0).standard_normal(sr)) * 0.3 * (t >= 0.5)
    voice = analyse_voice((vowel + hiss).astype(np.float32), sr)
    cut = deess_cut_db(voice.peaks, voice.hiss, sr)
    mid = len(cut) // 2
    assert cut[mid // 2] == 0.0 and cut[mid + mid // 2] < -3.0
    assert len(cut) == -(-sr // HOP)


def test_compiled_loops_match_scipy_and_numpy():
    """Each compiled loop against the SciPy / NumPy code it replaces, on a stereo mix whose length
    is not a multiple of the block."""
    from scipy import signal

    from airap.mix import kernels
    from airap.mix.chain import HOP, analyse_voice, gain_slice, highpass_sos, k_weighting_sos, loudness_blocks

    sr = 44100
    y = _music(sr, 2.0)[: 2 * sr - 13]
    n = len(y)
    blocks = -(-n // HOP)
    # the voice's high-pass in place, its block peaks, sibilance and mean square
    v = y.copy()
    voice = analyse_voice(v, sr)
    ref = signal.sosfilt(highpass_sos(sr)[None].astype(np.float64), y.astype(np.float64), axis=0)
    assert np.abs(v - ref).max() < 1e-5
    pad = np.zeros((blocks * HOP, 2))
    pad[:n] = np.abs(ref)
    assert np.allclose(voice.peaks, pad.reshape(blocks, -1).max(axis=1), atol=1e-5)
    d2 = np.abs(np.diff(np.concatenate([np.zeros((2, 2)), ref]), n=2, axis=0))
    pad[:n] = d2
    assert np.allclose(voice.hiss, pad.reshape(blocks, -1).max(axis=1), atol=1e-5)
    assert np.allclose(voice.energy[:-1], (ref[: (blocks - 1) * HOP] ** 2).reshape(blocks - 1, -1).mean(axis=1), rtol=1e-4)
    # K-weighted block energies
    kw = signal.sosfilt(k_weighting_sos(sr), y.astype(np.float64), axis=0)
    m = n // HOP
    assert np.allclose(loudness_blocks(y, sr), (kw[: m * HOP] ** 2).reshape(m, -1).sum(axis=1), rtol=1e-4, atol=1e-9)
    # an interpolated control-rate gain
    gain = np.random.default_rng(1).uniform(0.2, 1.5, blocks)
    scaled = y.copy()
    kernels.scale_by_blocks(scaled, gain, 0.5, HOP)
    assert np.allclose(scaled, y * gain_slice(gain, 0, n)[:, None] * 0.5, atol=1e-6)
    # a mostly silent layer scaled where it sounds, its silence left as it was
    layer = np.zeros((n, 2), np.float32)
    layer[5000:5003] = y[5000:5003]
    layer[n - 7:] = y[n - 7:]
    scaled = layer.copy()
    kernels.scale_nonzero(scaled, 0.5)
    assert np.array_equal(scaled, layer * np.float32(0.5))


def test_bass_ducks_under_every_kick():
    from airap.mix.chain import HOP, kick_sidechain_gain

    sr = 44100
    g = kick_sidechain_gain([0.5, 1.0], sr, sr * 2, depth_db=6.0)
    at = lambda s: g[int(s * sr)]  # noqa: E731
    assert at(0.25) > 0.99 and at(0.5 + 2 * HOP / sr) < 0.6 and at(0.95) > 0.95 and at(1.0 + 2 * HOP / sr) < 0.6


def test_room_is_the_low_rate_convolution():
    from scipy import signal

    from airap.mix.chain import ROOM_DECIMATION, _room, reverb

    sr, f = 44100, ROOM_DECIMATION
    y = np.random.default_rng(3).standard_normal(3 * sr + 7).astype(np.float32)
    ours = reverb(y, sr, wet=0.5)
    low = y[: len(y) // f * f].reshape(-1, f).mean(axis=1)
    tail = np.concatenate([signal.fftconvolve(low, _room(sr // f, 0.5, 0)), [0.0]])
    i = np.arange(len(y))
    ref = tail[i // f] + (tail[i // f + 1] - tail[i // f]) * (i % f) / f
    assert np.abs(ours - (0.5 * y + 0.5 * ref)).max() < 1e-4


def test_mix_track_in_place_matches_the_copying_call():
    sr = 44100
    n = 3 * sr
    rng = np.random.default_rng(5)
    vocal = (0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / sr) * (rng.random(n) > 0.3)).astype(np.float32)
    stems = {k: _music(sr, 3.0, seed=i) * 0.3 for i, k in enumerate(("drums", "bass", "music"))}
    beat = sum(stems.values())
    kicks = (0.5, 1.0, 1.5)
    ref = mix_track(vocal, beat, sr, beat_stems=stems, kick_times=kicks)
    owned = mix_track(vocal.copy(), beat.copy(), sr, beat_stems={k: y.copy() for k, y in stems.items()},
                      kick_times=kicks, consume=True)
    assert np.array_equal(ref.mix, owned.mix) and np.array_equal(ref.vocals, owned.vocals)
    assert np.allclose(sum(ref.parts.values()), ref.beat, atol=1e-5)
    assert np.array_equal(stems["drums"], _music(sr, 3.0, seed=0) * 0.3)  # the copying call left its inputs alone
