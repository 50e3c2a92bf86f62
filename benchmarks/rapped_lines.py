"""Issue 11: a character raps as well as it reads. Held-out lines of one language rapped at 92 BPM on
the shipped flow by several characters, with this tree and a base revision in the same run (one
render process each, side by side), then judged by *this* tree's judge (Whisper-base on the vocal
stem, ``airap eval``: CER for Mandarin, WER for English), so a change of the judge never reads as a
change of the renders. Also how the plan spaces a line's syllables (mean vowel-onset interval inside
lines; the share of intervals over 0.3 s, i.e. an 8th note (0.33 s at 92 BPM) or more between two
syllables of a line).

    .venv/bin/python benchmarks/rapped_lines.py [--lang zh] [--base 3a1d8ca] [--voices xi,jian,mei,wolf,onyx,duke,river,adam,muse]
    .venv/bin/python benchmarks/rapped_lines.py --lang en --base 3a1d8ca --voices rose,adam,chip,mike,river,nico,wolf,pip,duke
    .venv/bin/python benchmarks/rapped_lines.py --engine fast --voices kumo,alpha,fox --out benchmarks/results_mandarin_flow_fast.json
    .venv/bin/python benchmarks/rapped_lines.py --sing --base 0bdf123 --voices xi,mei,rose,jian,wolf,adam

``--sing`` (issue 14): the same lines as one sung section, every melody composed on the beat's chords
(against ``0bdf123``, the composer before it followed the tones); the plan spacing then reads the
sung flow's.

Lines (none used for a choice in the flow planner): the held-out verse of benchmarks/voices.py (8),
the verses of benchmarks/data/production/heldout_zh.txt (Mandarin) or heldout_untagged_en.txt
(English), and the verses and hook of fresh2_zh.txt / fresh2_en.txt (written in session 13).
Characters: see ``DEV_VOICES`` (their figures here are on new lines); the others never rapped a
dev verse for a choice of that language.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _worktree import ROOT, worktree  # noqa: E402

BPM = 92
# rapped the dev verse while a planner choice was made. Mandarin: xi, jian, mei, jolly for the beat
# pull (session 13), jian, wolf, duke, river for the rest cost (session 14) and the line-final cap
# (session 15). English: rose, adam, chip, mike for the line-final cap (session 15).
DEV_VOICES = {"zh": ("xi", "jian", "mei", "jolly", "wolf", "duke", "river"), "en": ("rose", "adam", "chip", "mike")}
LINE_FILES = {"zh": ("heldout_zh.txt", "fresh2_zh.txt"), "en": ("heldout_untagged_en.txt", "fresh2_en.txt")}
RESULTS = {("zh", False): "results_mandarin_flow.json", ("zh", True): "results_mandarin_sung.json",
           ("en", False): "results_english_flow.json", ("en", True): "results_english_sung.json"}
GAP_S = 0.3


def held_out_lines(lang: str) -> list[str]:
    from voices import VERSES

    lines = list(VERSES["heldout"][lang])
    for file in LINE_FILES[lang]:
        for ln in (HERE / "data" / "production" / file).read_text(encoding="utf-8").splitlines():
            ln = ln.strip()
            if ln and not re.match(r"^\[.*\]$", ln) and ln not in lines:
                lines.append(ln)
    return lines


def render_all(src: str, out: str, voices: list[str], engine: str, lang: str, sing: bool) -> None:
    """In a child process with ``src`` first on the path: render every voice into ``out/<voice>``."""
    sys.path.insert(0, os.path.join(src, "src"))
    import warnings

    warnings.filterwarnings("ignore")
    from airap.render import Renderer
    from airap.request import RenderRequest

    lyrics = "\n".join(held_out_lines(lang))
    if sing:  # one sung section, every melody composed on the beat's chords
        import yaml

        lyrics = yaml.safe_dump({"sections": [{"name": "hook", "sing": True, "lines": held_out_lines(lang)}]},
                                allow_unicode=True)
    renderer = Renderer(engine)
    for voice in voices:
        renderer.render(RenderRequest(lyrics=lyrics, voice=voice, bpm=BPM, lang=lang), Path(out) / voice)
        print(src, voice, "rendered", file=sys.stderr, flush=True)


def judge(folder: Path) -> dict:
    """This tree's judge on one render: the error rate, misheard lines and the plan's spacing."""
    import warnings

    warnings.filterwarnings("ignore")
    from airap.evaluate import evaluate_render

    judged = evaluate_render(folder)
    timings = json.loads((folder / "timings.json").read_text(encoding="utf-8"))
    intervals = []
    for ln in timings["lines"]:
        onsets = [s["vowel_onset"] for w in ln["words"] for s in w["syllables"]]
        intervals += [b - a for a, b in zip(onsets, onsets[1:])]
    return {"error": judged.get("cer_zh", judged.get("wer_en")),
            "mean_interval_s": round(sum(intervals) / len(intervals), 3),
            "gaps_over_0_3_s": round(sum(i > GAP_S for i in intervals) / len(intervals), 3),
            "seconds": round(timings["duration"], 1),
            "misheard": [(x["text"], x["heard"]) for x in judged["lines"] if x["error"] > 0]}


def run_tree(src: Path, out: Path, voices: list[str], engine: str, lang: str, sing: bool) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(src / "src"), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, __file__, "--child", str(src), str(out), ",".join(voices), engine, lang,
                             str(int(sing))], env=env)


def _judge_init() -> None:
    os.environ["AIRAP_EVAL_THREADS"] = "1"


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, src, out, voices, engine, lang, sing = sys.argv
        return render_all(src, out, voices.split(","), engine, lang, sing == "1")
    ap = argparse.ArgumentParser()
    ap.add_argument("--lang", choices=("zh", "en"), default="zh")
    ap.add_argument("--base", default="3a1d8ca", help="session 14's tree (before the line-final cap)")
    ap.add_argument("--voices", default="xi,jian,mei,wolf,onyx,duke,river,adam,muse")
    ap.add_argument("--engine", default="kokoro")
    ap.add_argument("--sing", action="store_true", help="the lines sung on composed melodies instead of rapped")
    ap.add_argument("--out", default=None, help="default: results_mandarin_flow.json, results_english_flow.json, ...")
    a = ap.parse_args()
    voices = a.voices.split(",")
    out = a.out or str(HERE / RESULTS[a.lang, a.sing])
    t = time.time()
    with tempfile.TemporaryDirectory() as tmp, worktree(a.base, Path(tmp) / "base_src") as base_src:
        trees = {"new": ROOT, "base": base_src}
        jobs = [run_tree(src, Path(tmp) / name, voices, a.engine, a.lang, a.sing) for name, src in trees.items()]
        if any(job.wait() for job in jobs):
            sys.exit("a render process failed")
        folders = [(name, v) for name in trees for v in voices]
        with ProcessPoolExecutor(2, initializer=_judge_init) as pool:
            judged = list(pool.map(judge, [Path(tmp) / name / v for name, v in folders]))
    rows: dict[str, dict] = {name: {} for name in trees}
    for (name, v), row in zip(folders, judged):
        rows[name][v] = row
    summary = {}
    dev = DEV_VOICES[a.lang]
    for name, r in rows.items():
        for group, members in (("dev characters", [v for v in voices if v in dev]),
                               ("other characters", [v for v in voices if v not in dev])):
            if members:
                summary[f"{name}, {group}"] = {
                    "mean_error": round(sum(r[v]["error"] for v in members) / len(members), 4),
                    "mean_interval_s": round(sum(r[v]["mean_interval_s"] for v in members) / len(members), 3),
                    "gaps_over_0_3_s": round(sum(r[v]["gaps_over_0_3_s"] for v in members) / len(members), 3)}
    metric = "cer" if a.lang == "zh" else "wer"
    report = {"base_rev": a.base, "engine": a.engine, "lang": a.lang, "metric": metric, "sung": a.sing, "bpm": BPM,
              "lines": held_out_lines(a.lang), "summary": summary, "per_voice": rows, "wall_s": round(time.time() - t)}
    Path(out).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps({"summary": summary, metric: {n: {v: r[v]["error"] for v in voices} for n, r in rows.items()}},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
