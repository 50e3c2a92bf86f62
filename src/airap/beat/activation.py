"""A learned beat and downbeat activation for uploads: a small non-causal TCN over log-mel frames
(the design of Böck and Davies' TCN beat trackers, sized for one CPU core) that gives, per analysis
frame, how likely a beat and a bar's first beat sound there. The tracker (``track.py``) reads its
tempo, beats and bar phase from these curves where the hand-made cues left them open.

Trained with ``python -m airap.training.beat_net`` on airap's generator, the benchmark's drum
machine and click tracks (``benchmarks/tracking_set.py`` seeds >= 1000); never on the plain
General-MIDI loops of ``benchmarks/loop_set.py``, which stay an independent check. Inference is
numpy only (no torch on the upload path); the weights ship as fp16 with a manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

ANALYSIS_RATE = 22050
HOP = 256  # 11.6 ms: the tracker's own frame
N_FFT = 1024
N_MELS = 80
FMIN, FMAX = 30.0, 11025.0
TOP_DB = 80.0
WEIGHTS = Path(__file__).resolve().parent.parent / "models" / "beat_net.npz"


@dataclass(frozen=True)
class BeatNetConfig:
    channels: int = 32
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # receptive field ~ 23.8 s


@dataclass(frozen=True)
class Activation:
    """Per frame (frame k at k * HOP / ANALYSIS_RATE s): beat and downbeat probabilities."""

    beat: np.ndarray
    downbeat: np.ndarray
    fps: float


def log_mel(mono: np.ndarray, sr: int) -> np.ndarray:
    """[frames, N_MELS] log-mel in [0, 1] (0 dB at the file's loudest bin, TOP_DB below it at 0): the
    net hears the pattern, not the level."""
    import librosa

    if sr != ANALYSIS_RATE:
        mono = librosa.resample(mono, orig_sr=sr, target_sr=ANALYSIS_RATE)
    mel = librosa.feature.melspectrogram(y=mono, sr=ANALYSIS_RATE, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS,
                                         fmin=FMIN, fmax=FMAX)
    db = librosa.power_to_db(mel, ref=np.max(mel) + 1e-12, top_db=TOP_DB)
    return (db / TOP_DB + 1.0).T.astype(np.float32)


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, dilation: int = 1) -> np.ndarray:
    """'same' 1-D convolution of x [C_in, T] with w [C_out, C_in, K] (torch's Conv1d layout)."""
    k = w.shape[2]
    pad = dilation * (k - 1) // 2
    xp = np.pad(x, ((0, 0), (pad, pad)))
    t = x.shape[1]
    out = b[:, None] + sum(w[:, :, j] @ xp[:, j * dilation: j * dilation + t] for j in range(k))
    return out


def _elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def forward(params: dict[str, np.ndarray], config: BeatNetConfig, feats: np.ndarray) -> np.ndarray:
    """Logits [2, frames] (beat, downbeat) of features [frames, N_MELS]; the torch module in
    ``airap.training.beat_net`` computes the same."""
    h = _elu(_conv(feats.T, params["inp.weight"], params["inp.bias"]))
    for i, d in enumerate(config.dilations):
        y = _elu(_conv(h, params[f"blocks.{i}.dil.weight"], params[f"blocks.{i}.dil.bias"], d))
        h = h + _conv(y, params[f"blocks.{i}.mix.weight"], params[f"blocks.{i}.mix.bias"])
    return _conv(_elu(h), params["out.weight"], params["out.bias"])


@lru_cache(maxsize=2)
def load_net(path: Path = WEIGHTS) -> tuple[dict[str, np.ndarray], BeatNetConfig]:
    from ..weights import check_weights

    check_weights(path)
    manifest = json.loads(path.with_suffix(".json").read_text())
    cfg = manifest["config"]
    config = BeatNetConfig(cfg["channels"], cfg["kernel"], tuple(cfg["dilations"]))
    with np.load(path) as z:
        params = {k: z[k].astype(np.float32) for k in z.files}
    return params, config


def beat_activation(mono: np.ndarray, sr: int, path: Path = WEIGHTS) -> Activation:
    """The shipped net's beat and downbeat curves of a mono signal."""
    params, config = load_net(path)
    logits = forward(params, config, log_mel(mono, sr))
    prob = 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))
    return Activation(prob[0], prob[1], ANALYSIS_RATE / HOP)
