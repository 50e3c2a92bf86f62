"""Notes for sung lines: the sheet's own, or a melody composed on the beat's harmony.

The composer's rules are the ones a topline writer starts from: chord tones on the strong beats,
stepwise motion between them, an arch (up through the first half of the line, down to the end), the
line ending on the chord's root or third, everything within a tenth, and a repeated line sung to the
same melody. Mandarin words are set as Mandopop lyricists set them: the melody moves from one
syllable to the next the way their tones do (up into a high tone from a low one, down into the low
third tone, level between two high ones), so the tone is heard in the tune. Pure data: the seed and
the line's text pick every choice."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ..text import Line, Syllable
from .templates import FlowTemplate
from .types import LinePlan

MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
RANGE_SEMITONES = 16  # a tenth: what an untrained voice sings comfortably
MAX_LEAP = 7  # semitones: a chord tone further than a fifth away is not taken in one step
NEIGHBOUR = 0.25  # share of notes that turn against the arch (a neighbour tone: the line does not only climb)
STRONG = 0.6  # slot strength of a beat (catalogue templates: downbeat 1, beat 3 0.8, beats 2/4 0.6)
HARMONY_STEPS = {"third": 2, "sixth": 5}  # scale steps above the melody
# A Mandarin tone's height for melody setting, on Chao's 1-5 scale: 1st high level (55), 2nd rising to
# high (35: heard high), 3rd low (21(4)), 4th falling from high (51: its mean), neutral low-mid.
# Consecutive syllables whose heights differ by at least TONE_STEP move the melody the same way: a 3rd
# tone against any other, 4th -> 1st, 1st -> 4th; 1st <-> 2nd and 2nd <-> 4th are level (either way).
TONE_HEIGHT = {1: 5.0, 2: 4.0, 3: 1.0, 4: 3.5, 5: 2.5}
TONE_STEP = 1.5


@dataclass(frozen=True)
class Harmony:
    """The key and chords a melody is written on: the minor key on ``root`` (a MIDI note) and one
    chord (a scale degree) per bar, cycled from bar 0; an empty progression is the tonic throughout
    (an upload, whose chords are not known)."""

    root: int
    progression: tuple[int, ...] = ()

    def scale(self, lo: int, hi: int) -> list[int]:
        return [n for n in range(lo, hi + 1) if (n - self.root) % 12 in MINOR_SCALE]

    def chord(self, bar: int) -> set[int]:
        """Pitch classes of the bar's triad."""
        degree = self.progression[bar % len(self.progression)] if self.progression else 0
        return {(self.root + MINOR_SCALE[(degree + k) % 7]) % 12 for k in (0, 2, 4)}

    def chord_root_third(self, bar: int) -> set[int]:
        degree = self.progression[bar % len(self.progression)] if self.progression else 0
        return {(self.root + MINOR_SCALE[(degree + k) % 7]) % 12 for k in (0, 2)}


def tone_motion(before: Syllable, after: Syllable) -> int:
    """+1 / -1 when the melody should rise / fall from ``before`` to ``after`` so that their Mandarin
    tones are heard in it, 0 when either way will do (similar heights, or not two Mandarin syllables)."""
    if before.lang != "zh" or after.lang != "zh" or before.tone not in TONE_HEIGHT or after.tone not in TONE_HEIGHT:
        return 0
    rise = TONE_HEIGHT[after.tone] - TONE_HEIGHT[before.tone]
    return 0 if abs(rise) < TONE_STEP else (1 if rise > 0 else -1)


def _toward(cands: list[int], prev: int, up: bool, least: int = 1) -> list[int]:
    """The candidates at least ``least`` semitones above (``up``) or below ``prev``."""
    return [t for t in cands if (t - prev if up else prev - t) >= least]


def compose_line(line: Line, plan: LinePlan, tpl: FlowTemplate, harmony: Harmony, seed: int = 0) -> tuple[int, ...]:
    """One MIDI note per syllable of ``line`` on its plan. The same text and seed give the same melody."""
    rng = np.random.default_rng([seed, zlib.crc32(line.text.encode("utf-8"))])
    lo = harmony.root + 12 - 2  # around the octave above the key's root; the voice's register is fitted later
    scale = harmony.scale(lo, lo + RANGE_SEMITONES)
    strengths = tpl.strengths()
    sylls = line.syllables
    n = len(plan.syllables)
    notes: list[int] = []
    prev = scale[len(scale) // 2]
    for i, sp in enumerate(plan.syllables):
        bar = plan.first_bar + sp.slot // tpl.slots_per_bar
        strong = strengths[sp.slot % tpl.slots_per_bar] >= STRONG
        up = i < n / 2 if rng.random() > NEIGHBOUR else i >= n / 2  # the arch, now and then a neighbour tone
        motion = tone_motion(sylls[i - 1], sylls[i]) if i else 0
        if motion:
            up = motion > 0
        tones = [t for t in scale if t % 12 in harmony.chord(bar)]
        if i == n - 1:  # the line resolves on the chord's root or third (the tones' way, when they ask for one)
            targets = [t for t in scale if t % 12 in harmony.chord_root_third(bar)]
            if motion:  # none within a leap that way: another chord tone that way, else the same note
                near = [t for t in targets + tones if abs(t - prev) <= MAX_LEAP]
                targets = (_toward([t for t in targets if t in near], prev, up) or _toward(near, prev, up)
                           or [prev])
            note = min(targets, key=lambda t: (abs(t - prev), t))
        elif strong or i == 0:  # a chord tone, the nearest one the way the arch (or the tones) go
            ahead = [t for t in _toward(tones, prev, up) if abs(t - prev) <= MAX_LEAP]
            if ahead:
                note = min(ahead, key=lambda t: abs(t - prev))
            else:  # none that way: the nearest chord tone, or the same note if that would go against the tones
                note = prev if motion else min(tones, key=lambda t: abs(t - prev))
        else:  # a step or two along the scale
            k = min(range(len(scale)), key=lambda j: abs(scale[j] - prev))
            step = int(rng.choice([1, 1, 2])) * (1 if up else -1)
            if motion:  # at the edge of the range: a smaller step, or the same note, never against the tones
                step = int(np.clip(k + step, 0, len(scale) - 1)) - k
            elif not 0 <= k + step < len(scale):
                step = -step
            note = scale[int(np.clip(k + step, 0, len(scale) - 1))]
        notes.append(int(note))
        prev = note
    return tuple(notes)


def harmony_part(notes: tuple[int, ...], harmony: Harmony, interval: str) -> tuple[int, ...]:
    """``notes`` a diatonic third or sixth higher in the key (a note off the scale moves by the major interval)."""
    steps = HARMONY_STEPS[interval]
    out = []
    for n in notes:
        if (n - harmony.root) % 12 in MINOR_SCALE:
            scale = harmony.scale(n, n + 12)
            out.append(scale[steps])
        else:
            out.append(n + (4 if interval == "third" else 9))
    return tuple(out)
