"""Sung notes in a song sheet: scientific pitch names (``C4`` = middle C = MIDI 60, ``#`` sharp,
``b`` flat), one per syllable."""

from __future__ import annotations

import re

from ..errors import InputError

NOTE_RE = re.compile(r"^([A-Ga-g])([#b]?)(-?\d)$")
SEMITONE = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
LOWEST, HIGHEST = 36, 84  # C2 .. C6: what a sheet may ask of a voice (wider is not singing)


def note_number(name: str) -> int:
    """``'E4'`` -> 64, ``'Bb3'`` -> 58, ``'F#5'`` -> 78."""
    m = NOTE_RE.match(name)
    if not m:
        raise InputError(f"song sheet: {name[:12]!r} is not a note name (use e.g. C4, F#3, Bb4)")
    letter, accidental, octave = m.groups()
    midi = 12 * (int(octave) + 1) + SEMITONE[letter.lower()] + {"#": 1, "b": -1, "": 0}[accidental]
    if not LOWEST <= midi <= HIGHEST:
        raise InputError(f"song sheet: note {name} is outside C2-C6")
    return midi


def parse_notes(text: str) -> tuple[int, ...]:
    """A whitespace-separated list of note names -> MIDI numbers."""
    names = text.split()
    if not names:
        raise InputError("song sheet: 'notes' is empty")
    return tuple(note_number(n) for n in names)


def note_name(midi: int) -> str:
    """60 -> 'C4' (sharps)."""
    return f"{('C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B')[midi % 12]}{midi // 12 - 1}"
