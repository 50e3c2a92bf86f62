"""The finished track and its timed lyrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..text.notes import note_name


@dataclass(frozen=True)
class TimedSyllable:
    text: str
    phonemes: tuple[str, ...]
    start: float
    end: float
    vowel_onset: float
    slot_time: float
    note: int | None = None  # MIDI note of a sung syllable, as sung
    accent: float = 0.0  # how hard a rapped syllable is hit (0: not accented, 1: a full accent)


@dataclass(frozen=True)
class TimedWord:
    text: str
    start: float
    end: float
    syllables: tuple[TimedSyllable, ...]


@dataclass(frozen=True)
class TimedLine:
    text: str
    start: float
    end: float
    words: tuple[TimedWord, ...]
    section: str = "verse"
    flow: str = "straight"
    voice: str = ""  # the character singing it
    crew: tuple[str, ...] = ()  # characters singing it with them, in unison


@dataclass(frozen=True)
class Stems:
    mix: np.ndarray  # float32 [n, 2], mastered
    vocals: np.ndarray  # float32 [n, 2], the vocal's share of the mix
    beat: np.ndarray  # float32 [n, 2], the beat's share
    parts: dict[str, np.ndarray] = field(default_factory=dict)  # the beat's own stems (drums, bass, music)
    adlibs: np.ndarray | None = None  # float32 [n, 2], the ad-libs' share of the mix


@dataclass(frozen=True)
class AdlibEvent:
    kind: str  # "echo" | "interjection"
    text: str
    line: int
    start: float
    end: float


@dataclass(frozen=True)
class SectionSpan:
    """A section of the song on its timeline (the beat's form)."""
    name: str
    kind: str
    start: float
    end: float
    bars: int


@dataclass
class Track:
    mix: np.ndarray  # float32 [n, 2]
    vocals: np.ndarray  # float32 [n, 2], sample-aligned with mix
    beat: np.ndarray  # float32 [n, 2]
    sample_rate: int
    bpm: float
    beats: list[float]
    downbeats: list[float]
    lines: list[TimedLine]
    title: str = "untitled"
    midi: object | None = None  # pretty_midi.PrettyMIDI of the generated beat
    warnings: list[str] = field(default_factory=list)
    parts: dict[str, np.ndarray] = field(default_factory=dict)  # the beat's stems: drums, bass, music
    sections: list[SectionSpan] = field(default_factory=list)
    style: str = ""  # the beat style, or "upload"
    key: str = ""  # e.g. "A minor" (generated beats)
    lang: str = "en"  # the lyrics' main language
    generator: str = "airap"  # name and version of what made it: the AI label every file carries
    adlibs: np.ndarray | None = None  # float32 [n, 2], the ad-lib stem
    adlib_events: list[AdlibEvent] = field(default_factory=list)

    @property
    def artist(self) -> str:
        """The characters who rap it, lead voices first."""
        names: list[str] = []
        for ln in self.lines:
            for v in (ln.voice, *ln.crew):
                if v and v not in names:
                    names.append(v)
        return ", ".join(names) or "airap"

    @property
    def duration(self) -> float:
        return len(self.mix) / self.sample_rate

    def timings_dict(self) -> dict:
        r = lambda t: round(float(t), 4)  # noqa: E731
        return {
            "title": self.title, "artist": self.artist, "bpm": round(self.bpm, 3), "key": self.key,
            "style": self.style, "sample_rate": self.sample_rate, "duration": r(self.duration),
            "generator": {"name": self.generator, "ai_generated": True,
                          "label": f"AI-generated with {self.generator}: synthetic voices and beat"},
            "sections": [{"name": s.name, "kind": s.kind, "start": r(s.start), "end": r(s.end), "bars": s.bars}
                         for s in self.sections],
            "adlibs": [{"kind": a.kind, "text": a.text, "line": a.line, "start": r(a.start), "end": r(a.end)}
                       for a in self.adlib_events],
            "beats": [r(b) for b in self.beats], "downbeats": [r(b) for b in self.downbeats],
            "lines": [{
                "text": ln.text, "section": ln.section, "flow": ln.flow, "voice": ln.voice, "crew": list(ln.crew),
                "start": r(ln.start),
                "end": r(ln.end),
                "words": [{
                    "text": w.text, "start": r(w.start), "end": r(w.end),
                    "syllables": [{"text": s.text, "phonemes": list(s.phonemes), "start": r(s.start),
                                   "end": r(s.end), "vowel_onset": r(s.vowel_onset), "slot_time": r(s.slot_time),
                                   "note": None if s.note is None else note_name(s.note), "accent": round(s.accent, 2)}
                                  for s in w.syllables],
                } for w in ln.words],
            } for ln in self.lines],
        }
