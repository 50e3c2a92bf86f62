"""Arranged beats: the song's form drives the beat (issue 13). Fast: MIDI and arrangement data, a few
short renders through FluidSynth."""

import numpy as np
import pytest

from airap import catalog
from airap.beat import (
    PHRASE_BARS,
    BeatGrid,
    Section,
    arrange,
    generate_beat,
    label_lines,
    section_kind,
    section_starts,
    song_sections,
)
from airap.beat.generate import chord_tones, compose_lead, key_root
from airap.beat.styles import STEPS
from airap.render import Renderer
from airap.request import RenderRequest, resolve
from airap.text import parse_lyrics
from fakes import FakeEngine


@pytest.fixture(scope="module")
def fake():
    return Renderer(FakeEngine())


FORM = (Section("intro", "intro", 0, 2), Section("verse", "verse", 2, 8), Section("hook", "hook", 10, 4),
        Section("verse", "verse", 14, 8), Section("outro", "outro", 22, 2))


def test_at_least_eight_styles_with_guofeng_and_new_ones():
    assert len(catalog.STYLES) >= 8
    assert "中国风" in catalog.get_style("guofeng").description
    assert {"phonk", "jersey-club", "melodic-trap"} <= set(catalog.STYLES)
    for style in catalog.STYLES.values():  # each is data: four drum bars, a BPM range, sounds
        lo, hi = style.bpm_range
        assert 60 <= lo <= style.default_bpm <= hi <= 180
        assert style.groove != style.answer and style.fill != style.groove


def test_section_names_and_default_form():
    assert [section_kind(n) for n in ("verse 2", "Hook", "chorus", "副歌", "bridge", "主歌", "outro")] == [
        "verse", "hook", "hook", "hook", "bridge", "verse", "outro"]
    texts = ["a b", "c d", "Keep it moving", "to the top", "e f", "g h", "Keep it moving", "to the top", "i j"]
    labels = label_lines(["verse"] * len(texts), texts, tagged=False)
    assert labels == ["verse", "verse", "hook", "hook", "verse", "verse", "hook", "hook", "verse"]
    assert section_starts(labels) == {2, 4, 6, 8}
    # a lone repeated line is a motif, not a hook; tags are kept as written
    assert label_lines(["verse"] * 3, ["x", "y", "x"], tagged=False) == ["verse"] * 3
    assert label_lines(["a", "b"], ["x", "x"], tagged=True) == ["a", "b"]


def test_sections_from_planned_lines():
    labels = ["verse", "verse", "hook", "hook"]
    sections = song_sections(labels, [2, 4, 6, 7], intro_bars=2, song_bars=10)
    assert [(s.kind, s.first_bar, s.bars) for s in sections] == [
        ("intro", 0, 2), ("verse", 2, 4), ("hook", 6, 4), ("outro", 10, 2)]


def test_arrangement_fills_drops_and_phrases():
    style = catalog.get_style("boom-bap")
    arr = arrange(style, FORM, seed=4)
    roles = {bp.bar: bp for bp in arr.bars}
    assert arr.end_bar == 24 and len(arr.bars) == 24
    assert roles[1].role == "fill"  # the intro's last bar rolls into the verse
    assert roles[9].role == "drop" and roles[9].drop_last_beat  # the bar before the hook: groove, then silence
    assert all(c == "." for f in ("kick", "snare", "hat") for c in getattr(roles[9].drums, f)[12:])
    assert roles[13].role == "fill" and not roles[13].drop_last_beat  # hook -> verse: a fill
    assert roles[10].crash and roles[10].section.kind == "hook" and roles[10].layers.open_hats
    assert roles[5].role == "turnaround"
    # the intro has no kick or snare (hats only), the verse does
    assert "x" not in roles[0].drums.kick + roles[0].drums.snare and "x" in roles[2].drums.kick
    # adjacent 4-bar phrases of a section differ (groove vs answer, held vs comped chords)
    first = [roles[b].drums for b in range(14, 14 + PHRASE_BARS)]
    second = [roles[b].drums for b in range(18, 18 + PHRASE_BARS)]
    assert first != second and roles[14].comp != roles[18].comp


def test_the_seed_picks_the_variations():
    style = catalog.get_style("trap")
    a, b, c = (arrange(style, FORM, seed=s) for s in (1, 1, 2))
    assert a == b
    assert [bp.drums for bp in a.bars] != [bp.drums for bp in c.bars]


def test_melody_fits_key_and_chords():
    style = catalog.get_style("guofeng")
    root = key_root(3)
    bars = compose_lead(style, root, seed=3)
    assert len(bars) == len(style.progression)
    notes = [n for bar in bars for _, _, n in bar]
    assert max(notes) - min(notes) <= 16  # within a tenth (and a bit)
    assert all((n - root) % 12 in style.lead_scale for n in notes)  # pentatonic for 中国风
    for degree, bar in zip(style.progression, bars):  # chord tones on the beat (when in the scale)
        tones = {t % 12 for t in chord_tones(root, degree)}
        scale_tones = {(root + s) % 12 for s in style.lead_scale}
        for step, _, note in bar:
            if step % 4 == 0 and tones & scale_tones:
                assert note % 12 in tones


