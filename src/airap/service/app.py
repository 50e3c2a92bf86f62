"""HTTP API (FastAPI) and the one-click page: the routes. Routes under /v1; OpenAPI at /openapi.json.
The state behind them (settings, queue, dispatcher, rate limiter) is in ``dispatcher.py``.

    airap serve [--port 8000] [--workers 2] [--ray]
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import catalog
from ..errors import AirapError
from ..request import RenderRequest, check_request
from .dispatcher import Dispatcher, RateLimiter, Settings, preview_spec
from .jobs import JobSpec, safe_file

PREVIEW_WAIT_SECONDS = 120  # a preview not rendered by then answers 503 (the client retries)
ENGINE_PATTERN = "^(" + "|".join(catalog.ENGINES) + ")$"
LANG_PATTERN = "^(" + "|".join(catalog.LANGUAGES) + ")$"
LIMITS = catalog.LIMITS


class JobRequest(BaseModel):
    lyrics: str = Field(..., description="plain lyrics or a YAML song sheet", max_length=LIMITS.max_lyrics_chars)
    voice: str | None = Field(None, max_length=LIMITS.max_name_chars)
    beat: str | None = Field(None, max_length=LIMITS.max_name_chars)
    bpm: float | None = Field(None, ge=LIMITS.min_bpm, le=LIMITS.max_bpm)
    flow: str | None = Field(None, max_length=LIMITS.max_name_chars)
    seed: int = Field(0, ge=0, le=LIMITS.max_seed)
    lang: str = Field("auto", pattern=LANG_PATTERN)
    engine: str = Field(catalog.DEFAULT_ENGINE, pattern=ENGINE_PATTERN)

    def check(self) -> None:
        """The catalogue's checks (voice for this engine, style, flow) before anything is queued."""
        check_request(RenderRequest(lyrics=self.lyrics, voice=self.voice, beat=self.beat, bpm=self.bpm,
                                    flow=self.flow, seed=self.seed, lang=self.lang),
                      catalog.engine_voices(self.engine))


class AnalyzeRequest(BaseModel):
    lyrics: str = Field(..., max_length=LIMITS.max_lyrics_chars)
    lang: str = Field("auto", pattern=LANG_PATTERN)


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _dispatcher(request: Request) -> Dispatcher:
    return request.app.state.dispatcher


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _client_id(request: Request) -> str:
    return request.headers.get("x-api-key") or (request.client.host if request.client else "unknown")


api = APIRouter()


async def _read_job_request(request: Request):
    """-> (JobRequest, the upload or None) or an error response."""
    ctype = request.headers.get("content-type", "")
    upload = None
    try:
        if ctype.startswith("multipart/form-data"):
            form = await request.form()
            fields = {k: v for k, v in form.items() if isinstance(v, str) and v != ""}
            upload = form.get("instrumental")
            if isinstance(upload, str):
                upload = None
            return JobRequest(**fields), upload
        if ctype.startswith("application/json"):
            body = await request.json()
            if not isinstance(body, dict):
                return error(422, "invalid_request", "body must be a JSON object"), None
            return JobRequest(**body), None
        return error(415, "unsupported_media_type", "send application/json or multipart/form-data"), None
    except ValidationError as e:
        first = e.errors()[0]
        return error(422, "invalid_request", f"{'.'.join(str(x) for x in first['loc']) or 'body'}: {first['msg']}"), None
    except ValueError:
        return error(400, "invalid_json", "the body is not valid JSON"), None


@api.post("/v1/jobs", status_code=202, summary="submit a render job (JSON, or multipart with an instrumental)")
async def submit(request: Request):
    settings, svc = _settings(request), _dispatcher(request)
    if not request.app.state.limiter.allow(_client_id(request)):
        return error(429, "rate_limited", f"more than {settings.rate_per_minute} jobs a minute")
    if len(svc.queue) >= settings.max_queue:
        return error(503, "busy", "the queue is full; try again in a minute")
    req, upload = await _read_job_request(request)
    if isinstance(req, JSONResponse):
        return req
    req.check()
    from ..text import parse_lyrics

    await asyncio.to_thread(parse_lyrics, req.lyrics, req.lang)  # bad lyrics fail here, not in a worker
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


@api.get("/v1/jobs/{job_id}", summary="status, progress and queue position")
async def status(job_id: str, request: Request):
    svc = _dispatcher(request)
    job = svc.store.jobs.get(job_id)
    if job is None:
        return error(404, "not_found", "no such job (it may have expired)")
    return svc.view(job)


