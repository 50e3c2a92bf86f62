"""Stage 2 — acoustic models behind one interface. Entry point: :func:`load_engine`.

Engines are catalogue entries (``airap.catalog.ENGINES``): ``kokoro`` (Kokoro-82M teacher, exact
duration control), ``tacotron`` (our compact Tacotron-2 with location-sensitive attention and an
inference mask, ``acoustic/tacotron``; its flow plan is applied by warping WORLD features, so it may
import airap.waveform) and ``fast`` (our non-autoregressive FastSpeech-lite on the same encoder,
driven by durations directly). Nothing outside this package imports an engine module.

May import: airap.text, airap.align, airap.waveform, airap.catalog (voices).
"""

from __future__ import annotations

import importlib

from ..catalog import DEFAULT_ENGINE, get_engine
from .base import LINE_LEAD_IN, LINE_TAIL, SungLine, VocalEngine
from .timbre import apply_timbre

__all__ = ["LINE_LEAD_IN", "LINE_TAIL", "SungLine", "VocalEngine", "apply_timbre", "engine_class", "load_engine"]


def engine_class(name: str = DEFAULT_ENGINE) -> type:
    """The class of the engine the catalogue names (imported, not loaded)."""
    module, cls = get_engine(name).factory.split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)


def load_engine(name: str = DEFAULT_ENGINE, threads: int = 1) -> VocalEngine:
    """The engine the catalogue names, loaded (models read once; the engine is then thread-safe)."""
    return engine_class(name)(threads=threads)
