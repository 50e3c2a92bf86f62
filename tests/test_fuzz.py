"""Fuzzing as a habit: untrusted lyrics, sheets and HTTP bodies either work or give the user one clear
error, never an exception of another kind and never a 500. ``benchmarks/fuzz.py`` runs the same
properties on tens of thousands of cases."""

import json

import pytest
from hypothesis import HealthCheck, given, settings

from airap import catalog
from airap.errors import AirapError
from airap.request import RenderRequest, resolve
from airap.text import parse_lyrics
from strategies import job_bodies, lyrics

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def parse_and_resolve(text: str) -> None:
    """The property: a Song and settings, or an AirapError."""
    try:
        song = parse_lyrics(text)
        resolve(RenderRequest(lyrics=text), song, catalog.engine_voices("kokoro"))
    except AirapError as e:
        assert str(e) and "\n" not in str(e), "an error is one line"


@FUZZ
@given(lyrics)
def test_fuzzed_lyrics_and_sheets_never_crash(text):
    parse_and_resolve(text)


@pytest.mark.parametrize("text", [
    "lines:\n  - " + "9" * 300,  # the number reader's OverflowError
    "lines: [" + "1" * 5000 + "]",  # Python's int-string limit inside YAML
    "lines:\n1:\n",  # a non-string key
    "beat: [a]\nlines: [yo]", "flow: [a]\nlines: [yo]", "title: [a]\nlines: [yo]",
    "lines: [yo \x1b[31m red]", "bpm: [" + ",".join(["1"] * 3000) + "]\nlines: [yo]",
    "a: &a [x, x]\nlines: *a",  # anchors and aliases
    "lines:\n  - " + "[" * 50 + "]" * 50,  # deep nesting
])
def test_known_crashers_are_clear_errors(text):
    parse_and_resolve(text)


def test_alias_bomb_is_refused_fast():
    levels = ["a0: &a0 [yo, yo, yo, yo, yo, yo, yo, yo, yo, yo]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(AirapError, match="aliases"):
        parse_lyrics("lines: [yo]\n" + "\n".join(levels))


def test_sheet_fields_cannot_inject_lines():
    song = parse_lyrics('title: "a\\n[ar:evil]"\nlines: ["yo\\n[00:00.00]evil", "b\\x00c"]')
    assert "\n" not in song.title and all("\n" not in ln.text and "\x00" not in ln.text for ln in song.lines)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from airap.service.app import Settings, create_app

    class NoRender:  # the fuzz is about the API's answers; accepted jobs end at once
        capacity = 1

        async def run(self, job_dir, spec):
            return {"ok": False, "error": {"code": "skipped", "message": "not rendered in the fuzz test"}}

        def close(self):
            pass

    app = create_app(Settings(jobs_dir=tmp_path_factory.mktemp("jobs"), rate_per_minute=10**6,
                              analyze_per_minute=10**6, max_queue=10**6), runner=NoRender())
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def check_response(r) -> None:
    assert r.status_code < 500, r.text[:300]
    assert r.headers["content-type"].startswith("application/json")
    if r.status_code >= 400:
        assert set(r.json()["error"]) == {"code", "message"}


@FUZZ
@given(job_bodies)
def test_fuzzed_http_bodies_get_json_answers(client, body):
    raw = json.dumps(body)  # Python writes NaN/Infinity tokens, which a careless client sends too
    for route in ("/v1/analyze", "/v1/jobs"):
        check_response(client.post(route, content=raw, headers={"content-type": "application/json"}))
