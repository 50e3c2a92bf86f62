"""The mix stage, this tree against base revisions in the same run, one core (OMP_NUM_THREADS=1).

1. ``mix_track`` alone on the same vocal and beat arrays (from ``benchmarks/production.py --keep
   DIR`` renders: one mono vocal, one beat array), the first call in a fresh process ("cold": what a
   one-song CLI render pays) and the median of the next three ("warm": a service worker that has
   mixed before).
2. Inside a render (the issue's "whole mix stage"): the renderer's own ``mix`` clock (the vocal
   track from the placed lines, ad-libs, the vocal chain, ducking, the stems, the master) for the
   three production songs with the fast engine: the first song in a fresh process (cold) and the
   same song rendered again by the same Renderer (warm), each tree in its own process.

    .venv/bin/python benchmarks/mix_speed.py [--kept /tmp/prod_keep] [--base 0e49f3a] [--render-base cecc0cc]

(Part 1 needs ``--kept``; without it only part 2 runs. Each song is rendered ``--repeats`` times by
one Renderer; "warm" is the median after the first.)
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

SONGS = ("dev_en/trap", "heldout_untagged_en/boom-bap", "heldout_zh/lo-fi")

CHILD = r"""
import json, sys, time
import numpy as np, soundfile as sf
from airap.mix import mix_track
out = {}
for folder in sys.argv[1:]:
    vocal = sf.read(folder + "/vocals.wav", dtype="float32")[0].mean(axis=1)
    beat = sf.read(folder + "/raw_beat.wav", dtype="float32")[0]
    n = max(len(vocal), len(beat))
    minutes = n / 44100 / 60
    runs = []
    for _ in range(4):
        t = time.perf_counter()
        mix_track(vocal, beat, 44100)
        runs.append((time.perf_counter() - t) / minutes)
    out[folder] = {"minutes": round(minutes, 2), "cold_s_per_min": round(runs[0], 3),
                   "warm_s_per_min": round(sorted(runs[1:])[1], 3)}
print(json.dumps(out))
"""


RENDER_SONGS = (("dev_en.txt", "trap", 1), ("heldout_untagged_en.txt", "boom-bap", 3), ("heldout_zh.txt", "lo-fi", 2))

RENDER_CHILD = r"""
import json, sys
from airap.render import Renderer, RenderRequest
renderer = Renderer("fast")
out = {}
for spec in sys.argv[3:]:
    file, style, seed = spec.split(":")
    lyrics = open(sys.argv[1] + "/" + file, encoding="utf-8").read()
    runs = []
    for _ in range(int(sys.argv[2])):
        res = renderer.render(RenderRequest(lyrics=lyrics, beat=style, seed=int(seed)), None)
        minutes = len(res.track.mix) / 44100 / 60
        runs.append(res.timings["mix"] / minutes)
    warm = sorted(runs[1:])
    out[file[:-4] + "/" + style] = {"minutes": round(minutes, 2), "cold_s_per_min": round(runs[0], 3),
                                    "warm_s_per_min": round(warm[len(warm) // 2], 3),
                                    "runs_s_per_min": [round(r, 3) for r in runs]}
print(json.dumps(out))
"""


def run_renders(src: Path, repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src / "src"), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    specs = [f"{f}:{style}:{seed}" for f, style, seed in RENDER_SONGS]
    res = subprocess.run([sys.executable, "-c", RENDER_CHILD, str(HERE / "data" / "production"), str(repeats), *specs],
                         env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def run(src: Path, folders: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src / "src"), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", CHILD, *folders], env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kept", default=None, help="production.py --keep folder, for part 1")
    ap.add_argument("--base", default="0e49f3a")
    ap.add_argument("--render-base", default="cecc0cc", help="the revision the in-render mix clock is compared with")
    ap.add_argument("--repeats", type=int, default=4, help="renders of each song by one Renderer")
    ap.add_argument("--out", default=str(HERE / "results_mix_speed.json"))
    a = ap.parse_args()
    rows = {}
    if a.kept:
        folders = [str(Path(a.kept) / "new" / s) for s in SONGS]
        new = run(ROOT, folders)
        with tempfile.TemporaryDirectory() as tmp, worktree(a.base, Path(tmp) / "base") as base_src:
            base = run(base_src, folders)
        rows = {s: {"this_tree": new[f], "base": base[f]} for s, f in zip(SONGS, folders)}
    in_render = {"this_tree": run_renders(ROOT, a.repeats)}
    with tempfile.TemporaryDirectory() as tmp, worktree(a.render_base, Path(tmp) / "base") as base_src:
        in_render["base"] = run_renders(base_src, a.repeats)
    report = {"base_rev": a.base, "note": "same vocal + beat arrays for both trees (the upload path: one beat array)",
              "songs": rows, "in_render": {"base_rev": a.render_base, **in_render}}
    Path(a.out).write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
