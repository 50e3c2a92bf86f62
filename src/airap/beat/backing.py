"""The beat a song is planned on, generated or uploaded: one grid, built once, that the flow planner
places the vocals on and the beat is then played (or was recorded) over."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .arrange import OUTRO_BARS, PHRASE_BARS, Section, arrange, song_sections
from .generate import Beat, KeptStems, generate_beat
from .grid import BeatGrid
from .loop import LoopUnit, complete_bars, fit_upload, loop_unit, looped_grid
from .styles import BeatStyle
from .track import UNCLEAR_BEAT, UploadCaps, load_instrumental, track_upload


@dataclass(frozen=True)
class Backing:
    grid: BeatGrid  # long enough for any plan (a generated beat, or an upload looped)
    first_bar: int  # where the first line starts
    max_bars: int | None  # bars the song may use (an upload's cap: the longest track allowed)
    upload: np.ndarray | None = None  # the decoded upload, float32 stereo at the track's rate
    loop: LoopUnit | None = None  # the upload's repeatable unit
    upload_bars: int = 0  # complete bars in the upload as it came
    keep_length: bool = False  # end where the upload ends (looped if the song needs more)
    warnings: tuple[str, ...] = ()  # what the user should know about how the upload was read

    @property
    def arranged(self) -> bool:
        """A generated beat is arranged in phrases: sections start on them (the planner aligns them)."""
        return self.upload is None


def generated_backing(style: BeatStyle, bpm: float, max_song_bars: int, max_sections: int) -> Backing:
    """A grid with room for the intro, ``max_song_bars`` of lines, a phrase-alignment gap per
    section, the outro and the final hit."""
    bars = style.intro_bars + max_song_bars + (PHRASE_BARS - 1) * (max_sections + 1) + OUTRO_BARS + 1
    return Backing(grid=BeatGrid.regular(bpm, bars, swing=style.swing), first_bar=style.intro_bars, max_bars=None)


MIN_UPLOAD_BARS = 2
# s: a first line starts on a downbeat at least this far into the upload. Its consonants come before
# the downbeat (up to ~0.25 s for a cluster like "str"); a line planned earlier loses them.
FIRST_LINE_ROOM = 0.25


def uploaded_backing(path: str, sample_rate: int, caps: UploadCaps, bpm_hint: float | None = None,
                     downbeat_hint: float | None = None, keep_length: bool = False,
                     intro_bars: int | None = None) -> Backing:
    """Decode and track an instrumental; lines start where its drums come in (``intro_bars``: that
    many bars after its first downbeat instead; 0 starts them at once). The planning grid runs on
    past its end, repeating its loop unit (the bars after the intro), up to the longest track allowed."""
    audio, _ = load_instrumental(path, sample_rate, caps)
    length = len(audio) / sample_rate
    if downbeat_hint is not None and not 0 <= downbeat_hint < length:
        raise InputError(f"--downbeat-hint {downbeat_hint:g} s is outside the instrumental (0-{length:.1f} s)")
    tracked = track_upload(audio, sample_rate, bpm_hint, downbeat_hint)
    grid = tracked.grid
    warnings = ()
    if tracked.on_hits < UNCLEAR_BEAT:
        warnings += ("the instrumental has no clear beat (few beats land on a hit): the grid may be wrong; "
                     "set --bpm-hint and --downbeat-hint, or use a generated beat",)
    if tracked.other_bpm:
        other = tracked.other_bpm
        warnings += (f"the instrumental's tempo was read as {grid.bpm:.0f} BPM; it may also be {other:.0f} BPM "
                     f"(half or double): pass --bpm-hint {other:.0f} (bpm_hint over HTTP) if that is its beat",)
    bars = complete_bars(grid, length)
    if bars < MIN_UPLOAD_BARS:
        raise InputError(f"the instrumental holds {bars} complete bar{'s' * (bars != 1)} at {grid.bpm:.0f} BPM "
                         f"(min {MIN_UPLOAD_BARS}): use a longer loop, or --bpm-hint if the tempo is misread")
    if intro_bars is None:
        intro = tracked.intro_bars
        if grid.slot_time(intro, 0) < FIRST_LINE_ROOM and bars - intro > MIN_UPLOAD_BARS:
            intro += 1  # a file cut on its downbeat: the first line's consonants need room before it
        elif intro:
            warnings += (f"the lyrics start at bar {intro + 1} ({grid.slot_time(intro, 0):.1f} s), where the "
                         f"instrumental's drums come in: pass --intro-bars 0 (intro_bars over HTTP, 'bars before "
                         f"the lyrics' on the page) to start them on its first bar",)
    elif intro_bars > bars - MIN_UPLOAD_BARS:
        raise InputError(f"--intro-bars {intro_bars}: the instrumental holds {bars} complete bars at "
                         f"{grid.bpm:.0f} BPM, so at most {bars - MIN_UPLOAD_BARS} can come before the lyrics")
    else:
        intro = intro_bars
    unit = loop_unit(audio, sample_rate, grid, first_bar=intro)
    bar_seconds = (unit.end - unit.start) / unit.bars
    max_bars = int((caps.max_seconds - grid.slot_time(0, 0)) / bar_seconds) - 1
    return Backing(grid=looped_grid(grid, unit, max_bars + 2), first_bar=intro, max_bars=max_bars, upload=audio,
                   loop=unit, upload_bars=bars, keep_length=keep_length, warnings=warnings)


def backing_sections(backing: Backing, labels: list[str], line_first_bars: list[int], song_bars: int) -> tuple[Section, ...]:
    """The song's timeline: the beat's intro, the lyric sections, the outro (an upload's: the bar
    it fades out over, or all of it that follows the last line with keep_length)."""
    if backing.arranged:
        outro = OUTRO_BARS
    else:
        outro = max(1, backing.upload_bars - song_bars) if backing.keep_length else 1
    return song_sections(labels, line_first_bars, backing.first_bar, song_bars, outro)


def backing_beat(backing: Backing, style: BeatStyle, sections: tuple[Section, ...], seed: int,
                 sample_rate: int, threads: int = 1, kept: KeptStems | None = None) -> Beat:
    """The beat under the song: the upload as it is, or ``style`` arranged on ``sections`` and played
    over the planning grid up to the final hit (``threads``, ``kept``: see ``generate_beat``)."""
    if backing.upload is not None:
        song_bars = sections[-1].first_bar if sections else backing.upload_bars
        audio = fit_upload(backing.upload, sample_rate, backing.loop, backing.grid, song_bars, backing.keep_length)
        n_bars = complete_bars(backing.grid, len(audio) / sample_rate)
        return Beat(audio=audio, sample_rate=sample_rate, grid=backing.grid.first_bars(n_bars), midi=None,
                    style="upload")
    arrangement = arrange(style, sections, seed)
    return generate_beat(style, backing.grid.first_bars(arrangement.end_bar), arrangement, seed=seed,
                         sample_rate=sample_rate, threads=threads, kept=kept)


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
