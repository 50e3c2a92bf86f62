"""The one-click render: lyrics -> finished, beat-locked track. Calls the stages in order
(text -> acoustic -> flow -> beat -> acoustic -> mix -> export); holds loaded models and no other
state, so one Renderer serves many songs from many threads."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import __version__, catalog
from .acoustic import LINE_LEAD_IN, LINE_TAIL, VocalEngine, apply_timbre, engine_class, load_engine
from .acoustic.base import PitchPlan
from .acoustic.pitch import ACCENT_SEMITONES, accent_line, sing_on_notes
from .beat import (
    backing_beat,
    backing_sections,
    detect_key_root,
    generated_backing,
    key_root,
    label_lines,
    section_kind,
    section_starts,
    uploaded_backing,
)
from .errors import InputError
from .flow import MAX_BARS, FlowPlan, plan_song
from .flow.accents import LineAccents, line_accents
from .flow.melody import Harmony, compose_line, harmony_part
from .kept import TakeStore, cached_sing
from .mix import (
    CREW_DETUNE,
    DOUBLE_DETUNE,
    DUCK_DB_GENERATED,
    DUCK_DB_UPLOAD,
    SectionSpan,
    Track,
    adlib_track,
    double_line,
    harmony_line,
    load_kernels,
    mix_track,
    place_line,
    plain_pages,
    plan_adlibs,
    reuse_freed_memory,
    vocal_track,
    write_track,
)
from .mix.types import AdlibEvent
from .mix.vocals import lead_span, resample
from .request import RenderRequest, RenderSettings, check_request, resolve, song_lang
from .studio import rhyme_placement
from .text import analyze_line, parse_lyrics
from .text.notes import HIGHEST, LOWEST

SAMPLE_RATE = 44100
RING_OUT = 0.5  # s a generated track runs past the last sung syllable at least

Progress = Callable[[str, float], None]  # (stage name, fraction done)


@dataclass(frozen=True)
class Adlibs:
    """The ad-libs planned for a song: where they go, the interjections sung, the lead lines echoed."""

    plans: list  # mix.AdlibPlan
    clips: dict[str, np.ndarray]  # interjection -> mono audio at the track's rate
    leads: list  # mix.PlacedLine of the lead voices (the echoes' source)


class LineJob(NamedTuple):
    """What one line is sung from (the arguments of ``Renderer._line_takes`` after the line number)."""

    line: object  # text.Line
    line_plan: object  # flow.LinePlan
    voice: str
    crew: tuple[str, ...]
    flow: str
    melody: tuple  # (notes, harmony notes); (None, None) for a rapped line
    doubled: bool


@dataclass(frozen=True)
class LineTakes:
    """One line as sung: the lead and crew takes, the doubles, the harmony part, the notes as heard
    (a sung line) and the accent strengths (a rapped one)."""

    sung: list
    doubles: list
    harmony: list
    notes: tuple[int, ...] | None = None
    accents: tuple[float, ...] | None = None
    warning: str | None = None


@dataclass(frozen=True)
class Reuse:
    """How many sung takes a render took from kept takes (``--reuse``, or its own folder) and sang anew."""

    reused: int
    sung: int
    lines_sung: tuple[int, ...]  # 1-based numbers of the lines with at least one take sung anew


@dataclass
class RenderResult:
    track: Track
    plan: FlowPlan
    files: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per stage
    reuse: Reuse | None = None


class StageClock:
    """Reports each stage to ``progress`` as it starts and adds up wall seconds per stage name."""

    def __init__(self, progress: Progress | None):
        self.progress = progress or (lambda stage, frac: None)
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def start(self, stage: str, fraction: float) -> None:
        self.progress(stage, fraction)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._t
        self._t = now


def check_writable(out_dir: str | Path | None) -> Path | None:
    """Create the output folder and prove it is writable before any work (nothing in it is touched)."""
    if out_dir is None:
        return None
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".airap-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise InputError(f"cannot write to output folder {str(out)!r}: {e.strerror or e}") from None
    return out


def check_reuse(reuse: str | Path | None) -> Path | None:
    """A previous render's folder to take sung lines from: it must exist."""
    if reuse is None:
        return None
    folder = Path(reuse)
    if not folder.is_dir():
        raise InputError(f"--reuse: {str(folder)!r} is not a folder of an earlier render")
    return folder


