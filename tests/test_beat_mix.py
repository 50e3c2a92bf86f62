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
