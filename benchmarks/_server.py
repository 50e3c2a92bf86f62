"""A real `airap serve` on loopback for the service benchmarks (bounded, stops with the script)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, body=None, headers=None, method=None, timeout=60):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    h = {"content-type": "application/json"} if isinstance(body, (dict, list)) else {}
    h.update(headers or {})
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Server:
    def __init__(self, jobs_dir: Path, workers: int | None = 2, env: dict | None = None, src: Path | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.jobs_dir = jobs_dir
        self.workers = workers
        self.env = {**os.environ, "AIRAP_JOBS_DIR": str(jobs_dir), "AIRAP_RATE_LIMIT": "100000", **(env or {})}
        if src is not None:  # another revision's source tree (a git worktree), same venv
            self.env["PYTHONPATH"] = str(src)
        self.proc = None

    def start(self, timeout: float = 120) -> "Server":
        workers = ["--workers", str(self.workers)] if self.workers is not None else []
        self.proc = subprocess.Popen([sys.executable, "-m", "airap.cli", "serve", "--port", str(self.port),
                                      *workers], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while time.time() - t0 < timeout:
            try:
                if request(self.base + "/readyz", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server did not start")

    def children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        return [int(p) for p in out]

    @staticmethod
    def rss_mb(pid: int) -> float:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def wait_job(self, job_id: str, timeout: float = 600) -> dict:
        t0 = time.time()
        while time.time() - t0 < timeout:
            status, body = request(f"{self.base}/v1/jobs/{job_id}")
            job = json.loads(body)
            if job.get("status") in ("done", "failed"):
                return job
            time.sleep(0.25)
        return {"status": "timeout"}
