"""Stage 2 — acoustic models behind one interface. Entry point: :func:`load_engine`.

Engines: ``kokoro`` (Kokoro-82M teacher, exact duration control) and ``tacotron`` (our own compact
Tacotron-2 with location-sensitive attention and an inference mask, ``acoustic/tacotron``; its flow
plan is applied by warping WORLD features, so it may import airap.waveform) and ``fast`` (our
non-autoregressive FastSpeech-lite on the same encoder, driven by durations directly).

May import: airap.text, airap.align.
"""

from __future__ import annotations

from ..errors import InputError
from .base import SungLine, VocalEngine, Voice

ENGINES = ("kokoro", "tacotron", "fast")

__all__ = ["ENGINES", "SungLine", "VocalEngine", "Voice", "load_engine"]


def load_engine(name: str = "kokoro", threads: int = 1) -> VocalEngine:
    if name == "kokoro":
        from .kokoro import KokoroEngine

        return KokoroEngine(threads=threads)
    if name == "tacotron":
        from .tacotron.engine import TacotronEngine

        return TacotronEngine(threads=threads)
    if name == "fast":
        from .tacotron.engine import FastSpeechEngine

        return FastSpeechEngine(threads=threads)
    raise InputError(f"unknown engine {name!r}; engines: {', '.join(ENGINES)}")
