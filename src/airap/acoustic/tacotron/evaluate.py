"""Alignment accuracy of free-running inference on any lines file, with or without the mask.

A line passes when: no input token is skipped (every token but the final pad is the attention argmax
at least once), none is repeated (the argmax never returns to a token it left), the path never goes
backwards, and the decoder stops within 1.5x the expected length (the Kokoro teacher's predicted
duration of the same tokens).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...errors import InputError
from ...text import analyze_line


def evaluate_alignment_file(path: str | Path, mask: bool = True, weights: Path | None = None, limit: int | None = None) -> dict:
    from ..kokoro import FRAME, KokoroEngine
    from ..tokens import line_tokens
    from .engine import TacotronModel

    p = Path(path or "")
    if not p.is_file():
        raise InputError(f"lines file not found: {path}")
    texts = [t.strip() for t in p.read_text(encoding="utf-8").splitlines() if t.strip()]
    if limit:
        texts = texts[:limit]
    net = TacotronModel(weights)
    teacher = KokoroEngine()
    failures, passed, n = [], 0, 0
    focus = []
    t0 = time.time()
    for i, text in enumerate(texts):
        try:
            line, _ = analyze_line(text)
        except InputError as e:
            failures.append({"line": text, "reason": f"front-end: {e}"})
            n += 1
            continue
        if line is None:
            continue
        n += 1
        ids, _ = line_tokens(line, teacher._vocab)
        expected = float(np.maximum(np.round(teacher._predict(ids, "kumo") / FRAME), 1).sum())
        speaker = i % max(1, len(net.voices))
        _, attn, stopped = net.infer(ids, speaker, use_mask=mask)
        from ...align import check_health

        h = check_health(attn, stopped, expected_steps=int(expected))
        focus.append(h.focus_rate)
        if h.ok:
            passed += 1
        else:
            failures.append({"line": text, "reason": h.reason()})
    return {"lines": n, "mask": mask, "accuracy": round(passed / max(n, 1), 4), "passed": passed,
            "mean_focus_rate": round(float(np.mean(focus)) if focus else 0.0, 4),
            "seconds": round(time.time() - t0, 1), "failures": failures}