def test_generated_beat_is_exact_and_stems_sum():
    style = catalog.get_style("drill")
    grid = BeatGrid.regular(142, 25, swing=style.swing)
    beat = generate_beat(style, grid, arrange(style, FORM, seed=2), seed=2, sample_rate=22050)
    assert np.allclose(beat.stems["drums"] + beat.stems["bass"] + beat.stems["music"], beat.audio, atol=1e-6)
    drums = next(i for i in beat.midi.instruments if i.is_drum)
    kicks = sorted(n.start for n in drums.notes if n.pitch == 36)
    for bar in (2, 10, 14):  # every kick of the groove on its exact grid time (kicks are never humanised)
        assert any(abs(k - grid.slot_time(bar, 0)) < 1e-9 for k in kicks)
    # the drop: nothing in the drums or bass during beat 4 of bar 9 (5 ms ramps aside)
    t0, t1 = grid.slot_time(9, 12) + 0.01, grid.slot_time(10, 0) - 0.01
    i0, i1 = int(t0 * 22050), int(t1 * 22050)
    assert np.abs(beat.stems["drums"][i0:i1]).max() < 1e-3 and np.abs(beat.stems["bass"][i0:i1]).max() < 1e-3
    assert beat.key.endswith("minor") and set(beat.kick_times) >= set(kicks) - {max(kicks)}


def test_lyric_sections_drive_the_beat(fake, tmp_path):
    lyrics = "[verse]\nRun it back\nRun it back again\nOne more time\n[hook]\nTurn it up\nTurn it up now"
    res = fake.render(RenderRequest(lyrics=lyrics, bpm=96, beat="g-funk", seed=5), tmp_path)
    import json

    timings = json.loads((tmp_path / "timings.json").read_text())
    kinds = [s["kind"] for s in timings["sections"]]
    assert kinds == ["intro", "verse", "hook", "outro"]
    hook = timings["sections"][2]
    first_hook_line = next(ln for ln in timings["lines"] if ln["section"] == "hook")
    assert abs(first_hook_line["words"][0]["syllables"][0]["slot_time"] - hook["start"]) < 0.5
    assert hook["bars"] % PHRASE_BARS == 0 and timings["sections"][1]["bars"] % PHRASE_BARS == 0
    assert timings["generator"]["ai_generated"] and "AI-generated" in timings["generator"]["label"]
    assert {p.name for p in res.files} >= {"drums.wav", "bass.wav", "music.wav", "beat.mid"}
    import soundfile as sf

    parts = sum(sf.read(tmp_path / f"{k}.wav", dtype="float32")[0] for k in ("drums", "bass", "music"))
    beat, _ = sf.read(tmp_path / "beat.wav", dtype="float32")
    assert np.allclose(parts, beat, atol=1e-5)  # sample-aligned stems that sum to the beat


def test_bad_input_warns_or_explains(fake):
    song = parse_lyrics("[verse]\n[hook]\nOnly a hook line here\n")
    assert any("'verse' has no lines" in w for w in song.warnings)
    sheet = "sections:\n  - name: intro\n    lines: []\n  - name: verse\n    lines: [Run it back]\n"
    song = parse_lyrics(sheet)
    assert [ln.section for ln in song.lines] == ["verse"] and any("'intro'" in w for w in song.warnings)
    settings = resolve(RenderRequest(lyrics="Run it back", beat="trap", bpm=90), parse_lyrics("Run it back"),
                       fake.voices)
    assert any("trap's natural range" in w for w in settings.warnings)
    with pytest.raises(Exception, match="unknown beat style"):
        catalog.get_style("polka")


def test_every_style_plays_every_section_kind():
    for style in catalog.STYLES.values():
        arr = arrange(style, FORM + (Section("bridge", "bridge", 24, 4),), seed=0)
        assert {bp.section.kind for bp in arr.bars} == {"intro", "verse", "hook", "outro", "bridge"}
        assert all(len(getattr(bp.drums, f)) == STEPS for bp in arr.bars for f in ("kick", "snare", "hat"))


def test_files_carry_what_they_are(fake, tmp_path):
    pytest.importorskip("mutagen")
    import soundfile as sf
    from mutagen.mp3 import MP3
    from mutagen.wave import WAVE

    lyrics = "title: Grid Lock\nlines:\n  - Run it back on the grid\n  - Every word in place\n"
    res = fake.render(RenderRequest(lyrics=lyrics, bpm=100, beat="lo-fi", seed=2, formats=["wav", "mp3"]), tmp_path)
    track = res.track
    for tags in (MP3(tmp_path / "mix.mp3").tags, WAVE(tmp_path / "mix.wav").tags):
        assert str(tags["TIT2"]) == "Grid Lock" and str(tags["TPE1"]) == track.artist
        assert str(tags["TBPM"]) == "100" and str(tags["TKEY"]).endswith("m")
        assert "Every word in place" in str(tags["USLT::eng"])
        sylt = tags.getall("SYLT")[0].text
        starts = [s.start for ln in track.lines for w in ln.words for s in w.syllables]
        assert len(sylt) == len(starts)  # one entry per syllable, at its start (ms)
        assert [ms for _, ms in sylt] == [max(0, int(round(t * 1000))) for t in starts]
        assert "AI-generated" in str(tags["TXXX:AI_GENERATED"])
    with sf.SoundFile(tmp_path / "mix.wav") as f:  # RIFF INFO, readable without mutagen
        assert f.title == "Grid Lock" and "AI-generated" in f.comment and f.software.startswith("airap")


def test_same_seed_same_audio_whatever_ran_before():
    style = catalog.get_style("trap")
    first = generate_beat(style, BeatGrid.regular(140, 4), seed=3, sample_rate=22050).audio
    generate_beat(catalog.get_style("guofeng"), BeatGrid.regular(90, 3), seed=1, sample_rate=22050)
    again = generate_beat(style, BeatGrid.regular(140, 4), seed=3, sample_rate=22050).audio
    other = generate_beat(style, BeatGrid.regular(140, 4), seed=4, sample_rate=22050).audio
    assert np.array_equal(first, again) and not np.array_equal(first, other)
