"""Sung lines: the engine's reading re-pitched onto notes by the WORLD vocoder (pyworld, MIT):
analyse once (F0, spectral envelope, aperiodicity), draw a new F0 curve, synthesise; and rapped
lines' accents (level). The envelope carries what is said and who says it, so the words and the timbre stay.
Pure functions on arrays, sample rate explicit."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ..text import Line
from ..text.notes import HIGHEST, LOWEST
from .base import SungLine

FRAME_S = 0.005
PORTAMENTO_S = 0.06  # glide between notes: a moving average of the target over 60 ms
VIBRATO_HZ = 5.5
VIBRATO_CENTS = 18.0  # depth (peak): gentle, a pop vocal's
VIBRATO_AFTER_S = 0.2  # a note starts straight; the vibrato fades in after this
VIBRATO_MIN_NOTE_S = 0.4  # only notes held this long get it
# Mandarin sung: the note carries the syllable, but its first ~70 ms keep half of the spoken tone's
# movement, enough for the ear to tell 买 from 卖 (as singers do on an onset)
TONE_ONSET_S, TONE_ONSET_SHARE = 0.07, 0.5
SING_ABOVE_SPEECH = 4.0  # semitones: a voice sings a little above where it speaks (the demo voices' pyin medians)
GAP_FILL_S = 0.03  # unvoiced frames shorter than this inside a note are voiced (analysis dropouts)


@dataclass
class WorldAnalysis:
    f0: np.ndarray  # Hz per frame, 0 = unvoiced
    sp: np.ndarray
    ap: np.ndarray
    sample_rate: int
    n_samples: int

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.f0)) * FRAME_S

    def median_midi(self) -> float | None:
        voiced = self.f0[self.f0 > 0]
        return float(69 + 12 * np.log2(np.median(voiced) / 440.0)) if voiced.size else None


@dataclass(frozen=True)
class NoteSpan:
    """A syllable's note: from ``start`` to ``end`` (s in the line's audio), ``midi`` (fractional ok);
    ``tonal``: a Mandarin syllable, whose onset keeps some of its spoken contour."""

    start: float
    end: float
    midi: float
    tonal: bool = False


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
    sp = pw.cheaptrick(x, f0, t, sr)
    ap = pw.d4c(x, f0, t, sr)
    return WorldAnalysis(f0, sp, ap, sr, len(y))


def register_shift(notes_midi, voice_midi: float | None) -> int:
    """Octaves (in semitones, a multiple of 12) that bring the melody's median nearest where the voice
    sings (``voice_midi``, its speaking median, plus SING_ABOVE_SPEECH), keeping every note in C2-C6."""
    if voice_midi is None or not len(notes_midi):
        return 0
    lo, hi = min(notes_midi), max(notes_midi)
    fits = [k for k in range(-48, 49, 12) if LOWEST <= lo + k and hi + k <= HIGHEST] or [0]
    want = voice_midi + SING_ABOVE_SPEECH - float(np.median(notes_midi))
    return min(fits, key=lambda k: (abs(k - want), abs(k)))


def _spoken_semitones(f0: np.ndarray) -> np.ndarray:
    out = np.full(len(f0), np.nan)
    v = f0 > 0
    out[v] = 12 * np.log2(f0[v] / 440.0)
    return out


def note_curve(an: WorldAnalysis, spans: list[NoteSpan]) -> np.ndarray:
    """The target F0 (Hz per frame, 0 where unvoiced): each span's note, glides between notes,
    vibrato on long notes, Mandarin onsets bent by their spoken tone."""
    t = an.times
    target = np.full(len(t), np.nan)
    for s in spans:
        target[(t >= s.start) & (t < s.end)] = s.midi
    known = ~np.isnan(target)
    if not known.any():
        return np.zeros(len(t))
    idx = np.flatnonzero(known)
    target = np.interp(np.arange(len(t)), idx, target[idx])  # before the first / after the last note: held
    w = max(1, int(round(PORTAMENTO_S / FRAME_S)))
    pad = np.pad(target, (w // 2, w - 1 - w // 2), mode="edge")
    curve = np.convolve(pad, np.ones(w) / w, mode="valid")
    spoken = _spoken_semitones(an.f0)
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
    voiced = an.f0 > 0
    gap = max(1, int(round(GAP_FILL_S / FRAME_S)))
    # fill short unvoiced dropouts inside notes (a breathy frame mid-vowel is not a consonant)
    k = 0
    while k < len(voiced):
        if not voiced[k]:
            j = k
            while j < len(voiced) and not voiced[j]:
                j += 1
            if 0 < k and j < len(voiced) and j - k <= gap:
                voiced[k:j] = True
            k = j
        else:
            k += 1
    return np.where(voiced, 440.0 * 2 ** ((curve - 69) / 12), 0.0)


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


# An accent at strength 1 is this much louder than an unaccented syllable (the line's level kept):
# after the vocal chain's 3:1 compressor the vocal stem still shows it (benchmarks/performance.py).
# Accents are level only. Raising the accented syllables' pitch through WORLD was built and measured:
# WORLD re-synthesis alone (no pitch change) raised the fast engine's dev Mandarin verse CER from
# 34 % to 49 % (EN dev WER 13 -> 21 % with the pitch accents), so the pitch part waits for an engine
# that takes F0 as an input.
ACCENT_DB = 5.0
ACCENT_SMOOTH_S = 0.02


def accent_line(sung: SungLine, strengths: tuple[float, ...]) -> SungLine:
    """The line with its accented syllables louder: ``strengths`` per syllable (0: none, 1: a full
    accent), from each syllable's first phoneme to the next one's, with 20-ms ramps."""
    if not any(strengths):
        return sung
    spans = sung.alignment.syllables
    sr = sung.sample_rate
    gain_db = np.zeros(len(sung.audio))
    for i, (sp, s) in enumerate(zip(spans, strengths)):
        end = spans[i + 1].start if i + 1 < len(spans) else sp.end
        gain_db[int(sp.start * sr):int(end * sr)] = ACCENT_DB * s
    w = max(1, int(ACCENT_SMOOTH_S * sr))
    gain_db = np.convolve(gain_db, np.ones(w) / w, mode="same")
    y = sung.audio * (10 ** ((gain_db - ACCENT_DB / 2) / 20)).astype(np.float32)  # centred: the line's level stays
    return SungLine(y.astype(np.float32), sr, sung.alignment)


@dataclass
class SungTakes:
    """A line sung on its notes: the lead, more takes of it (doubles) and a harmony part, all from one
    analysis of the engine's reading."""

    lead: SungLine
    notes: tuple[int, ...]  # as sung: the given or composed notes moved into the voice's register
    doubles: list[SungLine]
    harmony: SungLine | None
    shift: int  # semitones the notes were moved (a multiple of 12)


