"""Accents that lock to the beat: which syllables of a planned line are hit, and how hard.

A rapper hits the syllables that land on the beat (the drums' quarter notes) and leans on stressed
ones between. The flow template scales it (laid-back flatter, double-time punchier). Pure data from
the plan; the acoustic stage turns it into level (see ``acoustic.pitch.ACCENT_DB`` for why not pitch)."""

from __future__ import annotations

from dataclasses import dataclass

from ..text import Line
from .templates import FlowTemplate
from .types import LinePlan

ON_BEAT = 0.6  # slot strength of a quarter note (catalogue templates: 1 / 0.8 / 0.6 on beats 1 / 3 / 2 and 4)
STRESSED_OFF_BEAT = 0.4  # a stressed English syllable between beats: a lighter hit


@dataclass(frozen=True)
class LineAccents:
    strengths: tuple[float, ...]  # per syllable, 0..~1.25: how hard it is hit


# Mandarin lines are not accented: level accents raised the verse CER in 3 of 4 Mandarin renders of
# benchmarks/performance.py (fast dev 31 -> 40 %, held-out 24 -> 27 %; Kokoro held-out 30 -> 36 %)
# and left every English one unchanged. A syllable-timed, tonal line read with uneven levels is
# heard worse; a Mandarin accent waits for pitch accents that do not cost words.
ACCENTED_LANGS = ("en",)


def line_accents(line: Line, plan: LinePlan, tpl: FlowTemplate) -> LineAccents:
    if line.main_lang not in ACCENTED_LANGS:
        return LineAccents((0.0,) * len(plan.syllables))
    strengths = tpl.strengths()
    out = []
    for syl, sp in zip(line.syllables, plan.syllables):
        if strengths[sp.slot % tpl.slots_per_bar] >= ON_BEAT:
            out.append(tpl.accent)
        elif syl.lang == "en" and syl.stress == 1:
            out.append(STRESSED_OFF_BEAT * tpl.accent)
        else:
            out.append(0.0)
    return LineAccents(tuple(out))
