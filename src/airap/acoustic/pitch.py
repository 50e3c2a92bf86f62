"""A line's pitch on a plan: sung notes (fitted to the voice's register, glides between notes,
vibrato on long ones, Mandarin onsets bent by their spoken tone) or accents (syllables lifted over
the voice's own contour, its shape kept). The curve is drawn on any engine's F0 frames: an engine
that takes pitch (``takes_pitch``) draws it into its own features; for the others the line is
re-pitched afterwards by the WORLD vocoder (pyworld, MIT): analysed once, synthesised on the new curve.
Pure functions on arrays, sample rate explicit."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..text import Line
from ..text.notes import HIGHEST, LOWEST
from .base import PitchPlan, SungLine

FRAME_S = 0.005  # WORLD analysis frames
# Glide between notes: a moving average of the target over 20 ms. At 60 ms the glide ran through a
# word's voiced coda and the next onset and was heard as a syllable of its own ("breathe in, breathe
# out" -> "breathe in and breathe out"). Dev lines of session 22 (as for catalog's sung flow), sung
# WER/CER at 60 -> 20 ms: rose 15.9 -> 13.1, adam 8.7 -> 7.7 %; xi 12.5 -> 13.8, mei 16.1 -> 15.2 %.
PORTAMENTO_S = 0.02
VIBRATO_HZ = 5.5
VIBRATO_CENTS = 18.0  # depth (peak): gentle, a pop vocal's
VIBRATO_AFTER_S = 0.2  # a note starts straight; the vibrato fades in after this
VIBRATO_MIN_NOTE_S = 0.4  # only notes held this long get it
# Mandarin sung: the note carries the syllable, but its first ~70 ms keep half of the spoken tone's
# movement, enough for the ear to tell 买 from 卖 (as singers do on an onset)
TONE_ONSET_S, TONE_ONSET_SHARE = 0.07, 0.5
SING_ABOVE_SPEECH = 6.0  # semitones: a voice sings above where it speaks (a half-octave: an alto speaking at G3 sings around D4)
GAP_FILL_S = 0.03  # unvoiced frames shorter than this inside a note are voiced (analysis dropouts)
LIFT_SMOOTH_S = 0.03  # an accent's lift ramps in and out over 30 ms
ENERGY_ONSET_S = 0.08  # a line's last sung vowel keeps the loudest energy of its first 80 ms


@dataclass(frozen=True)
class NoteSpan:
    """A syllable's note: from ``start`` to ``end`` (s on the F0 frames' timeline), ``midi``
    (fractional ok); ``tonal``: a Mandarin syllable, whose onset keeps some of its spoken contour."""

    start: float
    end: float
    midi: float
    tonal: bool = False


def median_midi(f0: np.ndarray) -> float | None:
    voiced = f0[f0 > 0]
    return float(69 + 12 * np.log2(np.median(voiced) / 440.0)) if voiced.size else None


def register_shift(notes_midi, voice_midi: float | None) -> int:
    """Octaves (in semitones, a multiple of 12) that bring the melody's median nearest where the voice
    sings (``voice_midi``, its speaking median, plus SING_ABOVE_SPEECH), keeping every note in C2-C6."""
    if voice_midi is None or not len(notes_midi):
        return 0
    lo, hi = min(notes_midi), max(notes_midi)
    fits = [k for k in range(-48, 49, 12) if LOWEST <= lo + k and hi + k <= HIGHEST] or [0]
    want = voice_midi + SING_ABOVE_SPEECH - float(np.median(notes_midi))
    return min(fits, key=lambda k: (abs(k - want), abs(k)))


def _smooth(x: np.ndarray, frames: int) -> np.ndarray:
    w = max(1, frames)
    return np.convolve(np.pad(x, (w // 2, w - 1 - w // 2), mode="edge"), np.ones(w) / w, mode="valid")


def _fill_gaps(voiced: np.ndarray, frames: int) -> np.ndarray:
    """Short unvoiced runs between voiced frames become voiced (a breathy frame mid-vowel)."""
    voiced = voiced.copy()
    k = 0
    while k < len(voiced):
        if voiced[k]:
            k += 1
            continue
        j = k
        while j < len(voiced) and not voiced[j]:
            j += 1
        if 0 < k and j < len(voiced) and j - k <= frames:
            voiced[k:j] = True
        k = j
    return voiced


def note_curve(f0: np.ndarray, frame_s: float, spans: list[NoteSpan]) -> np.ndarray:
    """The target F0 (Hz per frame, 0 where unvoiced) on frames ``frame_s`` apart whose spoken F0 is
    ``f0``: each span's note, glides between notes, vibrato on long notes, Mandarin onsets bent by
    their spoken tone."""
    t = np.arange(len(f0)) * frame_s
    target = np.full(len(t), np.nan)
    for s in spans:
        target[(t >= s.start) & (t < s.end)] = s.midi
    known = ~np.isnan(target)
    if not known.any():
        return np.zeros(len(t))
    idx = np.flatnonzero(known)
    target = np.interp(np.arange(len(t)), idx, target[idx])  # before the first / after the last note: held
    curve = _smooth(target, int(round(PORTAMENTO_S / frame_s)))
    spoken = np.full(len(f0), np.nan)
    spoken[f0 > 0] = 12 * np.log2(f0[f0 > 0] / 440.0)
    for s in spans:
        inside = (t >= s.start) & (t < s.end)
        if s.end - s.start >= VIBRATO_MIN_NOTE_S:
            age = t - s.start - VIBRATO_AFTER_S
            depth = np.clip(age / 0.15, 0, 1) * VIBRATO_CENTS / 100
            curve += np.where(inside & (age > 0), depth * np.sin(2 * np.pi * VIBRATO_HZ * np.maximum(age, 0)), 0)
        if s.tonal:
            sp = spoken[inside]
            if np.isfinite(sp).sum() >= 3:
                dev = sp - np.nanmean(sp)
                fade = np.clip(1 - (t[inside] - s.start) / TONE_ONSET_S, 0, 1) * TONE_ONSET_SHARE
                curve[inside] += np.nan_to_num(dev) * fade
    voiced = _fill_gaps(f0 > 0, max(1, int(round(GAP_FILL_S / frame_s))))
    return np.where(voiced, 440.0 * 2 ** ((curve - 69) / 12), 0.0)


def lift_curve(f0: np.ndarray, frame_s: float, lifts: list[tuple[float, float, float]]) -> np.ndarray:
    """``f0`` raised by ``semitones`` over each (start, end, semitones) span, with 30-ms ramps: the
    contour's shape, and so a Mandarin tone, is kept; the whole syllable moves."""
    t = np.arange(len(f0)) * frame_s
    lift = np.zeros(len(t))
    for a, b, st in lifts:
        lift[(t >= a) & (t < b)] = st
    lift = _smooth(lift, int(round(LIFT_SMOOTH_S / frame_s)))
    return np.where(f0 > 0, f0 * 2 ** (lift / 12), 0.0)


