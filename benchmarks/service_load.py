"""Load test on loopback: 8-line verses, rising concurrency until saturation, then a soak at 80% of
saturation. Reports throughput (renders/s per core), p50/p95/p99 latency, errors, RSS of every
process at start and end, and the cores needed for 1 M renders/day at a 5x peak. Prints JSON.

    .venv/bin/python benchmarks/service_load.py [--soak-minutes 10] [--workers 2]
"""

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from _server import Server, request
from render import EN as VERSE  # the same 8-line verse as the render benchmark

seed_counter = iter(range(10**9))
seed_lock = threading.Lock()


ENGINE = "kokoro"


def one_render(srv: Server) -> tuple[float, bool]:
    with seed_lock:
        seed = next(seed_counter)
    t0 = time.time()
    status, body = request(srv.base + "/v1/jobs", {"lyrics": VERSE, "bpm": 92, "seed": seed, "engine": ENGINE})
    if status != 202:
        return time.time() - t0, False
    job = srv.wait_job(json.loads(body)["id"])
    return time.time() - t0, job.get("status") == "done"


def run_clients(srv: Server, clients: int, seconds: float) -> dict:
    lat, ok, err = [], [0], [0]
    stop = time.time() + seconds
    lock = threading.Lock()

    def client():
        while time.time() < stop:
            dt, good = one_render(srv)
            with lock:
                lat.append(dt)
                (ok if good else err)[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    a = np.array(lat) if lat else np.zeros(1)
    return {"clients": clients, "renders": ok[0], "errors": err[0], "wall_s": round(wall, 1),
            "renders_per_s": round(ok[0] / wall, 4), "p50_s": round(float(np.percentile(a, 50)), 2),
            "p95_s": round(float(np.percentile(a, 95)), 2), "p99_s": round(float(np.percentile(a, 99)), 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--step-seconds", type=float, default=150)
    ap.add_argument("--soak-minutes", type=float, default=10)
    ap.add_argument("--engine", default="kokoro", choices=["kokoro", "fast", "tacotron"])
    a = ap.parse_args()
    global ENGINE
    ENGINE = a.engine
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(Path(tmp) / "jobs", workers=a.workers).start()
        one_render(srv)  # warm-up: workers load their models
        pids = [srv.proc.pid] + srv.children()
        rss_start = {p: round(Server.rss_mb(p), 1) for p in pids}
        steps, best = [], 0.0
        for clients in range(1, 2 * a.workers + 2):
            r = run_clients(srv, clients, a.step_seconds)
            steps.append(r)
            if r["renders_per_s"] <= best * 1.05:
                break  # saturated: more clients add no throughput
            best = max(best, r["renders_per_s"])
        sat_clients = max(steps, key=lambda r: r["renders_per_s"])["clients"]
        soak_clients = max(1, round(0.8 * sat_clients))
        soak = run_clients(srv, soak_clients, a.soak_minutes * 60)
        rss_end = {p: round(Server.rss_mb(p), 1) for p in pids if Path(f"/proc/{p}").exists()}
        srv.stop()
    per_core = best / cores
    daily, peak = 1_000_000, 5
    cores_needed = daily / 86400 * peak / per_core if per_core else None
    print(json.dumps({"engine": a.engine, "cores": cores, "workers": a.workers, "rising": steps, "saturation_renders_per_s": best,
                      "renders_per_s_per_core": round(per_core, 4), "soak": soak,
                      "rss_mb_start": rss_start, "rss_mb_end": rss_end,
                      "capacity_1M_per_day_5x_peak_cores": round(cores_needed) if cores_needed else None}, indent=1))


if __name__ == "__main__":
    main()
