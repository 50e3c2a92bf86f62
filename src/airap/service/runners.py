"""Where jobs run: a local spawn-context process pool (default, nothing else needed) or Ray Serve
(scale-out over a Ray cluster). Both expose ``capacity`` and ``async run(job_dir, spec) -> dict``."""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .jobs import render_job

WORKER_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


class WorkerLost(RuntimeError):
    """The process running a job died; the job should be retried."""


class LocalRunner:
    def __init__(self, workers: int = 2, engine: str = "kokoro"):
        from . import worker

        self.capacity = workers
        self._engine = engine
        self._warm = worker.warm
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # One thread per worker: ``capacity`` workers already fill the cores, and BLAS/OpenMP pools of
        # their own would oversubscribe them and starve the API process. Children read these at spawn.
        for var in WORKER_THREAD_VARS:
            os.environ.setdefault(var, "1")
        # spawn, not fork: forked children inherit the listening socket and ignore SIGTERM
        pool = ProcessPoolExecutor(self.capacity, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=self._warm, initargs=(self._engine,))
        # Start every worker now: the pool otherwise spawns one on a job's submit, inside the event
        # loop, which stalls the API's answers for ~200 ms (measured by benchmarks/service_abuse.py).
        for _ in range(self.capacity):
            pool.submit(os.getpid)
        return pool

    def pids(self) -> list[int]:
        return [p.pid for p in getattr(self._pool, "_processes", {}).values()]

    async def run(self, job_dir: Path, spec: dict) -> dict:
        loop = asyncio.get_running_loop()
        pool = self._pool
        try:
            return await loop.run_in_executor(pool, render_job, str(job_dir), spec)
        except BrokenProcessPool:
            if self._pool is pool:
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            raise WorkerLost("a worker process died") from None

    def close(self) -> None:
        procs = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # a job in progress would otherwise keep its worker alive after we exit
            p.terminate()


class RayRunner:
    """Ray Serve deployment of the same job function. Replicas take fractional CPUs (whole CPUs on
    a 2-core node starve Ray's own tasks) and autoscale on ongoing requests. Results come back as
    bytes, so replicas may live on other machines than the API."""

    def __init__(self, address: str | None = None, max_replicas: int = 4, cpus_per_replica: float = 0.5):
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        import ray
        from ray import serve

        if not ray.is_initialized():
            ray.init(address=address or os.environ.get("RAY_ADDRESS") or None, include_dashboard=False,
                     configure_logging=False, log_to_driver=False)
        self.capacity = max_replicas * 2

        @serve.deployment(ray_actor_options={"num_cpus": cpus_per_replica},
                          autoscaling_config={"min_replicas": 1, "max_replicas": max_replicas,
                                              "target_ongoing_requests": 1},
                          max_ongoing_requests=2)
        class RenderDeployment:
            def __init__(self):
                from . import worker

                worker.warm()

            def render(self, files: dict, spec: dict) -> dict:
                import tempfile

                with tempfile.TemporaryDirectory() as tmp:
                    folder = Path(tmp)
                    for name, data in files.items():
                        (folder / name).write_bytes(base64.b64decode(data))
                    result = render_job(str(folder), spec)
                    out = folder / "out"
                    if result.get("ok"):
                        # the result files only: kept takes stay on the replica (a Ray job re-sings every
                        # line; reuse needs the local runner, which shares the job folders)
                        result["blobs"] = {p.name: base64.b64encode(p.read_bytes()).decode()
                                           for p in out.iterdir() if p.is_file()}
                    return result

        # our FastAPI app is the ingress and calls the deployment by handle: no Serve HTTP proxy to start
        # (it is one more actor whose start-up timed out at 60 s on a loaded 2-core machine)
        serve.start(proxy_location="Disabled")
        self._handle = serve.run(RenderDeployment.bind(), name="airap", route_prefix=None)

    async def run(self, job_dir: Path, spec: dict) -> dict:
        from ray.exceptions import RayActorError

        files = {p.name: base64.b64encode(p.read_bytes()).decode() for p in Path(job_dir).glob("instrumental.*")}
        try:
            result = await self._handle.render.remote(files, spec)
        except RayActorError:
            raise WorkerLost("a Ray replica died") from None
        blobs = result.pop("blobs", {})
        out = Path(job_dir) / "out"
        out.mkdir(exist_ok=True)
        for name, data in blobs.items():
            (out / name).write_bytes(base64.b64decode(data))
        return result

    def close(self) -> None:
        from ray import serve

        serve.shutdown()
