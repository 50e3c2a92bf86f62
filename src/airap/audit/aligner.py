"""A phone-level forced aligner for finished vocals, in the classic hybrid style (as in Kaldi/MFA):
a small convolutional frame classifier gives, every 5 ms, the posterior of each Kokoro symbol; the
Viterbi pass then finds the single left-to-right path through the known symbol sequence (every
symbol at least one frame, in order, none skipped) that best explains those posteriors.

It is trained on the teacher corpus with the teacher's own durations as labels, moved earlier by the
teacher's acoustic lead, so a "boundary" is where the sound changes, not where a model's internal
frame counter ticks. It never sees a plan, a grid or timings.json.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 24000
HOP = 120  # 5 ms
WIN = 480  # 20 ms
N_FFT = 512
N_MELS = 64
HOP_SECONDS = HOP / SAMPLE_RATE
WEIGHTS = Path(__file__).resolve().parents[1] / "models" / "aligner.pt"


@dataclass(frozen=True)
class AlignerConfig:
    n_classes: int = 178  # Kokoro symbol ids
    channels: int = 192
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 8, 1, 2)
    dropout: float = 0.1
    label_lead: float = 0.052  # the teacher's acoustic lead (acoustic.tokens.ACOUSTIC_LEAD)
    prior_scale: float = 0.3  # hybrid decoding: log p(class | audio) - scale * log p(class)


def log_mel(y: np.ndarray, sr: int) -> np.ndarray:
    """Mono audio -> [frames, N_MELS] log-mel, 5 ms hop, level-normalised (0 dB = the loudest bin),
    so a quiet stem and a mastered one look alike."""
    import librosa

    y = np.asarray(y, np.float32)
    if sr != SAMPLE_RATE:
        y = librosa.resample(y, orig_sr=sr, target_sr=SAMPLE_RATE)
    S = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=N_FFT, win_length=WIN, hop_length=HOP,
                                       n_mels=N_MELS, fmin=60, fmax=8000)
    return (librosa.power_to_db(S, ref=np.max, top_db=80.0).T / 40.0 + 1.0).astype(np.float32)


def forced_align(log_likelihood: np.ndarray) -> np.ndarray:
    """Viterbi through states 0..N-1 in order over frames 0..T-1: each frame stays or moves one state
    on; start in state 0, end in state N-1. ``log_likelihood`` [T, N]. Returns the first frame of each
    state, length N (strictly increasing)."""
    T, N = log_likelihood.shape
    if T < N:
        raise ValueError(f"{T} frames cannot hold {N} symbols")
    score = np.full(N, -np.inf)
    score[0] = log_likelihood[0, 0]
    moved = np.zeros((T, N), bool)
    for t in range(1, T):
        step = np.concatenate([[-np.inf], score[:-1]])
        moved[t] = step > score
        score = np.maximum(score, step) + log_likelihood[t]
    starts = np.zeros(N, np.int64)
    n = N - 1
    for t in range(T - 1, 0, -1):
        if moved[t, n]:
            starts[n] = t
            n -= 1
            if n == 0:
                break
    return starts


def build_net(cfg: AlignerConfig):
    import torch.nn as nn

    class Block(nn.Module):
        def __init__(self, dilation: int):
            super().__init__()
            self.conv = nn.Conv1d(cfg.channels, cfg.channels, cfg.kernel, padding=dilation * (cfg.kernel // 2),
                                  dilation=dilation)
            self.norm = nn.BatchNorm1d(cfg.channels)
            self.drop = nn.Dropout(cfg.dropout)

        def forward(self, x):
            return x + self.drop(self.norm(self.conv(x)).relu())

    return nn.Sequential(nn.Conv1d(N_MELS, cfg.channels, cfg.kernel, padding=cfg.kernel // 2), nn.ReLU(),
                         *[Block(d) for d in cfg.dilations], nn.Conv1d(cfg.channels, cfg.n_classes, 1))


class ForcedAligner:
    """Loads the trained frame classifier; ``symbol_starts`` aligns audio to a symbol sequence."""

    def __init__(self, path: str | Path = WEIGHTS):
        import torch

        if not Path(path).exists():
            from ..errors import SetupError

            raise SetupError(f"forced-aligner weights not found at {path}: train them with python -m airap.audit.train")
        blob = torch.load(path, map_location="cpu", weights_only=False)
        self.cfg = AlignerConfig(**{**blob["config"], "dilations": tuple(blob["config"]["dilations"])})
        self.net = build_net(self.cfg)
        self.net.load_state_dict({k: v.float() for k, v in blob["model"].items()})
        self.net.eval()
        self.log_prior = np.asarray(blob["log_prior"], np.float64)

    def log_posteriors(self, mel: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            out = self.net(torch.from_numpy(mel.T[None].copy()))[0].T
            return torch.log_softmax(out, dim=-1).numpy().astype(np.float64)

    def symbol_starts(self, y: np.ndarray, sr: int, ids: list[int]) -> np.ndarray:
        """Start time (s, from the start of ``y``) of each symbol of ``ids`` in the audio."""
        lp = self.log_posteriors(log_mel(y, sr))
        ids = np.asarray(ids)
        ll = lp[:, ids] - self.cfg.prior_scale * self.log_prior[ids][None]
        return forced_align(ll) * HOP_SECONDS
