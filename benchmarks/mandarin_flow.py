"""Issue 11: Mandarin rapped as well as it reads. Held-out Mandarin lines rapped at 92 BPM on the
shipped flow by several characters, with this tree and a base revision in the same run (one process
each, side by side): Whisper-base CER of the vocal stem (airap's own judge, ``airap eval``), and how
the plan spaces a line's syllables (mean vowel-onset interval inside lines; the share of intervals
over 0.3 s, i.e. an 8th note (0.33 s at 92 BPM) or more between two syllables of a line).

    .venv/bin/python benchmarks/mandarin_flow.py [--base 04706c8] [--voices xi,jian,mei,wolf,onyx,duke,river,adam,muse]
    .venv/bin/python benchmarks/mandarin_flow.py --engine fast --voices kumo,alpha,fox --out benchmarks/results_mandarin_flow_fast.json
    .venv/bin/python benchmarks/mandarin_flow.py --sing --base 0bdf123 --voices xi,mei,rose,jian,wolf,adam

``--sing`` (issue 14): the same lines as one sung section, every melody composed on the beat's chords
(against ``0bdf123``, the composer before it followed the tones); the plan spacing then reads the
sung flow's.

Lines (none used for a choice in the flow planner): the held-out Mandarin verse of
benchmarks/voices.py (8), the verses of benchmarks/data/production/heldout_zh.txt (12) and the verses
and hook of fresh2_zh.txt (written in session 13, 12). Characters: see ``DEV_VOICES`` (their figures
here are on new lines); ``onyx``, ``adam`` and ``muse`` never rapped the dev verse for a choice.
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _worktree import ROOT, worktree  # noqa: E402

BPM = 92
# rapped the dev verse while a planner choice was made: xi, jian, mei, jolly for the beat pull (session
# 13), jian, wolf, duke, river for the Mandarin rest cost (session 14); onyx, adam, muse never were
DEV_VOICES = ("xi", "jian", "mei", "jolly", "wolf", "duke", "river")
GAP_S = 0.3


def held_out_lines() -> list[str]:
    from voices import VERSES

    lines = list(VERSES["heldout"]["zh"])
    for file in ("heldout_zh.txt", "fresh2_zh.txt"):
        for ln in (HERE / "data" / "production" / file).read_text(encoding="utf-8").splitlines():
            ln = ln.strip()
            if ln and not re.match(r"^\[.*\]$", ln) and ln not in lines:
                lines.append(ln)
    return lines


def render_and_judge(src: str, out: str, voices: list[str], engine: str, sing: bool) -> None:
    """In a child process with ``src`` first on the path: render every voice, judge, print JSON."""
    sys.path.insert(0, os.path.join(src, "src"))
    import warnings

    warnings.filterwarnings("ignore")
    from airap.evaluate import evaluate_render
    from airap.render import Renderer
    from airap.request import RenderRequest

    lyrics = "\n".join(held_out_lines())
    if sing:  # one sung section, every melody composed on the beat's chords
        import yaml

        lyrics = yaml.safe_dump({"sections": [{"name": "hook", "sing": True, "lines": held_out_lines()}]},
                                allow_unicode=True)
    renderer = Renderer(engine)
    rows = {}
    for voice in voices:
        folder = Path(out) / voice
        renderer.render(RenderRequest(lyrics=lyrics, voice=voice, bpm=BPM, lang="zh"), folder)
        judged = evaluate_render(folder)
        timings = json.loads((folder / "timings.json").read_text(encoding="utf-8"))
        intervals = []
        for ln in timings["lines"]:
            onsets = [s["vowel_onset"] for w in ln["words"] for s in w["syllables"]]
            intervals += [b - a for a, b in zip(onsets, onsets[1:])]
        rows[voice] = {"cer": judged["cer_zh"], "mean_interval_s": round(sum(intervals) / len(intervals), 3),
                       "gaps_over_0_3_s": round(sum(i > GAP_S for i in intervals) / len(intervals), 3),
                       "seconds": round(timings["duration"], 1),
                       "misheard": [(x["text"], x["heard"]) for x in judged["lines"] if x["error"] > 0]}
        print(src, voice, rows[voice]["cer"], file=sys.stderr, flush=True)
    print(json.dumps(rows, ensure_ascii=False))


def run_tree(src: Path, out: Path, voices: list[str], engine: str, sing: bool) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(src / "src"), "OMP_NUM_THREADS": "1", "AIRAP_EVAL_THREADS": "1"}
    return subprocess.Popen([sys.executable, __file__, "--child", str(src), str(out), ",".join(voices), engine, str(int(sing))],
                            env=env, stdout=subprocess.PIPE, text=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, src, out, voices, engine, sing = sys.argv
        return render_and_judge(src, out, voices.split(","), engine, sing == "1")
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="04706c8", help="session 13's planner (a0bf504: before it)")
    ap.add_argument("--voices", default="xi,jian,mei,wolf,onyx,duke,river,adam,muse")
    ap.add_argument("--engine", default="kokoro")
    ap.add_argument("--sing", action="store_true", help="the lines sung on composed melodies instead of rapped")
    ap.add_argument("--out", default=None, help="default: results_mandarin_flow.json (results_mandarin_sung.json)")
    a = ap.parse_args()
    voices = a.voices.split(",")
    out = a.out or str(HERE / ("results_mandarin_sung.json" if a.sing else "results_mandarin_flow.json"))
    t = time.time()
    with tempfile.TemporaryDirectory() as tmp, worktree(a.base, Path(tmp) / "base_src") as base_src:
        jobs = {"new": run_tree(ROOT, Path(tmp) / "new", voices, a.engine, a.sing),
                "base": run_tree(base_src, Path(tmp) / "base", voices, a.engine, a.sing)}
        rows = {name: json.loads(job.communicate()[0].strip().splitlines()[-1]) for name, job in jobs.items()}
    summary = {}
    for name, r in rows.items():
        for group, members in (("dev characters", [v for v in voices if v in DEV_VOICES]),
                               ("other characters", [v for v in voices if v not in DEV_VOICES])):
            if members:
                summary[f"{name}, {group}"] = {
                    "mean_cer": round(sum(r[v]["cer"] for v in members) / len(members), 4),
                    "mean_interval_s": round(sum(r[v]["mean_interval_s"] for v in members) / len(members), 3),
                    "gaps_over_0_3_s": round(sum(r[v]["gaps_over_0_3_s"] for v in members) / len(members), 3)}
    report = {"base_rev": a.base, "engine": a.engine, "sung": a.sing, "bpm": BPM, "lines": held_out_lines(), "summary": summary, "per_voice": rows,
              "wall_s": round(time.time() - t)}
    Path(out).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps({"summary": summary, "cer": {n: {v: r[v]["cer"] for v in voices} for n, r in rows.items()}},
                     ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
