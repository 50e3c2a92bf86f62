"""Alignment: where each syllable (and phoneme) of one rendered line sits in time."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SyllableSpan:
    start: float  # first phoneme starts (s, from the line audio start)
    vowel_onset: float  # nucleus starts: the beat anchor
    end: float  # last phoneme ends
    phoneme_durations: tuple[float, ...]


@dataclass
class Alignment:
    """Boundaries for one line: one span per syllable, in order, plus trailing silence handling."""

    syllables: list[SyllableSpan]
    duration: float  # length of the line audio (s)
    health: AlignmentHealth | None = None

    @property
    def first_vowel_onset(self) -> float:
        return self.syllables[0].vowel_onset if self.syllables else 0.0


@dataclass
class AlignmentHealth:
    """Health of an attention alignment (our acoustic model); a Kokoro alignment is exact by construction."""

    skipped_tokens: list[int] = field(default_factory=list)
    repeated_tokens: list[int] = field(default_factory=list)
    backward_steps: int = 0
    stopped: bool = True
    length_ratio: float = 1.0
    focus_rate: float = 1.0

    @property
    def ok(self) -> bool:
        return (not self.skipped_tokens and not self.repeated_tokens and self.backward_steps == 0
                and self.stopped and self.length_ratio <= 1.5)

    def reason(self) -> str:
        parts = []
        if self.skipped_tokens:
            parts.append(f"skipped tokens {self.skipped_tokens[:5]}")
        if self.repeated_tokens:
            parts.append(f"repeated tokens {self.repeated_tokens[:5]}")
        if self.backward_steps:
            parts.append(f"{self.backward_steps} backward steps")
        if not self.stopped:
            parts.append("no stop")
        if self.length_ratio > 1.5:
            parts.append(f"too long ({self.length_ratio:.2f}x)")
        return "; ".join(parts) or "ok"
