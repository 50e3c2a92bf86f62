"""A learned spectral refiner for our source-filter synthesis: the small vocoder trained here.

WORLD features lose detail a listener hears (the 40-coefficient envelope smooths formants and
harmonics; three aperiodicity bands blur breath and fricatives): copy synthesis through them costs
~0.25 DNSMOS P.808 against the teacher's own audio (BENCHMARKS.md, the waveform stage). A neural
vocoder that makes its own phase needs adversarial training that one CPU core cannot afford, and
the phase is not what is missing: the teacher's magnitudes with our synthesis's phase score P.808
3.95 against the teacher's 4.01, our magnitudes with the teacher's phase 3.83 (36 validation clips).
A smooth correction is enough: imposing the teacher's energy in 40 mel bands on our synthesis's
fine structure scores 3.92, in 80 bands 3.94. So this one keeps our phase and our harmonics and
learns band energies: a ConvNeXt stack over STFT frames predicts a log-gain per mel band for each of
the two parts of our synthesis (the filtered pulse train and the filtered noise: three aperiodicity
bands cannot say how breathy each frequency is), spread over the bins by the mel filters, and the
re-weighed sum goes back through the iSTFT (an "iSTFT head", as in Vocos, with the phase given).
A first version with a free gain per bin fitted the fine structure and gained nothing on P.808.

Input per frame: the log magnitudes of both parts and the WORLD features they came from; output:
two log-gains per band, clipped to +-MAX_LOG_GAIN. It is trained on the corpus (teacher audio against
our synthesis of the teacher's own WORLD features): ``python -m airap.training.vocoder``.

Pure function :func:`refine` on arrays, sample rate explicit; the network is loaded once per path.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from .fast import SourceFilterParts
from .world import FEATURE_DIM, FFT_SIZE, HOP_SECONDS, SAMPLE_RATE

N_BINS = FFT_SIZE // 2 + 1
MAX_LOG_GAIN = 4.0  # +-35 dB: beyond any envelope detail; keeps an untrained corner from blowing up
LOG_FLOOR = 1e-5  # magnitude floor before the log (-100 dB re full scale)


@dataclass(frozen=True)
class RefinerConfig:
    dim: int = 192
    blocks: int = 6
    kernel: int = 7  # frames (12.5 ms each): +-37 ms of context per block
    expansion: int = 3
    bands: int = 80  # mel bands of the gain (0-12 kHz)


def _torch():
    import torch

    return torch


def build_network(cfg: RefinerConfig):
    """The refiner network (torch.nn.Module): [B, frames, 2 N_BINS + FEATURE_DIM] -> [B, frames, 2 N_BINS]
    log-gains per bin (each part's band gains spread over the bins by the mel filters)."""
    torch = _torch()
    nn = torch.nn

    class Block(nn.Module):
        """ConvNeXt block over time: depthwise conv, layer norm, pointwise MLP, scaled residual."""

        def __init__(self, dim: int):
            super().__init__()
            self.depthwise = nn.Conv1d(dim, dim, cfg.kernel, padding=cfg.kernel // 2, groups=dim)
            self.norm = nn.LayerNorm(dim)
            self.up = nn.Linear(dim, cfg.expansion * dim)
            self.down = nn.Linear(cfg.expansion * dim, dim)
            self.scale = nn.Parameter(torch.full((dim,), 0.1))

        def forward(self, x):  # [B, T, C]
            h = self.depthwise(x.transpose(1, 2)).transpose(1, 2)
            h = self.down(torch.nn.functional.gelu(self.up(self.norm(h))))
            return x + self.scale * h

    class Refiner(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(2 * N_BINS + FEATURE_DIM, cfg.dim)
            self.blocks = nn.ModuleList([Block(cfg.dim) for _ in range(cfg.blocks)])
            self.norm = nn.LayerNorm(cfg.dim)
            self.out = nn.Linear(cfg.dim, 2 * cfg.bands)
            self.register_buffer("spread", torch.from_numpy(band_spread(cfg.bands)), persistent=False)
            nn.init.zeros_(self.out.weight)  # starts as the identity: our synthesis unchanged
            nn.init.zeros_(self.out.bias)

        def forward(self, x):
            h = self.inp(x)
            for block in self.blocks:
                h = block(h)
            band_gain = MAX_LOG_GAIN * torch.tanh(self.out(self.norm(h)) / MAX_LOG_GAIN)
            periodic, noise = band_gain[..., : cfg.bands], band_gain[..., cfg.bands :]
            return torch.cat([periodic @ self.spread, noise @ self.spread], dim=-1)

    return Refiner()


def band_spread(bands: int) -> np.ndarray:
    """[bands, N_BINS]: a bin's gain is the mean of its bands' gains, weighted by the mel filters
    (triangles over 0-12 kHz); a constant band gain is a constant bin gain."""
    import librosa

    mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=FFT_SIZE, n_mels=bands, fmin=0.0, fmax=SAMPLE_RATE / 2, norm=None)
    weight = mel.sum(axis=0)
    mel[:, weight == 0] = 1.0 / bands  # the DC bin falls under no triangle: the mean of all bands
    return (mel / mel.sum(axis=0, keepdims=True)).astype(np.float32)


def stft(torch, y, window):
    """Centred STFT at the WORLD hop: frame k is centred on sample k * hop, like the features."""
    hop = int(round(HOP_SECONDS * SAMPLE_RATE))
    return torch.stft(y, FFT_SIZE, hop, window=window, center=True, return_complex=True).transpose(-1, -2)


def istft(torch, spec, window, length: int):
    hop = int(round(HOP_SECONDS * SAMPLE_RATE))
    return torch.istft(spec.transpose(-1, -2), FFT_SIZE, hop, window=window, center=True, length=length)


def network_input(torch, periodic, noise, feats, mean, std):
    """[B, frames, bins] complex spectra of both parts + [B, frames, FEATURE_DIM] features -> normalised input."""
    logmag = [torch.log(s.abs().clamp_min(LOG_FLOOR)) for s in (periodic, noise)]
    return (torch.cat([*logmag, feats], dim=-1) - mean) / std


def apply_gain(torch, periodic, noise, log_gain):
    return periodic * torch.exp(log_gain[..., :N_BINS]) + noise * torch.exp(log_gain[..., N_BINS:])


@dataclass(frozen=True)
class LoadedRefiner:
    network: object
    config: RefinerConfig
    mean: np.ndarray  # [2 N_BINS + FEATURE_DIM] input statistics from the training corpus
    std: np.ndarray
    digest: str


def default_weights() -> Path:
    return Path(str(resources.files("airap") / "models" / "refiner.pt"))


_load_lock = threading.Lock()


@lru_cache(maxsize=4)
def _load(path: str) -> LoadedRefiner:
    from ..errors import SetupError
    from ..weights import RESTORE, check_weights

    torch = _torch()
    digest = check_weights(Path(path))[:16]
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        cfg = RefinerConfig(**state["config"])
        net = build_network(cfg)
        net.load_state_dict({k: v.float() for k, v in state["model"].items()})
    except Exception as e:  # a truncated or foreign file: torch raises many kinds
        raise SetupError(f"cannot read the refiner weights {path}: {type(e).__name__}; {RESTORE.format(path=path)}") from None
    net.eval()
    return LoadedRefiner(net, cfg, np.asarray(state["mean"], np.float32), np.asarray(state["std"], np.float32), digest)


def load_refiner(path: Path | None = None) -> LoadedRefiner:
    with _load_lock:
        return _load(str(path or default_weights()))


def refine(parts: SourceFilterParts, feats: np.ndarray, sr: int = SAMPLE_RATE,
           refiner: LoadedRefiner | None = None) -> np.ndarray:
    """Our synthesis of ``feats`` ([frames, FEATURE_DIM], 12.5 ms hop), in its two parts
    (:func:`synthesize_parts`) -> the voice with both parts re-weighed per frequency by the refiner."""
    if sr != SAMPLE_RATE:
        raise ValueError(f"the refiner works at {SAMPLE_RATE} Hz, not {sr}")
    n = len(parts.periodic)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    torch = _torch()
    r = refiner or load_refiner()
    window = torch.hann_window(FFT_SIZE)
    with torch.no_grad():
        p, q = (stft(torch, torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), window)
                for x in (parts.periodic, parts.noise))
        f = np.asarray(feats, np.float32)
        f = np.concatenate([f, np.repeat(f[-1:], max(0, len(p) - len(f)), axis=0)])[: len(p)]
        x = network_input(torch, p, q, torch.from_numpy(f), torch.from_numpy(r.mean), torch.from_numpy(r.std))
        out = istft(torch, apply_gain(torch, p, q, r.network(x[None])[0]), window, n)
    return out.numpy().astype(np.float32)


def config_dict(cfg: RefinerConfig) -> dict:
    return asdict(cfg)
