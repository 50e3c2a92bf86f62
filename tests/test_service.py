"""The service for real: uvicorn in a subprocess with its worker pool and the real engine, a real
browser (Debian chromium driven by Playwright), and a local Ray instance. Routes, validation and the
dispatcher are tested without models in test_service_api.py."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("fastapi")


pytestmark = pytest.mark.models


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _post_json(base, path, body):
    return _get(base + path, json.dumps(body).encode(), {"content-type": "application/json"}, "POST")


def _serve(tmp_path_factory, **env_extra):
    port = _free_port()
    env = dict(os.environ, AIRAP_JOBS_DIR=str(tmp_path_factory.mktemp("jobs")), AIRAP_RATE_LIMIT="1000", **env_extra)
    proc = subprocess.Popen([sys.executable, "-m", "airap.cli", "serve", "--port", str(port), "--workers", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if _get(base + "/readyz")[0] == 200:
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("server did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from _serve(tmp_path_factory)


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory):
    yield from _serve(tmp_path_factory, AIRAP_API_KEY="page-key")


def _wait(base, job_id, timeout=180):
    for _ in range(timeout * 2):
        status, body = _get(f"{base}/v1/jobs/{job_id}")
        job = json.loads(body)
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError("job did not finish")


def test_job_roundtrip_and_cache(server):
    status, body = _post_json(server, "/v1/jobs", {"lyrics": "Run it back, run it back", "bpm": 100, "seed": 3})
    assert status == 202
    job = _wait(server, json.loads(body)["id"])
    assert job["status"] == "done" and job["progress"] == 1.0
    status, mix = _get(server + job["files"]["mix.mp3"])
    assert status == 200 and len(mix) > 10_000
    timings = json.loads(_get(server + job["files"]["timings.json"])[1])
    assert len(timings["lines"][0]["words"]) == 6
    status, body = _post_json(server, "/v1/jobs", {"lyrics": "Run it back, run it back", "bpm": 100, "seed": 3})
    again = json.loads(body)
    assert again["cached"] and again["id"] == job["id"]


@pytest.mark.skipif(not shutil.which("chromium"), reason="Debian chromium not installed")
def test_browser_click_through(keyed_server, tmp_path):
    """The whole page on a server that wants a key: the page asks for it, sends it, and plays the
    result and the previews through signed links (an <audio> element cannot send a header)."""
    from playwright.sync_api import sync_playwright

    from airap import catalog

    server = keyed_server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page()
        page.goto(server + "/")
        page.wait_for_selector("#key-row:not([hidden])")
        page.fill("#api-key", "page-key")
        page.click("#key-save")
        page.wait_for_selector(".voice-card", state="attached")
        cards = page.locator(".voice-card")
        assert cards.count() >= 16
        page.click("#lang-filter button[data-lang='zh']")  # the cast filtered to Mandarin speakers
        visible = page.locator(".voice-card:not([hidden])")
        assert 0 < visible.count() <= cards.count()
        first = visible.first
        name = first.get_attribute("data-name")
        first.locator(".play").click()  # a preview plays (shipped clip)
        page.wait_for_function("document.querySelector('#preview-audio').currentTime > 0.2", timeout=20_000)
        assert first.get_attribute("aria-checked") == "true" and page.inner_text("#voice-name") == name
        # the beat picker: every style, its description and BPM, a 10-second preview
        assert page.locator("#beat option").count() == len(catalog.STYLES)
        page.select_option("#beat", "guofeng")
        assert "中国风" in page.inner_text("#beat-about")
        assert page.input_value("#bpm") == str(catalog.get_style("guofeng").default_bpm)
        page.evaluate("document.querySelector('#preview-audio').pause()")
        page.click("#beat-play")
        page.wait_for_function("document.querySelector('#preview-audio').src.includes('/v1/beats/guofeng/preview')"
                               " && document.querySelector('#preview-audio').currentTime > 0.2", timeout=20_000)
        page.select_option("#beat", "boom-bap")
        # the lyrics studio: rhymes coloured behind the box as you type, scheme letters, suggestions on click
        page.fill("#lyrics", "I got the hot sauce\nyou got the lot, boss")
        page.wait_for_selector("#lyrics-backdrop mark.end")
        assert page.locator("#lyrics-backdrop mark.inner").count() >= 2  # got / hot inside the line
        assert page.locator("#line-counts .letter").all_inner_texts() == ["A", "A"]
        page.locator(".rhyme-end").first.click()
        page.wait_for_selector("#rhymes .chip")
        page.fill("#lyrics", "[verse]\nEvery line is on the grid\n[hook]\n每个字都在节拍上")
        page.wait_for_function("document.querySelector('#counts').textContent.includes('syllables')")
        page.check("#sing-hooks")  # the hook is sung on a composed melody
        page.click("#go")
        page.wait_for_function("document.querySelector('#status').textContent.startsWith('done')", timeout=180_000)
        # as a listener would: press play once the track has loaded (a play() issued while the element
        # is still loading its source can be aborted by Chromium's own resource selection)
        page.wait_for_function("document.querySelector('#player').readyState >= 3", timeout=30_000)
        played = page.evaluate("""async () => {
            const a = document.querySelector('#player');
            a.muted = true;
            await a.play();
            await new Promise(r => setTimeout(r, 800));
            return {duration: a.duration, time: a.currentTime};
        }""")
        assert played["duration"] > 3 and played["time"] > 0.2
        assert page.locator("#timeline span[data-start]").count() >= 6
        job_voice = page.evaluate("timings.lines[0].voice")
        assert job_voice == name
        assert page.evaluate("timings.lines[1].words.every(w => w.syllables.every(s => s.note))")
        assert page.locator("#timeline .sung").count() >= 1
        # your own instrumental: two bars without drums, then the groove; the lyrics wait for the drums
        # unless "bars before the lyrics" says otherwise
        import soundfile as sf

        from airap.beat import BeatGrid, generate_beat

        grid = BeatGrid.regular(95, 8)
        beat = generate_beat(catalog.get_style("boom-bap"), grid, seed=1)
        audio = beat.audio.copy()
        cut = int(round(grid.slot_time(2, 0) * 44100))
        audio[:cut] -= beat.stems["drums"][:cut]
        sf.write(tmp_path / "mine.wav", audio[: int(round(grid.slot_time(8, 0) * 44100))], 44100)
        page.fill("#lyrics", "Run it back")
        page.uncheck("#sing-hooks")
        page.set_input_files("#upload", str(tmp_path / "mine.wav"))
        for bars, first in (("", grid.slot_time(2, 0)), ("0", grid.slot_time(0, 0))):
            page.fill("#intro-bars", bars)
            page.click("#go")
            page.wait_for_function("!document.querySelector('#go').disabled", timeout=180_000)
            assert page.inner_text("#status").startswith("done"), page.inner_text("#status")
            start = page.evaluate("timings.lines[0].start")
            assert first - 0.5 < start < first + 0.1, (bars, start, first)
            assert ("drums come in" in page.inner_text("#status")) == (bars == "")
        page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        browser.close()


def test_ray_serve_renders_a_job(tmp_path):
    pytest.importorskip("ray")
    from fastapi.testclient import TestClient

    from airap.service.app import Settings, create_app

    settings = Settings(jobs_dir=tmp_path / "jobs", backend="ray", rate_per_minute=100)
    try:
        with TestClient(create_app(settings)) as client:
            r = client.post("/v1/jobs", json={"lyrics": "Ray on the mic", "bpm": 96})
            assert r.status_code == 202
            job_id = r.json()["id"]
            for _ in range(600):
                job = client.get(f"/v1/jobs/{job_id}").json()
                if job["status"] in ("done", "failed"):
                    break
                time.sleep(0.5)
            assert job["status"] == "done", job
            assert client.get(job["files"]["mix.wav"]).status_code == 200
    finally:
        import ray

        ray.shutdown()
