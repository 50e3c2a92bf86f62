"""Our models' shipped weights: loading a checkpoint (weights, feature statistics, speakers) and
running the network on token ids. Used by the engines and by training's evaluation."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from ...catalog import OWN_MODEL_SPEAKERS
from ...errors import NotFoundError, SetupError
from ...weights import RESTORE, check_weights
from .spread import Spread, restore_spread


def default_weights(kind: str = "tacotron") -> Path:
    return Path(str(resources.files("airap") / "models" / f"{kind}.pt"))


class TacotronModel:
    """Weights + feature statistics + voices of one of our models (kind 'tacotron' or 'fastspeech')."""

    def __init__(self, path: Path | None = None, threads: int = 1, kind: str = "tacotron", mask_ahead: int | None = None):
        try:
            import torch
        except ImportError:
            raise SetupError("the tacotron engine needs PyTorch: bash scripts/setup.sh --train") from None
        from .config import TacotronConfig, config_for
        from .model import FastSpeechLite, Tacotron2

        path = Path(path or default_weights(kind))
        if not path.exists():
            raise SetupError(f"no trained {kind} weights at {path}")
        torch.set_num_threads(threads)
        self.digest = check_weights(path)[:16]  # also names the weights in kept takes
        try:
            state = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as e:  # a truncated or foreign file: torch raises many kinds
            raise SetupError(f"cannot read the {kind} weights {path}: {type(e).__name__}; {RESTORE.format(path=path)}") from None
        self.kind = state.get("kind", "tacotron")
        # the inference window is an inference setting, not part of what was trained
        from dataclasses import replace

        self.cfg = config_for(self.kind, state["config"])
        if self.kind == "tacotron":
            self.cfg = replace(self.cfg, mask_ahead=TacotronConfig.mask_ahead if mask_ahead is None else mask_ahead,
                               max_dwell_scale=TacotronConfig.max_dwell_scale, max_dwell_extra=TacotronConfig.max_dwell_extra)
        self.model = (FastSpeechLite if self.kind == "fastspeech" else Tacotron2)(self.cfg)
        self.model.load_state_dict({k: v.float() for k, v in state["model"].items()})
        self.model.eval()
        self.mean = np.asarray(state["mean"], np.float32)
        self.std = np.asarray(state["std"], np.float32)
        self.voices: list[str] = list(state.get("voices") or OWN_MODEL_SPEAKERS)
        # the teacher's spread of envelope and pitch over the model's (spread.py), measured at export
        self.spread: Spread | None = Spread.from_state(state)
        self.torch = torch

    def speaker(self, voice: str) -> int:
        if voice not in self.voices:
            raise NotFoundError(f"unknown voice {voice!r}; voices: {', '.join(self.voices)}")
        return self.voices.index(voice)

    def infer(self, ids: list[int], speaker: int, use_mask: bool = True):
        """-> (features [frames, dim] de-normalised, attention [steps, tokens], stopped)."""
        torch = self.torch
        torch.manual_seed(0)  # prenet dropout at inference: same text, same voice -> same audio
        feats, attn, stopped = self.model.infer(torch.tensor([ids]), torch.tensor([speaker]), use_mask)
        return feats.numpy() * self.std + self.mean, attn.numpy(), bool(stopped)

    def infer_durations(self, ids: list[int], speaker: int, frames_per_token: np.ndarray | None = None,
                        restore: bool = True):
        """Non-autoregressive model: -> (features [frames, dim], feature frames per token). ``restore``:
        the spread of envelope and pitch restored when the weights carry its ratios (spread.py)."""
        torch = self.torch
        fpt = None if frames_per_token is None else torch.as_tensor(np.asarray(frames_per_token, dtype=np.int64)[None])
        feats, fpt = self.model.infer(torch.tensor([ids]), torch.tensor([speaker]), fpt)
        feats = feats.numpy() * self.std + self.mean
        if restore and self.spread is not None:
            feats = restore_spread(feats, self.spread)
        return feats, fpt.numpy()
