"""What the flow planner hands to the renderer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SyllablePlan:
    slot: int  # slot index from the line's first bar (template units)
    slot_time: float  # absolute time of the slot (s): the vowel onset goes here
    phoneme_durations: tuple[float, ...]  # target durations (s)
    rest_after: float  # silence after this syllable (s), only at word ends
    stretch: float  # planned / natural length of the syllable's interval


@dataclass
class LinePlan:
    first_bar: int
    bars: int
    template: str
    syllables: list[SyllablePlan]
    lead_in: float  # onset consonants of the first syllable, before its slot (s)
    cost: float

    @property
    def start_time(self) -> float:
        return self.syllables[0].slot_time - self.lead_in


@dataclass
class FlowPlan:
    lines: list[LinePlan]
    total_bars: int
    warnings: list[str] = field(default_factory=list)
