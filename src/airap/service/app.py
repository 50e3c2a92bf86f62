"""HTTP API (FastAPI) and the one-click page: the routes. Routes under /v1; OpenAPI at /openapi.json.
The state behind them (settings, queue, dispatcher, rate limiter) is in ``dispatcher.py``.

    airap serve [--port 8000] [--workers 2] [--ray]
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import logging
import os
import tempfile
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import catalog
from ..errors import AirapError, InputError
from ..request import RenderRequest, check_request
from .access import Client, Guard, signed_url
from .dispatcher import Dispatcher, RateLimiter, Settings, preview_spec
from .jobs import Job, JobSpec, safe_file

log = logging.getLogger("airap.service")
PREVIEW_RETRY_SECONDS = 10  # a preview still rendering answers 503 at once with this Retry-After
UPLOAD_CHUNK_BYTES = 1 << 20
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
    bpm_hint: float | None = Field(None, ge=LIMITS.min_bpm, le=LIMITS.max_bpm,
                                   description="an uploaded instrumental's tempo, when it is misread")
    downbeat_hint: float | None = Field(None, ge=0, le=LIMITS.upload.max_seconds,
                                        description="seconds into the uploaded instrumental where a bar starts")
    keep_length: bool = Field(False, description="keep the upload's whole length (else it ends a bar after the last line)")
    intro_bars: int | None = Field(None, ge=0, le=LIMITS.max_intro_bars,
                                   description="bars of the uploaded instrumental before the lyrics "
                                               "(default: where its drums come in)")
    sing_hooks: bool = Field(False, description="sing the hook lines on a composed melody")
    previous: str | None = Field(None, pattern="^[0-9a-f]{32}$",
                                 description="an earlier finished job of yours: the lines and beat it made are "
                                             "reused, so an edited song re-sings only what changed")

    def check(self) -> None:
        """The catalogue's checks (voice for this engine, style, flow) before anything is queued."""
        check_request(RenderRequest(lyrics=self.lyrics, voice=self.voice, beat=self.beat, bpm=self.bpm,
                                    flow=self.flow, seed=self.seed, lang=self.lang),
                      catalog.engine_voices(self.engine))

    @property
    def upload_options(self) -> bool:
        return (self.bpm_hint is not None or self.downbeat_hint is not None or self.keep_length
                or self.intro_bars is not None)


class AnalyzeRequest(BaseModel):
    lyrics: str = Field(..., max_length=LIMITS.max_lyrics_chars)
    lang: str = Field("auto", pattern=LANG_PATTERN)
    flow: str | None = Field(None, max_length=LIMITS.max_name_chars, description="flow the fit is judged for")
    bpm: float | None = Field(None, ge=LIMITS.min_bpm, le=LIMITS.max_bpm)
    zh_classes: str = Field("shisan", pattern="^(shisan|xinyun)$", description="十三辙 or 中华新韵")


