"""The one-click render: lyrics -> finished, beat-locked track. Orchestrates the stages in order
(text -> acoustic -> align -> flow -> waveform -> mix); holds loaded models, no other state, so one
Renderer serves many songs from many threads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import signal

from .acoustic import VocalEngine, load_engine
from .beat import BeatGrid, check_bpm, generate_beat, get_style, load_instrumental, track_beat
from .errors import InputError
from .flow import FlowPlan, get_template, plan_song
from .mix import TimedLine, TimedSyllable, TimedWord, Track, mix_track, write_track
from .text import parse_lyrics

SAMPLE_RATE = 44100
INTRO_BARS = 1
OUTRO_BARS = 1
MAX_SEED = 2**31 - 1

Progress = Callable[[str, float], None]  # (stage name, fraction done)


@dataclass(frozen=True)
class RenderRequest:
    lyrics: str
    voice: str | None = None  # None: the sheet's voice, else the engine default
    beat: str | None = None  # style name; None: the sheet's, else boom-bap
    bpm: float | None = None
    lang: str = "auto"
    seed: int = 0
    flow: str | None = None  # default template for lines without one
    instrumental: str | None = None  # path of an uploaded instrumental (replaces the generated beat)
    formats: tuple[str, ...] = ("wav",)


@dataclass
class RenderResult:
    track: Track
    plan: FlowPlan
    files: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per stage


def _resample(y: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    if sr_from == sr_to:
        return y
    g = np.gcd(sr_from, sr_to)
    return signal.resample_poly(y, sr_to // g, sr_from // g).astype(np.float32)


class Renderer:
    def __init__(self, engine: str | VocalEngine = "kokoro", threads: int = 1):
        self.engine = load_engine(engine, threads) if isinstance(engine, str) else engine
        self.voice_names = [v.name for v in self.engine.voices()]

    def validate(self, req: RenderRequest) -> RenderRequest:
        """Check every option before any work; returns the request with defaults filled in."""
        if req.voice is not None and req.voice not in self.voice_names:
            raise InputError(f"unknown voice {req.voice!r}; voices: {', '.join(self.voice_names)}")
        if req.beat is not None:
            get_style(req.beat)
        if req.bpm is not None:
            check_bpm(req.bpm)
        if req.flow is not None:
            get_template(req.flow)
        if not isinstance(req.seed, int) or not (0 <= req.seed <= MAX_SEED):
            raise InputError(f"seed must be a whole number from 0 to {MAX_SEED}")
        bad = set(req.formats) - {"wav", "mp3"}
        if bad:
            raise InputError(f"unknown format {sorted(bad)[0]!r}: use wav or mp3")
        return req

    def render(self, req: RenderRequest, out_dir: str | Path | None = None,
               progress: Progress | None = None) -> RenderResult:
        import time

        req = self.validate(req)
        step = progress or (lambda stage, frac: None)
        clock: dict[str, float] = {}
        t0 = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal t0
            now = time.perf_counter()
            clock[name] = clock.get(name, 0.0) + now - t0
            t0 = now

        if out_dir is not None:
            out = Path(out_dir)
            try:
                out.mkdir(parents=True, exist_ok=True)
                probe = out / ".airap-write-test"
                probe.write_bytes(b"")
                probe.unlink()
            except OSError as e:
                raise InputError(f"cannot write to output folder {str(out)!r}: {e.strerror or e}") from None
        step("text", 0.0)
        song = parse_lyrics(req.lyrics, req.lang)
        voice_default = req.voice or song.voice or "kumo"
        if voice_default not in self.voice_names:
            raise InputError(f"unknown voice {voice_default!r}; voices: {', '.join(self.voice_names)}")
        for line in song.lines:
            if line.voice and line.voice not in self.voice_names:
                raise InputError(f"unknown voice {line.voice!r} in song sheet; voices: {', '.join(self.voice_names)}")
            if line.flow:
                get_template(line.flow)
        style = req.beat or song.beat or "boom-bap"
        get_style(style)
        bpm = check_bpm(req.bpm if req.bpm is not None else (song.bpm or get_style(style).default_bpm))
        lap("text")

        step("acoustic", 0.1)
        voices = [line.voice or voice_default for line in song.lines]
        naturals = [self.engine.natural_timing(line, v) for line, v in zip(song.lines, voices)]
        lap("acoustic_natural")

        step("flow", 0.2)
        instrumental = None
        if req.instrumental:
            instrumental, _ = load_instrumental(req.instrumental, SAMPLE_RATE)
            grid = track_beat(instrumental, SAMPLE_RATE)
            first_bar = 0
            seconds = len(instrumental) / SAMPLE_RATE
            max_bars = sum(1 for b in range(grid.n_bars) if grid.slot_time(b + 1, 0) <= seconds + 0.01)
        else:
            grid = BeatGrid.regular(bpm, INTRO_BARS + 8 * len(song.lines) + 8, swing=get_style(style).swing)
            first_bar, max_bars = INTRO_BARS, None
        plan = plan_song(song.lines, naturals, grid, first_bar, req.flow or song.flow, max_bars)
        lap("flow")

        step("beat", 0.3)
        if instrumental is None:
            beat = generate_beat(style, bpm, plan.total_bars + OUTRO_BARS, req.seed, SAMPLE_RATE)
            beat_audio, grid, midi = beat.audio, beat.grid, beat.midi
        else:
            beat_audio, midi = instrumental, None
        lap("beat")

        vocal = np.zeros(len(beat_audio) + SAMPLE_RATE, np.float32)
        timed: list[TimedLine] = []
        for i, (line, lp, voice) in enumerate(zip(song.lines, plan.lines, voices)):
            step("vocals", 0.35 + 0.55 * i / len(song.lines))
            durs = [list(s.phoneme_durations) for s in lp.syllables]
            rests = [s.rest_after for s in lp.syllables]
            lead_pad = 0.3  # Kokoro was trained with ~0.4 s of leading silence; less swallows the first phoneme
            sung = self.engine.sing(line, voice, durs, rests, lead_in=lead_pad + 0.0, tail=0.15)
            lap("acoustic_sing")
            audio = _resample(sung.audio, sung.sample_rate, SAMPLE_RATE)
            # engines with whole-frame durations miss each slot by a little: centre the line on its misses
            misses = [sp.slot_time - span.vowel_onset for sp, span in zip(lp.syllables, sung.alignment.syllables)]
            offset = (max(misses) + min(misses)) / 2
            pos = int(round(offset * SAMPLE_RATE))
            shift = pos / SAMPLE_RATE  # the exact time the line audio starts
            if pos < 0:
                audio, pos = audio[-pos:], 0
            end = min(len(vocal), pos + len(audio))
            vocal[pos:end] += audio[: end - pos]
            timed.append(self._timed_line(line, lp, sung.alignment, shift))
            lap("place")
        step("mix", 0.9)
        n = len(beat_audio)
        if instrumental is None:
            last = max(t.end for t in timed)
            n = max(n, int((last + 0.5) * SAMPLE_RATE))
        vocal = vocal[:n]
        if len(beat_audio) < n:
            beat_audio = np.concatenate([beat_audio, np.zeros((n - len(beat_audio), 2), np.float32)])
        mix, vocal_stem, beat_stem = mix_track(vocal[:n], beat_audio[:n], SAMPLE_RATE,
                                               duck_db=3.0 if instrumental is not None else 4.0)
        beats = [b for b in grid.beats if b <= n / SAMPLE_RATE]
        downbeats = [b for b in grid.downbeats if b <= n / SAMPLE_RATE]
        track = Track(mix=mix, vocals=vocal_stem, beat=beat_stem, sample_rate=SAMPLE_RATE, bpm=grid.bpm,
                      beats=beats, downbeats=downbeats, lines=timed, title=song.title, midi=midi,
                      warnings=song.warnings + plan.warnings)
        lap("mix")
        files: list[Path] = []
        if out_dir is not None:
            files = write_track(track, Path(out_dir), req.formats)
            lap("export")
        step("done", 1.0)
        return RenderResult(track=track, plan=plan, files=files, timings=clock)

    @staticmethod
    def _timed_line(line, lp, alignment, shift: float) -> TimedLine:
        spans = iter(zip(alignment.syllables, lp.syllables))
        words = []
        for w in line.words:
            sylls = []
            for syl in w.syllables:
                span, sp = next(spans)
                sylls.append(TimedSyllable(text=syl.text, phonemes=syl.phonemes, start=span.start + shift,
                                           end=span.end + shift, vowel_onset=span.vowel_onset + shift,
                                           slot_time=sp.slot_time))
            words.append(TimedWord(text=w.text, start=sylls[0].start, end=sylls[-1].end, syllables=tuple(sylls)))
        return TimedLine(text=line.text, start=words[0].start, end=words[-1].end, words=tuple(words),
                         section=line.section, flow=lp.template)


__all__ = ["RenderRequest", "RenderResult", "Renderer"]
