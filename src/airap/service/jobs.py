"""Render jobs: what a job is, where it lives on disk, and the runners that execute it.

A job is a folder ``<root>/<id>/`` holding ``job.json`` (spec + status), ``progress.json`` (written
by the worker) and the result files. Everything the API knows survives a restart: on start, jobs
that were queued or running are queued again, so none is silently lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

JOB_ID_RE = re.compile(r"^[0-9a-f]{32}$")
TRASH_PREFIX = ".expired-"
RESULT_FILES = ("mix.wav", "mix.mp3", "vocals.wav", "adlibs.wav", "beat.wav", "drums.wav", "bass.wav", "music.wav", "beat.mid",
                "timings.json", "lyrics.lrc")
STATUSES = ("queued", "running", "done", "failed")


@dataclass
class JobSpec:
    lyrics: str
    voice: str | None = None
    beat: str | None = None
    bpm: float | None = None
    flow: str | None = None
    seed: int = 0
    lang: str = "auto"
    engine: str = "kokoro"
    instrumental_sha256: str | None = None  # the upload is stored as <job>/instrumental.<ext>
    bpm_hint: float | None = None
    downbeat_hint: float | None = None
    keep_length: bool = False
    intro_bars: int | None = None
    sing_hooks: bool = False
    previous: str | None = None  # an earlier job whose kept takes and stems this one may reuse

    def cache_key(self) -> str:
        """Same inputs -> same result; where the takes come from does not change it."""
        inputs = {k: v for k, v in asdict(self).items() if k != "previous"}
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class Job:
    id: str
    spec: JobSpec
    owner: str = ""  # the client that made it (access.Client.id); only it reads the job when keys are set
    status: str = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    attempts: int = 0
    error: dict | None = None
    warnings: list[str] = field(default_factory=list)
    duration: float | None = None
    files: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        d = asdict(self)
        d["spec"] = asdict(self.spec)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Job":
        d = dict(d)
        d["spec"] = JobSpec(**d["spec"])
        return cls(**d)


def render_job(job_dir: str, spec: dict, renderer=None) -> dict:
    """Run one job (in a worker process: the Renderer is loaded once per process). ``renderer``
    replaces the worker's own (tests pass one with a fake engine)."""
    from ..errors import AirapError
    from ..request import RenderRequest
    from . import worker

    folder = Path(job_dir)
    progress_path = folder / "progress.json"

    def progress(stage: str, frac: float) -> None:
        tmp = progress_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"stage": stage, "progress": round(frac, 3)}))
        tmp.replace(progress_path)

    s = JobSpec(**spec)
    inst = next(iter(folder.glob("instrumental.*")), None)
    try:
        renderer = renderer or worker.renderer(s.engine)
        req = RenderRequest(lyrics=s.lyrics, voice=s.voice, beat=s.beat, bpm=s.bpm, lang=s.lang, seed=s.seed,
                            flow=s.flow, instrumental=str(inst) if inst else None, formats=("wav", "mp3"),
                            bpm_hint=s.bpm_hint, downbeat_hint=s.downbeat_hint, keep_length=s.keep_length,
                            intro_bars=s.intro_bars, sing_hooks=s.sing_hooks)
        # the previous job's folder, if it still exists (the local runners share the job root)
        previous = folder.parent / s.previous / "out" if s.previous else None
        res = renderer.render(req, folder / "out", progress,
                              reuse=previous if previous is not None and previous.is_dir() else None)
    except AirapError as e:
        return {"ok": False, "error": {"code": e.code, "message": str(e)}}
    return {"ok": True, "warnings": res.track.warnings, "duration": res.track.duration,
            "files": [p.name for p in res.files]}


