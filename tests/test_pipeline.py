"""The render pipeline end to end with a fake engine whose vowels start exactly where it says (no
models, seconds): placement on the grid, one grid for plan and beat, options resolved from the
catalogue, timed lyrics, uploads."""

import collections
import json

import numpy as np
import pytest
import soundfile as sf

from airap import catalog
from airap.beat import OUTRO_BARS, BeatGrid, generate_beat
from airap.errors import InputError
from airap.render import Renderer
from airap.request import RenderRequest, resolve
from airap.text import parse_lyrics
from fakes import FakeEngine

SHEET = """title: Grid Lock
bpm: 100
beat: trap
voice: duo
sections:
  - name: verse
    lines:
      - Every line is on the grid
      - {text: 每一句歌词都是我的梦想, voice: fox}
  - name: hook
    flow: triplet
    lines: [Run it back, run it back]
"""


@pytest.fixture(scope="module")
def fake():
    return Renderer(FakeEngine())


def _syllables(timings: dict) -> list[dict]:
    return [s for ln in timings["lines"] for w in ln["words"] for s in w["syllables"]]


def _tone_onsets(vocals: np.ndarray, sr: int) -> np.ndarray:
    """Where the fake voice's struck vowels start: the 2 ms envelope at least doubles and is loud."""
    mono = np.abs(vocals.mean(axis=1))
    hop = int(0.002 * sr)
    env = mono[: len(mono) // hop * hop].reshape(-1, hop).max(axis=1)
    rise = (env[1:] > 2 * env[:-1]) & (env[1:] > 0.25 * env.max())
    return (np.flatnonzero(rise) + 1) * hop / sr


def test_every_vowel_lands_on_its_slot_in_the_audio(fake, tmp_path):
    res = fake.render(RenderRequest(lyrics=SHEET), tmp_path)
    t = json.loads((tmp_path / "timings.json").read_text())
    sylls = _syllables(t)
    assert len(sylls) == sum(len(line.syllables) for line in parse_lyrics(SHEET).lines)  # none skipped/repeated
    for s in sylls:
        assert abs(s["vowel_onset"] - s["slot_time"]) < 0.001
    vocals, sr = sf.read(tmp_path / "vocals.wav")
    heard = _tone_onsets(vocals, sr)
    for s in sylls:  # every vowel tone starts within 5 ms of its slot (the mix's filters smear ~1 ms)
        assert np.min(np.abs(heard - s["slot_time"])) < 0.005, s
    assert {p.name for p in res.files} >= {"mix.wav", "vocals.wav", "beat.wav", "beat.mid", "timings.json",
                                           "lyrics.lrc"}


def test_one_grid_for_plan_and_beat(fake):
    res = fake.render(RenderRequest(lyrics="Run it back\nRun it back again", bpm=90, beat="boom-bap"))
    track, plan = res.track, res.plan
    expected = BeatGrid.regular(90, plan.total_bars + OUTRO_BARS, swing=catalog.get_style("boom-bap").swing)
    assert track.beats == [b for b in expected.beats if b <= track.duration]
    starts = [n.start for inst in track.midi.instruments for n in inst.notes]
    # the beat is played over the plan's bars and the outro, no more: its final hit is on the last beat
    assert max(starts) == pytest.approx(expected.beats[-1])
    for line in plan.lines:  # each line starts on a downbeat of that grid
        assert line.syllables[0].slot_time >= expected.slot_time(line.first_bar, 0) - 1e-9


def test_sheet_choices_resolve_per_line(fake):
    song = parse_lyrics(SHEET)
    settings = resolve(RenderRequest(lyrics=SHEET), song, fake.voices)
    assert settings.line_voices == ("duo", "fox", "duo", "duo")
    assert [f.name for f in settings.line_flows] == ["straight", "straight", "triplet", "triplet"]
    assert settings.style.name == "trap" and settings.bpm == 100
    over = resolve(RenderRequest(lyrics=SHEET, voice="kumo", beat="lo-fi", bpm=80, flow="chopper"), song, fake.voices)
    assert over.line_voices == ("kumo", "fox", "kumo", "kumo")  # the request beats the sheet, a line beats both
    assert [f.name for f in over.line_flows] == ["chopper", "chopper", "triplet", "triplet"]
    assert over.style.name == "lo-fi" and over.bpm == 80
    plain = resolve(RenderRequest(lyrics="yo"), parse_lyrics("yo"), fake.voices)
    assert plain.line_voices == (catalog.default_voice("en", fake.voices),) and plain.style.name == catalog.DEFAULT_STYLE


@pytest.mark.parametrize("request_kw,needle", [
    ({"voice": "nobody"}, "unknown voice"), ({"voice": "kumoo"}, "did you mean kumo"),
    ({"voice": "alpha"}, "not available with this engine"), ({"beat": "polka"}, "unknown beat style"),
    ({"flow": "waltz"}, "unknown flow"), ({"bpm": 500}, "BPM"), ({"seed": -1}, "seed"),
    ({"formats": ("ogg",)}, "unknown format"), ({"lang": "fr"}, "unknown language"),
])
def test_bad_options_fail_before_any_work(fake, request_kw, needle):
    engine = fake.engine
    before = len(engine.sung)
    with pytest.raises(InputError, match=needle):
        fake.render(RenderRequest(lyrics="yo yo", **request_kw))
    assert len(engine.sung) == before


def test_sheet_voice_the_engine_lacks_is_a_clear_error(fake):
    with pytest.raises(InputError, match="mitten"):
        fake.render(RenderRequest(lyrics="voice: mitten\nlines: [yo]"))


def test_upload_grid_is_tracked_and_kept(fake, tmp_path):
    style = catalog.get_style("boom-bap")
    beat = generate_beat(style, BeatGrid.regular(95, 12, swing=style.swing), seed=1)
    path = tmp_path / "inst.wav"
    sf.write(path, beat.audio, 44100)
    res = fake.render(RenderRequest(lyrics="Run it back\n这个节奏真的很好", instrumental=str(path)), tmp_path / "o")
    track = res.track
    assert abs(track.bpm - 95) < 1
    assert track.midi is None and not (tmp_path / "o" / "beat.mid").exists()
    # longer than the song: it ends on the bar line after the last line, faded over that bar
    assert track.duration < len(beat.audio) / 44100 - 5
    bar = 4 * 60 / track.bpm
    assert track.sections[-1].kind == "outro" and track.sections[-1].bars == 1
    assert track.duration == pytest.approx(track.sections[-1].end, abs=0.02)
    assert track.sections[-1].end - track.sections[-1].start == pytest.approx(bar, rel=0.03)
    tail = track.beat[-int(0.05 * 44100):]
    assert np.abs(tail).max() < 0.05 * np.abs(track.beat).max()
    kept = fake.render(RenderRequest(lyrics="Run it back", instrumental=str(path), keep_length=True), tmp_path / "k")
    assert kept.track.duration == pytest.approx(len(beat.audio) / 44100, abs=1e-3)


def test_a_short_loop_repeats_on_bar_lines(fake, tmp_path):
    style = catalog.get_style("boom-bap")
    beat = generate_beat(style, BeatGrid.regular(96, 4), seed=1)
    path = tmp_path / "loop.wav"
    sf.write(path, beat.audio[: int(4 * 2.5 * 44100)], 44100)  # exactly four bars, 10 s
    lyrics = "\n".join(f"Line number {k} runs on the loop" for k in range(8))
    res = fake.render(RenderRequest(lyrics=lyrics, instrumental=str(path), downbeat_hint=0.0), tmp_path / "o")
    track = res.track
    assert track.duration > 25  # the 10-s loop repeated
    ibi = np.diff(track.beats)
    assert ibi.max() / ibi.min() < 1.05  # the grid runs on through every join
    assert track.downbeats[4] == pytest.approx(10.0, abs=0.002)  # the loop's own length, not an estimate
    for t in (10.0, 20.0):  # the joins: no click (the sample step is like any other)
        i = int(round(t * 44100))
        step = np.abs(np.diff(track.beat[i - 200:i + 200, 0])).max()
        assert step < 4 * np.abs(np.diff(track.beat[:, 0])).mean() + 0.2 * np.abs(track.beat).max()
    with pytest.raises(InputError, match="outside the instrumental"):
        fake.render(RenderRequest(lyrics="yo", instrumental=str(path), downbeat_hint=12.0))
    with pytest.raises(InputError, match="uploaded instrumental only"):
        fake.render(RenderRequest(lyrics="yo", keep_length=True))


def test_lrc_and_progress(fake, tmp_path):
    stages = []
    fake.render(RenderRequest(lyrics="Run it back\nRun it back again"), tmp_path,
                progress=lambda stage, frac: stages.append((stage, frac)))
    assert [s for s, _ in stages][:4] == ["text", "acoustic", "flow", "beat"] and stages[-1] == ("done", 1.0)
    assert all(a[1] <= b[1] for a, b in zip(stages, stages[1:]))
    lrc = (tmp_path / "lyrics.lrc").read_text()
    assert lrc.count("\n[0") >= 1 and "<0" in lrc


CREW_SHEET = """sections:
  - name: verse
    adlibs: off
    lines:
      - {text: Who got the flow, voice: kumo}
      - {text: We got the flow, voice: duo}
  - name: hook
    voice: [kumo, duo, fox]
    double: false
    lines: [Run it back run it back]
"""


def test_call_and_response_and_a_crew_hook(fake, tmp_path):
    engine = fake.engine
    engine.sung.clear()
    res = fake.render(RenderRequest(lyrics=CREW_SHEET), tmp_path)
    assert [v for _, v in engine.sung] == ["kumo", "duo", "kumo", "duo", "fox"]  # the crew sings the hook too
    t = json.loads((tmp_path / "timings.json").read_text())
    assert [(ln["voice"], ln["crew"]) for ln in t["lines"]] == [("kumo", []), ("duo", []), ("kumo", ["duo", "fox"])]
    assert len(res.track.lines) == 3  # crew voices add sound, not lines
    vocals, sr = sf.read(tmp_path / "vocals.wav")
    hook = slice(int(t["lines"][2]["start"] * sr), int(t["lines"][2]["end"] * sr))
    verse = slice(int(t["lines"][0]["start"] * sr), int(t["lines"][0]["end"] * sr))
    side = lambda s: np.sqrt(np.mean((vocals[s, 0] - vocals[s, 1]) ** 2))  # noqa: E731
    assert side(verse) < 1e-4 < side(hook)  # the lead is centred, the crew spreads left and right


ADLIB_SHEET = """sections:
  - name: verse
    adlibs: heavy
    lines:
      - Who got the flow tonight
      - We got the flow, we got the beat
      - Every line is on the grid
      - Every rhyme is on the map
  - name: hook
    lines: [Run it back run it back, Run it back again]
"""


def test_adlibs_sit_in_the_rests_and_the_hook_is_doubled(fake, tmp_path):
    engine = fake.engine
    engine.sung.clear()
    res = fake.render(RenderRequest(lyrics=ADLIB_SHEET, bpm=90, seed=2), tmp_path)
    track = res.track
    t = json.loads((tmp_path / "timings.json").read_text())
    kinds = {a["kind"] for a in t["adlibs"]}
    assert "echo" in kinds and all(a["line"] < 4 for a in t["adlibs"])  # the hook is left clear
    adlibs, sr = sf.read(tmp_path / "adlibs.wav", dtype="float32")
    loud = np.abs(adlibs).max(axis=1) > 10 ** (-30 / 20)
    for ln in track.lines:  # never over a lyric syllable
        for w in ln.words:
            for syl in w.syllables:
                assert not loud[int(syl.start * sr):int(syl.end * sr)].any(), syl.text
    # the hook is sung three times (lead + two doubled takes), the verse once a line
    takes = collections.Counter(text for text, _ in engine.sung)
    assert takes["Run it back again"] == 3 and takes["Every line is on the grid"] == 1
    vocals, _ = sf.read(tmp_path / "vocals.wav")
    hook = slice(int(t["lines"][4]["start"] * sr), int(t["lines"][4]["end"] * sr))
    assert np.sqrt(np.mean((vocals[hook, 0] - vocals[hook, 1]) ** 2)) > 1e-4  # the doubles spread it


def test_a_voice_that_lacks_the_line_language_falls_back_with_a_warning(fake, monkeypatch):
    from dataclasses import replace

    monkeypatch.setitem(catalog.MODEL_SPEAKERS, "duo", replace(catalog.entry("duo"), languages=("en",)))
    monkeypatch.setitem(catalog.VOICES, "duo", catalog.MODEL_SPEAKERS["duo"])
    res = fake.render(RenderRequest(lyrics="voice: duo\nlines: [Run it back, 这个节奏真的很好]"))
    assert [ln.voice for ln in res.track.lines][0] == "duo"
    fallback = res.track.lines[1].voice
    assert fallback != "duo" and any("duo does not speak zh" in w and fallback in w for w in res.track.warnings)


def test_sheet_values_of_the_wrong_kind_are_clear_errors():
    for sheet in ("beat: [a]\nlines: [yo]", "flow: {x: 1}\nlines: [yo]", "voice: [a, b, c, d, e]\nlines: [yo]",
                  "lines: [{text: yo, voice: 5}]"):
        with pytest.raises(InputError, match="song sheet"):
            parse_lyrics(sheet)


def test_lyrics_start_where_an_uploads_drums_come_in(fake, tmp_path):
    """Four bars of the beat's music and bass alone, then the drums: the first line waits for the
    drums (and the render says so); --intro-bars 0 starts it at once; an intro longer than the upload
    allows is a clear error; a short upload repeats its groove, never its intro."""
    style = catalog.get_style("boom-bap")
    grid = BeatGrid.regular(92, 12)
    beat = generate_beat(style, grid, seed=1)
    intro_end = int(round(grid.slot_time(4, 0) * 44100))
    audio = beat.audio.copy()
    audio[:intro_end] -= beat.stems["drums"][:intro_end]  # no drums in the first four bars
    path = tmp_path / "intro.wav"
    sf.write(path, audio[: int(round(grid.slot_time(12, 0) * 44100))], 44100)
    lyrics = "\n".join(f"Line number {k} waits for the drums" for k in range(12))
    res = fake.render(RenderRequest(lyrics=lyrics, instrumental=str(path)), tmp_path / "o")
    first = res.plan.lines[0].syllables[0].slot_time
    assert first == pytest.approx(grid.slot_time(4, 0), abs=0.03), first
    assert any("where the instrumental's drums come in" in w for w in res.track.warnings)
    assert res.track.sections[0].kind == "intro" and res.track.sections[0].bars == 4
    # the 12-bar file is looped: every repeat starts on the groove (bar 4), not on the intro
    from airap.beat import uploaded_backing
    from airap.beat.loop import fit_upload

    backing = uploaded_backing(str(path), 44100, catalog.LIMITS.upload)
    assert backing.first_bar == 4 and backing.loop.start == pytest.approx(grid.slot_time(4, 0), abs=0.03)
    looped = fit_upload(backing.upload, 44100, backing.loop, backing.grid, 30)
    join, src, n = (int(round(t * 44100)) for t in (backing.loop.end, backing.loop.start, 0.5))
    assert np.corrcoef(looped[join + 2000:join + n, 0], backing.upload[src + 2000:src + n, 0])[0, 1] > 0.99
    at_once = fake.render(RenderRequest(lyrics=lyrics, instrumental=str(path), intro_bars=0), tmp_path / "z")
    assert at_once.plan.lines[0].syllables[0].slot_time < grid.slot_time(1, 0)
    assert not any("drums come in" in w for w in at_once.track.warnings)
    with pytest.raises(InputError, match="at most 10 can come before"):
        fake.render(RenderRequest(lyrics="yo", instrumental=str(path), intro_bars=11))
    with pytest.raises(InputError, match="whole number"):
        fake.render(RenderRequest(lyrics="yo", instrumental=str(path), intro_bars=-1))
    with pytest.raises(InputError, match="uploaded instrumental only"):
        fake.render(RenderRequest(lyrics="yo", intro_bars=2))


def test_an_engine_sings_the_languages_it_names_unaccented(tmp_path):
    class PlainMandarin(FakeEngine):
        unaccented_langs = ("zh",)

    lyrics = "lines: [Every line is on the grid, 每一句歌词都是我的梦想]"
    for engine, zh_accented in ((FakeEngine(), True), (PlainMandarin(), False)):
        res = Renderer(engine).render(RenderRequest(lyrics=lyrics), tmp_path / engine.__class__.__name__)
        accents = [[s.accent for w in ln.words for s in w.syllables] for ln in res.track.lines]
        assert any(accents[0]) and any(accents[1]) is zh_accented
