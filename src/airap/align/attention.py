"""Attention / duration -> boundaries, and the alignment health checks."""

from __future__ import annotations

import numpy as np

from .types import Alignment, AlignmentHealth, SyllableSpan


def from_durations(phoneme_durations: list[list[float]], vowel_indices: list[int], lead_in: float,
                   total: float | None = None, gaps: list[float] | None = None) -> Alignment:
    """Per-syllable phoneme durations (s) laid end to end after ``lead_in`` (with ``gaps[i]`` s of
    silence after syllable i) -> Alignment."""
    spans: list[SyllableSpan] = []
    t, prev_gap = lead_in, 0.0
    gaps = gaps or [0.0] * len(phoneme_durations)
    for durs, vi, gap in zip(phoneme_durations, vowel_indices, gaps):
        if spans:
            t += prev_gap
        prev_gap = gap
        start = t
        onset = start + float(sum(durs[:vi]))
        t = start + float(sum(durs))
        spans.append(SyllableSpan(start=start, vowel_onset=onset, end=t, phoneme_durations=tuple(durs)))
    t += gaps[-1] if gaps else 0.0
    return Alignment(syllables=spans, duration=float(total if total is not None else t))


def durations_from_attention(attention: np.ndarray) -> np.ndarray:
    """Attention [decoder_steps, tokens] -> decoder steps per token (argmax counting, FastSpeech §3.3).
    Steps are given to the argmax token; the result sums to the number of steps."""
    steps, tokens = attention.shape
    return np.bincount(attention.argmax(axis=1), minlength=tokens).astype(np.int64)


def check_health(attention: np.ndarray, stopped: bool = True, expected_steps: int | None = None,
                 ignore_last: int = 1) -> AlignmentHealth:
    """Skipped tokens (never the argmax), repeated tokens (argmax returns after leaving), backward
    steps, stop failure, length ratio and focus rate (mean max weight per step)."""
    path = attention.argmax(axis=1)
    tokens = attention.shape[1]
    seen = np.zeros(tokens, bool)
    seen[path] = True
    skipped = [int(i) for i in np.flatnonzero(~seen) if i < tokens - ignore_last]
    repeated, left = [], set()
    backward = 0
    for prev, cur in zip(path, path[1:]):
        if cur < prev:
            backward += 1
        if cur != prev:
            left.add(int(prev))
            if int(cur) in left and int(cur) not in repeated:
                repeated.append(int(cur))
    ratio = len(path) / expected_steps if expected_steps else 1.0
    return AlignmentHealth(skipped_tokens=skipped, repeated_tokens=repeated, backward_steps=backward,
                           stopped=stopped, length_ratio=float(ratio),
                           focus_rate=float(attention.max(axis=1).mean()) if len(path) else 0.0)
