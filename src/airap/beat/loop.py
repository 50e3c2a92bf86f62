"""An upload made to fit the song: shorter than the lyrics need, it repeats on bar boundaries (its
repeating unit is tracked, not assumed); longer, it ends on the bar after the last line with a
one-bar fade (or is kept whole). The grid follows the audio exactly: every repeat's beats are the
tracked beats of the unit, shifted by the unit's length."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grid import BeatGrid

LOOP_XFADE_S = 0.01  # equal-power crossfade into every repeat: click-free, shorter than a kick's attack
PERIODS = (1, 2, 4, 8)  # bar counts a loop's pattern may repeat in
SAME_PERIOD = 0.02  # a shorter period within this of the best similarity wins (a 2-bar loop is also 4)
EXACT_LOOP = 0.08  # a file ending within 8 % of a bar of its last tracked bar line was cut as a loop


@dataclass(frozen=True)
class LoopUnit:
    first_beat: int  # index into the tracked beats of the loop's first downbeat
    bars: int  # the unit's length in bars (a multiple of the pattern's period)
    period_bars: int  # the pattern's own repeat, in bars
    start: float  # seconds
    end: float


def complete_bars(grid: BeatGrid, seconds: float) -> int:
    """Bars of ``grid`` that end within ``seconds`` of audio (10 ms of slack for rounding)."""
    return sum(1 for b in range(grid.n_bars) if grid.slot_time(b + 1, 0) <= seconds + 0.01)


def bar_features(audio: np.ndarray, sr: int, grid: BeatGrid, bars: int) -> np.ndarray:
    """Per complete bar: mean log-mel (40 bands) and chroma, unit-normalised."""
    import librosa

    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    hop = 512
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=mono, sr=sr, hop_length=hop, n_mels=40))
    chroma = librosa.feature.chroma_stft(y=mono, sr=sr, hop_length=hop)
    feats = []
    for b in range(bars):
        f0, f1 = (int(round(grid.slot_time(b + k, 0) * sr / hop)) for k in (0, 1))
        f1 = max(f1, f0 + 1)
        v = np.concatenate([mel[:, f0:f1].mean(axis=1) / 10.0, 4 * chroma[:, f0:f1].mean(axis=1)])
        feats.append(v - v.mean())
    f = np.array(feats)
    return f / (np.linalg.norm(f, axis=1, keepdims=True) + 1e-9)


def loop_unit(audio: np.ndarray, sr: int, grid: BeatGrid, first_bar: int = 0) -> LoopUnit:
    """The upload's repeatable unit: its complete bars from the downbeat of ``first_bar`` (after an
    intro: a loop repeats the groove, not the intro), cut to a whole number of the pattern's period
    (the period with the most similar bars that far apart)."""
    length = len(audio) / sr
    total = complete_bars(grid, length)
    first_bar = min(first_bar, max(total - 1, 0))
    bars = total - first_bar
    period = 1
    if bars >= 2:
        f = bar_features(audio, sr, grid, total)[first_bar:]
        sims = {p: float(np.mean(np.sum(f[p:] * f[:-p], axis=1))) for p in PERIODS if p <= bars // 2 or p == 1}
        best = max(sims.values())
        period = min(p for p, v in sims.items() if v >= best - SAME_PERIOD)
    unit = min(max(period, bars // period * period), max(bars, 1))
    end = grid.slot_time(first_bar + unit, 0)
    bar = grid.slot_time(1, 0) - grid.slot_time(0, 0)
    if unit == bars and abs(length - end) < EXACT_LOOP * bar:
        end = length  # a file cut as a loop: its own end is the bar line (tempo estimates drift, the file does not)
    return LoopUnit(first_beat=grid.first_downbeat + first_bar * grid.beats_per_bar, bars=unit, period_bars=period,
                    start=grid.slot_time(first_bar, 0), end=end)


def looped_grid(grid: BeatGrid, unit: LoopUnit, bars: int) -> BeatGrid:
    """The grid of the upload repeated until it holds ``bars`` bars: the beats before the unit (a
    pickup, an intro), then the unit's tracked beats again and again."""
    beats = np.asarray(grid.beats)
    per = grid.beats_per_bar
    pickup = beats[: unit.first_beat]
    unit_beats = beats[unit.first_beat:unit.first_beat + unit.bars * per]
    span = unit.end - unit.start
    reps = -(-bars // unit.bars) + 1
    looped = np.concatenate([pickup] + [unit_beats + r * span for r in range(reps)])
    return BeatGrid(tuple(float(t) for t in looped[: grid.first_downbeat + bars * per + 1]), grid.first_downbeat, per,
                    grid.swing)


def fit_upload(audio: np.ndarray, sr: int, unit: LoopUnit, grid: BeatGrid, song_bars: int,
               keep_length: bool = False) -> np.ndarray:
    """The upload repeated (equal-power crossfades at the joins) and ended: at the bar after
    ``song_bars`` with a one-bar fade, or, with ``keep_length``, at its own end (looped if the
    song needs more). ``grid``: :func:`looped_grid` of the same unit."""
    s0, s1 = int(round(unit.start * sr)), int(round(unit.end * sr))
    length = s1 - s0
    end_bar = song_bars + 1
    need = int(round(grid.slot_time(end_bar, 0) * sr))
    if keep_length:
        need = max(need, len(audio))
    out = np.zeros((max(need, 1), 2), np.float32)
    head = audio[: min(len(audio), need)]
    out[: len(head)] = head
    xf = int(LOOP_XFADE_S * sr)
    fade_in = np.sin(np.linspace(0, np.pi / 2, xf, dtype=np.float32))[:, None]
    fade_out = np.cos(np.linspace(0, np.pi / 2, xf, dtype=np.float32))[:, None]
    join = s1
    looped = len(audio) < need
    while join < need and looped:
        seg = audio[s0:s1][: need - join]
        out[join:join + len(seg)] = seg
        if xf and join >= xf:  # the previous copy runs on into the join as the original ran into its downbeat
            pre = audio[s0 - xf:s0] if s0 >= xf else np.zeros((xf, 2), np.float32)
            tail = audio[s1 - xf:s1]
            out[join - xf:join] = tail * fade_out + pre * fade_in
        join += length
    if not keep_length or looped:  # end on the bar line after the last line, fading over that bar
        need = int(round(grid.slot_time(end_bar, 0) * sr)) if looped and keep_length else need
        bar = int(round(grid.slot_time(end_bar - 1, 0) * sr))
        ramp = np.cos(np.linspace(0, np.pi / 2, max(1, need - bar), dtype=np.float32)) ** 2
        out[bar:need] *= ramp[: need - bar, None]
    return out
