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
    lifted: tuple[bool, ...]  # per syllable: its pitch may be raised too

    @property
    def lifts(self) -> tuple[float, ...]:
        """Per syllable, the strength of its pitch accent: the beat's hits only, in a language that
        takes one (PITCH_ACCENTED_LANGS). A stressed syllable between beats is leaned on by level
        alone: lifting it too flattened the line's tune back (FastSpeech-lite, dev EN verse of
        benchmarks/performance.py: on-beat minus off-beat F0 +0.5 st with every accented syllable lifted)."""
        return tuple(s if hit and up else 0.0 for s, hit, up in zip(self.strengths, self.on_beat, self.lifted))


# Mandarin lines are accented like English ones by level. Session 11 also lifted the whole tone
# contour of a hit syllable (its shape kept), measured then as within Whisper's noise on 35-character
# verses with the Japanese cast (Kokoro dev 11.4 -> 8.6 %, held-out 33.3 -> 30.3 %). With the native
# cast, on 24 dev lines (benchmarks/voices.py's dev verse + benchmarks/data/production/fresh_zh.txt,
# 224 characters; Kokoro, 92 BPM; duke, onyx, nico, river, jolly, xi; a scratch script, one sitting),
# mean CER: accents off 13.0 %, level only 13.9 %, pitch only 16.0 %, both 15.7 %. The lift cost
# words on all six characters (xi 7.1 -> 8.0 %, nico 19.2 -> 28.6 %): a raised tone is heard as
# another tone. So Mandarin syllables are hit by level alone. Held-out (benchmarks/voices.py --set
# heldout, 15 characters): 18.4 -> 18.3 % mean, a wash. Kokoro sings them unaccented even by level
# (KokoroEngine.unaccented_langs, session 28); the fast engine's flatter reading keeps the level hits.
ACCENTED_LANGS = ("en", "zh")
PITCH_ACCENTED_LANGS = ("en",)


def line_accents(line: Line, plan: LinePlan, tpl: FlowTemplate) -> LineAccents:
    if line.main_lang not in ACCENTED_LANGS:
        none = (0.0,) * len(plan.syllables)
        return LineAccents(none, (False,) * len(none), (False,) * len(none))
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
    return LineAccents(tuple(out), on_beat, tuple(syl.lang in PITCH_ACCENTED_LANGS for syl in line.syllables))
