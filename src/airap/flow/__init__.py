"""Stage 4 — flow planner. Entry point: :func:`plan_song` (syllables + natural timing + beat grid ->
FlowPlan: a slot and target phoneme durations for every syllable).

May import: airap.text, airap.align (types), airap.beat (the grid).
"""

from .planner import MAX_BARS, LineRhymes, plan_even, plan_line, plan_song
from .templates import FlowTemplate
from .types import FlowPlan, LinePlan, SyllablePlan

__all__ = ["FlowPlan", "FlowTemplate", "LinePlan", "LineRhymes", "MAX_BARS", "SyllablePlan", "plan_even", "plan_line",
           "plan_song"]
