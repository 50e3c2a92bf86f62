"""Does a change alter the sound? Renders the same songs with the working tree and with a base revision
(a temporary git worktree, same venv, one thread each so ONNX is deterministic) and compares the
mixes, stems and timings sample by sample. A refactor must print ``identical: true`` for every case.
Prints JSON.

    .venv/bin/python benchmarks/same_sound.py --base HEAD~1 [--engines kokoro,fast,tacotron]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _worktree import worktree

ROOT = Path(__file__).resolve().parents[1]
SHEET = """title: same sound
bpm: 96
beat: trap
sections:
  - name: verse
    lines:
      - Every line is on the grid, every rhyme is on the map
      - 每一句歌词都是我的梦想
  - name: hook
    flow: triplet
    lines: [Run it back, run it back]
"""
# Rendered in a subprocess against one source tree (argv: src folder, out folder, engines).
RENDER = r'''
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from pathlib import Path
from airap.render import Renderer, RenderRequest
out = Path(sys.argv[2]); cases = json.loads(sys.argv[4])
for engine in sys.argv[3].split(","):
    r = Renderer(engine, threads=1)
    for name, kw in cases.items():
        res = r.render(RenderRequest(**kw), out / f"{engine}_{name}")
        np.savez(out / f"{engine}_{name}.npz", mix=res.track.mix, vocals=res.track.vocals, beat=res.track.beat)
'''


def make_upload(path: Path) -> None:
    import numpy as np
    import soundfile as sf

    from airap.beat import BeatGrid, generate_beat
    from airap.catalog import get_style

    style = get_style("drill")
    beat = generate_beat(style, BeatGrid.regular(120, 12, swing=style.swing), seed=3)
    sf.write(path, np.concatenate([np.zeros((20000, 2), np.float32), beat.audio]), 44100)


def compare(a: Path, b: Path) -> dict:
    import numpy as np

    out = {}
    for f in sorted(a.glob("*.npz")):
        x, y = np.load(f), np.load(b / f.name)
        same_shape = all(x[k].shape == y[k].shape for k in x.files)
        diff = max(float(np.max(np.abs(x[k] - y[k]))) for k in x.files) if same_shape else None
        ta = json.loads((a / f.stem / "timings.json").read_text())
        tb = json.loads((b / f.stem / "timings.json").read_text())
        out[f.stem] = {"same_length": same_shape, "max_abs_difference": diff, "timings_identical": ta == tb,
                       "identical": same_shape and diff == 0.0 and ta == tb}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="HEAD")
    ap.add_argument("--engines", default="kokoro,fast")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with worktree(a.base, tmp / "base") as base:
            upload = tmp / "upload.wav"
            make_upload(upload)
            demo = ROOT / "src" / "airap" / "data"
            cases = {"en": {"lyrics": (demo / "demo_en.txt").read_text(), "lang": "en"},
                     "zh": {"lyrics": (demo / "demo_zh.txt").read_text(), "lang": "zh"},
                     "sheet": {"lyrics": SHEET, "seed": 5},
                     "upload": {"lyrics": "Run it back, run it back\n这个节奏真的很好", "instrumental": str(upload)}}
            for label, src in (("base", base / "src"), ("work", ROOT / "src")):
                subprocess.run([sys.executable, "-c", RENDER, str(src), str(tmp / label), a.engines, json.dumps(cases)],
                               check=True, capture_output=True)
            result = compare(tmp / "base", tmp / "work")
    print(json.dumps({"base": a.base, "cases": result, "identical": all(r["identical"] for r in result.values())},
                     indent=1))


if __name__ == "__main__":
    main()