class JobStore:
    """Jobs on disk plus an index by cache key (same inputs + seed -> same result)."""

    def __init__(self, root: Path, ttl_seconds: float = 24 * 3600):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.ttl = ttl_seconds
        self.jobs: dict[str, Job] = {}
        self.by_key: dict[tuple[str, str], str] = {}  # (owner, cache key) -> a finished job
        for trash in self.root.glob(f"{TRASH_PREFIX}*"):  # deletions a stop interrupted
            shutil.rmtree(trash, ignore_errors=True)
        for meta in self.root.glob("*/job.json"):
            try:
                job = Job.from_json(json.loads(meta.read_text()))
            except (ValueError, TypeError, KeyError):
                continue
            self.jobs[job.id] = job
            if job.status == "done":
                self.by_key[job.owner, job.spec.cache_key()] = job.id

    def folder(self, job_id: str) -> Path:
        if not JOB_ID_RE.match(job_id):
            raise KeyError(job_id)
        return self.root / job_id

    def new(self, spec: JobSpec, owner: str = "") -> Job:
        job = Job(id=uuid.uuid4().hex, spec=spec, owner=owner)
        self.folder(job.id).mkdir(parents=True)
        self.jobs[job.id] = job
        self.save(job)
        return job

    def save(self, job: Job) -> None:
        path = self.folder(job.id) / "job.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(job.to_json()))
        tmp.replace(path)
        if job.status == "done":
            self.by_key[job.owner, job.spec.cache_key()] = job.id

    def get(self, job_id: str, now: float | None = None) -> Job | None:
        """The job, unless it has expired (then it is removed now, not at the next sweep)."""
        job = self.jobs.get(job_id)
        if job is not None and self._expired(job, now or time.time()):
            self._remove(job)
            return None
        return job

    def copy(self, job: Job, owner: str) -> Job:
        """A finished job's results as a new job of ``owner``'s (hard links where the disk allows).
        Safe to run in a thread: the new job is registered only once its files are in place."""
        new = Job(id=uuid.uuid4().hex, spec=job.spec, owner=owner, status="done", created=time.time(),
                  started=job.started, finished=time.time(), warnings=list(job.warnings), duration=job.duration,
                  files=list(job.files))
        shutil.copytree(self.folder(job.id) / "out", self.folder(new.id) / "out", copy_function=_link_or_copy)
        self.save(new)
        self.jobs[new.id] = new
        return new

    def cached(self, spec: JobSpec, owner: str | None = None) -> Job | None:
        """A finished job with these inputs: ``owner``'s own if there is one, else anyone's
        (``owner`` None: anyone's)."""
        key = spec.cache_key()
        ids = [self.by_key.get((owner, key))] if owner is not None else []
        ids += [job_id for (o, k), job_id in self.by_key.items() if k == key and o != owner]
        for job_id in ids:
            job = self.jobs.get(job_id) if job_id else None
            if job and job.status == "done" and (self.folder(job.id) / "out").exists():
                return job
        return None

    def progress(self, job: Job) -> dict:
        # a finished job is complete whatever its last progress line said (a CI run once read "done"
        # beside the mix stage's 0.9)
        if job.status == "done":
            return {"stage": "done", "progress": 1.0}
        try:
            return json.loads((self.folder(job.id) / "progress.json").read_text())
        except (OSError, ValueError):
            return {"stage": job.status, "progress": 0.0}

    def unfinished(self) -> list[Job]:
        return sorted((j for j in self.jobs.values() if j.status in ("queued", "running")), key=lambda j: j.created)

    def _expired(self, job: Job, now: float) -> bool:
        return bool(job.finished) and now - job.finished > self.ttl

    def _remove(self, job: Job) -> None:
        # Renamed away at once (the job is gone for every reader), deleted in the background: a
        # ten-minute render's files take ~100 ms to delete, which would stall the event loop.
        trash = self.root / f"{TRASH_PREFIX}{job.id}"
        try:
            os.replace(self.folder(job.id), trash)
            threading.Thread(target=shutil.rmtree, args=(trash,), kwargs={"ignore_errors": True}, daemon=True).start()
        except OSError:
            pass
        self.jobs.pop(job.id, None)
        key = job.owner, job.spec.cache_key()
        if self.by_key.get(key) == job.id:
            del self.by_key[key]

    def expire(self, now: float | None = None) -> int:
        now = now or time.time()
        gone = [j for j in self.jobs.values() if self._expired(j, now)]
        for job in gone:
            self._remove(job)
        return len(gone)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def safe_file(folder: Path, name: str) -> Path:
    """Only the known result names, never a path."""
    if name not in RESULT_FILES or os.path.basename(name) != name:
        raise KeyError(name)
    return folder / "out" / name
