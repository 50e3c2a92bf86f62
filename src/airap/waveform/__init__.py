"""Stage 5 — waveform. Entry point: :func:`synthesize` (WORLD features -> audio): our fast frame-wise
source-filter synthesis, re-weighed per frequency by the refiner trained here on the corpus when its
weights ship (``models/refiner.pt``; see ``refine.py`` for why it learns only the magnitude).
:func:`world_features` analyses audio into the representation our acoustic models learn (WORLD log-F0,
voicing, 40 coded envelope coefficients, 3 band aperiodicities at a 12.5 ms hop). :func:`world_synthesize`
(pyworld's own synthesis), :func:`fast_synthesize` (ours, unrefined) and :func:`griffinlim_from_logspec`
are the baselines the benchmarks compare against.

May import: ``errors`` and ``weights`` (the refiner's set-up checks), nothing else from airap.
"""

from __future__ import annotations

import numpy as np

from .fast import fast_synthesize, synthesize_parts
from .world import FEATURE_DIM, HOP_SECONDS, SAMPLE_RATE, griffinlim_from_logspec, world_features, world_synthesize


def refiner_ships() -> bool:
    from .refine import default_weights

    return default_weights().exists()


def synthesize(feats: np.ndarray, sr: int = SAMPLE_RATE, f0_scale: float = 1.0, seed: int = 0) -> np.ndarray:
    """[frames, FEATURE_DIM] WORLD features (12.5 ms hop) -> float32 audio."""
    parts = synthesize_parts(feats, sr, f0_scale, seed)
    if parts.periodic.size and refiner_ships():
        from .refine import refine

        return refine(parts, feats, sr)
    return parts.periodic + parts.noise


def waveform_id() -> str:
    """Names the waveform stage in an engine's fingerprint (kept takes from another one are not reused)."""
    if not refiner_ships():
        return "fast"
    from .refine import load_refiner

    return f"refined-{load_refiner().digest}"


__all__ = ["FEATURE_DIM", "HOP_SECONDS", "SAMPLE_RATE", "fast_synthesize", "griffinlim_from_logspec", "synthesize",
           "synthesize_parts", "waveform_id", "world_features", "world_synthesize"]