def error(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _dispatcher(request: Request) -> Dispatcher:
    return request.app.state.dispatcher


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _client(request: Request) -> Client:
    return request.state.client


def _link(request: Request):
    """File URLs as given out: signed when the service has keys (an <audio> element sends no header)."""
    settings = _settings(request)
    if not settings.api_keys:
        return lambda path: path
    return lambda path: signed_url(settings.url_secret, path)


def _owned_job(request: Request, job_id: str) -> Job | None:
    """The job if it exists, has not expired, and this client may see it: with keys, only its owner
    (or a signed link to one of its files); without keys, whoever holds the 122-bit id."""
    job = _dispatcher(request).store.get(job_id)
    client = _client(request)
    if job is None or (_settings(request).api_keys and not client.signed and job.owner != client.id):
        return None
    return job


api = APIRouter()


def _validation_message(e: ValidationError) -> str:
    first = e.errors()[0]
    return f"{'.'.join(str(x) for x in first['loc']) or 'body'}: {first['msg']}"


async def _read_job_request(request: Request):
    """-> (JobRequest, the upload or None) or an error response."""
    ctype = request.headers.get("content-type", "")
    try:
        if ctype.startswith("multipart/form-data"):
            form = await request.form(max_files=1, max_fields=20)
            fields = {k: v for k, v in form.items() if isinstance(v, str) and v != ""}
            upload = form.get("instrumental")
            return JobRequest(**fields), (None if isinstance(upload, str) else upload)
        if ctype.startswith("application/json"):
            body = await request.json()
            if not isinstance(body, dict):
                return error(422, "invalid_request", "body must be a JSON object"), None
            return JobRequest(**body), None
        return error(415, "unsupported_media_type", "send application/json or multipart/form-data"), None
    except ValidationError as e:
        return error(422, "invalid_request", _validation_message(e)), None
    except RecursionError:
        return error(400, "invalid_json", "the JSON body is nested too deeply"), None
    except ValueError:
        return error(400, "invalid_json", "the body is not valid JSON"), None


def _check_lyrics(req: JobRequest) -> None:
    """Parse and resolve now, so bad lyrics or sheet values fail the request, not a worker."""
    from ..request import RenderRequest, resolve
    from ..text import parse_lyrics

    song = parse_lyrics(req.lyrics, req.lang)
    resolve(RenderRequest(lyrics=req.lyrics, voice=req.voice, beat=req.beat, bpm=req.bpm, flow=req.flow,
                          seed=req.seed, lang=req.lang), song, catalog.engine_voices(req.engine))


async def _receive_upload(upload, folder: Path, max_bytes: int) -> tuple[Path, str]:
    """Copy the upload to a file under ``folder`` in chunks, hashing as it goes; -> (path, sha256).
    The form parser already spooled it to disk; nothing holds the whole file in memory."""
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(dir=folder, prefix=".upload-")
    with os.fdopen(fd, "wb") as out:
        while chunk := await upload.read(UPLOAD_CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                out.close()
                os.unlink(name)
                raise InputError(f"instrumental over {max_bytes / 1024 / 1024:.0f} MB", code="too_large")
            digest.update(chunk)
            out.write(chunk)
    return Path(name), digest.hexdigest()


def _probe_upload(path: Path) -> None:
    """In the API process only the header (format, rate, channels, length, sample count) and a few
    two-second windows (broken? silent?); the full decode runs in the worker with the render."""
    from ..beat import spot_check_instrumental

    spot_check_instrumental(str(path), LIMITS.upload)


@api.post("/v1/jobs", status_code=202, summary="submit a render job (JSON, or multipart with an instrumental)")
async def submit(request: Request):
    settings, svc, client = _settings(request), _dispatcher(request), _client(request)
    if not request.app.state.limiter.allow(client.id):
        return error(429, "rate_limited", f"more than {settings.rate_per_minute} jobs a minute")
    if len(svc.queue) >= settings.max_queue:
        return error(503, "busy", "the queue is full; try again in a minute")
    req, upload = await _read_job_request(request)
    if isinstance(req, JSONResponse):
        return req
    req.check()
    if req.upload_options and upload is None:
        raise InputError("bpm_hint, downbeat_hint, intro_bars and keep_length apply to an uploaded instrumental only")
    await asyncio.to_thread(_check_lyrics, req)
    if req.previous is not None:
        prev = _owned_job(request, req.previous)
        if prev is None or prev.status != "done":
            raise InputError("previous: no finished job of yours with that id (it may have expired)")
    upload_path, upload_sha = None, None
    if upload is not None:
        upload_path, upload_sha = await _receive_upload(upload, svc.store.root, int(settings.max_upload_mb * 2**20))
    try:
        spec = JobSpec(lyrics=req.lyrics, voice=req.voice, beat=req.beat, bpm=req.bpm, flow=req.flow, seed=req.seed,
                       lang=req.lang, engine=req.engine, instrumental_sha256=upload_sha, bpm_hint=req.bpm_hint,
                       downbeat_hint=req.downbeat_hint, keep_length=req.keep_length, intro_bars=req.intro_bars,
                       sing_hooks=req.sing_hooks,
                       previous=req.previous)
        hit = await svc.find(spec, client.id)
        if hit:
            return {"id": hit.id, "status": hit.status, "cached": True}
        if upload_path is not None:
            await asyncio.to_thread(_probe_upload, upload_path)
        job = svc.store.new(spec, client.id)
        if upload_path is not None:
            os.replace(upload_path, svc.store.folder(job.id) / "instrumental.audio")
            upload_path = None
    finally:
        if upload_path is not None:
            upload_path.unlink(missing_ok=True)
    svc.submit(job)
    return {"id": job.id, "status": job.status, "cached": False, "queue_position": svc.position(job.id)}


@api.get("/v1/jobs/{job_id}", summary="status, progress and queue position")
async def status(job_id: str, request: Request):
    job = _owned_job(request, job_id)
    if job is None:
        return error(404, "not_found", "no such job (it may have expired)")
    return await asyncio.to_thread(_dispatcher(request).view, job, _link(request))  # reads progress.json


@api.get("/v1/jobs/{job_id}/files/{name}", summary="a result file")
async def result_file(job_id: str, name: str, request: Request):
    job = _owned_job(request, job_id)
    if job is None or job.status != "done":
        return error(404, "not_found", "no finished job with that id")
    try:
        path = safe_file(_dispatcher(request).store.folder(job_id), name)
    except KeyError:
        return error(404, "not_found", "no such result file")
    if not path.is_file():
        return error(404, "not_found", "no such result file")
    return FileResponse(path, filename=name)


@api.get("/v1/voices", summary="the cast: characters with languages, tags and a preview clip each")
async def voices(request: Request, engine: str | None = None):
    if engine is not None:
        catalog.get_engine(engine)
    link = _link(request)
    return [{**row, "preview": link(f"/v1/voices/{row['name']}/preview")} for row in catalog.voice_rows(engine)]


@api.get("/v1/voices/{name}/preview", summary="a short rapped preview of a voice (shipped, else rendered once)")
async def voice_preview(name: str, request: Request):
    if name not in catalog.VOICES:
        return error(404, "not_found", "no such voice")
    shipped = catalog.preview_path(name)
    if shipped is not None:
        return FileResponse(str(shipped), media_type="audio/mpeg")
    svc = _dispatcher(request)
    job = svc.store.cached(preview_spec(name))
    if job is None:
        if not request.app.state.limiter.allow(_client(request).id):
            return error(429, "rate_limited", "too many requests a minute")
        job = svc.preview(preview_spec(name))
    if job is None or job.status != "done":
        return error(503, "busy", "the preview is being rendered; try again shortly",
                     headers={"Retry-After": str(PREVIEW_RETRY_SECONDS)})
    return FileResponse(safe_file(svc.store.folder(job.id), "mix.mp3"), media_type="audio/mpeg")


@api.get("/v1/beats", summary="beat styles (with a 10-second preview each) and flow templates")
async def beats(request: Request):
    link = _link(request)
    return {"beats": [{"name": s.name, "default_bpm": s.default_bpm, "bpm_range": list(s.bpm_range),
                       "description": s.description, "preview": link(f"/v1/beats/{s.name}/preview")}
                      for s in catalog.STYLES.values()],
            "flows": [{"name": t.name, "description": t.description} for t in catalog.FLOWS.values()]}


@api.get("/v1/beats/{name}/preview", summary="a 10-second preview of a beat style (shipped with the package)")
async def beat_preview(name: str):
    shipped = catalog.beat_preview_path(name) if name in catalog.STYLES else None
    if shipped is None:
        return error(404, "not_found", "no such beat style")
    return FileResponse(str(shipped), media_type="audio/mpeg")


def _analysis(req: AnalyzeRequest) -> dict:
    from ..studio import analyze_song
    from ..text import parse_lyrics

    song = parse_lyrics(req.lyrics, req.lang)
    result = analyze_song(song, flow=req.flow, bpm=req.bpm, zh_classes=req.zh_classes).to_json()
    letters = [ln["scheme"] for ln in result["lines"]]
    for ln in result["lines"]:
        ln["rhymes_with_others"] = letters.count(ln["scheme"]) > 1
    return {**result, "syllables": sum(ln["syllables"] for ln in result["lines"]), "warnings": song.warnings}


@api.post("/v1/analyze", summary="rhymes and flow fit per line: scheme letters, rhyme groups, density (the page's "
                                 "live view)")
async def analyze(req: AnalyzeRequest, request: Request):
    if not request.app.state.analyze_limiter.allow(_client(request).id):
        return error(429, "rate_limited", f"more than {_settings(request).analyze_per_minute} analyses a minute")
    return await asyncio.to_thread(_analysis, req)


@api.get("/v1/rhymes", summary="common words that rhyme with a word (English) or 字/词 (Mandarin), best first")
async def rhymes(word: str, request: Request, lang: str = "auto", limit: int = 20):
    from ..studio import suggest

    if not request.app.state.analyze_limiter.allow(_client(request).id):
        return error(429, "rate_limited", f"more than {_settings(request).analyze_per_minute} requests a minute")
    result = await asyncio.to_thread(suggest, word, lang, max(1, min(limit, 100)))
    return result.to_json()


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


HTTP_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
              413: "too_large", 415: "unsupported_media_type", 429: "rate_limited"}


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(AirapError)
    async def _airap_error(request: Request, exc: AirapError):
        status = {"not_found": 404, "too_large": 413}.get(exc.code, 400)
        return error(status, exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", [])[1:]) or "body"
        return error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return error(exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # A bug, not the client's fault: logged with its traceback, answered in the API's own shape.
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error(500, "internal", "internal error (logged); please report it")


def _warm_api() -> None:
    import soundfile  # noqa: F401  (libsndfile, for the upload checks)

    from ..beat import spot_check_instrumental  # noqa: F401
    from ..request import RenderRequest, resolve
    from ..text import parse_lyrics

    song = parse_lyrics("warm up the zorblaxing words, 1,234 times\n热身一下")
    for engine in catalog.ENGINES:
        resolve(RenderRequest(lyrics=""), song, catalog.engine_voices(engine))


def create_app(settings: Settings | None = None, runner=None) -> FastAPI:
    """The app; ``runner`` replaces the worker pool (tests pass a fake one)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # What requests use is loaded once, before the service is ready: the text front-end's tables
        # (CMUdict, jieba, pinyin, eSpeak) and the audio libraries. Loaded by the first request they
        # cost it ~50 MB and stall /healthz for 60-160 ms (an import in a thread holds the GIL).
        await asyncio.to_thread(_warm_api)
        # Those tables are ~420k long-lived objects (jieba's dictionary is most of them); a full
        # garbage collection walking them takes ~140 ms and stalled every answer. Frozen (measured:
        # 0 ms), the collector never walks them again.
        gc.collect()
        gc.freeze()
        dispatcher = Dispatcher(settings, runner or _default_runner(settings))
        dispatcher.start()
        app.state.dispatcher = dispatcher
        yield
        await dispatcher.stop()

    app = FastAPI(title="airap", version="0.1.0", lifespan=lifespan,
                  description="AI rap generator: lyrics + voice + beat -> a finished, beat-locked rap track")
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_per_minute)
    app.state.analyze_limiter = RateLimiter(settings.analyze_per_minute)
    _install_handlers(app)
    app.include_router(api)
    app.add_middleware(Guard, settings=settings)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    return app


__all__ = ["JobRequest", "Settings", "create_app"]
