"""Stage 5 — waveform. Entry point: :func:`synthesize` (WORLD features -> audio), our fast
frame-wise source-filter synthesis. :func:`world_features` analyses audio into the representation our
acoustic models learn (WORLD log-F0, voicing, 40 coded envelope coefficients, 3 band aperiodicities at a
12.5 ms hop). :func:`world_synthesize` (pyworld's own synthesis) and :func:`griffinlim_from_logspec` are
the baselines the benchmarks compare against.

May import: nothing else from airap.
"""

from .fast import fast_synthesize
from .world import FEATURE_DIM, HOP_SECONDS, SAMPLE_RATE, griffinlim_from_logspec, world_features, world_synthesize

synthesize = fast_synthesize

__all__ = ["FEATURE_DIM", "HOP_SECONDS", "SAMPLE_RATE", "fast_synthesize", "griffinlim_from_logspec", "synthesize",
           "world_features", "world_synthesize"]
