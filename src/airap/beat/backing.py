"""The beat a song is planned on, generated or uploaded: one grid, built once, that the flow planner
places the vocals on and the beat is then played (or was recorded) over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .generate import Beat, generate_beat
from .grid import BeatGrid
from .styles import BeatStyle
from .track import UploadCaps, load_instrumental, track_beat

INTRO_BARS = 1  # one bar of beat before the first line: the listener hears the tempo first
OUTRO_BARS = 1  # and one after the last line, which then rings out


@dataclass(frozen=True)
class Backing:
    grid: BeatGrid  # long enough for any plan (generated) or the upload's tracked beats
    first_bar: int  # where the first line starts
    max_bars: int | None  # bars an upload has room for; None: a generated beat grows to fit
    upload: np.ndarray | None = None  # the decoded upload, float32 stereo at the track's rate


def generated_backing(style: BeatStyle, bpm: float, max_song_bars: int) -> Backing:
    grid = BeatGrid.regular(bpm, INTRO_BARS + max_song_bars + OUTRO_BARS, swing=style.swing)
    return Backing(grid=grid, first_bar=INTRO_BARS, max_bars=None)


def uploaded_backing(path: str, sample_rate: int, caps: UploadCaps) -> Backing:
    """Decode and track an instrumental; lines start on its first downbeat."""
    audio, _ = load_instrumental(path, sample_rate, caps)
    grid = track_beat(audio, sample_rate)
    length = len(audio) / sample_rate
    bars = sum(1 for b in range(grid.n_bars) if grid.slot_time(b + 1, 0) <= length + 0.01)
    return Backing(grid=grid, first_bar=0, max_bars=bars, upload=audio)


def backing_beat(backing: Backing, style: BeatStyle, song_bars: int, seed: int, sample_rate: int) -> Beat:
    """The beat under a song whose plan ends after ``song_bars`` bars: the upload as it is, or
    ``style`` played over the planning grid up to the outro's end."""
    if backing.upload is not None:
        return Beat(audio=backing.upload, sample_rate=sample_rate, grid=backing.grid, midi=None, style="upload")
    return generate_beat(style, backing.grid.first_bars(song_bars + OUTRO_BARS), seed, sample_rate)
