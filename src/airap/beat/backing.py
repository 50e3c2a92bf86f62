"""The beat a song is planned on, generated or uploaded: one grid, built once, that the flow planner
places the vocals on and the beat is then played (or was recorded) over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .arrange import OUTRO_BARS, PHRASE_BARS, Section, arrange, song_sections
from .generate import Beat, generate_beat
from .grid import BeatGrid
from .styles import BeatStyle
from .track import UploadCaps, load_instrumental, track_beat


@dataclass(frozen=True)
class Backing:
    grid: BeatGrid  # long enough for any plan (generated) or the upload's tracked beats
    first_bar: int  # where the first line starts
    max_bars: int | None  # bars an upload has room for; None: a generated beat grows to fit
    upload: np.ndarray | None = None  # the decoded upload, float32 stereo at the track's rate

    @property
    def arranged(self) -> bool:
        """A generated beat is arranged in phrases: sections start on them (the planner aligns them)."""
        return self.upload is None


def generated_backing(style: BeatStyle, bpm: float, max_song_bars: int, max_sections: int) -> Backing:
    """A grid with room for the intro, ``max_song_bars`` of lines, a phrase-alignment gap per
    section, the outro and the final hit."""
    bars = style.intro_bars + max_song_bars + (PHRASE_BARS - 1) * (max_sections + 1) + OUTRO_BARS + 1
    return Backing(grid=BeatGrid.regular(bpm, bars, swing=style.swing), first_bar=style.intro_bars, max_bars=None)


def uploaded_backing(path: str, sample_rate: int, caps: UploadCaps) -> Backing:
    """Decode and track an instrumental; lines start on its first downbeat."""
    audio, _ = load_instrumental(path, sample_rate, caps)
    grid = track_beat(audio, sample_rate)
    length = len(audio) / sample_rate
    bars = sum(1 for b in range(grid.n_bars) if grid.slot_time(b + 1, 0) <= length + 0.01)
    return Backing(grid=grid, first_bar=0, max_bars=bars, upload=audio)


def backing_sections(backing: Backing, labels: list[str], line_first_bars: list[int], song_bars: int) -> tuple[Section, ...]:
    """The song's timeline: the beat's intro, the lyric sections, the outro (an upload's outro is
    whatever of it follows the last line)."""
    outro = OUTRO_BARS if backing.arranged else max(0, (backing.max_bars or 0) - song_bars)
    return song_sections(labels, line_first_bars, backing.first_bar, song_bars, outro)


def backing_beat(backing: Backing, style: BeatStyle, sections: tuple[Section, ...], seed: int,
                 sample_rate: int) -> Beat:
    """The beat under the song: the upload as it is, or ``style`` arranged on ``sections`` and played
    over the planning grid up to the final hit."""
    if backing.upload is not None:
        return Beat(audio=backing.upload, sample_rate=sample_rate, grid=backing.grid, midi=None, style="upload")
    arrangement = arrange(style, sections, seed)
    return generate_beat(style, backing.grid.first_bars(arrangement.end_bar), arrangement, seed=seed,
                         sample_rate=sample_rate)


PREVIEW_SECONDS = 10.0


def preview_beat(style: BeatStyle, seed: int = 1, sample_rate: int = 44100, seconds: float = PREVIEW_SECONDS) -> np.ndarray:
    """A ``seconds`` clip of ``style`` that shows what it does: the end of a verse, the fill and the
    drop, and the hook landing (40 % in), with short fades. Float32 stereo."""
    grid = BeatGrid.regular(style.default_bpm, 2 * PHRASE_BARS + 1, swing=style.swing)
    sections = (Section("verse", "verse", 0, PHRASE_BARS), Section("hook", "hook", PHRASE_BARS, PHRASE_BARS))
    beat = generate_beat(style, grid, arrange(style, sections, seed), seed=seed, sample_rate=sample_rate)
    hook = grid.slot_time(PHRASE_BARS, 0)
    start = max(0.0, hook - 0.4 * seconds)
    clip = beat.audio[int(start * sample_rate): int((start + seconds) * sample_rate)].copy()
    fade = int(0.3 * sample_rate)
    clip[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)[:, None]
    clip[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)[:, None]
    return clip
