"""Where rapping costs a character its Mandarin words: the same 31 dev Mandarin lines (the ones the
cast's shares and the planner's Mandarin costs were screened on) sung five ways by Kokoro, each
judged by Whisper-base (CER), in one run per character:

- ``render``: the finished render's vocal stem (92 BPM, the shipped flow and vocal chain);
- ``plan``: the engine alone on the plan's durations and rests (no chain, no mix);
- ``uniform``: the engine on its own natural durations, scaled to the plan's sung length (the line's
  pace without its on-grid rhythm);
- ``natural``: the engine on its natural durations through the same ``sing`` path;
- ``read``: Kokoro reading the line by itself (``teacher_read``).

render - plan is the chain's cost, plan - uniform the on-grid rhythm's, uniform - natural the pace's,
natural - read the sing path's. A diagnosis: nothing is chosen from it.

    .venv/bin/python benchmarks/rap_cost.py --voices muse,river,xi,jian [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).parent
BPM = 92
GAP = 0.4  # s of silence between lines laid out for the judge
TWISTERS = ["红凤凰粉凤凰红粉凤凰花凤凰", "八百标兵奔北坡炮兵并排北边跑", "扁担长板凳宽扁担没有板凳宽板凳没有扁担长"]


def dev_lines() -> list[str]:
    sys.path.insert(0, str(HERE))
    from voices import VERSES

    fresh = [ln.strip() for ln in (HERE / "data/production/fresh_zh.txt").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("[")]
    sheet = yaml.safe_load((HERE / "data/delivery/dev_zh.yaml").read_text(encoding="utf-8"))
    delivery = [ln if isinstance(ln, str) else ln["text"] for sec in sheet["sections"] for ln in sec["lines"]]
    return list(dict.fromkeys([*VERSES["dev"]["zh"], *fresh, *delivery, *TWISTERS]))


def measure(voice: str, lines: list[str]) -> dict:
    os.environ["AIRAP_EVAL_THREADS"] = "1"
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(1)
    from airap.evaluate import score_lines
    from airap.render import LINE_LEAD_IN, LINE_TAIL, Renderer, RenderRequest
    from airap.text import analyze_line

    t0 = time.perf_counter()
    renderer = Renderer("kokoro", threads=1)
    engine = renderer.engine
    res = renderer.render(RenderRequest(lyrics="\n".join(lines), voice=voice, bpm=BPM, lang="zh"))
    track = res.track
    out = {"voice": voice, "render": score_lines(track.vocals.mean(axis=1), track.sample_rate,
                                                 [(ln.text, ln.start, ln.end) for ln in track.lines])["cer_zh"]}
    sung: dict[str, list[np.ndarray]] = {"plan": [], "uniform": [], "natural": [], "read": []}
    pace = []
    for text, line_plan in zip(lines, res.plan.lines):
        line, _ = analyze_line(text, "zh")
        durations = [list(s.phoneme_durations) for s in line_plan.syllables]
        rests = [s.rest_after for s in line_plan.syllables]
        natural = [list(s.phoneme_durations) for s in engine.natural_timing(line, voice).syllables]
        no_rests = [0.0] * len(natural)
        k = (sum(map(sum, durations)) + sum(rests[:-1])) / max(sum(map(sum, natural)), 1e-6)
        pace.append(k)

        for name, durs, rsts in (("plan", durations, rests),
                                 ("uniform", [[x * k for x in syl] for syl in natural], [*no_rests[:-1], rests[-1]]),
                                 ("natural", natural, no_rests)):
            sung[name].append(engine.sing(line, voice, durs, rsts, lead_in=LINE_LEAD_IN, tail=LINE_TAIL).audio)
        sung["read"].append(engine.teacher_read(line, voice).audio)
    sr = engine.sample_rate
    for name, pieces in sung.items():
        audio, spans, t = [], [], 0.0
        for text, a in zip(lines, pieces):
            audio += [a, np.zeros(int(GAP * sr), np.float32)]
            spans.append((text, t, t + len(a) / sr))
            t += len(a) / sr + GAP
        out[name] = score_lines(np.concatenate(audio), sr, spans)["cer_zh"]
    out["plan_pace_vs_natural"] = {"median": round(float(np.median(pace)), 3), "min": round(float(min(pace)), 3),
                                   "max": round(float(max(pace)), 3)}
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--voices", default="muse,river,xi,jian")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results_rap_cost.json")
    args = ap.parse_args()
    lines = dev_lines()
    voices = args.voices.split(",")
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        rows = pool.starmap(measure, [(v, lines) for v in voices])
    for r in rows:
        r["cost"] = {"chain": round(r["render"] - r["plan"], 4), "on_grid_rhythm": round(r["plan"] - r["uniform"], 4),
                     "pace": round(r["uniform"] - r["natural"], 4), "sing_path": round(r["natural"] - r["read"], 4)}
    result = {"bpm": BPM, "lines": len(lines), "voices": rows}
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1))
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
