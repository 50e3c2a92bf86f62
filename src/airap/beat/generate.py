"""Generated instrumentals: a style's pattern -> MIDI (pretty_midi) -> audio (FluidSynth + GM soundfont).

The grid is known exactly, nothing is detected: the same BeatGrid drives the vocal plan.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SetupError
from .grid import BeatGrid
from .styles import BeatStyle

SOUNDFONT_CANDIDATES = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2",
                        "/usr/share/sounds/sf2/default-GM.sf2")
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)


@dataclass
class Beat:
    audio: np.ndarray  # float32 stereo [n, 2]
    sample_rate: int
    grid: BeatGrid
    midi: "object"  # pretty_midi.PrettyMIDI
    style: str


def soundfont() -> str:
    path = os.environ.get("AIRAP_SOUNDFONT")
    for cand in ([path] if path else []) + list(SOUNDFONT_CANDIDATES):
        if cand and Path(cand).is_file():
            return cand
    raise SetupError("no General MIDI soundfont found: apt-get install timgm6mb-soundfont (or set AIRAP_SOUNDFONT)")


def beat_midi(style: BeatStyle, grid: BeatGrid, seed: int = 0):
    """Build the PrettyMIDI for every bar of ``grid``: drums, bass and chords."""
    import pretty_midi

    rng = np.random.default_rng(seed)
    root = 45 + int(rng.integers(0, 7))  # A2..D#3: key chosen by the seed
    pm = pretty_midi.PrettyMIDI(initial_tempo=grid.bpm)
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="drums")
    bass = pretty_midi.Instrument(program=style.bass_program, name="bass")
    keys = pretty_midi.Instrument(program=style.chord_program, name="chords")

    def hit(inst, note, t0, t1, vel):
        inst.notes.append(pretty_midi.Note(int(np.clip(vel, 1, 127)), int(note), float(t0), float(max(t1, t0 + 0.01))))

    for bar in range(grid.n_bars):
        degree = style.progression[bar % len(style.progression)]
        chord_root = root + MINOR_SCALE[degree % 7] + 12 * (degree // 7)
        t_bar, t_next = grid.slot_time(bar, 0), grid.slot_time(bar + 1, 0)
        v = style.drum_velocity
        if bar == 0 or bar % 8 == 0:
            hit(drums, 49, t_bar, t_bar + 0.5, v - 10)  # crash marks phrases
        for step in range(16):
            t = grid.slot_time(bar, step)
            t_end = grid.slot_time(bar, step + 1)
            accent = 10 if step % 4 == 0 else 0
            if style.kick[step] in "xo":
                hit(drums, 36, t, t_end, v + accent - (25 if style.kick[step] == "o" else 0))
                if not style.bass_glide:
                    hit(bass, chord_root - 12, t, t + 0.8 * (t_end - t) * 2, 90)
            if style.snare[step] == "x":
                hit(drums, style.snare_note, t, t_end, v + 5)
            if style.hat[step] == "x":
                vel = v - 25 + accent + int(rng.integers(-8, 8))
                if style.hat_rolls and step % 4 == 3 and rng.random() < 0.3:
                    for k in range(3):  # a quick triplet roll into the next beat
                        tk = t + k * (t_end - t) / 3
                        hit(drums, 42, tk, tk + 0.03, vel - 10)
                else:
                    hit(drums, 42, t, t + 0.05, vel)
            if style.open_hat[step] == "x":
                hit(drums, 46, t, t_end, v - 20)
        if style.bass_glide:
            kicks = [s for s in range(16) if style.kick[s] == "x"] or [0]
            for k, s in enumerate(kicks):
                end_step = kicks[k + 1] if k + 1 < len(kicks) else 16
                hit(bass, chord_root - 12, grid.slot_time(bar, s), grid.slot_time(bar, end_step) - 0.02, 105)
        third = 3 if degree in (0, 3, 4) else 4
        for interval in (0, third, 7, 10 if degree in (0, 3) else 12):
            hit(keys, chord_root + 12 + interval, t_bar, t_next - 0.05, style.chord_velocity)
    pm.instruments.extend([drums, bass, keys])
    return pm


def render_midi(pm, sample_rate: int, duration: float) -> np.ndarray:
    """Play PrettyMIDI through FluidSynth in stereo, sample-exact event times."""
    import fluidsynth

    synth = fluidsynth.Synth(samplerate=float(sample_rate), gain=0.5)
    sfid = synth.sfload(soundfont())
    if sfid < 0:
        raise SetupError("FluidSynth could not load the soundfont")
    events = []
    for ch, inst in enumerate(pm.instruments):
        channel = 9 if inst.is_drum else min(ch, 8)
        synth.program_select(channel, sfid, 128 if inst.is_drum else 0, 0 if inst.is_drum else inst.program)
        for n in inst.notes:
            events.append((n.start, 1, channel, n.pitch, n.velocity))
            events.append((n.end, 0, channel, n.pitch, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    total = int(duration * sample_rate)
    out = np.zeros((total, 2), np.float32)
    pos = 0
    for t, on, ch, pitch, vel in events:
        target = min(total, int(round(t * sample_rate)))
        if target > pos:
            out[pos:target] = synth.get_samples(target - pos).reshape(-1, 2) / 32768.0
            pos = target
        if on:
            synth.noteon(ch, pitch, vel)
        else:
            synth.noteoff(ch, pitch)
    if total > pos:
        out[pos:] = synth.get_samples(total - pos).reshape(-1, 2) / 32768.0
    synth.delete()
    return out


def generate_beat(style: BeatStyle, grid: BeatGrid, seed: int = 0, sample_rate: int = 44100,
                  tail: float = 2.0) -> Beat:
    """Play ``style`` over every bar of ``grid`` (the grid the vocals were planned on, its swing
    included); the audio rings out ``tail`` s past the last bar."""
    pm = beat_midi(style, grid, seed)
    audio = render_midi(pm, sample_rate, grid.beats[-1] + tail)
    return Beat(audio=audio, sample_rate=sample_rate, grid=grid, midi=pm, style=style.name)
