"""Fuzz counts: generated lyrics/sheets through the text front-end (parse + resolve) and JSON bodies
through the HTTP API (in-process, a runner that renders nothing), with the working tree and with a base
revision (a temporary git worktree) on the *same* cases.

    .venv/bin/python benchmarks/fuzz.py [--lyrics 10000] [--http 2000] [--base c928490~1]

A crash is any exception other than the user-facing AirapError (text), or a 5xx / non-JSON answer
(HTTP). Cases come from tests/strategies.py, drawn once with a fixed seed and shared by both runs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from _worktree import worktree  # noqa: E402


def draw(strategy, n: int, seed: int) -> list:
    """n examples of a Hypothesis strategy, reproducibly (Hypothesis's own generator, no shrinking)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    out: list = []

    @hseed(seed)
    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(x):
        out.append(x)

    collect()
    return out[:n]


# Runs in a subprocess with the tree under test first on sys.path: argv = src, cases.json
EVALUATE = r'''
import json, sys, time, traceback, warnings, logging
sys.path.insert(0, sys.argv[1])
warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)
from collections import Counter
from airap import catalog
from airap.errors import AirapError
from airap.request import RenderRequest, resolve
from airap.text import parse_lyrics

cases = json.load(open(sys.argv[2]))
crashes, causes, errors, t0 = 0, Counter(), 0, time.perf_counter()
for text in cases["lyrics"]:
    try:
        resolve(RenderRequest(lyrics=text), parse_lyrics(text), catalog.engine_voices("kokoro"))
    except AirapError:
        errors += 1
    except Exception as e:
        crashes += 1
        frame = traceback.extract_tb(e.__traceback__)[-1]
        causes[f"{type(e).__name__} at {frame.name}"] += 1
lyrics = {"cases": len(cases["lyrics"]), "crashes": crashes, "clear_errors": errors,
          "causes": dict(causes.most_common(5)), "seconds": round(time.perf_counter() - t0, 1)}

import inspect
from fastapi.testclient import TestClient
from airap.service.app import Settings, create_app

class NoRender:
    capacity = 1
    async def run(self, job_dir, spec):
        return {"ok": False, "error": {"code": "skipped", "message": "fuzz"}}
    def close(self):
        pass

import tempfile
fields = inspect.signature(Settings).parameters
opts = {k: v for k, v in dict(rate_per_minute=10**9, analyze_per_minute=10**9, max_queue=10**9).items() if k in fields}
bad, statuses, t0 = Counter(), Counter(), time.perf_counter()
with tempfile.TemporaryDirectory() as jobs:
    with TestClient(create_app(Settings(jobs_dir=jobs, **opts), runner=NoRender()), raise_server_exceptions=False) as c:
        for raw in cases["http"]:
            for route in ("/v1/analyze", "/v1/jobs"):
                r = c.post(route, content=raw, headers={"content-type": "application/json"})
                statuses[r.status_code] += 1
                ok_json = r.headers.get("content-type", "").startswith("application/json")
                if r.status_code >= 500 or not ok_json:
                    bad[f"{route} {r.status_code}"] += 1
http = {"bodies": len(cases["http"]), "requests": sum(statuses.values()), "crashes": sum(bad.values()),
        "crash_kinds": dict(bad), "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "seconds": round(time.perf_counter() - t0, 1)}
print(json.dumps({"lyrics": lyrics, "http": http}))
'''


def evaluate(src: Path, cases_file: Path) -> dict:
    r = subprocess.run([sys.executable, "-c", EVALUATE, str(src), str(cases_file)], capture_output=True, text=True)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1:]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lyrics", type=int, default=10_000)
    ap.add_argument("--http", type=int, default=2_000)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--base", default=None, help="a revision to run the same cases on (e.g. the one before #17)")
    a = ap.parse_args()
    from strategies import job_bodies, lyrics

    t0 = time.perf_counter()
    cases = {"lyrics": draw(lyrics, a.lyrics, a.seed),
             "http": [json.dumps(b) for b in draw(job_bodies, a.http, a.seed)]}
    out = {"command": " ".join(["benchmarks/fuzz.py"] + sys.argv[1:]), "seed": a.seed,
           "drawn": {k: len(v) for k, v in cases.items()}, "draw_seconds": round(time.perf_counter() - t0, 1),
           "kinds": dict(Counter("sheet" if t.lstrip().split(":")[0] in
                                 ("title", "bpm", "beat", "voice", "flow", "sections", "lines", "lang")
                                 else "plain" for t in cases["lyrics"]))}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cases_file = tmp / "cases.json"
        cases_file.write_text(json.dumps(cases))
        out["work"] = evaluate(ROOT / "src", cases_file)
        if a.base:
            with worktree(a.base, tmp / "base") as base:
                out["base"] = {"rev": a.base, **evaluate(base / "src", cases_file)}
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
