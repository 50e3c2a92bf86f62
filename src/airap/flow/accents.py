"""Accents that lock to the beat: which syllables of a planned line are hit, and how hard.

A rapper hits the syllables that land on the beat (the drums' quarter notes) and leans on stressed
ones between. The flow template scales it (laid-back flatter, double-time punchier). Pure data from
the plan; the acoustic stage turns it into level and pitch (``acoustic.pitch.ACCENT_DB`` and
``ACCENT_SEMITONES``), each heard against the line (``acoustic.pitch.against_line``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..text import Line
from .templates import FlowTemplate
from .types import LinePlan

ON_BEAT = 0.6  # slot strength of a quarter note (catalogue templates: 1 / 0.8 / 0.6 on beats 1 / 3 / 2 and 4)
STRESSED_OFF_BEAT = 0.4  # a stressed English syllable between beats: a lighter hit


@dataclass(frozen=True)
class LineAccents:
    strengths: tuple[float, ...]  # per syllable, 0..~1.25: how hard it is hit (level)
    on_beat: tuple[bool, ...]  # per syllable: it lands on a beat

    @property
    def lifts(self) -> tuple[float, ...]:
        """Per syllable, the strength of its pitch accent: the beat's hits only. A stressed syllable
        between beats is leaned on by level alone: lifting it too flattened the line's tune back
        (FastSpeech-lite, dev EN verse of benchmarks/performance.py: on-beat minus off-beat F0
        +0.5 st with every accented syllable lifted)."""
        return tuple(s if hit else 0.0 for s, hit in zip(self.strengths, self.on_beat))


# Mandarin lines are accented like English ones, by level and by lifting the whole tone contour of
# a hit syllable (its shape, and so its tone, kept). Session 7 left them out: accents then re-pitched
# finished lines with WORLD, and that alone cost Mandarin words. With the engines drawing the lift,
# the verse CER with accents against without (benchmarks/performance.py, session 11, one run):
# Kokoro dev 11.4 -> 8.6 %, held-out 33.3 -> 30.3 %, fresh 30.6 -> 30.6 %; FastSpeech-lite dev
# 28.6 -> 37.1 %, held-out 30.3 -> 30.3 %, fresh 75.0 -> 66.7 %: within the +-3 characters Whisper
# moves on these 35-character verses when only the level of the same audio changes.
ACCENTED_LANGS = ("en", "zh")


def line_accents(line: Line, plan: LinePlan, tpl: FlowTemplate) -> LineAccents:
    if line.main_lang not in ACCENTED_LANGS:
        return LineAccents((0.0,) * len(plan.syllables), (False,) * len(plan.syllables))
    strengths = tpl.strengths()
    on_beat = tuple(bool(strengths[sp.slot % tpl.slots_per_bar] >= ON_BEAT) for sp in plan.syllables)
    out = []
    for syl, hit in zip(line.syllables, on_beat):
        if hit:
            out.append(tpl.accent)
        elif syl.lang == "en" and syl.stress == 1:
            out.append(STRESSED_OFF_BEAT * tpl.accent)
        else:
            out.append(0.0)
    return LineAccents(tuple(out), on_beat)
