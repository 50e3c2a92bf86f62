"""Ad-libs: echoes of a line's last word on the off-beat after it, and short interjections in the
rests, planned from where every lyric syllable really sits, so none of them ever sounds over a
lyric syllable. They go to their own stem (adlibs.wav) and into the mix, quieter and panned.

Placement works on the finished timeline (timed lines and the beat grid), not on the plan: the
free time between syllables is read off the audio the listener hears."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import signal

from .chain import reverb
from .types import TimedLine

GUARD_S = 0.04  # silence kept between a lyric syllable and any ad-lib sound
MIN_ECHO_S = 0.15  # an echo shorter than this is not worth placing
ECHO_GAIN_DB = -9.0
INTERJECTION_GAIN_DB = -7.0
ECHO_BAND_HZ = (350.0, 3500.0)  # a "phone" echo: clearly a different layer from the lead
PAN = 0.6
REVERB_WET = 0.3  # ad-libs sit further back than the lead
REVERB_TAIL_S = 0.4
FADE_S = 0.02
# (echo every n-th line end, an interjection in rests at least this many beats long)
LEVELS = {"light": (2, 3.0), "heavy": (1, 1.5)}


@dataclass(frozen=True)
class AdlibPlan:
    kind: str  # "echo" | "interjection"
    text: str
    line: int  # the line it answers
    start: float  # where it starts on the track (s)
    window_end: float  # it must be silent from here on (the next lyric syllable minus the guard)
    source: tuple[float, float] = (0.0, 0.0)  # echo: the span of the lead vocal it repeats
    pan: float = 0.0


def occupied(lines: list[TimedLine]) -> list[tuple[float, float]]:
    """Every lyric syllable's span, sorted, widened by the guard."""
    spans = sorted((s.start - GUARD_S, s.end + GUARD_S) for ln in lines for w in ln.words for s in w.syllables)
    merged: list[list[float]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _free_until(t: float, busy: list[tuple[float, float]], end: float) -> float:
    """The end of the free time that starts at ``t`` (``t`` itself is free), or ``end``."""
    for a, _ in busy:
        if a > t:
            return min(a, end)
    return end


def _is_free(t: float, busy: list[tuple[float, float]]) -> bool:
    return not any(a <= t < b for a, b in busy)


def plan_adlibs(lines: list[TimedLine], levels: list[str], beats: list[float], words: tuple[str, ...],
                interjection_seconds: dict[str, float], seed: int = 0) -> list[AdlibPlan]:
    """Where each line's ad-libs go. ``levels``: off|light|heavy per line; ``words``: the
    interjections to choose from, with the length each one sings for."""
    rng = np.random.default_rng([seed, 17])
    busy = occupied(lines)
    end = beats[-1] if beats else 0.0
    beat_arr = np.asarray(beats)
    period = float(np.median(np.diff(beat_arr))) if len(beat_arr) > 1 else 0.5
    plans: list[AdlibPlan] = []
    side = 1.0
    for k, (line, level) in enumerate(zip(lines, levels)):
        if level not in LEVELS:
            continue
        every, rest_beats = LEVELS[level]
        last_word = line.words[-1]
        if (k + 1) % every == 0 and last_word.end - last_word.start >= MIN_ECHO_S:
            offbeats = np.concatenate([beat_arr, (beat_arr[:-1] + beat_arr[1:]) / 2])
            later = np.sort(offbeats[offbeats >= last_word.end + GUARD_S])
            for t in later[:3]:  # the first off-beat or beat after the word with room for it
                t = float(t)
                room = _free_until(t, busy, end) - t
                if _is_free(t, busy) and room >= MIN_ECHO_S:
                    plans.append(AdlibPlan("echo", last_word.text, k, t, t + room,
                                           (last_word.start, last_word.end), pan=side * PAN))
                    side = -side
                    break
        # a rest after the line long enough for an interjection, on a beat
        nxt = lines[k + 1].start if k + 1 < len(lines) else end
        if nxt - line.end >= rest_beats * period and words:
            word = words[int(rng.integers(0, len(words)))]
            length = interjection_seconds.get(word, 0.4)
            taken = [(p.start, p.start + (p.source[1] - p.source[0])) for p in plans if p.line == k]
            for t in beat_arr[(beat_arr > line.end + GUARD_S) & (beat_arr < nxt)]:
                t = float(t)
                room = _free_until(t, busy, end) - t
                clash = any(a - GUARD_S < t + length and t < b + GUARD_S for a, b in taken)
                if _is_free(t, busy) and room >= length and not clash:
                    plans.append(AdlibPlan("interjection", word, k, t, t + room, pan=side * PAN))
                    side = -side
                    break
    return plans


def _pan(y: np.ndarray, pan: float) -> np.ndarray:
    angle = (pan + 1) * np.pi / 4
    return y[:, None] * (np.sqrt(2) * np.array([np.cos(angle), np.sin(angle)], np.float32))


def adlib_track(plans: list[AdlibPlan], lead: Callable[[int, int], np.ndarray], clips: dict[str, np.ndarray],
                sr: int, n: int) -> np.ndarray:
    """The ad-lib stem [n, 2]: echoes cut from the lead (``lead(a, b)``: the mono lead vocal over
    samples a..b-1 of the track) and band-passed, interjections from ``clips`` (mono, sung by the character); each
    faded out before its window closes, so nothing sounds over a lyric syllable."""
    out = np.zeros((n, 2), np.float32)
    band = signal.butter(2, ECHO_BAND_HZ, "bandpass", fs=sr, output="sos")
    fade = max(1, int(FADE_S * sr))
    for p in plans:
        if p.kind == "echo":
            a, b = (int(round(t * sr)) for t in p.source)
            clip = signal.sosfilt(band, lead(a, b)).astype(np.float32) * np.float32(10 ** (ECHO_GAIN_DB / 20))
        else:
            clip = clips.get(p.text)
            if clip is None:
                continue
            clip = clip * np.float32(10 ** (INTERJECTION_GAIN_DB / 20))
        # the room's tail rides on the clip, so the window below cuts it too: nothing rings on into a syllable
        clip = reverb(np.concatenate([clip, np.zeros(int(REVERB_TAIL_S * sr), np.float32)]), sr, wet=REVERB_WET)
        i0 = int(round(p.start * sr))
        room = max(0, min(int(p.window_end * sr) - i0, n - i0))
        clip = clip[:room].copy()
        if len(clip) < 2 * fade:
            continue
        clip[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)
        clip[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        out[i0:i0 + len(clip)] += _pan(clip, p.pan)
    return out
