"""The envelope spread restored (acoustic/tacotron/spread.py): pure functions on WORLD features."""

import numpy as np

from airap.acoustic.tacotron.spread import measure_spread, restore_spread
from airap.waveform.world import BAP_COLUMN, FEATURE_DIM, MGC_COLUMN, N_MGC, envelope_log_power


def _features(frames: int = 60, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    feats = np.zeros((frames, FEATURE_DIM), np.float32)
    feats[:, 0], feats[:, 1] = np.log(150.0), 1.0
    feats[:, MGC_COLUMN] = -6.0 + rng.normal(0, 1, frames)
    feats[:, MGC_COLUMN + 1:BAP_COLUMN] = rng.normal(0, 0.3, (frames, N_MGC - 1)) / np.arange(1, N_MGC)
    feats[:, BAP_COLUMN:] = -3.0
    return feats


def test_deviations_are_scaled_by_the_ratio_and_every_frame_keeps_its_power():
    feats = _features()
    ratio = np.linspace(1.0, 1.8, N_MGC).astype(np.float32)
    out = restore_spread(feats, ratio)
    mgc, new = feats[:, MGC_COLUMN + 1:BAP_COLUMN], out[:, MGC_COLUMN + 1:BAP_COLUMN]
    np.testing.assert_allclose(new.std(axis=0), mgc.std(axis=0) * ratio[1:], rtol=1e-4)
    np.testing.assert_allclose(new.mean(axis=0), mgc.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(envelope_log_power(out), envelope_log_power(feats), atol=1e-3)
    np.testing.assert_array_equal(out[:, :MGC_COLUMN], feats[:, :MGC_COLUMN])  # pitch and voicing untouched
    np.testing.assert_array_equal(out[:, BAP_COLUMN:], feats[:, BAP_COLUMN:])


def test_a_ratio_of_one_changes_nothing():
    feats = _features(seed=1)
    np.testing.assert_allclose(restore_spread(feats, np.ones(N_MGC, np.float32)), feats, atol=1e-4)


def test_the_measured_ratio_is_the_teachers_spread_over_the_models():
    teacher = [_features(seed=s) for s in range(5)]
    utterances = [{"ids": [1, 2, 3], "frames": np.array([10, 10, 10]), "speaker": 0, "feats": f} for f in teacher]
    halved = {}

    def predict(ids, speaker, frames_per_token):  # a model that predicts half the teacher's deviations
        f = teacher[len(halved) % len(teacher)].copy()
        halved[len(halved)] = True
        m = f[:, MGC_COLUMN:BAP_COLUMN]
        f[:, MGC_COLUMN:BAP_COLUMN] = m.mean(axis=0) + (m - m.mean(axis=0)) / 2
        return f

    ratio = measure_spread(predict, utterances)
    assert ratio[0] == 1.0  # the level is left as predicted
    np.testing.assert_allclose(ratio[1:], 2.0, rtol=1e-3)
