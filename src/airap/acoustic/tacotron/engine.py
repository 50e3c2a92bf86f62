"""Our Tacotron engine behind the VocalEngine interface.

natural_timing: free-running masked inference; the attention gives each token's duration (argmax
counting), hence every syllable boundary. sing: the same features are time-warped per phoneme to the
planned durations at the acoustic-feature level (WORLD frames), then vocoded — the model itself has
no duration input, so this is where the flow plan is applied.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path

import numpy as np

from ...align import Alignment, AlignmentHealth, check_health, durations_from_attention, from_durations
from ...errors import NotFoundError, SetupError
from ...text import Line
from ...waveform import HOP_SECONDS, SAMPLE_RATE, world_synthesize
from ..base import SungLine, Voice
from ..kokoro import line_tokens, load_vocab

STEP = 2 * HOP_SECONDS  # one decoder step = r=2 feature frames = 25 ms


def default_weights() -> Path:
    return Path(str(resources.files("airap") / "models" / "tacotron.pt"))


class TacotronModel:
    """Weights + feature statistics + voices; runs masked or unmasked inference."""

    def __init__(self, path: Path | None = None, threads: int = 1):
        try:
            import torch
        except ImportError:
            raise SetupError("the tacotron engine needs PyTorch: bash scripts/setup.sh --train") from None
        from .config import TacotronConfig
        from .model import Tacotron2

        path = Path(path or default_weights())
        if not path.exists():
            raise SetupError(f"no trained tacotron weights at {path}")
        torch.set_num_threads(threads)
        state = torch.load(path, map_location="cpu", weights_only=False)
        self.cfg = TacotronConfig(**state["config"])
        self.model = Tacotron2(self.cfg)
        self.model.load_state_dict({k: v.float() for k, v in state["model"].items()})
        self.model.eval()
        self.mean = np.asarray(state["mean"], np.float32)
        self.std = np.asarray(state["std"], np.float32)
        self.voices: list[str] = list(state.get("voices") or [])
        self.torch = torch

    def infer(self, ids: list[int], speaker: int, use_mask: bool = True):
        """-> (features [frames, dim] de-normalised, attention [steps, tokens], stopped)."""
        torch = self.torch
        torch.manual_seed(0)  # prenet dropout at inference: same text, same voice -> same audio
        feats, attn, stopped = self.model.infer(torch.tensor([ids]), torch.tensor([speaker]), use_mask)
        return feats.numpy() * self.std + self.mean, attn.numpy(), bool(stopped)


def warp_features(feats: np.ndarray, src_bounds: np.ndarray, dst_bounds: np.ndarray) -> np.ndarray:
    """Piecewise-linear time warp: source segment k [src_k, src_k+1) (frames) is stretched onto
    [dst_k, dst_k+1). Continuous dims interpolate; the voicing flag is taken from the nearest frame."""
    n_out = int(np.ceil(dst_bounds[-1]))
    t_out = np.arange(n_out) + 0.5
    src_pos = np.interp(t_out, dst_bounds, src_bounds) - 0.5
    src_pos = np.clip(src_pos, 0, len(feats) - 1)
    lo = np.floor(src_pos).astype(int)
    hi = np.minimum(lo + 1, len(feats) - 1)
    w = (src_pos - lo)[:, None]
    out = (1 - w) * feats[lo] + w * feats[hi]
    out[:, 1] = feats[np.round(src_pos).astype(int), 1]
    return out.astype(np.float32)


class TacotronEngine:
    name = "tacotron"
    sample_rate = SAMPLE_RATE

    def __init__(self, threads: int = 1, weights: Path | None = None):
        self.net = TacotronModel(weights, threads)
        self._vocab = load_vocab()
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # guards the small inference cache (engines are shared by threads)

    def voices(self) -> list[Voice]:
        return [Voice(v, self.name, f"our Tacotron, speaker '{v}' (learnt from the Kokoro voice)") for v in self.net.voices]

    def _speaker(self, voice: str) -> int:
        if voice not in self.net.voices:
            raise NotFoundError(f"unknown voice {voice!r}; voices: {', '.join(self.net.voices)}")
        return self.net.voices.index(voice)

    def _run(self, line: Line, voice: str):
        ids, where = line_tokens(line, self._vocab)
        key = (tuple(ids), voice)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        feats, attn, stopped = self.net.infer(ids, self._speaker(voice))
        steps = durations_from_attention(attn)
        health = check_health(attn, stopped)
        result = (ids, where, feats, steps, health)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > 64:
                self._cache.popitem(last=False)
        return result

    def health(self, line: Line, voice: str) -> AlignmentHealth:
        return self._run(line, voice)[4]

    def _phoneme_durations(self, ids, where, token_seconds):
        phon = [[float(sum(token_seconds[p] for p in pos)) for pos in syl] for syl in where]
        owner = {pos[-1]: i for i, syl in enumerate(where) for pos in syl if pos}
        space = self._vocab[" "]
        for t in range(1, len(ids) - 1):
            if ids[t] == space:
                prev = max((p for p in owner if p < t), default=None)
                if prev is not None:
                    phon[owner[prev]][-1] += float(token_seconds[t])
        return phon

    def natural_timing(self, line: Line, voice: str) -> Alignment:
        ids, where, feats, steps, health = self._run(line, voice)
        secs = steps * STEP
        al = from_durations(self._phoneme_durations(ids, where, secs), [s.vowel_index for s in line.syllables],
                            lead_in=float(secs[0]), total=len(feats) * HOP_SECONDS)
        al.health = health
        return al

    def sing(self, line: Line, voice: str, phoneme_durations: list[list[float]], rests: list[float],
             lead_in: float, tail: float) -> SungLine:
        ids, where, feats, steps, health = self._run(line, voice)
        frames_per_token = steps * 2.0
        src = np.concatenate([[0.0], np.cumsum(frames_per_token)])
        target = np.zeros(len(ids))
        target[0] = lead_in
        target[-1] = tail
        for syl_pos, durs in zip(where, phoneme_durations):
            for pos, d in zip(syl_pos, durs):
                if pos:
                    nat = np.maximum(frames_per_token[pos], 1e-3)
                    target[pos] += d * nat / nat.sum()
        space = self._vocab[" "]
        last_tok = [max((p for ph in syl for p in ph), default=0) for syl in where]
        for syl_end, rest in zip(last_tok, rests):
            t = syl_end + 1
            if t < len(ids) - 1 and ids[t] == space:
                target[t] += rest
            elif t == len(ids) - 1:
                target[t] += rest
        # space tokens keep a sliver of their own sound (breath/closure), taken from the phoneme before
        for t in range(1, len(ids) - 1):
            if ids[t] == space and target[t] == 0:
                take = min(0.02, target[t - 1] * 0.2)
                target[t - 1] -= take
                target[t] = take
        dst = np.concatenate([[0.0], np.cumsum(target)]) / HOP_SECONDS
        warped = warp_features(feats, src, dst)
        audio = world_synthesize(warped)
        al = from_durations(phoneme_durations, [s.vowel_index for s in line.syllables], lead_in=lead_in,
                            total=len(audio) / SAMPLE_RATE, gaps=rests)
        al.health = health
        return SungLine(audio=audio, sample_rate=SAMPLE_RATE, alignment=al)


def manifest(path: Path) -> dict:
    meta = path.with_suffix(".json")
    return json.loads(meta.read_text()) if meta.exists() else {}
