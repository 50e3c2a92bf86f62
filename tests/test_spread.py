"""The spread of envelope and pitch restored (acoustic/tacotron/spread.py): pure functions on WORLD features."""

import numpy as np

from airap.acoustic.tacotron.spread import Spread, measure_spread, restore_spread
from airap.waveform.world import BAP_COLUMN, FEATURE_DIM, MGC_COLUMN, N_MGC, envelope_log_power


def _features(frames: int = 60, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    feats = np.zeros((frames, FEATURE_DIM), np.float32)
    feats[:, 0], feats[:, 1] = np.log(150.0) + rng.normal(0, 0.1, frames), 1.0
    feats[: frames // 6, 1] = 0.0  # an unvoiced stretch
    feats[:, MGC_COLUMN] = -6.0 + rng.normal(0, 1, frames)
    feats[:, MGC_COLUMN + 1:BAP_COLUMN] = rng.normal(0, 0.3, (frames, N_MGC - 1)) / np.arange(1, N_MGC)
    feats[:, BAP_COLUMN:] = -3.0
    return feats


def test_deviations_are_scaled_by_the_ratio_and_every_frame_keeps_its_power():
    feats = _features()
    ratio = np.linspace(1.0, 1.8, N_MGC).astype(np.float32)
    out = restore_spread(feats, Spread(ratio))
    mgc, new = feats[:, MGC_COLUMN + 1:BAP_COLUMN], out[:, MGC_COLUMN + 1:BAP_COLUMN]
    np.testing.assert_allclose(new.std(axis=0), mgc.std(axis=0) * ratio[1:], rtol=1e-4)
    np.testing.assert_allclose(new.mean(axis=0), mgc.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(envelope_log_power(out), envelope_log_power(feats), atol=1e-3)
    np.testing.assert_array_equal(out[:, :MGC_COLUMN], feats[:, :MGC_COLUMN])  # pitch and voicing untouched
    np.testing.assert_array_equal(out[:, BAP_COLUMN:], feats[:, BAP_COLUMN:])


def test_a_ratio_of_one_changes_nothing():
    feats = _features(seed=1)
    np.testing.assert_allclose(restore_spread(feats, Spread(np.ones(N_MGC, np.float32), pitch=1.0)), feats, atol=1e-4)


def test_the_measured_ratio_is_the_teachers_spread_over_the_models():
    teacher = [_features(seed=s) for s in range(5)]
    utterances = [{"ids": [1, 2, 3], "frames": np.array([10, 10, 10]), "speaker": 0, "feats": f} for f in teacher]
    calls = []

    def predict(ids, speaker, frames_per_token):  # half the teacher's envelope deviations, a third of its pitch's
        f = teacher[len(calls) % len(teacher)].copy()
        calls.append(1)
        m = f[:, MGC_COLUMN:BAP_COLUMN]
        f[:, MGC_COLUMN:BAP_COLUMN] = m.mean(axis=0) + (m - m.mean(axis=0)) / 2
        voiced = f[:, 1] > 0.5
        f[:, 0] = f[voiced, 0].mean() + (f[:, 0] - f[voiced, 0].mean()) / 3
        return f

    spread = measure_spread(predict, utterances)
    assert spread.envelope[0] == 1.0  # the level is left as predicted
    np.testing.assert_allclose(spread.envelope[1:], 2.0, rtol=1e-3)
    assert abs(spread.pitch - 3.0) < 1e-3


def test_the_pitch_deviations_are_scaled_about_the_voiced_mean():
    feats = _features(seed=2)
    voiced = feats[:, 1] > 0.5
    out = restore_spread(feats, Spread(np.ones(N_MGC, np.float32), pitch=1.2))
    assert abs(out[voiced, 0].std() - 1.2 * feats[voiced, 0].std()) < 1e-4
    assert abs(out[voiced, 0].mean() - feats[voiced, 0].mean()) < 1e-4  # the line keeps its mean pitch
    np.testing.assert_array_equal(out[:, 1], feats[:, 1])  # and its voicing


def test_the_ratios_survive_the_weights_file():
    spread = Spread(np.linspace(1.0, 1.8, N_MGC).astype(np.float32), pitch=1.215)
    back = Spread.from_state(spread.to_state())
    np.testing.assert_allclose(back.envelope, spread.envelope, atol=1e-4)
    assert back.pitch == 1.215
    assert Spread.from_state({}) is None  # weights exported before the spread was measured
    assert Spread.from_state({"spread": list(spread.envelope)}).pitch == 1.0  # before the pitch's was
