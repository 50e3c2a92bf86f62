"""Issue 14's intelligibility targets on held-out lines enough to tell a word from noise: the same
lines sung (one sung section, every melody composed on the beat's chords), rapped with accents (as
shipped) and rapped without accents, per engine that sings and per language, all in one run.

``performance.py`` asks the same two questions of 4-line hooks and verses: there one English word
is 3 points and a hook heard perfectly when rapped fails "sung <= 2x rapped" on any sung error. Here
each render holds the 37 English or 36 Mandarin held-out lines of ``rapped_lines.py`` (none used for
a choice in the flow planner, the composer or the accents), judged by Whisper-base (``airap eval``:
WER for English, CER for Mandarin). The accents' contrast is ``performance.py``'s, read off the vocal stem
over the whole render (onsets within 40 ms of a beat against the others; level of the vowel after
the onset, median F0 over it).

    .venv/bin/python benchmarks/performance_lines.py [--kokoro rose,nico/xi,jian] [--fast kumo,alpha/kumo,alpha]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results_performance_lines.json"
BPM = 92
VARIANTS = ("sung", "rapped", "rapped_no_accents")
SUNG_MAX_RATIO = 2.0  # the target: sung error <= 2x the same lines rapped


def lyrics_for(lang: str, variant: str) -> str:
    from rapped_lines import held_out_lines

    lines = held_out_lines(lang)
    if variant != "sung":
        return "\n".join(lines)
    import yaml

    return yaml.safe_dump({"sections": [{"name": "hook", "sing": True, "lines": lines}]}, allow_unicode=True)


_renderers: dict = {}


def render_one(job: tuple[str, str, str, str, str]) -> str:
    """One render (in a worker process): ``job`` = (engine, voice, lang, variant, out folder)."""
    warnings.filterwarnings("ignore")
    from airap.render import Renderer
    from airap.request import RenderRequest

    engine, voice, lang, variant, folder = job
    if (Path(folder) / "timings.json").is_file() and (Path(folder) / "vocals.wav").is_file():
        return folder  # rendered by an earlier run into the same --keep folder (timings.json is written last)
    renderer = _renderers.setdefault(engine, Renderer(engine, threads=1))
    renderer.render(RenderRequest(lyrics=lyrics_for(lang, variant), voice=voice, bpm=BPM, lang=lang,
                                  accents=variant != "rapped_no_accents"), Path(folder))
    print("rendered", engine, voice, lang, variant, file=sys.stderr, flush=True)
    return folder


def judge_one(folder: str) -> dict:
    warnings.filterwarnings("ignore")
    from airap.evaluate import evaluate_render
    from performance import accent_contrast

    judged = evaluate_render(Path(folder))
    return {"error": judged.get("cer_zh", judged.get("wer_en")), **accent_contrast(Path(folder), None),
            "misheard": [(x["text"], x["heard"]) for x in judged["lines"] if x["error"] > 0]}


def _init() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["AIRAP_EVAL_THREADS"] = "1"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kokoro", default="rose,nico/xi,jian", help="English voices / Mandarin voices ('' to skip)")
    ap.add_argument("--fast", default="kumo,alpha/kumo,alpha", help="the fast engine's voices, the same way")
    ap.add_argument("--keep", help="keep the renders here (else a temporary folder); a second run with the same "
                    "folder renders only what is missing")
    ap.add_argument("--out", default=str(RESULTS))
    a = ap.parse_args()
    t0 = time.time()
    cast = {}
    for engine, spec in (("kokoro", a.kokoro), ("fast", a.fast)):
        if spec:
            en, zh = (spec.split("/") + [""])[:2]
            cast[engine] = {"en": [v for v in en.split(",") if v], "zh": [v for v in zh.split(",") if v]}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(a.keep or scratch)
        jobs = [(e, v, lang, var, str(root / e / lang / v / var))
                for e, langs in cast.items() for lang, vs in langs.items() for v in vs for var in VARIANTS]
        with ProcessPoolExecutor(2, initializer=_init) as pool:
            folders = list(pool.map(render_one, jobs))
            judged = list(pool.map(judge_one, folders))
    per_render: dict = {}
    for (e, v, lang, var, _), row in zip(jobs, judged):
        per_render.setdefault(f"{e}/{lang}", {}).setdefault(v, {})[var] = row
    summary = {}
    for key, voices in per_render.items():
        mean = {var: round(float(np.mean([r[var]["error"] for r in voices.values()])), 4) for var in VARIANTS}
        contrast = {var: {"level_db": round(float(np.mean([r[var]["level_db_on_minus_off"] for r in voices.values()])), 2),
                          "f0_semitones": round(float(np.mean([r[var]["f0_semitones_on_minus_off"]
                                                               for r in voices.values()])), 2)}
                    for var in ("rapped", "rapped_no_accents")}
        summary[key] = {"voices": sorted(voices), "mean_error": mean,
                        "sung_over_rapped": round(mean["sung"] / mean["rapped"], 2) if mean["rapped"] else None,
                        "sung_within_2x": mean["sung"] <= SUNG_MAX_RATIO * mean["rapped"],
                        "accents_no_worse": mean["rapped"] <= mean["rapped_no_accents"],
                        "accent_contrast": contrast}
    from rapped_lines import held_out_lines

    report = {"command": " ".join(["benchmarks/performance_lines.py"] + sys.argv[1:]), "bpm": BPM,
              "lines": {lang: len(held_out_lines(lang)) for lang in ("en", "zh")}, "summary": summary,
              "per_render": per_render, "wall_s": round(time.time() - t0)}
    Path(a.out).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps({"summary": summary, "wall_s": report["wall_s"]}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
