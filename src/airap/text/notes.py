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


MIDI_SUFFIXES = (".mid", ".midi")


def midi_file_notes(path) -> tuple[int, ...]:
    """The melody of a MIDI file: its pitched notes in time order, the highest where several start
    together (a chord's top voice is the tune)."""
    import pretty_midi

    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except Exception as e:  # pretty_midi raises what mido raises: OSError, EOFError, ValueError, ...
        raise InputError(f"cannot read the melody file {str(path)[-60:]!r}: {str(e)[:80]}") from None
    notes = sorted((n for inst in pm.instruments if not inst.is_drum for n in inst.notes),
                   key=lambda n: (round(n.start, 3), -n.pitch))
    out, last = [], None
    for n in notes:
        if last is not None and round(n.start, 3) == last:
            continue
        last = round(n.start, 3)
        out.append(int(n.pitch))
    if not out:
        raise InputError(f"the melody file {str(path)[-60:]!r} has no pitched notes")
    bad = [n for n in out if not LOWEST <= n <= HIGHEST]
    if bad:
        raise InputError(f"the melody file {str(path)[-60:]!r} has notes outside C2-C6 ({note_name(bad[0])})")
    return tuple(out)