class Renderer:
    """Renders songs. ``threads``: the cores one render may use. Lines are sung ``threads`` at a time
    (each engine call on one thread) while the beat is played on the side; the service, which runs a
    render per core, uses ``threads=1``."""

    def __init__(self, engine: str | VocalEngine = catalog.DEFAULT_ENGINE, threads: int = 1):
        self.threads = max(1, int(threads))
        if isinstance(engine, str):  # a line per thread, or (an engine that sings one at a time) threads per line
            self.engine = load_engine(engine, 1 if getattr(engine_class(engine), "parallel_safe", False) else threads)
        else:
            self.engine = engine
        self.voices = tuple(self.engine.voices())
        # own engines that keep state across calls (tacotron's seeded prenet) sing one line at a time
        self._parallel = self.threads > 1 and getattr(self.engine, "parallel_safe", False)
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="airap-render") if self.threads > 1 else None
        self.engine_id = getattr(self.engine, "fingerprint", self.engine.name)
        plain_pages()  # every render writes ~10 fresh song-sized buffers
        reuse_freed_memory()  # and many smaller ones, freed and made again
        load_kernels()

    def validate(self, req: RenderRequest) -> RenderRequest:
        """Check every option that does not need the lyrics, before any work."""
        check_request(req, self.voices)
        return req

    def render(self, req: RenderRequest, out_dir: str | Path | None = None,
               progress: Progress | None = None, reuse: str | Path | None = None) -> RenderResult:
        """Render ``req``; with ``out_dir``, write the files there (and keep the sung takes, so the
        next render into it or naming it as ``reuse`` sings only the lines that changed)."""
        clock = StageClock(progress)
        out = check_writable(out_dir)
        store = TakeStore(self.engine_id, out, check_reuse(reuse)) if out is not None or reuse is not None else None
        clock.start("text", 0.0)
        song = parse_lyrics(req.lyrics, req.lang)
        labels = label_lines([ln.section for ln in song.lines], [ln.text for ln in song.lines], song.tagged)
        kinds = [section_kind(label) for label in labels]
        if req.sing_hooks:  # the page's "sing the hook" switch: hook lines not set otherwise are sung
            song.lines = [replace(ln, sing=True) if kind == "hook" and ln.flow is None else ln
                          for ln, kind in zip(song.lines, kinds)]
        settings = resolve(req, song, self.voices)
        clock.lap("text")
        clock.start("acoustic", 0.1)
        naturals = self._map(lambda lv: self.engine.natural_timing(*lv), list(zip(song.lines, settings.line_voices)))
        clock.lap("acoustic_natural")
        clock.start("flow", 0.2)
        backing = self._backing(settings, len(song.lines), len(section_starts(labels)) + 1)
        plan = plan_song(song.lines, naturals, backing.grid, list(settings.line_flows), backing.first_bar,
                         backing.max_bars, rhymes=rhyme_placement(song),
                         section_starts=section_starts(labels) if backing.arranged else None)
        plan.warnings.extend(backing.warnings)
        sections = backing_sections(backing, labels, [lp.first_bar for lp in plan.lines], plan.total_bars)
        clock.lap("flow")
        clock.start("beat", 0.3)
        play = lambda: backing_beat(backing, settings.style, sections, settings.seed, SAMPLE_RATE,  # noqa: E731
                                    threads=self.threads, kept=store.stems if store is not None else None)
        # a generated beat is played on the side while the lines are sung (FluidSynth frees the GIL)
        beat_job = self._pool.submit(play) if self._pool is not None and backing.upload is None else None
        beat = None if beat_job is not None else play()
        clock.lap("beat")
        melodies = self._melodies(song, plan, settings, beat.audio if beat is not None and beat.midi is None else None)
        doubles = [ln.double if ln.double is not None else catalog.PERFORMANCE[kind].double
                   for ln, kind in zip(song.lines, kinds)]
        clock.start("vocals", 0.35)
        jobs = [LineJob(*job) for job in zip(song.lines, plan.lines, settings.line_voices, settings.line_crews,
                                             settings.line_flows, melodies, doubles)]
        levels = [ln.adlibs or catalog.PERFORMANCE[kind].adlibs for ln, kind in zip(song.lines, kinds)]
        shouts = self._interjection_jobs(store, levels, settings, song)
        # the lines and the ad-lib interjections, sung side by side
        sung = self._map(lambda job: job(), [partial(self._line_takes, store, k, *job, accents_on=settings.accents)
                                             for k, job in enumerate(jobs)] + [job for _, job in shouts],
                         lambda done: clock.start("vocals", 0.35 + 0.5 * min(1.0, done / len(jobs))))
        sung_lines, clips = sung[:len(jobs)], {word: clip for (word, _), clip in zip(shouts, sung[len(jobs):])
                                               if clip is not None}
        sung_lines = self._one_register(store, jobs, sung_lines, settings.accents)
        clock.lap("acoustic_sing")
        placed = self._place(song.lines, plan, settings, sung_lines)
        clock.lap("place")
        if beat is None:
            beat = beat_job.result()
            clock.lap("beat")
        clock.start("adlibs", 0.85)
        adlibs = self._adlibs(placed, levels, clips, settings, beat.grid.beats)
        clock.lap("adlibs")
        reuse_note = None
        if store is not None:
            plan.warnings.extend(store.report())
            reuse_note = Reuse(store.reused, store.sung, tuple(sorted(k + 1 for k in store.lines_sung)))
            if reuse is not None:
                plan.warnings.append(self._reuse_summary(reuse_note, len(song.lines)))
        clock.start("mix", 0.9)
        track = self._mix(placed, beat, settings, song, plan, sections, adlibs)
        clock.lap("mix")
        files = write_track(track, out, settings.formats, self.threads) if out is not None else []
        if out is not None:
            store.finish()  # only once the new files are there: a failed render leaves the old takes
            clock.lap("export")
        clock.start("done", 1.0)
        return RenderResult(track=track, plan=plan, files=files, timings=clock.seconds, reuse=reuse_note)

    def _map(self, fn, items: list, on_done: Callable[[int], None] | None = None) -> list:
        """``[fn(x) for x in items]``, ``threads`` at a time when the engine allows it."""
        if not self._parallel or len(items) < 2:
            out = []
            for x in items:
                out.append(fn(x))
                if on_done:
                    on_done(len(out))
            return out
        futures = [self._pool.submit(fn, x) for x in items]
        out = []
        for f in futures:  # in order; a failure is raised as it would be inline
            out.append(f.result())
            if on_done:
                on_done(len(out))
        return out

    def _one_register(self, store: TakeStore | None, jobs: list[LineJob], sung_lines: list[LineTakes],
                      accents_on: bool) -> list[LineTakes]:
        """The sung lines of a section, by one character, in one register. Each line's notes were
        moved by whole octaves to fit the voice on their own, and neighbouring lines of a hook could
        land an octave apart (benchmarks/data/delivery/fresh_en.yaml, FastSpeech-lite: the first
        line moved -24, the third -12). The octave most of the section's lines took (a tie: its first
        line's) is kept, if it keeps every line within C2-C6, and the other lines are sung again in it."""
        groups: dict[tuple, list[int]] = {}
        for k, (job, takes) in enumerate(zip(jobs, sung_lines)):
            if takes.notes is not None:
                groups.setdefault((job.line.section, job.voice), []).append(k)
        again = []
        for members in groups.values():
            notes = [jobs[k].melody[0] for k in members]
            shifts = [sung_lines[k].notes[0] - n[0] for k, n in zip(members, notes)]
            keep = max(shifts, key=lambda sh: (shifts.count(sh), sh == shifts[0]))
            if all(LOWEST <= min(n) + keep and max(n) + keep <= HIGHEST for n in notes):
                again += [(k, keep) for k, sh in zip(members, shifts) if sh != keep]
        redone = self._map(lambda job: job(), [partial(self._line_takes, store, k, *jobs[k], accents_on=accents_on,
                                                       shift=shift) for k, shift in again])
        out = list(sung_lines)
        for (k, _), takes in zip(again, redone):
            out[k] = takes
        return out

    def _line_takes(self, store: TakeStore | None, number: int, line, line_plan, voice: str, crew, tpl, melody,
                    doubled: bool, accents_on: bool, shift: int | None = None) -> LineTakes:
        """Every take of one line (lead, crew, doubles, harmony), sung or taken from ``store``;
        ``shift``: the octaves a sung line's notes move by (None: fitted to this line)."""
        notes, harmony = melody
        if notes is None:
            accented = accents_on and tpl.accent and line.main_lang not in getattr(self.engine, "unaccented_langs", ())
            accents = line_accents(line, line_plan, tpl) if accented else None
            sung = [self._sing(store, number, line, line_plan, v, CREW_DETUNE[k - 1] if k else 0.0, accents)
                    for k, v in enumerate((voice, *crew))]
            doubles = [self._sing(store, number, line, line_plan, voice, detune) for detune in DOUBLE_DETUNE
                       ] if doubled else []
            return LineTakes(sung, doubles, [], None, accents.strengths if accents else None)
        sung, doubles, extra, heard = self._sing_notes(store, number, line, line_plan, voice, crew, notes, harmony,
                                                       doubled, shift)
        warning = None
        if line.notes and heard[0] != notes[0]:
            warning = f"notes of {line.text[:30]!r} moved {heard[0] - notes[0]:+d} semitones to fit {voice}'s voice"
        return LineTakes(sung, doubles, extra, heard, None, warning)

    @staticmethod
    def _place(lines, plan: FlowPlan, settings: RenderSettings, sung_lines: list[LineTakes]) -> list:
        """Every take laid at its place in the song, line by line in order."""
        placed = []
        for line, line_plan, voice, crew, takes in zip(lines, plan.lines, settings.line_voices, settings.line_crews,
                                                       sung_lines):
            if takes.warning:
                plan.warnings.append(takes.warning)
            lines_placed = [place_line(line, line_plan, s, SAMPLE_RATE, voice, crew, k - 1 if k else None,
                                       takes.notes, takes.accents) for k, s in enumerate(takes.sung)]
            placed += lines_placed
            placed += [double_line(line, line_plan, s, SAMPLE_RATE, voice, k) for k, s in enumerate(takes.doubles)]
            placed += [harmony_line(lines_placed[0], s, SAMPLE_RATE) for s in takes.harmony]
        return placed

    @staticmethod
    def _reuse_summary(reuse: Reuse, n_lines: int) -> str:
        if not reuse.lines_sung:
            return f"reuse: all {n_lines} line{'s' * (n_lines != 1)} taken from the earlier render; nothing was sung again"
        numbers = ", ".join(str(k) for k in reuse.lines_sung[:12]) + (" …" if len(reuse.lines_sung) > 12 else "")
        return (f"reuse: {n_lines - len(reuse.lines_sung)} of {n_lines} line{'s' * (n_lines != 1)} taken from the earlier render; "
                f"sung again (changed): line{'s' * (len(reuse.lines_sung) != 1)} {numbers}")

    def _melodies(self, song, plan: FlowPlan, settings: RenderSettings, upload: np.ndarray | None):
        """Per line, (notes, harmony notes) for a sung line, (None, None) for a rapped one. Given notes
        are kept; the others are composed on the beat's harmony (an ``upload``'s: its detected key),
        one melody per distinct line text."""
        if not any(ln.sing for ln in song.lines):
            return [(None, None)] * len(song.lines)
        if upload is None:
            harmony = Harmony(key_root(settings.seed), settings.style.progression)
        else:
            harmony = Harmony(detect_key_root(upload, SAMPLE_RATE))
        composed: dict[str, tuple[int, ...]] = {}
        out = []
        for line, line_plan, tpl in zip(song.lines, plan.lines, settings.line_flows):
            if not line.sing:
                out.append((None, None))
                continue
            notes = line.notes or composed.setdefault(
                line.text, compose_line(line, line_plan, tpl, harmony, settings.seed))
            out.append((notes, harmony_part(notes, harmony, line.harmony) if line.harmony else None))
        return out

    def _interjection_jobs(self, store: TakeStore | None, levels: list[str], settings: RenderSettings, song):
        """(word, job) per ad-lib interjection the song needs: sung once per word, in the song's main
        language, by the first character who raps in it (none when every line's ad-libs are off)."""
        if all(level == "off" for level in levels):
            return []
        lang = song_lang(song)
        voice = next((v for ln, v in zip(song.lines, settings.line_voices) if ln.main_lang == lang),
                     settings.line_voices[0])
        return [(word, partial(self._interjection, store, word, lang, voice))
                for word in catalog.ADLIB_WORDS.get(lang, ())]

    @staticmethod
    def _adlibs(placed, levels: list[str], clips: dict[str, np.ndarray], settings: RenderSettings, beats) -> Adlibs:
        """Echoes and interjections (``clips``, sung) for the lines whose level asks for them."""
        leads = [p for p in placed if not p.double]
        if all(level == "off" for level in levels):
            return Adlibs([], {}, leads)
        plans = plan_adlibs([p.timed for p in leads], levels, list(beats), tuple(clips),
                            {w: len(c) / SAMPLE_RATE for w, c in clips.items()}, settings.seed)
        return Adlibs(plans, clips, leads)

    def _interjection(self, store: TakeStore | None, word: str, lang: str, voice: str):
        """``word`` sung at its natural pace by ``voice``, from its first syllable's start to its end."""
        line, _ = analyze_line(word, lang)
        if line is None:
            return None

        def sing():
            natural = self.engine.natural_timing(line, voice)
            durations = [list(s.phoneme_durations) for s in natural.syllables]
            return self._in_character(self.engine.sing(line, voice, durations, [0.0] * len(durations),
                                                       lead_in=LINE_LEAD_IN, tail=LINE_TAIL), voice)

        sung = cached_sing(store, ("interjection", catalog.entry(voice), line.words, line.main_lang), sing, None)
        spans = sung.alignment.syllables
        a = int(spans[0].start * sung.sample_rate)
        b = int(min(len(sung.audio), (spans[-1].end + 0.08) * sung.sample_rate))
        return resample(sung.audio[a:b].astype(np.float32), sung.sample_rate, SAMPLE_RATE)

    def _sing(self, store: TakeStore | None, number: int, line, line_plan, voice: str, detune: float = 0.0,
              accents: LineAccents | None = None, pitch: PitchPlan | None = None):
        """Line ``number`` sung on its plan, in the character's timbre (``detune``: semitones more, for
        a crew), with its ``accents`` (level; and pitch, from an engine that takes it) or on ``pitch``;
        taken from ``store`` when a render already sang it so."""
        durations = [list(s.phoneme_durations) for s in line_plan.syllables]
        rests = [s.rest_after for s in line_plan.syllables]
        takes_pitch = getattr(self.engine, "takes_pitch", False)
        if accents and takes_pitch and pitch is None:
            pitch = PitchPlan(lifts=tuple(ACCENT_SEMITONES * s for s in accents.lifts))
        kw = {"pitch": pitch} if pitch is not None and takes_pitch else {}

        def sing():
            sung = self._in_character(self.engine.sing(line, voice, durations, rests, lead_in=LINE_LEAD_IN,
                                                       tail=LINE_TAIL, **kw), voice, detune)
            return accent_line(sung, accents.strengths) if accents else sung

        inputs = (catalog.entry(voice), line.words, line.main_lang, durations, rests, LINE_LEAD_IN, LINE_TAIL,
                  kw.get("pitch"), detune, accents.strengths if accents else None)
        return cached_sing(store, inputs, sing, number)

    def _sing_notes(self, store: TakeStore | None, number: int, line, line_plan, voice: str, crew, notes, harmony,
                    doubled: bool, shift: int | None = None):
        """A sung line: (the lead and crew takes, the doubles, the harmony part, the notes as heard).
        An engine that takes pitch sings each part on its notes; another engine's single reading per
        voice is re-pitched by WORLD."""
        detunes = DOUBLE_DETUNE if doubled else ()
        if not getattr(self.engine, "takes_pitch", False):
            on_notes = [sing_on_notes(self._sing(store, number, line, line_plan, v), line, notes,
                                      detunes if not k else (), harmony if not k else None, shift)
                        for k, v in enumerate((voice, *crew))]
            extra = [on_notes[0].harmony] if on_notes[0].harmony is not None else []
            return [t.lead for t in on_notes], on_notes[0].doubles, extra, on_notes[0].notes

        def take(v: str, part, detune: float = 0.0, shift: int | None = None):
            plan = PitchPlan(notes=part, transpose=catalog.entry(v).timbre.semitones, detune=detune, shift=shift)
            return self._sing(store, number, line, line_plan, v, pitch=plan)

        lead = take(voice, notes, 0.0, shift)
        shift = lead.notes[0] - notes[0]
        sung = [lead] + [take(v, notes) for v in crew]
        takes = [take(voice, notes, d, shift) for d in detunes]
        extra = [take(voice, harmony, 0.0, shift)] if harmony else []
        return sung, takes, extra, lead.notes

    @staticmethod
    def _in_character(sung, voice: str, detune: float = 0.0):
        """A sung line in the character's timbre (``detune``: semitones more, for a crew or a double)."""
        timbre = catalog.entry(voice).timbre
        return apply_timbre(sung, timbre.semitones + detune, timbre.effect)

    @staticmethod
    def _backing(settings: RenderSettings, n_lines: int, n_sections: int):
        if settings.instrumental:
            return uploaded_backing(settings.instrumental, SAMPLE_RATE, catalog.LIMITS.upload, settings.bpm_hint,
                                    settings.downbeat_hint, settings.keep_length, settings.intro_bars)
        return generated_backing(settings.style, settings.bpm, MAX_BARS * n_lines, n_sections)

    @staticmethod
    def _mix(placed, beat, settings: RenderSettings, song, plan: FlowPlan, sections, adlibs: Adlibs | None = None) -> Track:
        """Vocal track over the beat, mastered: the track runs until the beat ends and the vocal has
        rung out."""
        uploaded = beat.midi is None
        n = max(len(beat.audio), int((max(p.timed.end for p in placed) + RING_OUT) * SAMPLE_RATE))
        adlib_audio, events = None, []
        if adlibs is not None and adlibs.plans:
            adlib_audio = adlib_track(adlibs.plans, lambda a, b: lead_span(adlibs.leads, a, b), adlibs.clips,
                                      SAMPLE_RATE, n)
            events = [AdlibEvent(p.kind, p.text, p.line, p.start, min(p.window_end, p.start + (
                p.source[1] - p.source[0] if p.kind == "echo" else len(adlibs.clips[p.text]) / SAMPLE_RATE)))
                for p in adlibs.plans]
        stems = mix_track(vocal_track(placed, n), beat.audio, SAMPLE_RATE,
                          duck_db=DUCK_DB_UPLOAD if uploaded else DUCK_DB_GENERATED,
                          beat_stems=beat.stems, kick_times=beat.kick_times, adlibs=adlib_audio, consume=True)
        seconds = n / SAMPLE_RATE
        grid = beat.grid
        spans = [SectionSpan(s.name, s.kind, grid.slot_time(s.first_bar, 0),
                             min(seconds, grid.slot_time(s.first_bar + s.bars, 0)), s.bars) for s in sections]
        langs = [ln.main_lang for ln in song.lines]
        return Track(mix=stems.mix, vocals=stems.vocals, beat=stems.beat, sample_rate=SAMPLE_RATE,
                     bpm=grid.bpm, beats=[b for b in grid.beats if b <= seconds],
                     downbeats=[b for b in grid.downbeats if b <= seconds],
                     lines=[p.timed for p in placed if not p.double], title=song.title, midi=beat.midi,
                     warnings=song.warnings + list(settings.warnings) + plan.warnings,
                     parts=stems.parts, sections=[s for s in spans if s.end > s.start], style=beat.style,
                     key=beat.key, lang=max(set(langs), key=langs.count), generator=f"airap {__version__}",
                     adlibs=stems.adlibs, adlib_events=events)


__all__ = ["RenderRequest", "RenderResult", "Renderer"]
