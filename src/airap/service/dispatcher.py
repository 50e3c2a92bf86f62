"""The service's state, apart from HTTP: settings (read from the environment when the service is made,
not at import), the job queue and its dispatcher, and the per-client rate limiter. Tested with a fake
runner, no models."""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import catalog
from .jobs import Job, JobSpec, JobStore
from .runners import WorkerLost

MAX_ATTEMPTS = 3  # a job whose worker dies is retried twice (a crash that repeats is the job's fault)
JANITOR_SECONDS = 60  # how often expired results are swept


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


@dataclass
class Settings:
    jobs_dir: Path = Path("airap-jobs")
    workers: int = 2
    api_key: str | None = None
    result_ttl: float = 24 * 3600
    rate_per_minute: int = 30
    max_lyrics_chars: int = catalog.LIMITS.max_lyrics_chars
    max_upload_mb: float = catalog.LIMITS.max_upload_mb
    max_queue: int = 200
    backend: str = "local"  # local | ray

    @classmethod
    def from_env(cls) -> "Settings":
        """AIRAP_JOBS_DIR, AIRAP_WORKERS, AIRAP_API_KEY, AIRAP_RESULT_TTL, AIRAP_RATE_LIMIT,
        AIRAP_MAX_UPLOAD_MB, AIRAP_MAX_QUEUE, AIRAP_BACKEND (unset or empty: the default)."""
        d = cls()
        return cls(jobs_dir=Path(_env("AIRAP_JOBS_DIR", str(d.jobs_dir))),
                   workers=int(_env("AIRAP_WORKERS", str(d.workers))),
                   api_key=os.environ.get("AIRAP_API_KEY") or None,
                   result_ttl=float(_env("AIRAP_RESULT_TTL", str(d.result_ttl))),
                   rate_per_minute=int(_env("AIRAP_RATE_LIMIT", str(d.rate_per_minute))),
                   max_upload_mb=float(_env("AIRAP_MAX_UPLOAD_MB", str(d.max_upload_mb))),
                   max_queue=int(_env("AIRAP_MAX_QUEUE", str(d.max_queue))),
                   backend=_env("AIRAP_BACKEND", d.backend))


@dataclass
class RateLimiter:
    per_minute: int
    hits: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        q = self.hits[client]
        while q and now - q[0] > 60:
            q.popleft()
        if len(q) >= self.per_minute:
            return False
        q.append(now)
        return True


class Dispatcher:
    """Queue + dispatcher: jobs wait in FIFO order; ``runner.capacity`` run at once on the runner
    (anything with ``capacity``, ``async run(job_dir, spec) -> dict`` and ``close()``)."""

    def __init__(self, settings: Settings, runner):
        self.settings = settings
        self.store = JobStore(settings.jobs_dir, settings.result_ttl)
        self.runner = runner
        self.queue: deque[str] = deque()
        self.wakeup = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        for job in self.store.unfinished():  # survived a restart: run them again
            job.status = "queued"
            self.store.save(job)
            self.queue.append(job.id)

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._worker()) for _ in range(self.runner.capacity)]
        self.tasks.append(asyncio.create_task(self._janitor()))
        self.wakeup.set()

    async def stop(self) -> None:
        for t in self.tasks:
            t.cancel()
        self.runner.close()

    def submit(self, job: Job) -> None:
        self.queue.append(job.id)
        self.wakeup.set()

    def position(self, job_id: str) -> int | None:
        try:
            return list(self.queue).index(job_id)
        except ValueError:
            return None

    def view(self, job: Job) -> dict:
        """What GET /v1/jobs/{id} shows."""
        prog = self.store.progress(job)
        view = {"id": job.id, "status": job.status, "progress": prog.get("progress", 0.0), "stage": prog.get("stage"),
                "queue_position": self.position(job.id), "attempts": job.attempts, "error": job.error,
                "warnings": job.warnings, "duration": job.duration}
        if job.status == "done":
            view["files"] = {name: f"/v1/jobs/{job.id}/files/{name}" for name in job.files}
        return view

    async def wait(self, job: Job, seconds: float) -> Job:
        """Until the job has finished or ``seconds`` have passed."""
        for _ in range(int(seconds / 0.2)):
            if job.status in ("done", "failed"):
                break
            await asyncio.sleep(0.2)
        return job

    async def _janitor(self) -> None:
        while True:
            await asyncio.sleep(JANITOR_SECONDS)
            self.store.expire()

    async def _worker(self) -> None:
        while True:
            if not self.queue:
                self.wakeup.clear()
                await self.wakeup.wait()
                continue
            job = self.store.jobs.get(self.queue.popleft())
            if job is not None:
                await self._run(job)

    async def _run(self, job: Job) -> None:
        job.status, job.started = "running", time.time()
        job.attempts += 1
        self.store.save(job)
        try:
            result = await self.runner.run(self.store.folder(job.id), asdict(job.spec))
        except WorkerLost as e:
            if job.attempts < MAX_ATTEMPTS:
                job.status = "queued"
                self.store.save(job)
                self.queue.appendleft(job.id)
                return
            result = {"ok": False, "error": {"code": "worker_lost", "message": str(e)}}
        except Exception as e:  # keep serving: one bad job must not stop the dispatcher
            result = {"ok": False, "error": {"code": "internal", "message": type(e).__name__}}
        job.finished = time.time()
        if result.get("ok"):
            job.status, job.warnings, job.duration, job.files = "done", result["warnings"], result["duration"], result["files"]
        else:
            job.status, job.error = "failed", result["error"]
        self.store.save(job)


def preview_spec(voice: str) -> JobSpec:
    """The short clip each voice is previewed with (rendered once, then served from the cache)."""
    return JobSpec(lyrics=f"Yo, this is {voice} on the mic, every word right on the beat", voice=voice, bpm=92)
