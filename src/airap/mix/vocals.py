"""The vocal track: each sung line laid on the song's timeline where its plan says, and the timed
lyrics read off where every syllable really went."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from .types import TimedLine, TimedSyllable, TimedWord


@dataclass(frozen=True)
class PlacedLine:
    audio: np.ndarray  # float32 mono at the track's rate
    start: int  # sample where it begins in the track
    timed: TimedLine


def resample(y: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    if sr_from == sr_to:
        return y
    g = np.gcd(sr_from, sr_to)
    return signal.resample_poly(y, sr_to // g, sr_from // g).astype(np.float32)


def place_line(line, line_plan, sung, sample_rate: int) -> PlacedLine:
    """A sung line (``acoustic.SungLine``) of ``line`` (``text.Line``) planned by ``line_plan``
    (``flow.LinePlan``) -> its audio at ``sample_rate`` and the sample it starts on. Engines with
    whole-frame durations miss each slot by a little: the line is centred on its misses (the largest
    early and late miss are equal), so no syllable is off by more than half the spread."""
    audio = resample(sung.audio, sung.sample_rate, sample_rate)
    misses = [sp.slot_time - span.vowel_onset for sp, span in zip(line_plan.syllables, sung.alignment.syllables)]
    start = int(round((max(misses) + min(misses)) / 2 * sample_rate))
    timed = timed_line(line, line_plan, sung.alignment, start / sample_rate)
    if start < 0:  # a line planned to start before the track does loses its leading silence
        audio, start = audio[-start:], 0
    return PlacedLine(audio=audio, start=start, timed=timed)


def vocal_track(placed: list[PlacedLine], n_samples: int) -> np.ndarray:
    """Sum the placed lines into one mono track of ``n_samples``."""
    vocal = np.zeros(n_samples, np.float32)
    for p in placed:
        end = min(n_samples, p.start + len(p.audio))
        vocal[p.start:end] += p.audio[: end - p.start]
    return vocal


def timed_line(line, line_plan, alignment, shift: float) -> TimedLine:
    """Timed lyrics of one line: the engine's syllable spans moved by ``shift`` s (where the line's
    audio starts), with each syllable's planned slot beside it."""
    spans = iter(zip(alignment.syllables, line_plan.syllables))
    words = []
    for w in line.words:
        sylls = []
        for syl in w.syllables:
            span, sp = next(spans)
            sylls.append(TimedSyllable(text=syl.text, phonemes=syl.phonemes, start=span.start + shift,
                                       end=span.end + shift, vowel_onset=span.vowel_onset + shift,
                                       slot_time=sp.slot_time))
        words.append(TimedWord(text=w.text, start=sylls[0].start, end=sylls[-1].end, syllables=tuple(sylls)))
    return TimedLine(text=line.text, start=words[0].start, end=words[-1].end, words=tuple(words),
                     section=line.section, flow=line_plan.template)
