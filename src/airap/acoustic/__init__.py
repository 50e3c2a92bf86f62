"""Stage 2 — acoustic models behind one interface. Entry point: :func:`load_engine`.

Engines: ``kokoro`` (Kokoro-82M teacher, exact duration control). ``tacotron`` (our own Tacotron-2
with location-sensitive attention and an inference mask) is planned and not yet trained.

May import: airap.text, airap.align.
"""

from __future__ import annotations

from ..errors import InputError, SetupError
from .base import SungLine, VocalEngine, Voice

ENGINES = ("kokoro", "tacotron")

__all__ = ["ENGINES", "SungLine", "VocalEngine", "Voice", "load_engine"]


def load_engine(name: str = "kokoro", threads: int = 1) -> VocalEngine:
    if name == "kokoro":
        from .kokoro import KokoroEngine

        return KokoroEngine(threads=threads)
    if name == "tacotron":
        # Not built yet (issue #3): say so plainly instead of failing later.
        raise SetupError("the tacotron engine has no trained weights yet; use --engine kokoro")
    raise InputError(f"unknown engine {name!r}; engines: {', '.join(ENGINES)}")
