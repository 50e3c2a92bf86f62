"""Parallel and kept rendering: lines sung in parallel give the same track as one at a time, and a
render that reuses an earlier one's takes and stems gives the same track as a fresh render while
singing only the lines that changed. Fake engine; the beat is the real generator."""

import json

import numpy as np
import pytest

from airap.errors import InputError
from airap.kept import TAKES_DIR
from airap.render import Renderer, RenderRequest
from fakes import FakeEngine

SONG = """[verse]
every word is on the grid
never skip a single line
run it back and keep it tight
hold the beat until the end"""


def edited(song: str, k: int, words: str) -> str:
    lines = song.splitlines()
    lines[k] = words
    return "\n".join(lines)


def render(tmp_path, name, lyrics, threads=2, reuse=None):
    engine = FakeEngine()
    result = Renderer(engine, threads=threads).render(RenderRequest(lyrics=lyrics, bpm=96, seed=3), tmp_path / name,
                                                      reuse=reuse)
    return result, engine


def test_parallel_render_equals_sequential(tmp_path):
    one, _ = render(tmp_path, "one", SONG, threads=1)
    two, _ = render(tmp_path, "two", SONG, threads=2)
    assert np.array_equal(one.track.mix, two.track.mix)
    assert [ln.start for ln in one.track.lines] == [ln.start for ln in two.track.lines]


def test_one_line_edit_resings_only_that_line_and_matches_a_fresh_render(tmp_path):
    first, _ = render(tmp_path, "first", SONG)
    assert (tmp_path / "first" / TAKES_DIR / "manifest.json").exists()
    song2 = edited(SONG, 3, "run it back and make it right")  # lyric line 3 (the header is row 0)
    again, engine = render(tmp_path, "again", song2, reuse=tmp_path / "first")
    assert [lp.first_bar for lp in again.plan.lines] == [lp.first_bar for lp in first.plan.lines]  # nothing moved
    assert [text for text, _ in engine.sung] == ["run it back and make it right"]
    assert again.reuse.lines_sung == (3,)
    assert any("sung again (changed): line 3" in w for w in again.track.warnings)
    fresh, _ = render(tmp_path, "fresh", song2)
    assert np.array_equal(again.track.mix, fresh.track.mix)
    # the new folder keeps every take it used, so a chain of edits keeps reusing
    third, engine3 = render(tmp_path, "third", song2, reuse=tmp_path / "again")
    assert engine3.sung == [] and third.reuse.lines_sung == ()


def test_lines_moved_to_later_bars_are_still_reused(tmp_path):
    """An edit that makes line 3 a bar longer moves line 4: its durations come out of later slot
    times, equal up to float rounding, and it is reused (the digest rounds durations to 1 µs)."""
    render(tmp_path, "first", SONG)
    song2 = edited(SONG, 3, "jump it back and keep it tight")
    again, engine = render(tmp_path, "again", song2, reuse=tmp_path / "first")
    fresh, _ = render(tmp_path, "fresh", song2)
    assert again.plan.lines[3].first_bar > 5 and again.reuse.lines_sung == (3,)
    assert [ln.start for ln in again.track.lines] == pytest.approx([ln.start for ln in fresh.track.lines], abs=1e-6)
    assert np.abs(again.track.mix - fresh.track.mix).max() < 1e-2


def test_rendering_into_the_same_folder_drops_the_old_take(tmp_path):
    render(tmp_path, "out", SONG)
    takes = tmp_path / "out" / TAKES_DIR
    before = {p.name for p in takes.glob("*.npz")}
    _, engine = render(tmp_path, "out", edited(SONG, 1, "every word is on the beat"))
    after = {p.name for p in takes.glob("*.npz")}
    assert len(engine.sung) == 1 and len(before) == len(after) and before != after


def test_kept_takes_of_another_engine_or_damaged_are_ignored_never_wrong(tmp_path):
    first, _ = render(tmp_path, "first", SONG)
    takes = tmp_path / "first" / TAKES_DIR
    for path in list(takes.glob("*.npz"))[:2]:
        path.write_bytes(b"not a take")  # damaged: those lines are sung again
    again, engine = render(tmp_path, "again", SONG, reuse=tmp_path / "first")
    assert len(engine.sung) == 2 and any("2 kept takes could not be read" in w for w in again.track.warnings)
    assert np.array_equal(again.track.mix, first.track.mix)
    manifest = json.loads((takes / "manifest.json").read_text())
    (takes / "manifest.json").write_text(json.dumps({**manifest, "engine": "kokoro:123"}))
    other, engine = render(tmp_path, "other", SONG, reuse=tmp_path / "first")
    assert other.reuse.reused == 0 and other.reuse.lines_sung == (1, 2, 3, 4)
    assert any("rendered by kokoro:123" in w and "every line is sung" in w for w in other.track.warnings)
    assert np.array_equal(other.track.mix, first.track.mix)


def test_reuse_of_a_folder_that_is_no_render(tmp_path):
    with pytest.raises(InputError, match="not a folder of an earlier render"):
        render(tmp_path, "x", SONG, reuse=tmp_path / "missing")
    (tmp_path / "plain").mkdir()
    result, engine = render(tmp_path, "y", SONG, reuse=tmp_path / "plain")
    assert result.reuse.reused == 0 and any("has no kept takes" in w for w in result.track.warnings)


def test_the_beat_stems_are_kept_and_not_played_again(tmp_path, monkeypatch):
    import airap.beat.generate as generate

    played = []
    real = generate.render_midi
    monkeypatch.setattr(generate, "render_midi", lambda *a, **k: (played.append(1), real(*a, **k))[1])
    first, _ = render(tmp_path, "first", SONG)
    assert len(list((tmp_path / "first" / TAKES_DIR).glob("stem-*.npy"))) == 3 and played
    played.clear()
    again, _ = render(tmp_path, "again", SONG, reuse=tmp_path / "first")
    assert played == [] and np.array_equal(again.track.mix, first.track.mix)
