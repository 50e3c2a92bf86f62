"""Hardening of the API (issue 17): keys and client identity, per-client limits, ownership and signed
links, body caps counted on the wire, upload headers checked before decoding, JSON errors for
everything. Fake runners, no models; the same rows against a real server are in
``benchmarks/service_abuse.py``."""

import time

import numpy as np
import pytest
import soundfile as sf

from fakes import FakeRunner

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from airap.service import access  # noqa: E402
from airap.service.app import Settings, create_app  # noqa: E402
from airap.service.dispatcher import RateLimiter  # noqa: E402


class Stalled:
    """A runner whose jobs never finish (queue tests)."""

    capacity = 1

    async def run(self, job_dir, spec):
        import asyncio

        await asyncio.sleep(3600)

    def close(self):
        pass


def _wait(c, job_id, headers=None):
    for _ in range(600):
        job = c.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_keys_give_one_bucket_each_and_random_keys_are_refused(tmp_path):
    settings = Settings(jobs_dir=tmp_path / "jobs", rate_per_minute=2, api_keys=("ka", "kb"))
    with TestClient(create_app(settings, runner=Stalled())) as c:
        assert c.post("/v1/jobs", json={"lyrics": "yo"}).status_code == 401
        assert c.post("/v1/jobs", json={"lyrics": "yo"}, headers={"x-api-key": "kc"}).status_code == 401
        a = [c.post("/v1/jobs", json={"lyrics": f"yo {k}"}, headers={"x-api-key": "ka"}).status_code for k in range(3)]
        b = [c.post("/v1/jobs", json={"lyrics": f"yo {k}"}, headers={"x-api-key": "kb"}).status_code for k in range(2)]
        assert a == [202, 202, 429] and b == [202, 202]
        assert c.get("/healthz").status_code == 200 and c.get("/").status_code == 200  # outside /v1: no key


def test_without_keys_the_header_is_not_an_identity(tmp_path):
    settings = Settings(jobs_dir=tmp_path / "jobs", rate_per_minute=2)
    with TestClient(create_app(settings, runner=Stalled())) as c:
        codes = [c.post("/v1/jobs", json={"lyrics": f"yo {k}"}, headers={"x-api-key": f"random{k}"}).status_code
                 for k in range(3)]
        assert codes == [202, 202, 429]


def test_forwarded_for_counts_only_from_trusted_proxies():
    assert access.client_address("203.0.113.9", "1.2.3.4", ()) == "203.0.113.9"
    assert access.client_address("10.0.0.2", "1.2.3.4", ("10.0.0.0/8",)) == "1.2.3.4"
    # the left part is the client's to forge; the right-most untrusted hop is the caller
    assert access.client_address("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.7", ("10.0.0.0/8",)) == "1.2.3.4"
    assert access.client_address("10.0.0.2", "not-an-ip", ("10.0.0.0/8",)) == "not-an-ip"


