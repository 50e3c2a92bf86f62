"""Alignment accuracy of our Tacotron on the full held-out split (>= 8,000 lines never trained on),
free-running, in one run: no mask vs mask [0,+3] vs mask [0,+1] (the default), plus long verse-like
inputs (6 held-out lines joined). Criteria as in `airap eval alignment` (the expected length is the
teacher's for the same voice). Prints JSON.

    .venv/bin/python benchmarks/alignment.py --heldout corpus/heldout.txt [--weights runs/taco/last.pt]
"""

import argparse
import json
import re
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")


def main():
    import torch

    from airap.acoustic import load_engine
    from airap.acoustic.tacotron.checkpoint import TacotronModel
    from airap.acoustic.tokens import line_tokens, load_vocab
    from airap.align import check_health
    from airap.catalog import OWN_MODEL_SPEAKERS
    from airap.text import analyze_line

    ap = argparse.ArgumentParser()
    ap.add_argument("--heldout", default="corpus/heldout.txt")
    ap.add_argument("--weights", default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(1)
    texts = [t.strip() for t in Path(a.heldout).read_text(encoding="utf-8").splitlines() if t.strip()]
    if a.limit:
        texts = texts[: a.limit // 2] + texts[len(texts) // 2 :][: a.limit // 2]
    long_inputs = [", ".join(texts[i : i + 6]) for i in range(0, 1200, 6)]  # 200 EN verse-like inputs
    teacher = load_engine("kokoro")
    vocab = load_vocab()
    t0 = time.time()

    voices = OWN_MODEL_SPEAKERS  # the speakers of the shipped models, in their id order

    def prepare(lines):
        """(text, ids, expected steps): the teacher's length for the voice item i is decoded with (i mod 8)."""
        out = []
        for text in lines:
            line, _ = analyze_line(text)
            if line is None:
                continue
            ids, _ = line_tokens(line, vocab)
            voice = voices[len(out) % len(voices)]
            out.append((text, ids, float(teacher.natural_frames(line, voice).sum())))
        return out

    sets = {"heldout": prepare(texts), "long_6_lines": prepare(long_inputs)}
    prep_s = time.time() - t0
    report = {"heldout_lines": len(sets["heldout"]), "long_inputs": len(sets["long_6_lines"]),
              "prepare_seconds": round(prep_s, 1), "results": {}}
    for label, mask, window in (("no_mask", False, 3), ("mask_0_+3", True, 3), ("mask_0_+1", True, 1)):
        net = TacotronModel(Path(a.weights) if a.weights else None, mask_ahead=window)
        for set_name, items in sets.items():
            torch.manual_seed(0)
            t = time.time()
            passed, reasons, focus, ratio = 0, Counter(), [], []
            order = sorted(range(len(items)), key=lambda i: len(items[i][1]))
            for k in range(0, len(order), a.batch):
                idx = order[k : k + a.batch]
                res = net.model.infer_batch([items[i][1] for i in idx], [i % 8 for i in idx], mask)
                for i, decoded in zip(idx, res):
                    h = check_health(decoded.attention.numpy(), decoded.stopped, expected_steps=int(items[i][2]))
                    focus.append(h.focus_rate)
                    ratio.append(h.length_ratio)
                    if h.ok:
                        passed += 1
                    else:
                        for part in h.reason().split("; "):
                            reasons[re.sub(r"^\d+ ", "", part.split(" [")[0].split(" (")[0])] += 1
            report["results"][f"{set_name}/{label}"] = {
                "accuracy": round(passed / max(len(items), 1), 4), "passed": passed, "lines": len(items),
                "failure_reasons": dict(reasons), "mean_focus_rate": round(float(np.mean(focus)), 3),
                "median_length_ratio": round(float(np.median(ratio)), 3), "seconds": round(time.time() - t, 1)}
            print(json.dumps({f"{set_name}/{label}": report["results"][f"{set_name}/{label}"]}), flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
