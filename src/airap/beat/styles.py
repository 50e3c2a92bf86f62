"""Beat styles as data: one bar of 16th-step patterns per drum voice plus bass/chord choices."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BeatStyle:
    name: str
    description: str
    default_bpm: int
    swing: float  # 0.5 straight; 0.58-0.62 for a lazy boom-bap / lo-fi shuffle
    kick: str  # 16 chars, 'x' = hit, 'o' = soft hit
    snare: str
    hat: str
    open_hat: str
    snare_note: int  # GM drum note: 38 snare, 39 clap, 40 electric snare
    bass_program: int  # GM program (0-based)
    chord_program: int
    progression: tuple[int, ...]  # scale degrees (0-based, natural minor) one per bar
    hat_rolls: bool = False  # trap/drill 32nd-note rolls
    bass_glide: bool = False  # 808-style long notes that follow the kick
    chord_velocity: int = 60
    drum_velocity: int = 100


STYLES: dict[str, BeatStyle] = {s.name: s for s in [
    BeatStyle("boom-bap", "dusty 90s swing: punchy kick, cracking snare on 2 and 4, e-piano chords", 92, 0.58,
              "x......x..x.....", "....x.......x...", "x.x.x.x.x.x.x.x.", "..............x.", 38, 33, 4,
              (0, 5, 3, 4)),
    BeatStyle("trap", "half-time trap: 808 bass, clap on 3, rolling 16th hats, dark pad", 140, 0.5,
              "x.....x...x.....", "........x.......", "xxxxxxxxxxxxxxxx", "................", 39, 38, 89,
              (0, 0, 5, 6), hat_rolls=True, bass_glide=True),
    BeatStyle("lo-fi", "laid-back lo-fi: soft swung kit, warm electric piano, upright bass", 80, 0.62,
              "x.....x...x.....", "....x.......x...", "x.x.x.x.x.x.x.x.", "................", 37, 32, 4,
              (0, 3, 6, 2), chord_velocity=55, drum_velocity=80),
    BeatStyle("drill", "UK/NY drill: sliding 808, off-beat snares, triplet-feel hats, strings", 142, 0.5,
              "x.........x.....", "...x....x....x..", "x..x..x.x..x..x.", "................", 40, 38, 48,
              (0, 5, 6, 4), hat_rolls=True, bass_glide=True),
    BeatStyle("g-funk", "west-coast bounce: straight kit, funky bass, whiny synth lead chords", 96, 0.54,
              "x.x.......x.x...", "....x.......x...", "x.x.x.x.x.x.x.x.", "......x.........", 38, 38, 80,
              (0, 3, 0, 4)),
]}
