"""Faults: (1) kill a worker process in the middle of a job -> the job is retried and completes;
(2) stop the API process with jobs queued/running and start it again on the same jobs folder ->
every job ends done or failed, none lost. Prints JSON.

    .venv/bin/python benchmarks/service_faults.py
"""

import json
import os
import signal
import tempfile
import time
from pathlib import Path

from _server import Server, request

LINE = "Run it back, run it back, never let it go"


def submit(srv, seed):
    status, body = request(srv.base + "/v1/jobs", {"lyrics": LINE, "bpm": 96, "seed": seed})
    return json.loads(body)["id"]


def main():
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        jobs = Path(tmp) / "jobs"
        srv = Server(jobs, workers=1).start()
        job_id = submit(srv, 1)
        while json.loads(request(f"{srv.base}/v1/jobs/{job_id}")[1])["status"] != "running":
            time.sleep(0.1)
        time.sleep(1.0)  # mid-render
        victims = srv.children()
        for pid in victims:
            os.kill(pid, signal.SIGKILL)
        job = srv.wait_job(job_id)
        out["kill_worker_mid_job"] = {"killed_pids": victims, "final_status": job["status"],
                                      "attempts": job.get("attempts"), "lost": job["status"] != "done"}
        # restart with work in flight
        ids = [submit(srv, s) for s in range(10, 16)]
        time.sleep(2.0)
        before = {i: json.loads(request(f"{srv.base}/v1/jobs/{i}")[1])["status"] for i in ids}
        workers = srv.children()
        srv.stop(signal.SIGTERM)  # a restart: uvicorn stops, the worker pool is cancelled mid-job
        time.sleep(3.0)
        orphans = [p for p in workers if Path(f"/proc/{p}").exists()]
        srv2 = Server(jobs, workers=1)
        srv2.port, srv2.base = srv.port, srv.base
        srv2.start()
        final = {i: srv2.wait_job(i)["status"] for i in ids}
        workers2 = srv2.children()
        srv2.stop()
        time.sleep(3.0)
        orphans += [p for p in workers2 if Path(f"/proc/{p}").exists()]
        out["restart_api_with_jobs_in_flight"] = {
            "worker_processes_left_after_stops": len(orphans),
            "jobs": len(ids), "status_before_kill": before, "final_status": final,
            "lost": sum(1 for s in final.values() if s not in ("done", "failed"))}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
