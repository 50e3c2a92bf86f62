"""Generated instrumentals: an arrangement -> MIDI (pretty_midi) -> three sample-aligned stems
(drums and music through FluidSynth with a GM soundfont; the bass there too, or synthesised as an
808). The grid is known exactly and every hit is placed by the program, nothing is detected: the
same BeatGrid drives the vocal plan."""

from __future__ import annotations

import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from scipy import signal

from ..errors import SetupError
from .arrange import DROP_STEP, LAYERS, Arrangement, BarPlan, Section, arrange
from .grid import BeatGrid
from .styles import STEPS, BeatStyle

# FluidR3 (MIT, Debian's fluid-soundfont-gm, installed by the set-up) first: its kit and bass are
# far better than the 6 MB TimGM6mb, which stays as the fallback.
SOUNDFONT_CANDIDATES = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2",
                        "/usr/share/sounds/sf2/default-GM.sf2")
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
KEY_ROOTS = tuple(range(45, 52))  # A2..D#3: the seed picks the key (A1..D#2 for the 808: its sweet spot)
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
TAIL_SECONDS = 2.0  # the final hit rings out this long
HAT_JITTER_S = 0.003  # hats (only) lean up to 3 ms either side: humanised, the kick and snare stay exact
VELOCITY_JITTER = 6  # +- MIDI velocity on every drum hit
CRASH, KICK, CLOSED_HAT, OPEN_HAT = 49, 36, 42, 46
STEP_VELOCITY = {"x": 0, "X": 12, "o": -45, "r": -12}  # relative to the style's drum velocity
# Stem balance, LU relative to the drums (BS.1770 loudness of each stem over the song): soundfont
# patches and the 808 come out 20 dB apart raw. Set by ear on the nine styles' previews: the 808 is a
# lead voice in its styles, a GM bass sits under the kit, the music stays behind both.
STEM_LEVELS_LU = {"808": -3.0, "gm": -6.0, "music": -5.0}
DRUMS_LUFS = -20.0  # the drum stem's loudness: headroom for the sum before the master


@dataclass
class Beat:
    audio: np.ndarray  # float32 stereo [n, 2]: drums + bass + music (an upload: the file)
    sample_rate: int
    grid: BeatGrid
    midi: object  # pretty_midi.PrettyMIDI (None for an upload)
    style: str
    stems: dict[str, np.ndarray] | None = None  # "drums", "bass", "music": sum to ``audio``
    arrangement: Arrangement | None = None
    key: str = ""  # e.g. "A minor"
    kick_times: tuple[float, ...] = ()  # for the bass's side-chain


def soundfont() -> str:
    path = os.environ.get("AIRAP_SOUNDFONT")
    for cand in ([path] if path else []) + list(SOUNDFONT_CANDIDATES):
        if cand and Path(cand).is_file():
            return cand
    raise SetupError("no General MIDI soundfont found: apt-get install fluid-soundfont-gm (or set AIRAP_SOUNDFONT)")


def key_root(seed: int) -> int:
    return KEY_ROOTS[int(np.random.default_rng(seed).integers(0, len(KEY_ROOTS)))]


def key_name(root: int) -> str:
    return f"{NOTE_NAMES[root % 12]} minor"


def chord_tones(root: int, degree: int) -> list[int]:
    """The diatonic seventh chord on ``degree`` of ``root``'s natural minor, as MIDI notes."""
    return [root + MINOR_SCALE[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4, 6)]


