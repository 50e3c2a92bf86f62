"""A finished track from a warm Renderer, and a one-line edit of it: wall seconds with every file
written, this tree on 2 and on 1 thread against a base revision on 2 threads, in one run. Prints JSON.

    .venv/bin/python benchmarks/render_speed.py [--engine fast] [--base e02a4af]

Songs: the two 8-line verses of benchmarks/render.py (English, Mandarin; ~55-65 s tracks) and the
first 8 lines of two production songs never used for a speed choice (held out). Each song is
rendered twice into fresh folders (the faster counts: the machine drifts), then line 4 is edited
(a word appended) and rendered again: with ``reuse=`` the first render's folder where the tree has
it (this tree), else in full (the base). Each tree runs in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _worktree import ROOT, worktree  # noqa: E402

HELD_OUT = ("heldout_untagged_en.txt", "heldout_zh.txt")

CHILD = r"""
import inspect, json, shutil, sys, tempfile, time, warnings
warnings.filterwarnings("ignore")
from pathlib import Path
from airap.render import Renderer, RenderRequest
engine, threads, songs = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
renderer = Renderer(engine, threads=threads)
can_reuse = "reuse" in inspect.signature(renderer.render).parameters
tmp = Path(tempfile.mkdtemp())
renderer.render(RenderRequest(lyrics=songs[0][1], bpm=92), tmp / "warm")  # a warm Renderer
import airap.text
if hasattr(airap.text, "warm_up"):  # as a service worker is: jieba and eSpeak loaded (the base has no warm_up)
    airap.text.warm_up()
out = {}
for k, (name, lyrics) in enumerate(songs):
    walls = []
    for rep in range(2):
        t = time.perf_counter()
        res = renderer.render(RenderRequest(lyrics=lyrics, bpm=92), tmp / f"{k}_{rep}")
        walls.append(time.perf_counter() - t)
        timings = res.timings if walls[-1] == min(walls) else timings
    seconds = len(res.track.mix) / res.track.sample_rate
    lines = lyrics.splitlines()
    lines[3] += " tonight" if name.endswith("en") else " 今晚"
    edit = "\n".join(lines)
    kw = {"reuse": tmp / f"{k}_0"} if can_reuse else {}
    t = time.perf_counter()
    res_edit = renderer.render(RenderRequest(lyrics=edit, bpm=92), tmp / f"{k}_edit", **kw)
    edit_wall = time.perf_counter() - t
    mix_export = res_edit.timings.get("mix", 0) + res_edit.timings.get("export", 0)
    out[name] = {"track_s": round(seconds, 1), "wall_s": round(min(walls), 3),
                 "wall_s_per_60s_track": round(min(walls) * 60 / seconds, 3),
                 "stages_s": {s: round(v, 3) for s, v in timings.items()},
                 "edit_wall_s": round(edit_wall, 3), "edit_mix_export_s": round(mix_export, 3),
                 "edit_beyond_mix_s": round(edit_wall - mix_export, 3),
                 "edit_lines_sung": list(res_edit.reuse.lines_sung) if getattr(res_edit, "reuse", None) else "all"}
shutil.rmtree(tmp, ignore_errors=True)
print(json.dumps(out))
"""


def songs() -> list[tuple[str, str]]:
    sys.path.insert(0, str(HERE))
    from render import EN, ZH

    out = [("verse_en", EN), ("verse_zh", ZH)]
    for f in HELD_OUT:
        text = (HERE / "data" / "production" / f).read_text(encoding="utf-8")
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("[")][:8]
        out.append(("heldout_" + f.split("_")[-1][:-4], "\n".join(lines)))
    return out


def run(src: Path, engine: str, threads: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src / "src"), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", CHILD, engine, str(threads), json.dumps(songs())], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", default="fast")
    ap.add_argument("--base", default="e02a4af")
    ap.add_argument("--out", default=str(HERE / "results_render_speed.json"))
    a = ap.parse_args()
    report = {"engine": a.engine, "base_rev": a.base, "cpus": os.cpu_count(),
              "this_tree_2_threads": run(ROOT, a.engine, 2), "this_tree_1_thread": run(ROOT, a.engine, 1)}
    with tempfile.TemporaryDirectory() as tmp, worktree(a.base, Path(tmp) / "base") as base_src:
        report["base_2_threads"] = run(base_src, a.engine, 2)
    Path(a.out).write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
