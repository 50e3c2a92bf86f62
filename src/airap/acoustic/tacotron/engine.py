"""Our Tacotron engine behind the VocalEngine interface.

natural_timing: free-running masked inference; the attention gives each token's duration (argmax
counting), hence every syllable boundary. sing: the same features are time-warped per phoneme to the
planned durations at the acoustic-feature level (WORLD frames), then vocoded — the model itself has
no duration input, so this is where the flow plan is applied.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...align import Alignment, AlignmentHealth, check_health, durations_from_attention, from_durations
from ...text import Line
from ...waveform import HOP_SECONDS, SAMPLE_RATE, synthesize, waveform_id
from ...waveform.world import BAP_COLUMN, MGC_COLUMN, envelope_log_power
from ..base import PitchPlan, SungLine
from ..pitch import held_world_vowel, planned_f0
from ..tokens import (
    ACOUSTIC_LEAD,
    OnsetLead,
    inner_rests,
    insert_silences,
    line_tokens,
    load_vocab,
    phoneme_seconds,
    place_onsets,
    token_targets,
    vowel_tokens,
)
from .checkpoint import TacotronModel

STEP = 2 * HOP_SECONDS  # one decoder step = r=2 feature frames = 25 ms


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


@dataclass(frozen=True)
class DecodedLine:
    """One free-running decode of a line (cached: natural timing and singing share it)."""

    ids: list[int]
    where: list[list[list[int]]]  # per syllable, per phoneme: token positions
    features: np.ndarray  # [frames, dim] WORLD features, de-normalised
    steps: np.ndarray  # decoder steps per token, from the attention
    health: AlignmentHealth


class TacotronEngine:
    name = "tacotron"
    sample_rate = SAMPLE_RATE

    def __init__(self, threads: int = 1, weights: Path | None = None):
        self.net = TacotronModel(weights, threads)
        self._vocab = load_vocab()
        self.fingerprint = f"{self.name}:{self.net.digest}:{waveform_id()}"
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # guards the small inference cache (engines are shared by threads)

    def voices(self) -> list[str]:
        return list(self.net.voices)

    def _run(self, line: Line, voice: str) -> DecodedLine:
        ids, where = line_tokens(line, self._vocab)
        key = (tuple(ids), voice)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        feats, attn, stopped = self.net.infer(ids, self.net.speaker(voice))
        steps = durations_from_attention(attn)
        health = check_health(attn, stopped)
        result = DecodedLine(ids, where, feats, steps, health)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > 64:
                self._cache.popitem(last=False)
        return result

    def health(self, line: Line, voice: str) -> AlignmentHealth:
        return self._run(line, voice).health

    def natural_timing(self, line: Line, voice: str) -> Alignment:
        d = self._run(line, voice)
        secs = d.steps * STEP
        al = from_durations(phoneme_seconds(d.ids, d.where, secs, self._vocab[" "]),
                            [s.vowel_index for s in line.syllables], lead_in=float(secs[0]),
                            total=len(d.features) * HOP_SECONDS)
        al.health = d.health
        return al

    def sing(self, line: Line, voice: str, phoneme_durations: list[list[float]], rests: list[float],
             lead_in: float, tail: float) -> SungLine:
        d = self._run(line, voice)
        frames_per_token = d.steps * 2.0
        src = np.concatenate([[0.0], np.cumsum(frames_per_token)])
        target = token_targets(d.ids, d.where, phoneme_durations, rests, lead_in, tail, frames_per_token,
                               self._vocab[" "])
        dst = np.concatenate([[0.0], np.cumsum(target)]) / HOP_SECONDS
        warped = warp_features(d.features, src, dst)
        audio = synthesize(warped)
        cuts = [(dst[t] * HOP_SECONDS - ACOUSTIC_LEAD, rest) for t, rest in inner_rests(d.ids, d.where, rests, self._vocab[" "])]
        audio = insert_silences(audio, SAMPLE_RATE, cuts)
        # our models learned the teacher's timing, its acoustic lead included (measured: vowels sound
        # ~50 ms before their token boundary), so the same correction applies
        al = from_durations(phoneme_durations, [s.vowel_index for s in line.syllables], lead_in=lead_in - ACOUSTIC_LEAD,
                            total=len(audio) / SAMPLE_RATE, gaps=rests)
        al.health = d.health
        return SungLine(audio=audio, sample_rate=SAMPLE_RATE, alignment=al)


def _with_pitch(feats: np.ndarray, fpt: np.ndarray, where, line: Line, pitch: PitchPlan):
    """WORLD features with their log F0 (column 0) and voicing (column 1) drawn from ``pitch``."""
    # a syllable is heard ACOUSTIC_LEAD before its tokens' frames (the lead our models learned from
    # the teacher): its note changes there too
    starts = np.maximum(np.concatenate([[0], np.cumsum(fpt)]) * HOP_SECONDS - ACOUSTIC_LEAD, 0.0)
    first = [min(p for ph in syl for p in ph) for syl in where]
    last = max(p for ph in where[-1] for p in ph)
    bounds = [(starts[a], starts[first[i + 1]] if i + 1 < len(first) else starts[last + 1])
              for i, a in enumerate(first)]
    held = [(starts[min(pos[s.nucleus_index])], starts[max(pos[s.nucleus_index]) + 1])
            for s, pos in zip(line.syllables, where) if pos[s.nucleus_index]]
    f0 = np.exp(feats[:, 0]) * (feats[:, 1] > 0.5)
    new, notes = planned_f0(f0, HOP_SECONDS, bounds, line, pitch, held)
    out = feats.copy()
    voiced = new > 0
    out[voiced, 0] = np.log(new[voiced])
    out[:, 1] = np.where(voiced, np.maximum(out[:, 1], 1.0), out[:, 1])
    if pitch.notes is not None:  # a line's last vowel is held: its energy (c0) and its voicing
        out = held_world_vowel(out, envelope_log_power(out), MGC_COLUMN, BAP_COLUMN, HOP_SECONDS, held)
    return out, notes


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


class FastSpeechEngine:
    """Our non-autoregressive model: the flow plan's durations go straight in (exact to a 12.5 ms
    frame, boundaries rounded cumulatively so errors never add up), no warping needed; a pitch plan
    (notes or accents) is drawn into its WORLD features before the vocoder."""

    name = "fast"
    takes_pitch = True
    sample_rate = SAMPLE_RATE
    # benchmarks/onset_lead.py --engine fast --fit: after a consonant the stray fits 15 ms - 0.24 x its
    # duration, but moving whole 12.5 ms frames by that much made it no better (85.2 -> 83.7 % within
    # 20 ms), so only the vowel-initial syllable's boundary is moved (69 -> 73 %)
    onset_lead: OnsetLead | None = OnsetLead(after_consonant=(0.0, 0.0), after_syllable=(0.0027, 0.039))

    parallel_safe = True  # no state across calls: lines may be sung from several threads at once

    def __init__(self, threads: int = 1, weights: Path | None = None):
        self.net = TacotronModel(weights, threads, kind="fastspeech")
        self._vocab = load_vocab()
        self.fingerprint = f"{self.name}:{self.net.digest}:{waveform_id()}"

    def voices(self) -> list[str]:
        return list(self.net.voices)

    def natural_timing(self, line: Line, voice: str) -> Alignment:
        ids, where = line_tokens(line, self._vocab)
        _, fpt = self.net.infer_durations(ids, self.net.speaker(voice))
        secs = fpt * HOP_SECONDS
        phon = phoneme_seconds(ids, where, secs, self._vocab[" "])
        return from_durations(phon, [s.vowel_index for s in line.syllables], lead_in=float(secs[0]),
                              total=float(secs.sum()))

    def sing(self, line: Line, voice: str, phoneme_durations: list[list[float]], rests: list[float],
             lead_in: float, tail: float, pitch: PitchPlan | None = None) -> SungLine:
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
        notes = None
        if pitch is not None:  # the plan's F0 drawn into the features, before the vocoder
            feats, notes = _with_pitch(feats, fpt, where, line, pitch)
        audio = synthesize(feats)
        inner = inner_rests(ids, where, model_rests, self._vocab[" "])
        bounds_s = np.concatenate([[0], np.cumsum(fpt)]) * HOP_SECONDS
        audio = insert_silences(audio, SAMPLE_RATE, [(bounds_s[t] - ACOUSTIC_LEAD, rest) for t, rest in inner])
        # report where the rounded frames really put each phoneme (within half a 12.5 ms frame of the
        # plan), as heard: the onset correction's shifts taken back out
        secs = fpt * HOP_SECONDS
        realised = phoneme_seconds(ids, where, secs, self._vocab[" "])
        heard = [[r + p - m for r, p, m in zip(rs, ps, ms)]
                 for rs, ps, ms in zip(realised, phoneme_durations, model_durations)]
        inner_at = {t: rest for t, rest in inner}
        for syl, pos, planned, given in zip(heard, where, rests, model_rests):  # a rest lives in the last phoneme's time
            if syl:
                after = max((p for ph in pos for p in ph), default=0) + 1
                syl[-1] += planned - given + inner_at.get(after, 0.0)  # an inserted silence is heard there too
        al = from_durations(heard, vowels, lead_in=float(secs[0]) + lead_in - model_lead_in - ACOUSTIC_LEAD,
                            total=len(audio) / SAMPLE_RATE)
        return SungLine(audio=audio, sample_rate=SAMPLE_RATE, alignment=al, notes=notes)
