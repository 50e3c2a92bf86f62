"""The vocal track: each sung line laid on the song's timeline where its plan says, and the timed
lyrics read off where every syllable really went."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import signal

from . import kernels
from .types import TimedLine, TimedSyllable, TimedWord

# A crew line (several characters in unison): each extra voice a few cents off the lead and panned
# around it, a little quieter, so the lead stays in the middle and the words stay clear.
CREW_DETUNE = (0.08, -0.08, 0.12, -0.12)  # semitones per extra voice (8-12 cents: a natural unison)
CREW_PAN = (-0.55, 0.55, -0.3, 0.3)  # -1 left .. 1 right
CREW_GAIN_DB = -3.0
# A doubled line: the same character's second and third takes, a few cents off, a few ms late, panned
# wide and 6 dB down: the lead stays clear in the centre, the hook gets wider and thicker.
DOUBLE_DETUNE = (0.1, -0.1)  # semitones
DOUBLE_DELAY_S = (0.014, 0.023)
DOUBLE_PAN = (-0.8, 0.8)
DOUBLE_GAIN_DB = -10.0
# A harmony part (a third or sixth above a sung line): the same character, panned a little off the
# lead and under it, so the tune stays the lead's.
HARMONY_PAN = 0.35
HARMONY_GAIN_DB = -7.0


@dataclass(frozen=True)
class PlacedLine:
    audio: np.ndarray  # float32 mono at the track's rate
    start: int  # sample where it begins in the track
    timed: TimedLine
    pan: float = 0.0  # -1 left .. 1 right; 0 = centre
    gain: float = 1.0
    double: bool = False  # a crew voice under the lead (its timings are the lead's)


def resample(y: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    if sr_from == sr_to:
        return y
    g = np.gcd(sr_from, sr_to)
    return signal.resample_poly(y, sr_to // g, sr_from // g).astype(np.float32)


def place_line(line, line_plan, sung, sample_rate: int, voice: str = "", crew: tuple[str, ...] = (),
               crew_index: int | None = None, notes: tuple[int, ...] | None = None,
               accents: tuple[float, ...] | None = None) -> PlacedLine:
    """A sung line (``acoustic.SungLine``) of ``line`` (``text.Line``) planned by ``line_plan``
    (``flow.LinePlan``) -> its audio at ``sample_rate`` and the sample it starts on. Engines with
    whole-frame durations miss each slot by a little: the line is centred on its misses (the largest
    early and late miss are equal), so no syllable is off by more than half the spread."""
    audio = resample(sung.audio, sung.sample_rate, sample_rate)
    misses = [sp.slot_time - span.vowel_onset for sp, span in zip(line_plan.syllables, sung.alignment.syllables)]
    start = int(round((max(misses) + min(misses)) / 2 * sample_rate))
    timed = timed_line(line, line_plan, sung.alignment, start / sample_rate, voice, crew, notes, accents)
    if start < 0:  # a line planned to start before the track does loses its leading silence
        audio, start = audio[-start:], 0
    if crew_index is None:
        return PlacedLine(audio=audio, start=start, timed=timed)
    k = crew_index % len(CREW_PAN)
    return PlacedLine(audio=audio, start=start, timed=timed, pan=CREW_PAN[k], gain=10 ** (CREW_GAIN_DB / 20),
                      double=True)


def double_line(line, line_plan, sung, sample_rate: int, voice: str, k: int) -> PlacedLine:
    """The ``k``-th doubled take of a line (``sung``: the character singing it again, detuned by
    ``DOUBLE_DETUNE[k]``), placed like the lead and then ``DOUBLE_DELAY_S[k]`` late."""
    placed = place_line(line, line_plan, sung, sample_rate, voice)
    return replace(placed, start=placed.start + int(round(DOUBLE_DELAY_S[k] * sample_rate)), pan=DOUBLE_PAN[k],
                   gain=10 ** (DOUBLE_GAIN_DB / 20), double=True)


def vocal_track(placed: list[PlacedLine], n_samples: int) -> np.ndarray:
    """Sum the placed lines into one track of ``n_samples``: mono [n] while every line is centred,
    else stereo [n, 2] (constant-power pan, scaled so the centre keeps unit gain on each side)."""
    stereo = any(p.pan for p in placed)
    vocal = np.zeros((n_samples, 2) if stereo else n_samples, np.float32)
    frames = vocal.reshape(n_samples, -1)
    for p in placed:
        if p.start >= n_samples:
            continue
        angle = (p.pan + 1) * np.pi / 4
        left, right = (p.gain * np.sqrt(2) * np.cos(angle), p.gain * np.sqrt(2) * np.sin(angle)) if stereo else (p.gain, 0.0)
        kernels.add_panned(frames, np.ascontiguousarray(p.audio, np.float32), p.start, left, right)
    return vocal


def lead_span(placed: list[PlacedLine], a: int, b: int) -> np.ndarray:
    """The mono sum of ``placed`` over samples a..b-1 of the track (no song-sized array for a short cut)."""
    out = np.zeros(max(0, b - a), np.float32)
    for p in placed:
        lo, hi = max(a, p.start), min(b, p.start + len(p.audio))
        if lo < hi:
            out[lo - a:hi - a] += p.gain * p.audio[lo - p.start:hi - p.start]
    return out


def harmony_line(lead: PlacedLine, sung, sample_rate: int) -> PlacedLine:
    """A harmony part (``sung``: the lead's reading on other notes) where the lead is, under it."""
    audio = resample(sung.audio, sung.sample_rate, sample_rate)
    audio = audio[max(0, len(audio) - len(lead.audio)):]  # cut like the lead if it started before the track
    return replace(lead, audio=audio, pan=HARMONY_PAN, gain=10 ** (HARMONY_GAIN_DB / 20), double=True)


def timed_line(line, line_plan, alignment, shift: float, voice: str = "", crew: tuple[str, ...] = (),
               notes: tuple[int, ...] | None = None, accents: tuple[float, ...] | None = None) -> TimedLine:
    """Timed lyrics of one line: the engine's syllable spans moved by ``shift`` s (where the line's
    audio starts), with each syllable's planned slot beside it."""
    n = len(line_plan.syllables)
    spans = iter(zip(alignment.syllables, line_plan.syllables, notes or [None] * n, accents or [0.0] * n))
    words = []
    for w in line.words:
        sylls = []
        for syl in w.syllables:
            span, sp, note, accent = next(spans)
            sylls.append(TimedSyllable(text=syl.text, phonemes=syl.phonemes, start=span.start + shift,
                                       end=span.end + shift, vowel_onset=span.vowel_onset + shift,
                                       slot_time=sp.slot_time, note=note, accent=accent))
        words.append(TimedWord(text=w.text, start=sylls[0].start, end=sylls[-1].end, syllables=tuple(sylls)))
    return TimedLine(text=line.text, start=words[0].start, end=words[-1].end, words=tuple(words),
                     section=line.section, flow=line_plan.template, voice=voice, crew=crew)
