"""What a beat style is: one bar of 16th-step patterns per drum voice plus bass/chord choices. The
styles themselves are entries in :mod:`airap.catalog`."""

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
