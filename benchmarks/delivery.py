"""Issue 14, ad-libs and doubles: do ad-libs ever sound over a lyric syllable? Real renders with the
fast engine (the production songs, `adlibs: heavy` forced on every line to give the planner the most
to place), measured on the files: adlibs.wav samples louder than -30 dBFS inside any syllable's span
from timings.json. Baseline in the same run, on the same timings: the naive rule (each echo one beat
after its word, whatever is there).

    .venv/bin/python benchmarks/delivery.py [--styles boom-bap,trap,guofeng]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
SONGS = {"dev_en": ("dev_en.txt", 1), "heldout_zh": ("heldout_zh.txt", 2),
         "heldout_untagged_en": ("heldout_untagged_en.txt", 3)}
LOUD_DBFS = -30.0


def syllable_spans(timings: dict) -> list[tuple[float, float]]:
    return [(s["start"], s["end"]) for ln in timings["lines"] for w in ln["words"] for s in w["syllables"]]


def collisions(adlibs: np.ndarray, sr: int, spans) -> int:
    loud = np.abs(adlibs).max(axis=1) > 10 ** (LOUD_DBFS / 20)
    return int(sum(loud[max(0, int(a * sr)):int(b * sr)].sum() for a, b in spans))


def naive_collisions(timings: dict) -> tuple[int, int]:
    """Echo every line's last word one beat after it ends, for as long as the word: how many overlap a syllable."""
    beat = 60.0 / timings["bpm"]
    spans = syllable_spans(timings)
    hits = 0
    for ln in timings["lines"]:
        w = ln["words"][-1]
        a, b = w["end"] + beat, w["end"] + beat + (w["end"] - w["start"])
        hits += any(s < b and a < e for s, e in spans)
    return hits, len(timings["lines"])


def main() -> None:
    import soundfile as sf

    from airap import catalog
    from airap.render import Renderer
    from airap.request import RenderRequest

    ap = argparse.ArgumentParser()
    ap.add_argument("--styles", default="boom-bap,trap,guofeng")
    ap.add_argument("--engine", default="fast")
    ap.add_argument("--out", default=str(HERE / "results_delivery.json"))
    a = ap.parse_args()
    for kind in catalog.PERFORMANCE:  # every section gets heavy ad-libs; doubles as the catalogue says
        catalog.PERFORMANCE[kind] = catalog.Performance("heavy", catalog.PERFORMANCE[kind].double)
    renderer = Renderer(a.engine)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for song, (file, seed) in SONGS.items():
            lyrics = (HERE / "data" / "production" / file).read_text(encoding="utf-8")
            for style in a.styles.split(","):
                folder = Path(tmp) / song / style
                res = renderer.render(RenderRequest(lyrics=lyrics, beat=style, seed=seed), folder)
                timings = json.loads((folder / "timings.json").read_text())
                adlibs, sr = sf.read(folder / "adlibs.wav", dtype="float32")
                naive, lines = naive_collisions(timings)
                kinds = [x["kind"] for x in timings["adlibs"]]
                rows[f"{song}/{style}"] = {
                    "lines": lines, "echoes": kinds.count("echo"), "interjections": kinds.count("interjection"),
                    "samples_over_a_syllable": collisions(adlibs, sr, syllable_spans(timings)),
                    "naive_echoes_over_a_syllable": naive,
                    "adlib_seconds": round(float((np.abs(adlibs).max(axis=1) > 10 ** (LOUD_DBFS / 20)).sum() / sr), 1),
                    "duration_s": round(res.track.duration, 1)}
                print(json.dumps({f"{song}/{style}": rows[f"{song}/{style}"]}), file=sys.stderr, flush=True)
    total = {k: sum(r[k] for r in rows.values()) for k in ("lines", "echoes", "interjections",
                                                          "samples_over_a_syllable", "naive_echoes_over_a_syllable")}
    report = {"engine": a.engine, "loud_dbfs": LOUD_DBFS, "total": total, "renders": rows}
    Path(a.out).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
