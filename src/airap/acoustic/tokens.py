"""The token layout every engine shares: Kokoro's symbol ids for a Line, which tokens belong to which
phoneme of which syllable, and the conversions between phoneme and token durations."""

from __future__ import annotations

import numpy as np

from ..errors import SetupError
from ..text import Line

MAX_TOKENS = 500


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