def note_spans(sung: SungLine, line: Line, notes) -> list[NoteSpan]:
    """Each syllable's note from its first phoneme to the next syllable's (the last: to its end)."""
    spans = sung.alignment.syllables
    return [NoteSpan(sp.start, spans[i + 1].start if i + 1 < len(spans) else sp.end, float(n), syl.lang == "zh")
            for i, (sp, n, syl) in enumerate(zip(spans, notes, line.syllables))]


def sing_on_notes(sung: SungLine, line: Line, notes: tuple[int, ...], detunes: tuple[float, ...] = (),
                  harmony: tuple[int, ...] | None = None) -> SungTakes:
    """``sung`` (the engine's reading on the line's planned durations, in character) re-pitched onto
    ``notes`` moved by octaves into the voice's register; ``detunes`` (semitones) give the doubles,
    ``harmony`` (notes, unshifted) a second part."""
    an = analyse(sung.audio, sung.sample_rate)
    shift = register_shift(notes, an.median_midi())

    def take(part, detune: float = 0.0) -> SungLine:
        spans = note_spans(sung, line, [n + shift + detune for n in part])
        return SungLine(synthesise(an, note_curve(an, spans), sung.audio), sung.sample_rate, sung.alignment)

    return SungTakes(lead=take(notes), notes=tuple(n + shift for n in notes),
                     doubles=[take(notes, d) for d in detunes],
                     harmony=take(harmony) if harmony else None, shift=shift)
