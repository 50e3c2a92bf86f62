"""The HTTP API and its dispatcher with a fake runner (no models, no subprocess): routes, validation,
cache, queue and retries. The real server, worker pool, browser and Ray are in test_service.py."""

import time

import pytest

from fakes import FakeRunner

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from airap.service.app import Settings, create_app  # noqa: E402
from airap.service.runners import WorkerLost  # noqa: E402


@pytest.fixture()
def client(tmp_path):
    runner = FakeRunner()
    with TestClient(create_app(Settings(jobs_dir=tmp_path / "jobs", rate_per_minute=1000), runner=runner)) as c:
        c.runner = runner
        yield c


def _wait(client, job_id, seconds=60):
    for _ in range(int(seconds / 0.05)):
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError("job did not finish")


def test_job_roundtrip_and_cache(client):
    r = client.post("/v1/jobs", json={"lyrics": "Run it back, run it back", "bpm": 100, "seed": 3})
    assert r.status_code == 202 and not r.json()["cached"]
    job = _wait(client, r.json()["id"])
    assert job["status"] == "done" and job["progress"] == 1.0 and job["attempts"] == 1
    assert client.get(job["files"]["mix.mp3"]).content.startswith((b"ID3", b"\xff\xfb", b"\xff\xf3"))
    timings = client.get(job["files"]["timings.json"]).json()
    assert len(timings["lines"][0]["words"]) == 6
    again = client.post("/v1/jobs", json={"lyrics": "Run it back, run it back", "bpm": 100, "seed": 3}).json()
    assert again["cached"] and again["id"] == job["id"] and client.runner.runs == 1


@pytest.mark.parametrize("body,code", [
    ({"lyrics": ""}, 400), ({"lyrics": "🔥"}, 400), ({"lyrics": "yo", "voice": "nobody"}, 400),
    ({"lyrics": "yo", "bpm": 0}, 422), ({"lyrics": "yo", "bpm": "fast"}, 422), ({"lyrics": 5}, 422),
    ({"lyrics": "yo", "seed": -1}, 422), ({"lyrics": "x" * 30000}, 422), ({}, 422),
    ({"lyrics": "yo", "engine": "espeak"}, 422), ({"lyrics": "yo", "beat": "polka"}, 400),
    ({"lyrics": "yo", "flow": "waltz"}, 400), ({"lyrics": "yo", "voice": "alpha", "engine": "fast"}, 202),
])
def test_requests_are_checked_against_the_catalogue(client, body, code):
    r = client.post("/v1/jobs", json=body)
    assert r.status_code == code, r.text
    if code >= 400:
        assert r.json()["error"]["message"]


def test_no_path_traversal(client):
    for path in ("/v1/jobs/../../etc/passwd", "/v1/jobs/%2e%2e%2fetc/files/mix.wav",
                 "/v1/jobs/00000000000000000000000000000000/files/..%2f..%2fjob.json"):
        assert 400 <= client.get(path).status_code < 500


def test_upload_must_be_audio(client):
    r = client.post("/v1/jobs", data={"lyrics": "yo yo"}, files={"instrumental": ("song.mp3", b"not audio", "audio/mpeg")})
    assert r.status_code == 400 and "audio" in r.json()["error"]["message"]


def test_lists_come_from_the_catalogue(client):
    from airap import catalog

    spec = client.get("/openapi.json").json()
    assert "/v1/jobs" in spec["paths"] and "/v1/jobs/{job_id}/files/{name}" in spec["paths"]
    voices = client.get("/v1/voices").json()
    assert [v["name"] for v in voices] == list(catalog.VOICES)
    assert all(v["preview"] == f"/v1/voices/{v['name']}/preview" for v in voices)
    beats = client.get("/v1/beats").json()
    assert [b["name"] for b in beats["beats"]] == list(catalog.STYLES)
    for b in beats["beats"]:  # every style's preview is shipped and served
        clip = client.get(b["preview"])
        assert clip.status_code == 200 and clip.headers["content-type"] == "audio/mpeg" and len(clip.content) > 20_000
    assert client.get("/v1/beats/nope/preview").status_code == 404
    assert [f["name"] for f in beats["flows"]] == list(catalog.FLOWS)


def test_analyze_counts(client):
    a = client.post("/v1/analyze", json={"lyrics": "Run it back\nthe track is black"}).json()
    assert [ln["syllables"] for ln in a["lines"]] == [3, 4] and a["syllables"] == 7


def test_a_lost_worker_is_retried(tmp_path):
    class Flaky(FakeRunner):
        async def run(self, job_dir, spec):
            if self.runs < 2:
                self.runs += 1
                raise WorkerLost("killed")
            return await super().run(job_dir, spec)

    with TestClient(create_app(Settings(jobs_dir=tmp_path / "jobs"), runner=Flaky())) as c:
        job = _wait(c, c.post("/v1/jobs", json={"lyrics": "yo yo yo"}).json()["id"])
        assert job["status"] == "done" and job["attempts"] == 3


def test_queue_survives_a_restart(tmp_path):
    class Stalled(FakeRunner):
        async def run(self, job_dir, spec):
            import asyncio

            await asyncio.sleep(3600)

    settings = Settings(jobs_dir=tmp_path / "jobs")
    with TestClient(create_app(settings, runner=Stalled())) as c:
        ids = [c.post("/v1/jobs", json={"lyrics": f"line number {k}"}).json()["id"] for k in range(3)]
        assert c.get(f"/v1/jobs/{ids[2]}").json()["queue_position"] == 1  # one running, one ahead
    with TestClient(create_app(settings, runner=FakeRunner())) as c:
        assert all(_wait(c, i)["status"] == "done" for i in ids)


def test_upload_options_need_an_upload(client):
    r = client.post("/v1/jobs", json={"lyrics": "yo yo", "bpm_hint": 96})
    assert r.status_code == 400 and "uploaded instrumental only" in r.json()["error"]["message"]
    r = client.post("/v1/jobs", json={"lyrics": "yo yo", "bpm_hint": 500})
    assert r.status_code == 422
    r = client.post("/v1/jobs", json={"lyrics": "yo yo", "intro_bars": 2})
    assert r.status_code == 400 and "uploaded instrumental only" in r.json()["error"]["message"]
    r = client.post("/v1/jobs", json={"lyrics": "yo yo", "intro_bars": -1})
    assert r.status_code == 422
    r = client.post("/v1/jobs", data={"lyrics": "yo yo", "keep_length": "true"},
                    files={"instrumental": ("song.mp3", b"not audio", "audio/mpeg")})
    assert r.status_code == 400 and "readable audio" in r.json()["error"]["message"]  # the hint is accepted


def test_a_job_naming_its_previous_job_resings_only_the_edited_line(client):
    first = client.post("/v1/jobs", json={"lyrics": "every word is on the grid\nnever skip a single line", "bpm": 96})
    done = _wait(client, first.json()["id"])
    assert done["status"] == "done"
    body = {"lyrics": "every word is on the grid\nnever miss a single line", "bpm": 96, "previous": done["id"]}
    job = _wait(client, client.post("/v1/jobs", json=body).json()["id"])
    assert job["status"] == "done"
    assert any("1 of 2 lines taken from the earlier render; sung again (changed): line 2" in w for w in job["warnings"])
    missing = client.post("/v1/jobs", json={**body, "lyrics": "a new song", "previous": "0" * 32})
    assert missing.status_code == 400 and "previous" in missing.json()["error"]["message"]
    assert client.post("/v1/jobs", json={**body, "previous": "../etc"}).status_code == 422
