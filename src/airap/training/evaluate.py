"""Alignment accuracy of free-running inference on any lines file, with or without the mask.

A line passes when: no input token is skipped (every token but the final pad is the attention argmax
at least once), none is repeated (the argmax never returns to a token it left), the path never goes
backwards, and the decoder stops within 1.5x the expected length (the Kokoro teacher's predicted
duration of the same tokens, read by the same voice: voices differ in pace by up to ~20 %).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..align import check_health
from ..errors import InputError
from ..text import analyze_line


def evaluate_alignment_file(path: str | Path, mask: bool = True, weights: Path | None = None, limit: int | None = None,
                            window: int | None = None, batch: int = 48) -> dict:
    import torch

    from ..acoustic import load_engine
    from ..acoustic.tacotron.checkpoint import TacotronModel
    from ..acoustic.tokens import line_tokens, load_vocab

    p = Path(path or "")
    if not p.is_file():
        raise InputError(f"lines file not found: {path}")
    texts = [t.strip() for t in p.read_text(encoding="utf-8").splitlines() if t.strip()]
    if limit:
        texts = texts[:limit]
    net = TacotronModel(weights, mask_ahead=window)
    teacher = load_engine("kokoro")
    vocab = load_vocab()
    failures: list[dict] = []
    items = []
    for text in texts:
        voice = net.voices[len(items) % len(net.voices)]  # line k is decoded with speaker k mod n (below)
        try:
            line, _ = analyze_line(text)
        except InputError as e:
            failures.append({"line": text, "reason": f"front-end: {e}"})
            continue
        if line is None:
            continue
        ids, _ = line_tokens(line, vocab)
        expected = float(teacher.natural_frames(line, voice).sum())
        items.append((text, ids, expected))
    torch.manual_seed(0)
    t0 = time.time()
    passed, focus, ratios = 0, [], []
    order = sorted(range(len(items)), key=lambda i: len(items[i][1]))  # similar lengths per batch
    for k in range(0, len(order), batch):
        group = [items[i] for i in order[k : k + batch]]
        results = net.model.infer_batch([g[1] for g in group], [i % len(net.voices) for i in order[k : k + batch]], mask)
        for (text, _, expected), decoded in zip(group, results):
            h = check_health(decoded.attention.numpy(), decoded.stopped, expected_steps=int(expected))
            focus.append(h.focus_rate)
            ratios.append(h.length_ratio)
            if h.ok:
                passed += 1
            else:
                failures.append({"line": text, "reason": h.reason()})
    n = len(items) + sum(1 for f in failures if f["reason"].startswith("front-end"))
    return {"lines": n, "mask": mask, "window": [-net.cfg.mask_back, net.cfg.mask_ahead] if mask else None,
            "accuracy": round(passed / max(n, 1), 4), "passed": passed,
            "mean_focus_rate": round(float(np.mean(focus)) if focus else 0.0, 4),
            "median_length_ratio": round(float(np.median(ratios)) if ratios else 0.0, 3),
            "decode_seconds": round(time.time() - t0, 1), "failures": failures}