def planned_f0(f0: np.ndarray, frame_s: float, bounds: list[tuple[float, float]], line: Line,
               plan: PitchPlan, held: list[tuple[float, float]] = ()) -> tuple[np.ndarray, tuple[int, ...] | None]:
    """The F0 a ``plan`` asks of a line whose spoken F0 is ``f0`` (Hz per frame) and whose syllables
    span ``bounds`` (s, on the same frames). Returns (F0, the notes as heard after the engine's
    ``plan.transpose``, or None for lifts). ``held``: the (start, end) of each syllable's held vowel;
    sung, those are voiced throughout (a voice's own reading lets a long vowel fade to breath)."""
    if plan.notes is not None:
        voice = median_midi(f0)  # where the line is spoken: before the held vowels' frames are marked voiced
        t = np.arange(len(f0)) * frame_s
        f0 = f0.copy()
        for a, b in held:
            f0[(t >= a) & (t < b) & (f0 <= 0)] = 1.0  # voiced; the note gives the value
        shift = plan.shift
        if shift is None:
            shift = register_shift(plan.notes, None if voice is None else voice + plan.transpose)
        heard = tuple(int(round(n + shift)) for n in plan.notes)
        spans = [NoteSpan(a, b, n + plan.detune - plan.transpose, syl.lang == "zh")
                 for (a, b), n, syl in zip(bounds, heard, line.syllables)]
        return note_curve(f0, frame_s, spans), heard
    lifts = plan.lifts or ()
    lifts = against_line(_syllable_pitch(f0, frame_s, bounds), lifts)
    return lift_curve(f0, frame_s, [(a, b, st) for (a, b), st in zip(bounds, lifts) if st]), None


def _syllable_pitch(f0: np.ndarray, frame_s: float, bounds: list[tuple[float, float]]) -> np.ndarray:
    """Median F0 (MIDI) of each syllable's voiced frames; NaN where it has none."""
    t = np.arange(len(f0)) * frame_s
    medians = [median_midi(f0[(t >= a) & (t < b)]) for a, b in bounds]
    return np.array([np.nan if m is None else m for m in medians])


