"""Beat tracking of uploads over 14 instrumentals the script makes (5 styles, 60-180 BPM, swing and
pickups): our tracker (`airap.beat.track_beat`) vs plain librosa `beat_track` in the same run.
mir_eval beat F-measure (+-70 ms, min_beat_time=0), AMLt (accepts half/double tempo and off-beat),
and whether the first downbeat is within 70 ms of a real one. Prints JSON.

    .venv/bin/python benchmarks/beat_tracking.py
"""

import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).parent))

CASES = [("lo-fi", 72, 0.42, 0.6), ("boom-bap", 92, 0.0, 0.58), ("trap", 140, 0.0, None), ("drill", 120, 0.25, None),
         ("g-funk", 165, 0.0, None), ("trap", 75, 0.3, None), ("drill", 142, 0.25, None), ("boom-bap", 60, 0.5, 0.6),
         ("lo-fi", 100, 0.0, None), ("g-funk", 96, 0.1, None), ("trap", 160, 0.0, None), ("boom-bap", 180, 0.2, None),
         ("drill", 70, 0.0, None), ("lo-fi", 130, 0.33, 0.55)]


def main():
    import librosa
    import mir_eval

    from airap.beat import load_instrumental, track_beat
    from airap.catalog import LIMITS
    from grid import make_instrumental

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for style, bpm, pickup, swing in CASES:
            wav = Path(tmp) / f"{style}_{bpm}.wav"
            ref = make_instrumental(wav, style, bpm, pickup, swing)
            y, sr = load_instrumental(str(wav), 44100, LIMITS.upload)
            end = len(y) / sr
            ref = mir_eval.beat.trim_beats(ref[ref <= end], min_beat_time=0)
            grid = track_beat(y, sr)
            ours = np.array(grid.beats)
            tempo, frames = librosa.beat.beat_track(y=y.mean(axis=1), sr=sr, units="frames")
            plain = librosa.frames_to_time(frames, sr=sr)
            bar = 240 / bpm
            db = abs(grid.downbeats[0] - ref[0]) % bar
            row = {"true_bpm": bpm, "ours_bpm": round(grid.bpm, 1), "librosa_bpm": round(float(np.atleast_1d(tempo)[0]), 1),
                   "first_downbeat_ok": bool(min(db, bar - db) < 0.07)}
            for name, est in (("ours", ours), ("librosa", plain)):
                est = mir_eval.beat.trim_beats(est[est <= end], min_beat_time=0)
                row[f"{name}_f"] = round(float(mir_eval.beat.f_measure(ref, est)), 3)
                row[f"{name}_amlt"] = round(float(mir_eval.beat.continuity(ref, est)[3]), 3)
            rows[f"{style}_{bpm}"] = row
            print(json.dumps({f"{style}_{bpm}": row}), file=sys.stderr, flush=True)
    summary = {f"{k}_mean": round(float(np.mean([r[k] for r in rows.values()])), 3)
               for k in ("ours_f", "librosa_f", "ours_amlt", "librosa_amlt", "first_downbeat_ok")}
    print(json.dumps({"cases": rows, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
