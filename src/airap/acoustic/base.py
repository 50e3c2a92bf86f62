"""The vocal engine interface every acoustic model implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..align import Alignment
from ..text import Line

# Silence sung before and after each line (at least; an engine may use its voice's own longer lead-in).
# Kokoro was trained with ~0.4 s of leading silence: with less it swallows the first phoneme (heard on
# the demo verses); our models learned the same.
LINE_LEAD_IN = 0.3
LINE_TAIL = 0.15


@dataclass(frozen=True)
class PitchPlan:
    """What a line's pitch does, per syllable: ``notes`` (MIDI, sung; fitted to the voice's register
    by octaves) or ``lifts`` (semitones over the voice's own contour: accents). ``transpose``: the
    semitones the line is shifted after the engine (a character's timbre), so notes are aimed that
    much lower; ``detune``: semitones more (a doubled take)."""

    notes: tuple[float, ...] | None = None
    lifts: tuple[float, ...] | None = None
    transpose: float = 0.0
    detune: float = 0.0
    shift: int | None = None  # the register shift to use (a harmony takes its lead's); None: fitted


@dataclass
class SungLine:
    """Audio of one line and where every syllable sits in it (``notes``: as heard, when sung on a plan)."""

    audio: np.ndarray  # float32 mono
    sample_rate: int
    alignment: Alignment
    notes: tuple[int, ...] | None = None


class VocalEngine(Protocol):
    """Optional attributes a render reads with ``getattr``: ``takes_pitch`` (see ``sing``),
    ``parallel_safe`` (``sing`` may run from several threads at once: the render then sings lines in
    parallel), ``fingerprint`` (names the engine and its weights in kept takes; default ``name``) and
    ``unaccented_langs`` (languages whose lines it sings without the plan's accents: its own reading
    already hits the beat, and the accents cost words; default none)."""

    name: str
    sample_rate: int

    def voices(self) -> list[str]:
        """Names of the catalogue voices this engine can sing."""

    def natural_timing(self, line: Line, voice: str) -> Alignment:
        """How the voice would say the line unprompted (phoneme durations), for the flow planner."""

    def sing(self, line: Line, voice: str, phoneme_durations: list[list[float]], rests: list[float],
             lead_in: float, tail: float) -> SungLine:
        """Synthesize the line with these exact phoneme durations (s), ``rests[i]`` s of silence
        after syllable i (word ends only), ``lead_in`` s before the first phoneme and ``tail`` after.
        An engine whose ``takes_pitch`` is true also takes ``pitch=PitchPlan(...)`` and draws its F0
        from it; the others are re-pitched afterwards (``acoustic.pitch``)."""
