"""HTTP API (FastAPI) and the one-click page. Routes under /v1; OpenAPI at /openapi.json.

    airap serve [--port 8000] [--workers 2] [--ray]
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections import defaultdict, deque
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import AirapError
from .jobs import Job, JobSpec, JobStore, safe_file
from .runners import WorkerLost

MAX_ATTEMPTS = 3


@dataclass
class Settings:
    jobs_dir: Path = field(default_factory=lambda: Path(os.environ.get("AIRAP_JOBS_DIR", "airap-jobs")))
    workers: int = int(os.environ.get("AIRAP_WORKERS", "2"))
    api_key: str | None = os.environ.get("AIRAP_API_KEY") or None
    result_ttl: float = float(os.environ.get("AIRAP_RESULT_TTL", str(24 * 3600)))
    rate_per_minute: int = int(os.environ.get("AIRAP_RATE_LIMIT", "30"))
    max_lyrics_chars: int = 20_000
    max_upload_mb: float = float(os.environ.get("AIRAP_MAX_UPLOAD_MB", "40"))
    max_queue: int = int(os.environ.get("AIRAP_MAX_QUEUE", "200"))
    backend: str = os.environ.get("AIRAP_BACKEND", "local")  # local | ray


class JobRequest(BaseModel):
    lyrics: str = Field(..., description="plain lyrics or a YAML song sheet", max_length=20_000)
    voice: str | None = Field(None, max_length=40)
    beat: str | None = Field(None, max_length=40)
    bpm: float | None = Field(None, ge=60, le=180)
    flow: str | None = Field(None, max_length=40)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    lang: str = Field("auto", pattern="^(auto|en|zh)$")
    engine: str = Field("kokoro", pattern="^(kokoro|tacotron)$")


class AnalyzeRequest(BaseModel):
    lyrics: str = Field(..., max_length=20_000)
    lang: str = Field("auto", pattern="^(auto|en|zh)$")


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class RateLimiter:
    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.hits: dict[str, deque] = defaultdict(deque)

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        q = self.hits[client]
        while q and now - q[0] > 60:
            q.popleft()
        if len(q) >= self.per_minute:
            return False
        q.append(now)
        return True


class Service:
    """Queue + dispatcher: jobs wait in FIFO order; ``capacity`` run at once on the runner."""

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

    async def _janitor(self) -> None:
        while True:
            await asyncio.sleep(60)
            self.store.expire()

    async def _worker(self) -> None:
        while True:
            if not self.queue:
                self.wakeup.clear()
                await self.wakeup.wait()
                continue
            job = self.store.jobs.get(self.queue.popleft())
            if job is None:
                continue
            job.status, job.started = "running", time.time()
            job.attempts += 1
            self.store.save(job)
            try:
                result = await self.runner.run(self.store.folder(job.id), _spec_dict(job.spec))
            except WorkerLost as e:
                if job.attempts < MAX_ATTEMPTS:
                    job.status = "queued"
                    self.store.save(job)
                    self.queue.appendleft(job.id)
                    continue
                result = {"ok": False, "error": {"code": "worker_lost", "message": str(e)}}
            except Exception as e:  # keep serving: one bad job must not stop the dispatcher
                result = {"ok": False, "error": {"code": "internal", "message": type(e).__name__}}
            job.finished = time.time()
            if result.get("ok"):
                job.status, job.warnings, job.duration, job.files = "done", result["warnings"], result["duration"], result["files"]
            else:
                job.status, job.error = "failed", result["error"]
            self.store.save(job)


def _spec_dict(spec: JobSpec) -> dict:
    from dataclasses import asdict

    return asdict(spec)


def _validate_choices(req: JobRequest) -> None:
    from ..acoustic.kokoro import VOICE_BLENDS, VOICE_PACKS
    from ..beat import STYLES
    from ..flow import TEMPLATES

    voices = list(VOICE_PACKS) + list(VOICE_BLENDS)
    if req.voice is not None and req.engine == "kokoro" and req.voice not in voices:
        raise AirapError(f"unknown voice {req.voice!r}; voices: {', '.join(voices)}")
    if req.beat is not None and req.beat not in STYLES:
        raise AirapError(f"unknown beat style {req.beat!r}; styles: {', '.join(STYLES)}")
    if req.flow is not None and req.flow not in TEMPLATES:
        raise AirapError(f"unknown flow {req.flow!r}; flows: {', '.join(TEMPLATES)}")


def create_app(settings: Settings | None = None, runner=None) -> FastAPI:
    settings = settings or Settings()
    limiter = RateLimiter(settings.rate_per_minute)
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        nonlocal runner
        if runner is None:
            if settings.backend == "ray":
                from .runners import RayRunner

                runner = RayRunner()
            else:
                from .runners import LocalRunner

                runner = LocalRunner(settings.workers)
        service = Service(settings, runner)
        service.start()
        state["service"] = service
        yield
        await service.stop()

    app = FastAPI(title="airap", version="0.1.0", lifespan=lifespan,
                  description="AI rap generator: lyrics + voice + beat -> a finished, beat-locked rap track")

    @app.exception_handler(AirapError)
    async def _airap_error(request: Request, exc: AirapError):
        return error(404 if exc.code == "not_found" else 400, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", [])[1:]) or "body"
        return error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return error(exc.status_code, "http_error", str(exc.detail))

    @app.middleware("http")
    async def guard(request: Request, call_next):
        length = request.headers.get("content-length")
        limit = int(settings.max_upload_mb * 1024 * 1024) + 200_000
        if length is not None and (not length.isdigit() or int(length) > limit):
            return error(413, "too_large", f"request body over {settings.max_upload_mb:.0f} MB")
        if settings.api_key and request.url.path.startswith("/v1/") and \
                request.headers.get("x-api-key") != settings.api_key:
            return error(401, "unauthorized", "missing or wrong X-API-Key header")
        return await call_next(request)

    def service() -> Service:
        return state["service"]

    def client_id(request: Request) -> str:
        return request.headers.get("x-api-key") or (request.client.host if request.client else "unknown")

    def job_view(job: Job) -> dict:
        svc = service()
        prog = svc.store.progress(job)
        view = {"id": job.id, "status": job.status, "progress": prog.get("progress", 0.0), "stage": prog.get("stage"),
                "queue_position": svc.position(job.id), "attempts": job.attempts, "error": job.error,
                "warnings": job.warnings, "duration": job.duration}
        if job.status == "done":
            view["files"] = {name: f"/v1/jobs/{job.id}/files/{name}" for name in job.files}
        return view

    @app.post("/v1/jobs", status_code=202, summary="submit a render job (JSON, or multipart with an instrumental)")
    async def submit(request: Request):
        if not limiter.allow(client_id(request)):
            return error(429, "rate_limited", f"more than {settings.rate_per_minute} jobs a minute")
        svc = service()
        if len(svc.queue) >= settings.max_queue:
            return error(503, "busy", "the queue is full; try again in a minute")
        ctype = request.headers.get("content-type", "")
        upload = None
        try:
            if ctype.startswith("multipart/form-data"):
                form = await request.form()
                fields = {k: v for k, v in form.items() if isinstance(v, str) and v != ""}
                upload = form.get("instrumental")
                if upload is not None and isinstance(upload, str):
                    upload = None
                req = JobRequest(**fields)
            elif ctype.startswith("application/json"):
                body = await request.json()
                if not isinstance(body, dict):
                    return error(422, "invalid_request", "body must be a JSON object")
                req = JobRequest(**body)
            else:
                return error(415, "unsupported_media_type", "send application/json or multipart/form-data")
        except ValidationError as e:
            first = e.errors()[0]
            return error(422, "invalid_request", f"{'.'.join(str(x) for x in first['loc']) or 'body'}: {first['msg']}")
        except ValueError:
            return error(400, "invalid_json", "the body is not valid JSON")
        _validate_choices(req)
        from ..text import parse_lyrics

        song = await asyncio.to_thread(parse_lyrics, req.lyrics, req.lang)  # bad lyrics fail here, not in a worker
        del song
        data = None
        if upload is not None:
            data = await upload.read()
            if len(data) > settings.max_upload_mb * 1024 * 1024:
                return error(413, "too_large", f"instrumental over {settings.max_upload_mb:.0f} MB")
        spec = JobSpec(lyrics=req.lyrics, voice=req.voice, beat=req.beat, bpm=req.bpm, flow=req.flow, seed=req.seed,
                       lang=req.lang, engine=req.engine,
                       instrumental_sha256=hashlib.sha256(data).hexdigest() if data is not None else None)
        hit = svc.store.cached(spec)
        if hit:
            return {"id": hit.id, "status": hit.status, "cached": True}
        if data is not None:
            await asyncio.to_thread(_check_upload, data)
        job = svc.store.new(spec)
        if data is not None:
            (svc.store.folder(job.id) / "instrumental.audio").write_bytes(data)
        svc.submit(job)
        return {"id": job.id, "status": job.status, "cached": False, "queue_position": svc.position(job.id)}

    @app.get("/v1/jobs/{job_id}", summary="status, progress and queue position")
    async def status(job_id: str):
        job = service().store.jobs.get(job_id)
        if job is None:
            return error(404, "not_found", "no such job (it may have expired)")
        return job_view(job)

    @app.get("/v1/jobs/{job_id}/files/{name}", summary="a result file")
    async def result_file(job_id: str, name: str):
        svc = service()
        job = svc.store.jobs.get(job_id)
        if job is None or job.status != "done":
            return error(404, "not_found", "no finished job with that id")
        try:
            path = safe_file(svc.store.folder(job_id), name)
        except KeyError:
            return error(404, "not_found", "no such result file")
        if not path.is_file():
            return error(404, "not_found", "no such result file")
        return FileResponse(path, filename=name)

    @app.get("/v1/voices", summary="voices, each with a preview clip")
    async def voices():
        from ..acoustic.kokoro import VOICE_BLENDS, VOICE_PACKS

        rows = [(n, d) for n, (_, d) in VOICE_PACKS.items()] + [(n, d) for n, (_, d) in VOICE_BLENDS.items()]
        return [{"name": n, "engine": "kokoro", "description": d, "preview": f"/v1/voices/{n}/preview"} for n, d in rows]

    @app.get("/v1/voices/{name}/preview", summary="a short preview clip of a voice (rendered once, cached)")
    async def voice_preview(name: str):
        from ..acoustic.kokoro import VOICE_BLENDS, VOICE_PACKS

        if name not in VOICE_PACKS and name not in VOICE_BLENDS:
            return error(404, "not_found", "no such voice")
        svc = service()
        spec = JobSpec(lyrics=f"Yo, this is {name} on the mic, every word right on the beat", voice=name, bpm=92)
        job = svc.store.cached(spec)
        if job is None:
            job = svc.store.new(spec)
            svc.submit(job)
            for _ in range(600):
                await asyncio.sleep(0.2)
                if job.status in ("done", "failed"):
                    break
        if job.status != "done":
            return error(503, "busy", "preview not ready; try again")
        return FileResponse(safe_file(svc.store.folder(job.id), "mix.mp3"), media_type="audio/mpeg")

    @app.get("/v1/beats", summary="beat styles and flow templates")
    async def beats():
        from ..beat import STYLES
        from ..flow import TEMPLATES

        return {"beats": [{"name": s.name, "default_bpm": s.default_bpm, "description": s.description} for s in STYLES.values()],
                "flows": [{"name": t.name, "description": t.description} for t in TEMPLATES.values()]}

    @app.post("/v1/analyze", summary="syllables and rhyme endings per line (live counts on the page)")
    async def analyze(req: AnalyzeRequest):
        from ..text import parse_lyrics

        song = await asyncio.to_thread(parse_lyrics, req.lyrics, req.lang)
        lines = [{"text": ln.text, "syllables": len(ln.syllables), "rhyme": ln.syllables[-1].rhyme} for ln in song.lines]
        counts: dict[str, int] = defaultdict(int)
        for ln in lines:
            counts[ln["rhyme"]] += 1
        for ln in lines:
            ln["rhymes_with_others"] = counts[ln["rhyme"]] > 1
        return {"lines": lines, "syllables": sum(ln["syllables"] for ln in lines), "warnings": song.warnings}

    @app.get("/healthz", summary="liveness")
    async def healthz():
        return {"ok": True}

    @app.get("/readyz", summary="readiness: the dispatcher is running")
    async def readyz():
        svc = state.get("service")
        if svc is None:
            return error(503, "starting", "not ready")
        return {"ok": True, "queued": len(svc.queue), "capacity": svc.runner.capacity}

    static = resources.files("airap") / "service" / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.get("/", include_in_schema=False)
    async def index():
        return FileResponse(str(static / "index.html"), media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon():
        return Response(status_code=204)

    return app


def _check_upload(data: bytes) -> None:
    """Decode the upload (by content, not by name) and check its length before queueing it."""
    import tempfile

    from ..beat import load_instrumental

    with tempfile.NamedTemporaryFile(suffix=".audio") as f:
        f.write(data)
        f.flush()
        load_instrumental(f.name, 22050)