def against_line(per_syllable: np.ndarray, accents) -> list[float]:
    """Per syllable, how far to raise it (same unit as ``per_syllable``: semitones or dB) so that an
    accented one ends at least its ``accents`` value above the line's median. A voice's own reading
    sinks towards a line's end (declination) and often sits low on the beat: a lift over the
    syllable's own value alone was heard as no accent at all (FastSpeech-lite, dev EN verse of
    benchmarks/performance.py: on-beat syllables 1.7 st and 2.3 dB under the others before the lift,
    +0.2 st and +1.1 dB after it). The catch-up is at most one more accent, so a syllable that
    fades to a creak is not pushed an octave up. Unaccented syllables and those with no reading are
    left as they are."""
    known = per_syllable[np.isfinite(per_syllable)]
    line = float(np.median(known)) if known.size else 0.0
    return [float(acc + min(acc, max(0.0, line - x))) if acc and np.isfinite(x) else float(acc)
            for x, acc in zip(per_syllable, accents)]


def syllable_bounds(sung: SungLine) -> list[tuple[float, float]]:
    """Each syllable from its first phoneme to the next syllable's (the last: to its end)."""
    spans = sung.alignment.syllables
    return [(sp.start, spans[i + 1].start if i + 1 < len(spans) else sp.end) for i, sp in enumerate(spans)]


# -- re-pitching a finished line (engines that do not take pitch) ------------------------------------

@dataclass
class WorldAnalysis:
    f0: np.ndarray  # Hz per frame, 0 = unvoiced
    sp: np.ndarray
    ap: np.ndarray
    sample_rate: int
    n_samples: int


def _pw():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyworld

    return pyworld


def analyse(y: np.ndarray, sr: int) -> WorldAnalysis:
    pw = _pw()
    x = np.ascontiguousarray(y, dtype=np.float64)
    f0, t = pw.dio(x, sr, f0_floor=60.0, f0_ceil=1000.0, frame_period=FRAME_S * 1000)
    f0 = pw.stonemask(x, f0, t, sr)
    return WorldAnalysis(f0, pw.cheaptrick(x, f0, t, sr), pw.d4c(x, f0, t, sr), sr, len(y))


def synthesise(an: WorldAnalysis, f0: np.ndarray, level_like: np.ndarray | None = None) -> np.ndarray:
    """Audio from the analysis with a new F0 curve, the analysed length, the RMS of ``level_like``."""
    pw = _pw()
    y = pw.synthesize(np.ascontiguousarray(f0, dtype=np.float64), an.sp, an.ap, an.sample_rate,
                      frame_period=FRAME_S * 1000)
    y = np.pad(y, (0, max(0, an.n_samples - len(y))))[: an.n_samples].astype(np.float32)
    if level_like is not None:
        a, b = float(np.sqrt(np.mean(level_like ** 2))), float(np.sqrt(np.mean(y ** 2)))
        if a > 0 and b > 0:
            y *= a / b
    return y


@dataclass
class SungTakes:
    """A line sung on its notes: the lead, more takes of it (doubles) and a harmony part."""

    lead: SungLine
    notes: tuple[int, ...]  # as sung: the given or composed notes moved into the voice's register
    doubles: list[SungLine]
    harmony: SungLine | None
    shift: int  # semitones the notes were moved (a multiple of 12)


def sing_on_notes(sung: SungLine, line: Line, notes: tuple[int, ...], detunes: tuple[float, ...] = (),
                  harmony: tuple[int, ...] | None = None, shift: int | None = None) -> SungTakes:
    """``sung`` (the engine's reading on the line's planned durations, in character) re-pitched by
    WORLD onto ``notes`` moved by octaves into the voice's register; ``detunes`` (semitones) give the
    doubles, ``harmony`` (notes, unshifted) a second part. All from one analysis. ``shift``: the
    octaves to move by (None: fitted to this line)."""
    an = analyse(sung.audio, sung.sample_rate)
    bounds = syllable_bounds(sung)

    def take(part, detune: float = 0.0, shift: int | None = None) -> tuple[SungLine, tuple[int, ...]]:
        f0, heard = planned_f0(an.f0, FRAME_S, bounds, line, PitchPlan(notes=part, detune=detune, shift=shift))
        return SungLine(synthesise(an, f0, sung.audio), sung.sample_rate, sung.alignment, heard), heard

    lead, heard = take(notes, 0.0, shift)
    shift = heard[0] - notes[0]
    return SungTakes(lead=lead, notes=heard, doubles=[take(notes, d, shift)[0] for d in detunes],
                     harmony=take(harmony, 0.0, shift)[0] if harmony else None, shift=shift)


# -- accents: level ----------------------------------------------------------------------------------

# An accent at strength 1 is this much louder than the line's median syllable (the line's level
# kept; see against_line): after the vocal chain's 3:1 compressor the vocal stem still shows it
# (benchmarks/performance.py).
ACCENT_DB = 5.0
# Its pitch: this many semitones over the line's median (see against_line), the syllable's own
# contour kept, drawn by engines that take pitch.
# Not done by WORLD re-synthesis of a finished line: that alone (no pitch change) raised the fast
# engine's dev Mandarin verse CER from 34 % to 49 % (benchmarks/performance.py, session 7).
ACCENT_SEMITONES = 2.0
ACCENT_SMOOTH_S = 0.02


