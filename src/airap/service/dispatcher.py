"""The service's state, apart from HTTP: settings (read from the environment when the service is made,
not at import), the job queue and its dispatcher, and the per-client rate limiter. Tested with a fake
runner, no models."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import catalog
from .jobs import Job, JobSpec, JobStore
from .runners import WorkerLost

MAX_ATTEMPTS = 3  # a job whose worker dies is retried twice (a crash that repeats is the job's fault)
JANITOR_SECONDS = 60  # how often expired results are swept (reads check expiry themselves)
PREVIEW_OWNER = "previews"  # previews are rendered once per voice and served to everyone


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _names(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


@dataclass
class Settings:
    jobs_dir: Path = Path("airap-jobs")
    workers: int = 2
    api_keys: tuple[str, ...] = ()  # none: open service, clients told apart by address
    trusted_proxies: tuple[str, ...] = ()  # addresses/networks whose X-Forwarded-For is believed
    result_ttl: float = 24 * 3600
    rate_per_minute: int = 30  # render jobs (and preview renders) per client
    analyze_per_minute: int = 240  # the page analyses as the user types (debounced to ≥ 0.3 s)
    max_lyrics_chars: int = catalog.LIMITS.max_lyrics_chars
    max_upload_mb: float = catalog.LIMITS.max_upload_mb
    max_queue: int = 200
    backend: str = "local"  # local | ray
    url_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    @property
    def api_key(self) -> str | None:
        return self.api_keys[0] if self.api_keys else None

    @classmethod
    def from_env(cls) -> "Settings":
        """AIRAP_JOBS_DIR, AIRAP_WORKERS, AIRAP_API_KEY (one key, or several comma-separated: one
        client each), AIRAP_TRUSTED_PROXIES (comma-separated addresses/networks), AIRAP_RESULT_TTL,
        AIRAP_RATE_LIMIT, AIRAP_ANALYZE_RATE_LIMIT, AIRAP_MAX_UPLOAD_MB, AIRAP_MAX_QUEUE, AIRAP_BACKEND,
        AIRAP_URL_SECRET (signs result links; random per start when unset). Unset or empty: the default."""
        d = cls()
        secret = os.environ.get("AIRAP_URL_SECRET")
        return cls(jobs_dir=Path(_env("AIRAP_JOBS_DIR", str(d.jobs_dir))),
                   workers=int(_env("AIRAP_WORKERS", str(d.workers))),
                   api_keys=_names(os.environ.get("AIRAP_API_KEY")),
                   trusted_proxies=_names(os.environ.get("AIRAP_TRUSTED_PROXIES")),
                   result_ttl=float(_env("AIRAP_RESULT_TTL", str(d.result_ttl))),
                   rate_per_minute=int(_env("AIRAP_RATE_LIMIT", str(d.rate_per_minute))),
                   analyze_per_minute=int(_env("AIRAP_ANALYZE_RATE_LIMIT", str(d.analyze_per_minute))),
                   max_upload_mb=float(_env("AIRAP_MAX_UPLOAD_MB", str(d.max_upload_mb))),
                   max_queue=int(_env("AIRAP_MAX_QUEUE", str(d.max_queue))),
                   backend=_env("AIRAP_BACKEND", d.backend),
                   url_secret=secret.encode() if secret else d.url_secret)


@dataclass
class RateLimiter:
    """Sliding one-minute window per client. Idle clients are dropped once a minute, so a caller
    inventing identities cannot grow the table without bound."""

    per_minute: int
    hits: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    pruned: float = 0.0  # when idle clients were last dropped

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        if now - self.pruned > 60:
            self.hits = defaultdict(deque, {c: q for c, q in self.hits.items() if q and now - q[-1] <= 60})
            self.pruned = now
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

    async def find(self, spec: JobSpec, owner: str) -> Job | None:
        """A finished job with these inputs for ``owner``. Another owner's result is copied into a new
        job of this owner's (in a thread: file work stays off the event loop): a client never learns
        another client's job id."""
        hit = self.store.cached(spec, owner)
        if hit is None or hit.owner == owner:
            return hit
        return await asyncio.to_thread(self.store.copy, hit, owner)

    def preview(self, spec: JobSpec) -> Job | None:
        """The one preview job for this spec: running, done, or queued now (None: the queue is full).
        Concurrent requests share it; a failed one is tried again on a later request."""
        job = self.store.cached(spec)
        if job is not None:
            return job
        for job_id in reversed(self.queue):
            queued = self.store.jobs.get(job_id)
            if queued is not None and queued.spec == spec:
                return queued
        running = [j for j in self.store.jobs.values() if j.status == "running" and j.spec == spec]
        if running:
            return running[0]
        if len(self.queue) >= self.settings.max_queue:
            return None
        job = self.store.new(spec, PREVIEW_OWNER)
        self.submit(job)
        return job

    def view(self, job: Job, link=lambda path: path) -> dict:
        """What GET /v1/jobs/{id} shows; ``link`` turns a file path into the URL to give out."""
        prog = self.store.progress(job)
        view = {"id": job.id, "status": job.status, "progress": prog.get("progress", 0.0), "stage": prog.get("stage"),
                "queue_position": self.position(job.id), "attempts": job.attempts, "error": job.error,
                "warnings": job.warnings, "duration": job.duration}
        if job.status == "done":
            view["files"] = {name: link(f"/v1/jobs/{job.id}/files/{name}") for name in job.files}
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
            await asyncio.sleep(min(JANITOR_SECONDS, max(1.0, self.settings.result_ttl / 4)))
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
        # job.json is written from a thread: while a worker writes a long render's files, even a small
        # write can wait on the disk for ~100 ms, and the event loop must not wait with it.
        job.status, job.started = "running", time.time()
        job.attempts += 1
        await asyncio.to_thread(self.store.save, job)
        try:
            result = await self.runner.run(self.store.folder(job.id), asdict(job.spec))
        except WorkerLost as e:
            if job.attempts < MAX_ATTEMPTS:
                job.status = "queued"
                await asyncio.to_thread(self.store.save, job)
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
        await asyncio.to_thread(self.store.save, job)


def preview_spec(voice: str) -> JobSpec:
    """The short clip each voice is previewed with (rendered once, then served from the cache)."""
    return JobSpec(lyrics=f"Yo, this is {voice} on the mic, every word right on the beat", voice=voice, bpm=92)
