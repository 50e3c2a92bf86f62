"""The finished track and its timed lyrics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class TimedSyllable:
    text: str
    phonemes: tuple[str, ...]
    start: float
    end: float
    vowel_onset: float
    slot_time: float


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

    @property
    def duration(self) -> float:
        return len(self.mix) / self.sample_rate

    def timings_dict(self) -> dict:
        r = lambda t: round(float(t), 4)  # noqa: E731
        return {
            "title": self.title, "bpm": round(self.bpm, 3), "sample_rate": self.sample_rate,
            "duration": r(self.duration),
            "beats": [r(b) for b in self.beats], "downbeats": [r(b) for b in self.downbeats],
            "lines": [{
                "text": ln.text, "section": ln.section, "flow": ln.flow, "voice": ln.voice, "crew": list(ln.crew),
                "start": r(ln.start),
                "end": r(ln.end),
                "words": [{
                    "text": w.text, "start": r(w.start), "end": r(w.end),
                    "syllables": [{"text": s.text, "phonemes": list(s.phonemes), "start": r(s.start),
                                   "end": r(s.end), "vowel_onset": r(s.vowel_onset), "slot_time": r(s.slot_time)}
                                  for s in w.syllables],
                } for w in ln.words],
            } for ln in self.lines],
        }