def test_rate_limiter_forgets_idle_clients(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    limiter = RateLimiter(5)
    for k in range(1000):
        limiter.allow(f"client{k}")
    clock[0] += 120
    limiter.allow("late")
    assert list(limiter.hits) == ["late"]


def test_jobs_belong_to_their_key_and_links_are_signed(tmp_path):
    settings = Settings(jobs_dir=tmp_path / "jobs", rate_per_minute=100, api_keys=("ka", "kb"))
    ka, kb = {"x-api-key": "ka"}, {"x-api-key": "kb"}
    with TestClient(create_app(settings, runner=FakeRunner())) as c:
        job_a = c.post("/v1/jobs", json={"lyrics": "Run it back, run it back", "seed": 4}, headers=ka).json()["id"]
        done = _wait(c, job_a, ka)
        assert c.get(f"/v1/jobs/{job_a}", headers=kb).status_code == 404
        plain = f"/v1/jobs/{job_a}/files/mix.mp3"
        assert c.get(plain, headers=kb).status_code == 404 and c.get(plain).status_code == 401
        signed = done["files"]["mix.mp3"]
        assert signed.startswith(plain + "?exp=") and c.get(signed).status_code == 200  # what <audio src> does
        assert c.get(signed.replace("mix.mp3", "mix.wav")).status_code == 401  # a signature covers one path
        assert c.get(signed[:-1] + ("0" if signed[-1] != "0" else "1")).status_code == 401
        # the same inputs from another key: a copy with a new id, never the other client's job
        again = c.post("/v1/jobs", json={"lyrics": "Run it back, run it back", "seed": 4}, headers=kb).json()
        assert again["cached"] and again["id"] != job_a
        assert c.get(f"/v1/jobs/{again['id']}/files/mix.mp3", headers=kb).status_code == 200
        assert c.post("/v1/jobs", json={"lyrics": "Run it back, run it back", "seed": 4},
                      headers=ka).json()["id"] == job_a


def test_expired_links_and_jobs_are_gone_at_once(tmp_path):
    secret = b"s" * 32
    path = "/v1/jobs/" + "0" * 32 + "/files/mix.mp3"
    old = access.signed_url(secret, path, now=time.time() - 2 * access.SIGNED_URL_SECONDS)
    assert not access._valid_signature(secret, path, old.split("?", 1)[1].encode())
    settings = Settings(jobs_dir=tmp_path / "jobs", result_ttl=0.5)
    with TestClient(create_app(settings, runner=FakeRunner())) as c:
        job = c.post("/v1/jobs", json={"lyrics": "yo yo yo"}).json()["id"]
        assert _wait(c, job)["status"] == "done"
        time.sleep(0.6)
        assert c.get(f"/v1/jobs/{job}").status_code == 404
        assert not (tmp_path / "jobs" / job).exists()


def test_bodies_are_capped_as_they_arrive(tmp_path):
    settings = Settings(jobs_dir=tmp_path / "jobs", max_upload_mb=1)
    with TestClient(create_app(settings, runner=Stalled())) as c:
        def chunks(n):  # no Content-Length: the body arrives chunked
            for _ in range(n):
                yield b"x" * 65536

        r = c.post("/v1/jobs", content=chunks(100), headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        r = c.post("/v1/analyze", content=chunks(100), headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = c.post("/v1/jobs", data={"lyrics": "yo"}, files={"instrumental": ("a.wav", b"x" * 1_300_000)})
        assert r.status_code == 413
        deep = "[" * 100_000 + "]" * 100_000
        for route in ("/v1/jobs", "/v1/analyze"):
            r = c.post(route, content=deep[:200_000], headers={"content-type": "application/json"})
            assert 400 <= r.status_code < 500 and r.json()["error"]["code"]
        assert list((tmp_path / "jobs").glob(".upload-*")) == []  # no upload left behind


def wav_claiming(rate: int, channels: int, seconds: float, path) -> None:
    """A WAV whose header claims ``seconds`` at ``rate`` × ``channels`` (8-bit), written sparsely:
    the bytes on disk are few, the file is what a decoder would have to decode."""
    import struct

    with sf.SoundFile(path, "w", rate, channels, "PCM_U8", format="WAV") as f:
        f.write(np.zeros((16, channels), np.float32))
    data_bytes = int(rate * seconds) * channels
    with open(path, "r+b") as f:
        at = f.read(256).find(b"data")
        f.seek(4)
        f.write(struct.pack("<I", 36 + data_bytes))
        f.seek(at + 4)
        f.write(struct.pack("<I", data_bytes))
        f.truncate(at + 8 + data_bytes)


@pytest.mark.parametrize("rate,channels,seconds,needle", [
    (3_000_017, 1, 6, "sample rate"),  # the prime-rate resample bomb of the report
    (96_000, 16, 6, "channels"),
    (192_000, 8, 300, "too many samples"),  # 460 M samples in five minutes
    (8000, 1, 2 * 3600, "minutes"),
])
def test_upload_headers_are_refused_before_decoding(tmp_path, rate, channels, seconds, needle):
    path = tmp_path / "bomb.wav"
    wav_claiming(rate, channels, seconds, path)
    with TestClient(create_app(Settings(jobs_dir=tmp_path / "jobs", max_upload_mb=10_000), runner=Stalled())) as c:
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            r = c.post("/v1/jobs", data={"lyrics": "yo"}, files={"instrumental": ("a.wav", f)})
        assert r.status_code == 400 and needle in r.json()["error"]["message"], r.text
        assert time.perf_counter() - t0 < 10  # generous: the point is that nothing is decoded


def test_previews_render_once_and_never_hold_the_connection(tmp_path, monkeypatch):
    from airap import catalog

    monkeypatch.setattr(catalog, "preview_path", lambda name: None)
    with TestClient(create_app(Settings(jobs_dir=tmp_path / "jobs"), runner=Stalled())) as c:
        codes = [c.get("/v1/voices/rose/preview").status_code for _ in range(5)]
        assert codes == [503] * 5
        assert c.get("/readyz").json()["queued"] == 0  # one job, taken by the (stalled) worker
        assert len(list((tmp_path / "jobs").glob("*/job.json"))) == 1


def test_unexpected_errors_are_json(tmp_path, monkeypatch):
    from airap.service import app as app_module

    def broken(req):
        raise RuntimeError("a bug")

    monkeypatch.setattr(app_module, "_check_lyrics", broken)
    with TestClient(create_app(Settings(jobs_dir=tmp_path / "jobs"), runner=Stalled()),
                    raise_server_exceptions=False) as c:
        r = c.post("/v1/jobs", json={"lyrics": "yo"})
        assert r.status_code == 500 and r.json()["error"]["code"] == "internal" and "a bug" not in r.text


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("AIRAP_WORKERS", "1")
    monkeypatch.setenv("AIRAP_API_KEY", "one, two")
    monkeypatch.setenv("AIRAP_TRUSTED_PROXIES", "10.0.0.0/8")
    s = Settings.from_env()
    assert s.workers == 1 and s.api_keys == ("one", "two") and s.trusted_proxies == ("10.0.0.0/8",)
