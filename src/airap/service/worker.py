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


def _exit_with_parent() -> None:
    """If the API process dies (even by SIGKILL), its workers must not live on as orphans."""
    import os
    import time

    parent = os.getppid()
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


WORKER_NICENESS = 5  # renders are batch work: on a 2-core machine the API's answers come first


def warm(engine: str = "kokoro") -> None:
    """Pool initializer: load models before the first job arrives."""
    import os
    import warnings

    warnings.filterwarnings("ignore")
    os.nice(WORKER_NICENESS)
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    renderer(engine)
    from ..text import warm_up

    warm_up()  # the first job would otherwise load jieba and eSpeak (~1.5 s)
