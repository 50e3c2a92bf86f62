"""Stage 3 — alignment. Entry points: :class:`Alignment` (per-syllable boundaries of one line of
audio), :func:`from_durations` and :func:`from_attention` (attention matrix -> durations), and
:func:`check_health` (skips, repeats, focus rate).

May import: airap.text (types only).
"""

from .attention import check_health, durations_from_attention, from_durations
from .types import Alignment, AlignmentHealth, SyllableSpan

__all__ = ["Alignment", "AlignmentHealth", "SyllableSpan", "check_health", "durations_from_attention",
           "from_durations"]
