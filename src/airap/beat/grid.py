"""The beat grid: where beats, bars and 16th slots are, in seconds. Shared by the beat generator,
the beat tracker (uploads) and the flow planner."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BeatGrid:
    """Beat times (s) with downbeats every ``beats_per_bar`` beats starting at ``first_downbeat``
    (index into ``beats``). Tempo may drift: slots are interpolated between consecutive beats."""

    beats: tuple[float, ...]
    first_downbeat: int = 0
    beats_per_bar: int = 4
    swing: float = 0.5  # position of the off-beat 16th inside an 8th (0.5 = straight)

    @classmethod
    def regular(cls, bpm: float, bars: int, start: float = 0.0, swing: float = 0.5) -> "BeatGrid":
        period = 60.0 / bpm
        return cls(tuple(start + period * np.arange(bars * 4 + 1)), 0, 4, swing)

    def first_bars(self, bars: int) -> "BeatGrid":
        """The same grid cut after ``bars`` bars (the pickup before the first downbeat kept)."""
        return BeatGrid(self.beats[: self.first_downbeat + bars * self.beats_per_bar + 1], self.first_downbeat,
                        self.beats_per_bar, self.swing)

    @property
    def bpm(self) -> float:
        return float(60.0 / np.median(np.diff(self.beats))) if len(self.beats) > 1 else 0.0

    @property
    def downbeats(self) -> list[float]:
        return [self.beats[i] for i in range(self.first_downbeat, len(self.beats), self.beats_per_bar)]

    @property
    def n_bars(self) -> int:
        return max(0, (len(self.beats) - 1 - self.first_downbeat) // self.beats_per_bar)

    def beat_time(self, beat: float) -> float:
        """Time of a fractional beat index (beats counted from the first downbeat); extrapolates."""
        b = beat + self.first_downbeat
        beats = np.asarray(self.beats)
        if b <= 0:
            return float(beats[0] + b * (beats[1] - beats[0]))
        if b >= len(beats) - 1:
            return float(beats[-1] + (b - len(beats) + 1) * (beats[-1] - beats[-2]))
        i = int(b)
        return float(beats[i] + (b - i) * (beats[i + 1] - beats[i]))

    def slot_time(self, bar: int, slot: float, slots_per_bar: int = 16) -> float:
        """Time of ``slot`` (0..slots_per_bar) in ``bar``; swing applies to odd 16ths."""
        beat = slot * self.beats_per_bar / slots_per_bar
        if slots_per_bar == 16 and self.swing != 0.5:
            whole, frac = divmod(beat * 2, 1.0)  # position within an 8th note
            if abs(frac - 0.5) < 1e-9:
                beat = (whole + self.swing) / 2
        return self.beat_time(bar * self.beats_per_bar + beat)
