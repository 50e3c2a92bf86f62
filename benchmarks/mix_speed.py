"""The mix stage alone, this tree against a base revision in the same run: ``mix_track`` on the same
vocal and beat arrays (from ``benchmarks/production.py --keep DIR`` renders), the first call in a
fresh process ("cold": what a one-song CLI render pays) and the median of the next three ("warm": a
service worker that has mixed before). One core (OMP_NUM_THREADS=1).

    .venv/bin/python benchmarks/mix_speed.py --kept /tmp/prod_keep [--base 0e49f3a]
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


def run(src: Path, folders: list[str]) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src / "src"), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", CHILD, *folders], env=env, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kept", required=True)
    ap.add_argument("--base", default="0e49f3a")
    ap.add_argument("--out", default=str(HERE / "results_mix_speed.json"))
    a = ap.parse_args()
    folders = [str(Path(a.kept) / "new" / s) for s in SONGS]
    new = run(ROOT, folders)
    with tempfile.TemporaryDirectory() as tmp, worktree(a.base, Path(tmp) / "base") as base_src:
        base = run(base_src, folders)
    rows = {s: {"this_tree": new[f], "base": base[f]} for s, f in zip(SONGS, folders)}
    report = {"base_rev": a.base, "note": "same vocal + beat arrays for both trees (the upload path: one beat array)",
              "songs": rows}
    Path(a.out).write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