def _syllable_level(y: np.ndarray, sr: int, bounds: list[tuple[float, float]]) -> np.ndarray:
    """Each syllable's level (dB): its loudest 20-ms RMS, the vowel a listener hears; NaN if silent."""
    frame = max(1, int(0.02 * sr))
    out = np.full(len(bounds), np.nan)
    for k, (a, b) in enumerate(bounds):
        seg = y[int(a * sr):int(b * sr)].astype(np.float64)
        if len(seg) >= frame:
            rms = np.sqrt(np.convolve(seg ** 2, np.ones(frame) / frame, mode="valid").max())
            out[k] = 20 * np.log10(rms) if rms > 1e-5 else np.nan
    return out


def accent_line(sung: SungLine, strengths: tuple[float, ...]) -> SungLine:
    """The line with its accented syllables louder: ``strengths`` per syllable (0: none, 1: a full
    accent) lifts a syllable to ``ACCENT_DB * strength`` over the line's median syllable level (see
    :func:`against_line`), from its first phoneme to the next syllable's, with 20-ms ramps."""
    if not any(strengths):
        return sung
    sr = sung.sample_rate
    bounds = syllable_bounds(sung)
    gain_db = np.zeros(len(sung.audio))
    for (a, b), db in zip(bounds, against_line(_syllable_level(sung.audio, sr, bounds),
                                              [ACCENT_DB * s for s in strengths])):
        gain_db[int(a * sr):int(b * sr)] = db
    w = max(1, int(ACCENT_SMOOTH_S * sr))
    gain_db = np.convolve(gain_db, np.ones(w) / w, mode="same")
    y = sung.audio * (10 ** ((gain_db - ACCENT_DB / 2) / 20)).astype(np.float32)  # centred: the line's level stays
    return SungLine(y.astype(np.float32), sr, sung.alignment, sung.notes)


def held_energy(energy: np.ndarray, frame_s: float, held: list[tuple[float, float]],
                release: bool = False) -> np.ndarray:
    """An engine's energy curve with a sung line's last vowel (the last of ``held``) kept at the
    level it reaches in its first ENERGY_ONSET_S; with ``release``, that floor eases linearly back to
    the engine's own curve by the vowel's end, as a singer releases a note. A voice's reading lets a
    line's last vowel decay to breath; a singer holds it. The vowels inside a line keep their own
    curve: held there too, the codas after them blurred (session 23 dev lines: speakers ->
    "suspegors", kick -> "kiss")."""
    if not held:
        return energy
    a, b = held[-1]
    t = np.arange(len(energy)) * frame_s
    onset = (t >= a) & (t < min(b, a + ENERGY_ONSET_S))
    if not onset.any():
        return energy
    floor = energy[onset].max()
    if release:
        w = np.clip((b - t) / max(b - a - ENERGY_ONSET_S, 1e-6), 0.0, 1.0)
        floor = w * floor + (1 - w) * energy
    return np.where((t >= a + ENERGY_ONSET_S) & (t < b), np.maximum(energy, floor), energy)


def held_world_vowel(features: np.ndarray, log_power: np.ndarray, energy_column: int, aperiodicity_column: int,
                     frame_s: float, held: list[tuple[float, float]]) -> np.ndarray:
    """WORLD-like features ([frames, dims]) with a sung line's last vowel held: its envelope's power
    (``log_power``, natural log per frame) as in :func:`held_energy`, by moving ``energy_column``
    (the mel-cepstrum's c0, which adds to the log power), and the whole vowel no more aperiodic
    than the line's other vowels (their median, per column from ``aperiodicity_column``).
    The fast engine reads a line's last vowel as a whisper: 途 at aperiodicity 0.0 dB (pure noise)
    against -4.2 dB for the line's other vowels. The envelope's shape keeps its own course: frozen
    at the vowel's onset, it lost the vowel's movement ("snare" heard "neck", "all" "up"; session 24
    dev lines, kumo); c0 held alone left the last quarter of the vowel 17-28 dB down."""
    if not held:
        return features
    out = features.copy()
    out[:, energy_column] += held_energy(log_power, frame_s, held) - log_power
    t = np.arange(len(features)) * frame_s
    others = np.zeros(len(t), bool)
    for start, end in held[:-1]:
        others |= (t >= start) & (t < end)
    if others.any():
        a, b = held[-1]
        vowel = (t >= a) & (t < b)
        typical = np.median(features[others, aperiodicity_column:], axis=0)
        out[vowel, aperiodicity_column:] = np.minimum(out[vowel, aperiodicity_column:], typical)
    return out
