"""Alignment accuracy of our Tacotron, free-running, for the shipped weights and any candidates in one run.

Sets: the full held-out split (>= 8,000 lines never trained on), 200 long verse-like inputs (6 held-out
lines joined), the one-word and very short lines of `benchmarks/data/alignment/short_lines.txt`, and
any `--hard` files (the developers' hard lines). Each set is decoded with no mask, the mask [0,+3] and
the mask [0,+1] (the default). A line passes as in `airap eval alignment`: no skipped token, no
repeated token, a monotonic path, and a stop within 1.5x the teacher's length. The teacher reads each
line in the same voice: line k goes to the model's voice k mod n, so a candidate trained on another
cast is judged against the teacher in its own voices. Prints JSON.

    .venv/bin/python benchmarks/alignment.py --heldout corpus/heldout.txt \
        [--candidate runs/taco/export/tacotron.pt ...] [--hard ../shared/eval/rap_hard_dev.txt]
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

SHORT_LINES = Path(__file__).parent / "data" / "alignment" / "short_lines.txt"
MASKS = (("no_mask", False, 3), ("mask_0_+3", True, 3), ("mask_0_+1", True, 1))


def read_lines(path: Path) -> list[str]:
    return [t.strip() for t in path.read_text(encoding="utf-8").splitlines() if t.strip()]


def main():
    import torch

    from airap import catalog
    from airap.acoustic import load_engine
    from airap.acoustic.tacotron.checkpoint import TacotronModel, default_weights
    from airap.acoustic.tokens import line_tokens, load_vocab
    from airap.align import check_health
    from airap.text import analyze_line

    ap = argparse.ArgumentParser()
    ap.add_argument("--heldout", default="corpus/heldout.txt")
    ap.add_argument("--candidate", action="append", default=[], help="more weights to judge beside the shipped")
    ap.add_argument("--hard", action="append", default=[], help="files of hard lines (one per line)")
    ap.add_argument("--limit", type=int, default=None, help="only N held-out lines (half EN, half ZH)")
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(1)
    heldout = read_lines(Path(a.heldout))
    if a.limit:
        heldout = heldout[: a.limit // 2] + heldout[len(heldout) // 2 :][: a.limit // 2]
    texts = {"heldout": heldout,
             "long_6_lines": [", ".join(heldout[i : i + 6]) for i in range(0, 1200, 6)],  # 200 EN verse-like inputs
             "short": read_lines(SHORT_LINES)}
    for path in a.hard:
        texts[f"hard:{Path(path).stem}"] = read_lines(Path(path))
    teacher = load_engine("kokoro")
    vocab = load_vocab()
    analysed = {name: [(t, analyze_line(t)[0]) for t in lines] for name, lines in texts.items()}

    def prepare(lines, voices):
        """(text, ids, speaker, teacher steps): a language's lines are read in turn by the voices that
        speak it (a mixed line counts as its main language), by the teacher too."""
        speakers = {lang: [k for k, v in enumerate(voices) if lang in catalog.entry(v).languages] for lang in ("en", "zh")}
        out, turn = [], Counter()
        for text, line in lines:
            if line is None:
                continue
            ids, _ = line_tokens(line, vocab)
            lang = line.main_lang
            speaker = speakers[lang][turn[lang] % len(speakers[lang])]
            turn[lang] += 1
            out.append((text, ids, speaker, float(teacher.natural_frames(line, voices[speaker]).sum())))
        return out

    report = {"sets": {name: len(lines) for name, lines in texts.items()}, "models": {}}
    for weights in [None, *a.candidate]:
        label = "shipped" if weights is None else weights
        path = default_weights("tacotron") if weights is None else Path(weights)
        nets = {mask_label: TacotronModel(path, mask_ahead=window) for mask_label, _, window in MASKS}
        voices = nets["mask_0_+1"].voices
        t0 = time.time()
        sets = {name: prepare(lines, voices) for name, lines in analysed.items()}
        model_report = {"weights": str(path), "voices": list(voices), "prepare_seconds": round(time.time() - t0, 1),
                        "results": {}}
        for mask_label, mask, window in MASKS:
            net = nets[mask_label]
            for set_name, items in sets.items():
                torch.manual_seed(0)
                t = time.time()
                passed, reasons, focus, ratio, failures = 0, Counter(), [], [], []
                order = sorted(range(len(items)), key=lambda i: len(items[i][1]))
                for k in range(0, len(order), a.batch):
                    idx = order[k : k + a.batch]
                    res = net.model.infer_batch([items[i][1] for i in idx], [items[i][2] for i in idx], mask)
                    for i, decoded in zip(idx, res):
                        h = check_health(decoded.attention.numpy(), decoded.stopped, expected_steps=int(items[i][3]))
                        focus.append(h.focus_rate)
                        ratio.append(h.length_ratio)
                        if h.ok:
                            passed += 1
                            continue
                        for part in h.reason().split("; "):
                            reasons[re.sub(r"^\d+ ", "", part.split(" [")[0].split(" (")[0])] += 1
                        if mask and window == 1:
                            failures.append({"line": items[i][0], "voice": voices[items[i][2]], "reason": h.reason()})
                key = f"{set_name}/{mask_label}"
                model_report["results"][key] = {
                    "accuracy": round(passed / max(len(items), 1), 4), "passed": passed, "lines": len(items),
                    "failure_reasons": dict(reasons), "mean_focus_rate": round(float(np.mean(focus)), 3),
                    "median_length_ratio": round(float(np.median(ratio)), 3), "seconds": round(time.time() - t, 1),
                    **({"failures": failures[:20]} if failures else {})}
                print(json.dumps({label: {key: model_report["results"][key]}}, ensure_ascii=False), flush=True)
        report["models"][label] = model_report
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
