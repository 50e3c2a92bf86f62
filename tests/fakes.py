"""Stand-ins for the heavy parts, so most tests run in seconds without models.

FakeEngine sings consonants as quiet noise and each vowel as a struck 1 kHz tone (full level at the
reported vowel onset, then decaying), so every vowel onset is a sharp rise in the audio, even right
after another vowel, and the render pipeline's placement can be checked on the audio. FakeRunner runs service jobs with the FakeEngine in-process.
"""

from __future__ import annotations

import numpy as np

from airap.acoustic import SungLine
from airap.align import Alignment, from_durations
from airap.text import Line

CONSONANT_S, VOWEL_S = 0.06, 0.14  # natural phoneme lengths of the fake voice
SAMPLE_RATE = 24000
VOWEL_LEVEL, CONSONANT_LEVEL = 0.5, 0.02
VOWEL_DECAY_S = 0.015  # a vowel falls to a quarter of its level in ~20 ms: the next one rises above it


def _is_vowel(syllable, k: int) -> bool:
    return k >= syllable.vowel_index


class FakeEngine:
    name = "fake"
    sample_rate = SAMPLE_RATE
    parallel_safe = True  # no state across calls but the record of them (list.append is atomic)

    def __init__(self, voices=("kumo", "duo", "fox")):
        self._voices = list(voices)
        self.sung: list[tuple[str, str]] = []  # (line text, voice) per sing() call

    def voices(self) -> list[str]:
        return list(self._voices)

    def natural_timing(self, line: Line, voice: str) -> Alignment:
        durs = [[VOWEL_S if _is_vowel(s, k) else CONSONANT_S for k in range(len(s.phonemes))] for s in line.syllables]
        return from_durations(durs, [s.vowel_index for s in line.syllables], lead_in=0.1)

    def sing(self, line: Line, voice: str, phoneme_durations, rests, lead_in: float, tail: float) -> SungLine:
        self.sung.append((line.text, voice))
        al = from_durations(phoneme_durations, [s.vowel_index for s in line.syllables], lead_in=lead_in,
                            gaps=rests)
        n = int((al.syllables[-1].end + tail) * SAMPLE_RATE) + 1
        audio = np.zeros(n, np.float32)
        rng = np.random.default_rng(0)
        for syl, span in zip(line.syllables, al.syllables):
            t = span.start
            for k, d in enumerate(span.phoneme_durations):
                a, b = int(round(t * SAMPLE_RATE)), int(round((t + d) * SAMPLE_RATE))
                if _is_vowel(syl, k):
                    t_v = np.arange(b - a) / SAMPLE_RATE
                    audio[a:b] = VOWEL_LEVEL * np.exp(-t_v / VOWEL_DECAY_S) * np.sin(2 * np.pi * 1000 * t_v)
                else:
                    audio[a:b] = CONSONANT_LEVEL * rng.standard_normal(b - a)
                t += d
        return SungLine(audio=audio, sample_rate=SAMPLE_RATE, alignment=al)


class FakeRunner:
    """A service runner that renders in-process with the FakeEngine (``capacity`` 1)."""

    capacity = 1

    def __init__(self):
        from airap.render import Renderer

        self.renderer = Renderer(FakeEngine())
        self.runs = 0

    async def run(self, job_dir, spec: dict) -> dict:
        import asyncio

        from airap.service.jobs import render_job

        self.runs += 1
        return await asyncio.to_thread(render_job, str(job_dir), spec, self.renderer)

    def close(self) -> None:
        pass