@api.get("/v1/jobs/{job_id}/files/{name}", summary="a result file")
async def result_file(job_id: str, name: str, request: Request):
    svc = _dispatcher(request)
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


@api.get("/v1/voices", summary="the cast: characters with languages, tags and a preview clip each")
async def voices(engine: str | None = None):
    if engine is not None:
        catalog.get_engine(engine)
    return [{**row, "preview": f"/v1/voices/{row['name']}/preview"} for row in catalog.voice_rows(engine)]


@api.get("/v1/voices/{name}/preview", summary="a short rapped preview of a voice (shipped, else rendered once)")
async def voice_preview(name: str, request: Request):
    if name not in catalog.VOICES:
        return error(404, "not_found", "no such voice")
    shipped = catalog.preview_path(name)
    if shipped is not None:
        return FileResponse(str(shipped), media_type="audio/mpeg")
    svc = _dispatcher(request)
    spec = preview_spec(name)
    job = svc.store.cached(spec)
    if job is None:
        job = svc.store.new(spec)
        svc.submit(job)
        await svc.wait(job, PREVIEW_WAIT_SECONDS)
    if job.status != "done":
        return error(503, "busy", "preview not ready; try again")
    return FileResponse(safe_file(svc.store.folder(job.id), "mix.mp3"), media_type="audio/mpeg")


@api.get("/v1/beats", summary="beat styles and flow templates")
async def beats():
    return {"beats": [{"name": s.name, "default_bpm": s.default_bpm, "description": s.description}
                      for s in catalog.STYLES.values()],
            "flows": [{"name": t.name, "description": t.description} for t in catalog.FLOWS.values()]}


@api.post("/v1/analyze", summary="syllables and rhyme endings per line (live counts on the page)")
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


@api.get("/healthz", summary="liveness")
async def healthz():
    return {"ok": True}


@api.get("/readyz", summary="readiness: the dispatcher is running")
async def readyz(request: Request):
    svc = getattr(request.app.state, "dispatcher", None)
    if svc is None:
        return error(503, "starting", "not ready")
    return {"ok": True, "queued": len(svc.queue), "capacity": svc.runner.capacity}


STATIC = resources.files("airap") / "service" / "static"


@api.get("/", include_in_schema=False)
async def index():
    return FileResponse(str(STATIC / "index.html"), media_type="text/html")


@api.get("/favicon.ico", include_in_schema=False)
async def favicon():
    return Response(status_code=204)


def _default_runner(settings: Settings):
    if settings.backend == "ray":
        from .runners import RayRunner

        return RayRunner()
    from .runners import LocalRunner

    return LocalRunner(settings.workers)


def _install_handlers(app: FastAPI, settings: Settings) -> None:
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
        limit = int(settings.max_upload_mb * 1024 * 1024) + 200_000  # the upload plus the form's other fields
        if length is not None and (not length.isdigit() or int(length) > limit):
            return error(413, "too_large", f"request body over {settings.max_upload_mb:.0f} MB")
        if settings.api_key and request.url.path.startswith("/v1/") and \
                request.headers.get("x-api-key") != settings.api_key:
            return error(401, "unauthorized", "missing or wrong X-API-Key header")
        return await call_next(request)


def create_app(settings: Settings | None = None, runner=None) -> FastAPI:
    """The app; ``runner`` replaces the worker pool (tests pass a fake one)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        dispatcher = Dispatcher(settings, runner or _default_runner(settings))
        dispatcher.start()
        app.state.dispatcher = dispatcher
        yield
        await dispatcher.stop()

    app = FastAPI(title="airap", version="0.1.0", lifespan=lifespan,
                  description="AI rap generator: lyrics + voice + beat -> a finished, beat-locked rap track")
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_per_minute)
    _install_handlers(app, settings)
    app.include_router(api)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


def _check_upload(data: bytes) -> None:
    """Decode the upload (by content, not by name) and check its length before queueing it."""
    import tempfile

    from ..beat import load_instrumental

    with tempfile.NamedTemporaryFile(suffix=".audio") as f:
        f.write(data)
        f.flush()
        load_instrumental(f.name, 22050, LIMITS.upload_seconds)


__all__ = ["JobRequest", "Settings", "create_app"]
