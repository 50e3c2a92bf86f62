"""Our fast source-filter synthesis against pyworld's on audio the test makes (a gliding vowel-like
harmonic tone with a noise burst): same length, same pitch track, same level, similar spectrum."""

import numpy as np

from airap.waveform import HOP_SECONDS, SAMPLE_RATE, fast_synthesize, world_features, world_synthesize


def _test_signal(sr=SAMPLE_RATE):
    t = np.arange(int(1.5 * sr)) / sr
    f0 = 140 + 60 * t  # glide 140 -> 230 Hz
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = sum(np.sin(k * phase) / k * (1.0 if k * 300 < 1200 else 0.3) for k in range(1, 30))
    y[int(0.7 * sr) : int(0.85 * sr)] = np.random.default_rng(0).standard_normal(int(0.15 * sr)) * 0.3  # "s"
    return (0.2 * y).astype(np.float32)


def test_fast_synthesis_matches_world():
    feats = world_features(_test_signal())
    ours, ref = fast_synthesize(feats), world_synthesize(feats)
    assert len(ours) == len(feats) * int(HOP_SECONDS * SAMPLE_RATE)
    assert abs(len(ours) - len(ref)) <= int(HOP_SECONDS * SAMPLE_RATE)
    n = min(len(ours), len(ref))
    rms = lambda x: float(np.sqrt(np.mean(x[:n] ** 2)))  # noqa: E731
    assert 0.7 < rms(ours) / rms(ref) < 1.4
    # the pitch track survives: re-analysed log F0 of voiced frames within 3 % of the input's
    again = world_features(ours)
    voiced = (feats[:, 1] > 0.5) & (again[: len(feats), 1] > 0.5)
    assert voiced.mean() > 0.6
    assert np.median(np.abs(again[: len(feats)][voiced, 0] - feats[voiced, 0])) < np.log(1.03)
    # the envelope survives: coded envelope distance like pyworld's own resynthesis
    env = slice(2, 42)
    d_ours = np.mean(np.abs(again[: len(feats)][voiced, env] - feats[voiced, env]))
    d_ref = np.mean(np.abs(world_features(ref)[: len(feats)][voiced, env] - feats[voiced, env]))
    assert d_ours < 1.5 * d_ref + 0.05


def test_fast_synthesis_handles_empty_and_silence():
    assert fast_synthesize(np.zeros((0, 45), np.float32)).size == 0
    feats = world_features(np.zeros(SAMPLE_RATE // 2, np.float32))
    y = fast_synthesize(feats)
    assert np.isfinite(y).all()


def _refiner_file(path, scale=0.0):
    import torch

    from airap.waveform.refine import N_BINS, RefinerConfig, build_network, config_dict

    cfg = RefinerConfig(dim=16, blocks=1)
    net = build_network(cfg)
    with torch.no_grad():
        net.out.bias[: cfg.bands] = scale  # the periodic part's gain: e^scale in every band; the noise part unchanged
    dim = 2 * N_BINS + 45
    torch.save({"model": net.state_dict(), "mean": np.zeros(dim, np.float32), "std": np.ones(dim, np.float32),
                "config": config_dict(cfg)}, path)
    return path


def test_refiner_reweighs_the_two_parts(tmp_path):
    from airap.waveform import synthesize_parts
    from airap.waveform.refine import MAX_LOG_GAIN, load_refiner, refine

    feats = world_features(_test_signal())
    parts = synthesize_parts(feats)
    plain = fast_synthesize(feats)
    assert np.allclose(parts.periodic + parts.noise, plain, atol=1e-5)
    # an untrained refiner (zero output layer) is the identity, up to the STFT round trip
    same = refine(parts, feats, refiner=load_refiner(_refiner_file(tmp_path / "id.pt")))
    assert same.shape == plain.shape and np.max(np.abs(same - plain)) < 1e-3
    # a gain of e^-1 on the pulse part: the periodic part scaled, the noise part kept
    g = MAX_LOG_GAIN * np.tanh(-1.0 / MAX_LOG_GAIN)  # the network's output squashing at x = -1
    less = refine(parts, feats, refiner=load_refiner(_refiner_file(tmp_path / "g.pt", -1.0)))
    expected = parts.periodic * np.exp(g) + parts.noise
    assert np.max(np.abs(less - expected)) < 1e-3


def test_damaged_refiner_is_a_setup_error(tmp_path):
    import pytest

    from airap.errors import SetupError
    from airap.waveform.refine import load_refiner

    bad = tmp_path / "refiner.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(SetupError, match="refiner"):
        load_refiner(bad)
