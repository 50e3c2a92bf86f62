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
from ...waveform import HOP_SECONDS, SAMPLE_RATE, synthesize
from ..base import SungLine, Voice
from ..kokoro import ACOUSTIC_LEAD, load_vocab
from ..tokens import OnsetLead, line_tokens, phoneme_seconds, place_onsets, token_targets, vowel_tokens

STEP = 2 * HOP_SECONDS  # one decoder step = r=2 feature frames = 25 ms


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
        state = torch.load(path, map_location="cpu", weights_only=False)
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
        from .corpus import CorpusRecipe

        self.voices: list[str] = list(state.get("voices") or CorpusRecipe().voices)
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

    def infer_durations(self, ids: list[int], speaker: int, frames_per_token: np.ndarray | None = None):
        """Non-autoregressive model: -> (features [frames, dim], feature frames per token)."""
        torch = self.torch
        fpt = None if frames_per_token is None else torch.as_tensor(np.asarray(frames_per_token, dtype=np.int64)[None])
        feats, fpt = self.model.infer(torch.tensor([ids]), torch.tensor([speaker]), fpt)
        return feats.numpy() * self.std + self.mean, fpt.numpy()


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

    def _run(self, line: Line, voice: str):
        ids, where = line_tokens(line, self._vocab)
        key = (tuple(ids), voice)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        feats, attn, stopped = self.net.infer(ids, self.net.speaker(voice))
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

    def natural_timing(self, line: Line, voice: str) -> Alignment:
        ids, where, feats, steps, health = self._run(line, voice)
        secs = steps * STEP
        al = from_durations(phoneme_seconds(ids, where, secs, self._vocab[" "]), [s.vowel_index for s in line.syllables],
                            lead_in=float(secs[0]), total=len(feats) * HOP_SECONDS)
        al.health = health
        return al

    def sing(self, line: Line, voice: str, phoneme_durations: list[list[float]], rests: list[float],
             lead_in: float, tail: float) -> SungLine:
        ids, where, feats, steps, health = self._run(line, voice)
        frames_per_token = steps * 2.0
        src = np.concatenate([[0.0], np.cumsum(frames_per_token)])
        target = token_targets(ids, where, phoneme_durations, rests, lead_in, tail, frames_per_token, self._vocab[" "])
        dst = np.concatenate([[0.0], np.cumsum(target)]) / HOP_SECONDS
        warped = warp_features(feats, src, dst)
        audio = synthesize(warped)
        # our models learned the teacher's timing, its acoustic lead included (measured: vowels sound
        # ~50 ms before their token boundary), so the same correction applies
        al = from_durations(phoneme_durations, [s.vowel_index for s in line.syllables], lead_in=lead_in - ACOUSTIC_LEAD,
                            total=len(audio) / SAMPLE_RATE, gaps=rests)
        al.health = health
        return SungLine(audio=audio, sample_rate=SAMPLE_RATE, alignment=al)


def _best_phase(target: np.ndarray, where: list[list[list[int]]], vowels: list[int]) -> float:
    """Frames are 12.5 ms, slots fall anywhere: each vowel start rounds to its nearest frame. A
    lead-in longer by a fraction of a frame moves every boundary's rounding at once; pick the fraction
    (in 1/25 frame steps) that leaves the vowel starts' rounding errors the narrowest spread, since the
    render places the line by one of them and the others then carry the difference."""
    starts = np.concatenate([[0.0], np.cumsum(target)]) / HOP_SECONDS
    at = starts[[p for p in vowel_tokens(where, vowels) if p is not None]]
    if len(at) < 2:
        return 0.0
    phases = np.arange(25) / 25
    err = np.round(at[None] + phases[:, None]) - (at[None] + phases[:, None])
    return float(phases[np.argmin(err.max(axis=1) - err.min(axis=1))])


def manifest(path: Path) -> dict:
    meta = path.with_suffix(".json")
    return json.loads(meta.read_text()) if meta.exists() else {}


class FastSpeechEngine:
    """Our non-autoregressive model: the flow plan's durations go straight in (exact to a 12.5 ms
    frame, boundaries rounded cumulatively so errors never add up), no warping needed."""

    name = "fast"
    sample_rate = SAMPLE_RATE
    # benchmarks/onset_lead.py --engine fast --fit: after a consonant the stray fits 15 ms - 0.24 x its
    # duration, but moving whole 12.5 ms frames by that much made it no better (85.2 -> 83.7 % within
    # 20 ms), so only the vowel-initial syllable's boundary is moved (69 -> 73 %)
    onset_lead: OnsetLead | None = OnsetLead(after_consonant=(0.0, 0.0), after_syllable=(0.0027, 0.039))

    def __init__(self, threads: int = 1, weights: Path | None = None):
        self.net = TacotronModel(weights, threads, kind="fastspeech")
        self._vocab = load_vocab()

    def voices(self) -> list[Voice]:
        return [Voice(v, self.name, f"our FastSpeech-lite, speaker '{v}'") for v in self.net.voices]

    def natural_timing(self, line: Line, voice: str) -> Alignment:
        ids, where = line_tokens(line, self._vocab)
        _, fpt = self.net.infer_durations(ids, self.net.speaker(voice))
        secs = fpt * HOP_SECONDS
        phon = phoneme_seconds(ids, where, secs, self._vocab[" "])
        return from_durations(phon, [s.vowel_index for s in line.syllables], lead_in=float(secs[0]),
                              total=float(secs.sum()))

    def sing(self, line: Line, voice: str, phoneme_durations: list[list[float]], rests: list[float],
             lead_in: float, tail: float) -> SungLine:
        ids, where = line_tokens(line, self._vocab)
        speaker = self.net.speaker(voice)
        _, natural = self.net.infer_durations(ids, speaker)
        vowels = [s.vowel_index for s in line.syllables]
        model_durations, model_rests, model_lead_in = place_onsets(phoneme_durations, vowels, rests, lead_in,
                                                                   self.onset_lead)
        target = token_targets(ids, where, model_durations, model_rests, model_lead_in, tail, natural,
                               self._vocab[" "])
        target[0] += _best_phase(target, where, vowels) * HOP_SECONDS
        bounds = np.round(np.cumsum(target) / HOP_SECONDS).astype(int)  # cumulative: no drift
        fpt = np.diff(np.concatenate([[0], bounds]))
        feats, _ = self.net.infer_durations(ids, speaker, fpt)
        audio = synthesize(feats)
        # report where the rounded frames really put each phoneme (within half a 12.5 ms frame of the
        # plan), as heard: the onset correction's shifts taken back out
        secs = fpt * HOP_SECONDS
        realised = phoneme_seconds(ids, where, secs, self._vocab[" "])
        heard = [[r + p - m for r, p, m in zip(rs, ps, ms)]
                 for rs, ps, ms in zip(realised, phoneme_durations, model_durations)]
        for syl, planned, given in zip(heard, rests, model_rests):  # a rest lives in the last phoneme's time
            if syl:
                syl[-1] += planned - given
        al = from_durations(heard, vowels, lead_in=float(secs[0]) + lead_in - model_lead_in - ACOUSTIC_LEAD,
                            total=len(audio) / SAMPLE_RATE)
        return SungLine(audio=audio, sample_rate=SAMPLE_RATE, alignment=al)
