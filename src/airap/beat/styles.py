"""What a beat style is: data, not code. Four drum bars (the groove, its answer, a fill, a
breakdown) in 16th steps, the sounds (GM programs or the synthesised 808), the harmony (a minor-key
progression, the lead's scale) and the form (intro length). The styles themselves are entries in
:mod:`airap.catalog`; :mod:`.arrange` turns one into a song-long arrangement."""

from __future__ import annotations

from dataclasses import dataclass

STEPS = 16  # a drum bar is sixteen 16th-note steps
# Step characters: '.' rest, 'x' hit, 'X' accent, 'o' ghost (soft), 'r' a roll (three quick hits in the step).
STEP_CHARS = frozenset(".xXor")


@dataclass(frozen=True)
class DrumBar:
    kick: str
    snare: str
    hat: str
    open_hat: str = "." * STEPS
    perc: str = "." * STEPS  # the style's extra percussion voice (rim, cowbell, squeak)

    def __post_init__(self):
        for name in ("kick", "snare", "hat", "open_hat", "perc"):
            pattern = getattr(self, name)
            if len(pattern) != STEPS or not set(pattern) <= STEP_CHARS:
                raise ValueError(f"drum bar {name!r} must be {STEPS} of {''.join(sorted(STEP_CHARS))}: {pattern!r}")


@dataclass(frozen=True)
class BeatStyle:
    name: str
    description: str
    default_bpm: int
    bpm_range: tuple[int, int]  # the style's natural tempi; others are allowed with a warning
    swing: float  # 0.5 straight; 0.58-0.62 for a lazy boom-bap / lo-fi shuffle
    groove: DrumBar  # the main bar
    answer: DrumBar  # every second 4-bar phrase plays this instead: call and response
    fill: DrumBar  # the bar before a new section
    breakdown: DrumBar  # bridges: half-time or sparse
    snare_note: int  # GM drum note: 38 snare, 39 clap, 40 electric snare
    perc_note: int  # GM drum note of the ``perc`` voice
    bass: str  # "808": synthesised sine with pitch envelope, glides and drive; "gm": ``bass_program``
    bass_program: int  # GM program (0-based); also names the bass track of beat.mid
    chord_program: int
    lead_program: int  # the hook's melody
    progression: tuple[int, ...]  # natural-minor scale degrees (0-based), one chord per bar
    comp: str  # the chords' rhythm in answer phrases (16 steps, 'x' = stab); groove phrases hold
    lead_rhythm: str = "x..x..x...x.x..."  # onsets of the lead melody in a bar
    lead_scale: tuple[int, ...] = (0, 2, 3, 5, 7, 8, 10)  # semitones over the key's root
    lead_sections: tuple[str, ...] = ("hook",)  # section kinds the lead plays in
    counter_program: int | None = None  # a sustained second line in hooks (the erhu of 中国风)
    hook_layer_program: int = 48  # the hook's extra layer: its chords held an octave up (GM strings)
    arpeggio: bool = False  # chords broken into 8th notes (guitar-led styles)
    hat_rolls: bool = False  # trap/drill rolls, placed anew in every bar by the seed
    ghost_notes: bool = False  # soft snare ghosts, placed anew in every bar by the seed
    intro_bars: int = 2
    chord_velocity: int = 60
    drum_velocity: int = 100

    def __post_init__(self):
        lo, hi = self.bpm_range
        if not lo <= self.default_bpm <= hi:
            raise ValueError(f"style {self.name!r}: default BPM {self.default_bpm} outside its range {lo}-{hi}")
        if self.bass not in ("808", "gm"):
            raise ValueError(f"style {self.name!r}: bass must be '808' or 'gm'")
        if len(self.comp) != STEPS or len(self.lead_rhythm) != STEPS:
            raise ValueError(f"style {self.name!r}: comp and lead_rhythm must be {STEPS} steps")
