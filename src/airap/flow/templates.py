"""What a flow template is: which slots of a bar may carry a syllable, and how strong each slot is.
The templates themselves are entries in :mod:`airap.catalog`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FlowTemplate:
    name: str
    description: str
    slots_per_bar: int  # 16 = 16ths, 12 = 8th triplets, 24 = 16th triplets, 32 = 32nds
    offset_beats: float = 0.0  # >0 sits behind the beat (laid-back)
    max_rate: float = 35.0  # phonemes per second this flow may reach (real rap: ~12-35)
    accent: float = 1.0  # how hard its on-beat syllables are hit (laid-back flatter, double-time punchier; 0: none)
    pace: float = 1.0  # the syllable lengths it aims at, against the voice's natural reading (>1: slower, sung)

    def strengths(self) -> np.ndarray:
        """Metrical strength of each slot in a bar: downbeat 1, beat 3 .8, beats 2/4 .6, 8ths .3, rest .1."""
        s = np.full(self.slots_per_bar, 0.1)
        per_beat = self.slots_per_bar // 4
        for k in range(self.slots_per_bar):
            beat, sub = divmod(k, per_beat)
            if sub == 0:
                s[k] = (1.0, 0.6, 0.8, 0.6)[beat]
            elif per_beat % 2 == 0 and sub == per_beat // 2:
                s[k] = 0.3
        return s
