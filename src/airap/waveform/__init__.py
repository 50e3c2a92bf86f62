"""Stage 5 — waveform. Entry points: :func:`world_features` / :func:`world_synthesize` (our acoustic
model's representation: WORLD log-F0, voicing, 40 mel-cepstral envelope coefficients and 3 band
aperiodicities at a 12.5 ms hop) and :func:`griffinlim_from_logspec`, the baseline we compare against.

May import: nothing else from airap.
"""

from .world import FEATURE_DIM, HOP_SECONDS, SAMPLE_RATE, griffinlim_from_logspec, world_features, world_synthesize

__all__ = ["FEATURE_DIM", "HOP_SECONDS", "SAMPLE_RATE", "griffinlim_from_logspec", "world_features",
           "world_synthesize"]
