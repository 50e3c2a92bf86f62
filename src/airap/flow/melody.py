"""Notes for sung lines: the sheet's own, or a melody composed on the beat's harmony.

The composer's rules are the ones a topline writer starts from: chord tones on the strong beats,
stepwise motion between them, an arch (up through the first half of the line, down to the end), the
line ending on the chord's root or third, everything within an octave, and a repeated line sung to the
same melody. Pure data: the seed and the line's text pick every choice."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ..text import Line
from .templates import FlowTemplate
from .types import LinePlan

MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
# An octave, inside the tenth an untrained voice sings comfortably: the tenth (16) cost words, the
# octave's flatter lines closer to speech (sung dev lines, session 24, Kokoro, Whisper: rose 11.9 ->
# 9.6 %, xi 12.7 -> 4.2 %, mei 25.4 -> 12.7 %, adam 5.9 -> 7.0 %).
RANGE_SEMITONES = 12
MAX_LEAP = 7  # semitones: a chord tone further than a fifth away is not taken in one step
NEIGHBOUR = 0.25  # share of notes that turn against the arch (a neighbour tone: the line does not only climb)
STRONG = 0.6  # slot strength of a beat (catalogue templates: downbeat 1, beat 3 0.8, beats 2/4 0.6)
HARMONY_STEPS = {"third": 2, "sixth": 5}  # scale steps above the melody


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


def compose_line(line: Line, plan: LinePlan, tpl: FlowTemplate, harmony: Harmony, seed: int = 0) -> tuple[int, ...]:
    """One MIDI note per syllable of ``line`` on its plan. The same text and seed give the same melody."""
    rng = np.random.default_rng([seed, zlib.crc32(line.text.encode("utf-8"))])
    lo = harmony.root + 12 - 2  # around the octave above the key's root; the voice's register is fitted later
    scale = harmony.scale(lo, lo + RANGE_SEMITONES)
    strengths = tpl.strengths()
    n = len(plan.syllables)
    notes: list[int] = []
    prev = scale[len(scale) // 2]
    for i, sp in enumerate(plan.syllables):
        bar = plan.first_bar + sp.slot // tpl.slots_per_bar
        strong = strengths[sp.slot % tpl.slots_per_bar] >= STRONG
        up = i < n / 2 if rng.random() > NEIGHBOUR else i >= n / 2  # the arch, now and then a neighbour tone
        if i == n - 1:  # the line resolves on the chord's root or third
            targets = [t for t in scale if t % 12 in harmony.chord_root_third(bar)]
            note = min(targets, key=lambda t: (abs(t - prev), t))
        elif strong or i == 0:  # a chord tone, the nearest one the way the arch goes
            tones = [t for t in scale if t % 12 in harmony.chord(bar)]
            ahead = [t for t in tones if (t > prev if up else t < prev) and abs(t - prev) <= MAX_LEAP]
            note = min(ahead, key=lambda t: abs(t - prev)) if ahead else min(tones, key=lambda t: abs(t - prev))
        else:  # a step or two along the scale
            k = min(range(len(scale)), key=lambda j: abs(scale[j] - prev))
            step = int(rng.choice([1, 1, 2])) * (1 if up else -1)
            if not 0 <= k + step < len(scale):
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