def compose_lead(style: BeatStyle, root: int, seed: int) -> list[list[tuple[int, int, int]]]:
    """One bar of melody per chord of the progression: (step, length in steps, MIDI note). Chord tones
    on the beat, scale steps between, stepwise, within a tenth above the key's root an octave up."""
    rng = np.random.default_rng([seed, 11])
    lo, hi = root + 12, root + 12 + 16
    scale = sorted({lo + 12 * o + s for o in (0, 1, 2) for s in style.lead_scale if lo <= lo + 12 * o + s <= hi})
    onsets = [s for s, c in enumerate(style.lead_rhythm) if c != "."]
    prev = scale[len(scale) // 3]
    bars = []
    for degree in style.progression:
        tones = [t + 12 * o for t in chord_tones(root, degree) for o in (0, 1, 2)]
        tones = [t for t in tones if lo <= t <= hi and t in scale] or scale
        notes = []
        for n, s in enumerate(onsets):
            length = (onsets[n + 1] if n + 1 < len(onsets) else STEPS) - s
            if s % 4 == 0:
                note = min(tones, key=lambda t: (abs(t - prev), t))
            else:
                i = scale.index(min(scale, key=lambda t: abs(t - prev)))
                i = int(np.clip(i + rng.choice([-2, -1, 1, 1, 2]), 0, len(scale) - 1))
                note = scale[i]
            notes.append((s, length, note))
            prev = note
        bars.append(notes)
    return bars


@dataclass(frozen=True)
class _Note:
    pitch: int
    start: float
    end: float
    velocity: int
    glide_to: int | None = None  # an 808 note sliding into the next root


def beat_midi(style: BeatStyle, grid: BeatGrid, arrangement: Arrangement, seed: int = 0):
    """The arrangement as PrettyMIDI (drums, bass, chords, lead, counter) and the kick times."""
    import pretty_midi

    rng = np.random.default_rng([seed, 3])
    root = key_root(seed)
    melody = compose_lead(style, root, seed)
    pm = pretty_midi.PrettyMIDI(initial_tempo=grid.bpm)
    tracks = {name: pretty_midi.Instrument(program=prog, is_drum=name == "drums", name=name) for name, prog in
              (("drums", 0), ("bass", style.bass_program), ("chords", style.chord_program),
               ("lead", style.lead_program), ("counter", style.counter_program or 0),
               ("layer", style.hook_layer_program))}
    bass_notes: list[_Note] = []
    kicks: list[float] = []

    def add(track: str, pitch: int, t0: float, t1: float, vel: float) -> None:
        tracks[track].notes.append(pretty_midi.Note(int(np.clip(vel, 1, 127)), int(pitch), float(t0),
                                                    float(max(t1, t0 + 0.01))))

    for bp in arrangement.bars:
        b = bp.bar
        step_t = [grid.slot_time(b, s) for s in range(STEPS + 1)]
        degree = style.progression[b % len(style.progression)]
        next_degree = style.progression[(b + 1) % len(style.progression)]
        chord = chord_tones(root, degree)
        base_vel = style.drum_velocity + bp.layers.lift
        if bp.crash:
            add("drums", CRASH, step_t[0], step_t[0] + 1.0, base_vel - 5)
        for voice, note in (("kick", KICK), ("snare", style.snare_note), ("hat", CLOSED_HAT),
                            ("open_hat", OPEN_HAT), ("perc", style.perc_note)):
            pattern = getattr(bp.drums, voice)
            for s, c in enumerate(pattern):
                if c == ".":
                    continue
                t, t_next = step_t[s], step_t[s + 1]
                vel = base_vel + STEP_VELOCITY[c] + rng.integers(-VELOCITY_JITTER, VELOCITY_JITTER + 1)
                if voice in ("hat", "open_hat"):
                    vel -= 22 - (4 if s % 4 == 0 else 0)
                    t = t + rng.uniform(-HAT_JITTER_S, HAT_JITTER_S) if s else t
                if bp.role == "fill" and voice == "snare":
                    vel += (s - 8) * 2  # fills build
                hits = 3 if c == "r" else 1
                for k in range(hits):
                    tk = t + k * (t_next - t) / hits
                    add("drums", note, tk, tk + (0.4 if voice == "open_hat" else 0.08), vel + 4 * k)
                if voice == "kick":
                    kicks.append(step_t[s])
        if bp.layers.bass:
            notes = _bass_bar(style, bp, step_t, chord[0] - 12, chord_tones(root, next_degree)[0] - 12)
            if style.bass == "gm" and bp.section.kind == "hook":  # fuller: doubled an octave up
                notes += [_Note(n.pitch + 12, n.start, n.end, 70) for n in notes]
            bass_notes += notes
        _chords(add, style, bp, step_t, chord)
        if bp.lead:
            for s, length, note in melody[b % len(melody)]:
                if bp.drop_last_beat and s >= DROP_STEP:
                    continue
                add("lead", note, step_t[s], step_t[min(STEPS, s + length)] - 0.02, style.chord_velocity + 18)
        if bp.section.kind in ("hook", "outro"):  # the hook is bigger: its chords held an octave up
            for tone in chord[:3]:
                add("layer", tone + 24, step_t[0], step_t[STEPS] - 0.03, style.chord_velocity)
        if bp.counter:
            for half, tone in ((0, chord[1]), (8, chord[2])):
                add("counter", tone + 12, step_t[half], step_t[half + 8] - 0.03, style.chord_velocity + 5)
    end = grid.slot_time(arrangement.end_bar, 0)
    last_chord = chord_tones(root, style.progression[0])
    add("drums", CRASH, end, end + 2.0, style.drum_velocity)
    add("drums", KICK, end, end + 0.3, style.drum_velocity + 10)
    kicks.append(end)
    bass_notes.append(_Note(last_chord[0] - 12, end, end + 1.5, 110))
    for tone in last_chord:
        add("chords", tone + 12, end, end + 1.8, style.chord_velocity)
    for n in bass_notes:
        add("bass", n.pitch, n.start, n.end, n.velocity)
    pm.instruments.extend(tr for name, tr in tracks.items() if tr.notes)
    return pm, bass_notes, kicks


def _bass_bar(style: BeatStyle, bp: BarPlan, step_t: list[float], root: int, next_root: int) -> list[_Note]:
    """The bass under one bar: on the kicks (an 808 holds until the next kick and slides into the
    next bar's root when the chord changes; a GM bass plays short notes and a pickup in answer bars)."""
    if bp.role == "breakdown":
        return [_Note(root, step_t[0], step_t[STEPS] - 0.02, 95)]
    steps = [s for s, c in enumerate(bp.drums.kick) if c in "xX"] or [0]
    if bp.drop_last_beat:
        steps = [s for s in steps if s < DROP_STEP] or [0]
    notes = []
    for k, s in enumerate(steps):
        nxt = steps[k + 1] if k + 1 < len(steps) else (DROP_STEP if bp.drop_last_beat else STEPS)
        pitch = root + (12 if bp.octave_jump and k == len(steps) - 1 and k > 0 else 0)
        if style.bass == "808":
            glide = next_root if (k == len(steps) - 1 and next_root != root and not bp.drop_last_beat) else None
            notes.append(_Note(pitch, step_t[s], step_t[nxt] - 0.01, 110, glide))
        else:
            notes.append(_Note(pitch, step_t[s], step_t[min(nxt, s + 3)] - 0.02, 95))
    if style.bass == "gm" and bp.role == "answer" and bp.drums.kick[14] == ".":
        notes.append(_Note(root + 7, step_t[14], step_t[16] - 0.02, 80))
    return notes


def _chords(add, style: BeatStyle, bp: BarPlan, step_t: list[float], chord: list[int]) -> None:
    vel = style.chord_velocity + (6 if bp.section.kind == "hook" else 0)
    last = STEPS  # the chords ring through the drop: only the drums and the bass stop
    if style.arpeggio:
        order = [0, 1, 2, 3, 2, 1, 2, 3]
        for i, s in enumerate(range(0, last, 2)):
            add("chords", chord[order[i % len(order)]] + 12, step_t[s], step_t[s + 2] + 0.15, vel)
        return
    if bp.comp:
        hits = [s for s, c in enumerate(style.comp) if c != "." and s < last]
        for k, s in enumerate(hits):
            end = hits[k + 1] if k + 1 < len(hits) else last
            for tone in chord:
                add("chords", tone + 12, step_t[s], step_t[min(end, s + 3)] - 0.02, vel + 8)
        return
    for tone in chord:
        add("chords", tone + 12, step_t[0], step_t[last] - 0.05, vel)


# -- audio ---------------------------------------------------------------------------------------------

# Load a preset's samples when it is selected, not the whole soundfont: FluidR3's 148 MB took
# 0.14 s per synth, 0.02 s this way (a beat makes two or three synths), with the same audio.
DYNAMIC_SAMPLES = True


FLUID_WARN = 2  # FluidSynth's log levels: 0 panic, 1 error, 2 warning, 3 info, 4 debug
_fluid_log = logging.getLogger("airap.fluidsynth")


@lru_cache(maxsize=1)
def _fluidsynth_warnings_to_logging():
    """FluidSynth's warnings go to the ``airap.fluidsynth`` logger at debug level instead of stderr.
    Debian's FluidSynth 2.3 warns "Modulator with source 1 none ... fluid_synth_add_default_mod" for
    every synth it makes, a known harmless message about its own default modulators, and a render
    makes several synths: the demo printed eleven of them. Errors still reach stderr. Returns the
    callback, kept alive here for the life of the process."""
    import ctypes

    import fluidsynth

    @ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
    def forward(level, message, data):
        _fluid_log.debug("fluidsynth: %s", (message or b"").decode("utf-8", "replace"))

    try:
        fluidsynth._fl.fluid_set_log_function(FLUID_WARN, forward, None)
    except AttributeError:  # a FluidSynth without it: its warnings stay on stderr
        pass
    return forward


def new_synth(sample_rate: int):
    """A fresh FluidSynth with the soundfont loaded: (synth, soundfont id). Each beat gets its own,
    so nothing of an earlier render (reverb tails, chorus phase) reaches it: same seed, same audio."""
    import fluidsynth

    _fluidsynth_warnings_to_logging()
    synth = fluidsynth.Synth(samplerate=float(sample_rate), gain=0.5)
    if DYNAMIC_SAMPLES:
        synth.setting("synth.dynamic-sample-loading", 1)
    sfid = synth.sfload(soundfont())
    if sfid < 0:
        synth.delete()
        raise SetupError("FluidSynth could not load the soundfont")
    return synth, sfid


def render_midi(instruments, sample_rate: int, duration: float, synth=None) -> np.ndarray:
    """Play PrettyMIDI instruments through FluidSynth in stereo, sample-exact event times.
    ``synth``: a (synth, soundfont id) from :func:`new_synth` to reuse (it is reset and drained
    first); without it a fresh one is made and deleted."""
    own = synth is None
    synth, sfid = new_synth(sample_rate) if own else synth
    try:
        if not own:
            synth.system_reset()
            synth.get_samples(int(3.0 * sample_rate))  # drain reverb and chorus tails
        return _play(synth, sfid, instruments, sample_rate, duration)
    finally:
        if own:
            synth.delete()


def stem_digest(instruments, sample_rate: int, duration: float) -> str:
    """Names what FluidSynth would play: the soundfont, the rate, the length and every note."""
    font = soundfont()
    notes = [(inst.program, inst.is_drum, [(n.start, n.end, n.pitch, n.velocity) for n in inst.notes])
             for inst in instruments]
    text = repr((font, os.path.getsize(font), sample_rate, round(duration, 6), notes))
    return "stem-" + hashlib.sha256(text.encode()).hexdigest()[:32]


class KeptStems(Protocol):
    """Where played stems are kept between renders (``airap.kept.TakeStore.stems``)."""

    def get(self, digest: str) -> np.ndarray | None: ...  # int16 stereo, or None

    def put(self, digest: str, audio: np.ndarray) -> None: ...


def play_stems(parts: dict[str, list], sample_rate: int, duration: float, threads: int = 1,
               kept: KeptStems | None = None) -> dict[str, np.ndarray]:
    """Each stem's instruments played through its own fresh FluidSynth (same notes, same audio),
    ``threads`` stems at a time (FluidSynth frees the GIL). ``kept`` holds what FluidSynth played
    for a stem's digest (int16 stereo, exact): a stem found there is not played again."""

    def play(instruments) -> np.ndarray:
        if kept is None:
            return render_midi(instruments, sample_rate, duration)
        digest = stem_digest(instruments, sample_rate, duration)
        found = kept.get(digest)
        if found is not None:
            return found.astype(np.float32) / 32768.0
        audio = render_midi(instruments, sample_rate, duration)
        kept.put(digest, np.round(audio * 32768.0).astype(np.int16))
        return audio

    names = list(parts)
    if threads <= 1 or len(names) < 2:
        return {k: play(parts[k]) for k in names}
    with ThreadPoolExecutor(min(threads, len(names))) as pool:
        return dict(zip(names, pool.map(play, [parts[k] for k in names])))


def _play(synth, sfid: int, instruments, sample_rate: int, duration: float) -> np.ndarray:
    events = []
    for ch, inst in enumerate(instruments):
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
    for ch in range(16):
        synth.all_notes_off(ch)
    return out


def synth_808(notes: list[_Note], sample_rate: int, n_samples: int) -> np.ndarray:
    """The 808: a sine that starts an octave up and drops to its note in ~25 ms, decays over the
    note, glides into the next root over the note's last 80 ms, and is driven into soft saturation."""
    out = np.zeros(n_samples, np.float32)
    for n in notes:
        i0 = int(round(n.start * sample_rate))
        length = min(int((n.end - n.start + 0.03) * sample_rate), n_samples - i0)
        if length <= 0:
            continue
        t = np.arange(length) / sample_rate
        f0 = 440.0 * 2 ** ((n.pitch - 69) / 12)
        semis = 12.0 * np.exp(-t / 0.008)  # the click-y pitch drop that makes it a drum
        if n.glide_to is not None:
            glide = np.clip((t - (t[-1] - 0.08)) / 0.08, 0, 1)
            semis = semis + glide * (n.glide_to - n.pitch)
        phase = 2 * np.pi * np.cumsum(f0 * 2 ** (semis / 12)) / sample_rate
        amp = np.exp(-t / max(0.25, 0.9 * t[-1])) * np.minimum(1.0, (t[-1] - t) / 0.01 + 0.0)
        drive = 2.5
        y = np.tanh(drive * np.sin(phase)) / np.tanh(drive) * amp * n.velocity / 127
        out[i0:i0 + length] += 0.5 * y.astype(np.float32)
    return np.repeat(out[:, None], 2, axis=1)


@lru_cache(maxsize=4)
def _reverse_cymbal(sample_rate: int, soundfont_path: str) -> np.ndarray:
    """A crash played once and reversed: swells into a downbeat."""
    import pretty_midi

    kit = pretty_midi.Instrument(program=0, is_drum=True)
    kit.notes.append(pretty_midi.Note(100, 57, 0.0, 1.5))
    hit = render_midi([kit], sample_rate, 1.5)
    fade = np.linspace(0.0, 1.0, len(hit))[:, None] ** 2
    return (hit[::-1] * fade).astype(np.float32)


def _balance(stems: dict[str, np.ndarray], sample_rate: int, bass_lu: float) -> None:
    """Scale each stem, in place, to its loudness relative to the drums (STEM_LEVELS_LU)."""
    import pyloudnorm

    # measured on every 4th sample of the channel sum: 8x cheaper, and a balance needs no better than ~0.5 LU
    meter = pyloudnorm.Meter(sample_rate / 4)
    targets = {"drums": DRUMS_LUFS, "bass": DRUMS_LUFS + bass_lu, "music": DRUMS_LUFS + STEM_LEVELS_LU["music"]}
    for name, y in stems.items():
        mono = y[::4, 0] + y[::4, 1]
        loud = meter.integrated_loudness(mono) if len(mono) > 0.4 * sample_rate / 4 else float("-inf")
        if np.isfinite(loud):
            y *= np.float32(10 ** ((targets[name] - loud) / 20))


def _gate(stems: list[np.ndarray], t0: float, t1: float, sample_rate: int) -> None:
    """Silence [t0, t1) in the given stems with 5 ms ramps (the drop before a hook)."""
    ramp = int(0.005 * sample_rate)
    i0, i1 = int(round(t0 * sample_rate)), int(round(t1 * sample_rate))
    g = np.ones(i1 - i0 + ramp, np.float32)
    g[:ramp] = np.linspace(1, 0, ramp)
    g[ramp:i1 - i0] = 0.0
    g[i1 - i0:] = np.linspace(0, 1, ramp)
    for y in stems:
        seg = y[i0:i0 + len(g)]
        seg *= g[: len(seg), None]


def _lowpass(y: np.ndarray, t0: float, t1: float, sample_rate: int, cutoff: float) -> None:
    """Low-pass [t0, t1) of ``y`` in place, crossfading back to the dry signal over 50 ms."""
    i0, i1 = int(round(t0 * sample_rate)), int(round(t1 * sample_rate))
    xf = int(0.05 * sample_rate)
    seg = y[i0:min(len(y), i1 + xf)]
    wet = signal.sosfilt(signal.butter(2, cutoff, fs=sample_rate, output="sos"), seg, axis=0).astype(np.float32)
    mix = np.ones(len(seg), np.float32)
    mix[i1 - i0:] = np.linspace(1, 0, len(seg) - (i1 - i0))
    seg[:] = wet * mix[:, None] + seg * (1 - mix[:, None])


def generate_beat(style: BeatStyle, grid: BeatGrid, arrangement: Arrangement | None = None, *, seed: int = 0,
                  sample_rate: int = 44100, threads: int = 1,
                  kept: KeptStems | None = None) -> Beat:
    """Play ``arrangement`` of ``style`` on ``grid`` (the grid the vocals were planned on, its swing
    included) as three stems; the final hit, on the arrangement's end, rings out ``TAIL_SECONDS``.
    Without an arrangement: one verse over every bar of the grid. ``threads``: stems played at once;
    ``kept``: stems an earlier render played (see :func:`play_stems`)."""
    if arrangement is None:
        arrangement = arrange(style, (Section("verse", "verse", 0, grid.n_bars),), seed)
    pm, bass_notes, kicks = beat_midi(style, grid, arrangement, seed)
    duration = grid.slot_time(arrangement.end_bar, 0) + TAIL_SECONDS
    n = int(duration * sample_rate)
    by_name = {inst.name: inst for inst in pm.instruments}
    parts = {"drums": [by_name["drums"]],
             "music": [by_name[k] for k in ("chords", "lead", "counter", "layer") if k in by_name]}
    if style.bass != "808":
        parts["bass"] = [by_name["bass"]]
    played = play_stems(parts, sample_rate, duration, threads, kept)
    drums, music = played["drums"], played["music"]
    bass = synth_808(bass_notes, sample_rate, n) if style.bass == "808" else played["bass"]
    stems = {"drums": drums, "bass": bass, "music": music}
    _balance(stems, sample_rate, STEM_LEVELS_LU[style.bass])
    for sec in arrangement.sections:
        if LAYERS[sec.kind].lowpass_hz:
            _lowpass(music, grid.slot_time(sec.first_bar, 0), grid.slot_time(sec.first_bar + sec.bars, 0),
                     sample_rate, LAYERS[sec.kind].lowpass_hz)
    swell = _reverse_cymbal(sample_rate, soundfont())
    for bp in arrangement.bars:
        if bp.drop_last_beat:
            hook = grid.slot_time(bp.bar + 1, 0)
            _gate([drums, bass], grid.slot_time(bp.bar, DROP_STEP), hook, sample_rate)
            i1 = int(round(hook * sample_rate))
            beat_len = int(round((hook - grid.slot_time(bp.bar, DROP_STEP)) * sample_rate))
            piece = swell[-min(len(swell), i1, beat_len):]  # the swell fills the dropped beat, no more
            music[i1 - len(piece):i1] += 0.5 * piece
    audio = drums + bass + music
    return Beat(audio=audio, sample_rate=sample_rate, grid=grid, midi=pm, style=style.name, stems=stems,
                arrangement=arrangement, key=key_name(key_root(seed)), kick_times=tuple(kicks))
