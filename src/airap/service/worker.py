"""Worker-process state: one Renderer per engine, loaded on first use and kept for the process."""

from __future__ import annotations

import threading

_renderers: dict = {}
_lock = threading.Lock()


def renderer(engine: str = "kokoro"):
    from ..render import Renderer

    with _lock:
        if engine not in _renderers:
            _renderers[engine] = Renderer(engine, threads=1)
        return _renderers[engine]


def warm(engine: str = "kokoro") -> None:
    """Pool initializer: load models before the first job arrives."""
    import warnings

    warnings.filterwarnings("ignore")
    renderer(engine)
