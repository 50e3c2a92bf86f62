"""End to end with the real Kokoro engine, checked on the audio, not only on timings.json."""

import json

import numpy as np
import pytest
import soundfile as sf

from airap.render import RenderRequest

pytestmark = pytest.mark.models


def _onsets_of_vocal(path):
    import librosa

    y, sr = sf.read(path)
    y = y.mean(axis=1) if y.ndim == 2 else y
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=256)
    return librosa.onset.onset_detect(onset_envelope=env, sr=sr, hop_length=256, units="time", backtrack=False)


def test_two_lines_render_on_the_grid(renderer, tmp_path):
    lyrics = "Run it back, I never let it go\n这个节奏真的很好"
    res = renderer.render(RenderRequest(lyrics=lyrics, bpm=92, beat="boom-bap", formats=("wav", "mp3")), tmp_path)
    names = {p.name for p in res.files}
    assert {"mix.wav", "mix.mp3", "vocals.wav", "beat.wav", "beat.mid", "timings.json", "lyrics.lrc"} <= names
    mix, sr = sf.read(tmp_path / "mix.wav")
    vocals, _ = sf.read(tmp_path / "vocals.wav")
    beat, _ = sf.read(tmp_path / "beat.wav")
    assert mix.shape == vocals.shape == beat.shape and sr == 44100
    t = json.loads((tmp_path / "timings.json").read_text())
    sylls = [s for ln in t["lines"] for w in ln["words"] for s in w["syllables"]]
    assert len(sylls) == 9 + 8  # nothing skipped, nothing repeated
    assert t["bpm"] == 92 and len(t["downbeats"]) >= 3
    for s in sylls:
        assert abs(s["vowel_onset"] - s["slot_time"]) < 0.010
    # Independent check on the vocal stem: a detected onset near most planned slots, and the
    # vocal is actually sounding during each syllable.
    onsets = _onsets_of_vocal(tmp_path / "vocals.wav")
    near = [np.min(np.abs(onsets - s["slot_time"])) < 0.06 for s in sylls]
    assert np.mean(near) >= 0.7, np.mean(near)
    mono = np.abs(vocals.mean(axis=1))
    for s in sylls:
        seg = mono[int(s["vowel_onset"] * sr): int((s["vowel_onset"] + 0.05) * sr)]
        assert seg.max() > 0.01
    lrc = (tmp_path / "lyrics.lrc").read_text()
    assert lrc.count("[0") >= 2 and "<" in lrc


def test_existing_files_survive_a_failed_render(renderer, tmp_path):
    import pytest

    from airap.errors import InputError

    (tmp_path / "mix.wav").write_bytes(b"precious")
    with pytest.raises(InputError):
        renderer.render(RenderRequest(lyrics="🔥🔥"), tmp_path)
    assert (tmp_path / "mix.wav").read_bytes() == b"precious"


def test_lines_sung_in_parallel_are_the_lines_sung_one_by_one(renderer):
    """Kokoro's sessions run from several threads at once (``parallel_safe``): a render on 2 threads
    is bit-identical to one on 1 (each engine call is on one thread, so neither depends on timing)."""
    from airap.render import Renderer

    req = RenderRequest(lyrics="Run it back, run it back\n我们一起唱到天亮\nNever skip a single word", bpm=96)
    assert renderer.threads == 2
    assert np.array_equal(renderer.render(req).track.mix, Renderer("kokoro", threads=1).render(req).track.mix)


def test_a_character_raps_mandarin_in_its_own_english_register(renderer):
    """A character whose Mandarin prosody donor speaks higher or lower than it does (``mandarin_f0``)
    is heard at its own pitch in both languages: pyin on the audio, not the plan."""
    import librosa

    from airap import catalog
    from airap.text import analyze_line

    def median_hz(text: str, lang: str, voice: str) -> float:
        line, _ = analyze_line(text, lang)
        y = renderer.engine.teacher_read(line, voice).audio
        f0, voiced, _ = librosa.pyin(y, fmin=60, fmax=500, sr=renderer.engine.sample_rate, frame_length=1024)
        return float(np.nanmedian(f0[voiced]))

    moved = [v for v in catalog.VOICES.values() if v.zh is not None and v.zh.f0_semitones]
    assert moved
    for v in moved:
        en = median_hz("Every word I write is for the people in the crowd", "en", v.name)
        zh = median_hz("每天练习从来不害怕我会一直唱到天涯", "zh", v.name)
        assert abs(12 * np.log2(zh / en)) < 2.0, (v.name, en, zh)


def test_kokoro_sings_a_line_s_last_syllable_out_loud_whatever_its_tail(renderer):
    """Kokoro fades the last ~0.5 s before an utterance ends; a line planned to end just before the
    next downbeat (no rest, the 0.15-s tail) used to lose its last syllable (大 at -94 dB). The
    engine gives the model room after the line and cuts it back: the line keeps its planned length,
    its last syllable is sung, and nothing is said after it."""
    from airap.acoustic import LINE_LEAD_IN, LINE_TAIL
    from airap.acoustic.kokoro import END_FADE, END_RELEASE
    from airap.text import analyze_line

    engine = renderer.engine
    line, _ = analyze_line("我从小就在街头长大", "zh")
    natural = engine.natural_timing(line, "xi")
    durations = [list(s.phoneme_durations) for s in natural.syllables]
    durations[-1][-1] = 0.25
    sung = engine.sing(line, "xi", durations, [0.0] * len(durations), lead_in=LINE_LEAD_IN, tail=LINE_TAIL)
    sr, spans = sung.sample_rate, sung.alignment.syllables
    assert len(sung.audio) / sr < spans[-1].end + LINE_TAIL + 0.1  # the model's extra room is cut back

    def level_db(start: float, end: float) -> float:
        x = sung.audio[int(start * sr):int(end * sr)]
        return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20))

    levels = [level_db(s.vowel_onset, s.end) for s in spans]
    assert levels[-1] > np.median(levels) - 20.0, levels
    assert not np.any(sung.audio[int((spans[-1].end + END_RELEASE + END_FADE) * sr) + 1:])


def _level_db(sung, start: float, end: float) -> float:
    x = sung.audio[int(start * sung.sample_rate):int(end * sung.sample_rate)].astype(np.float64)
    return float(10 * np.log10(np.mean(x ** 2) + 1e-20))


HELD_LINES = (("the bill came due", "en", (58, 55, 50, 55)),
              ("我从小就在街头长大", "zh", (60, 62, 64, 62, 60, 62, 64, 62, 60)))


def _last_vowel_second_half_db(engine, voices: dict[str, str]) -> list[float]:
    """Per line of HELD_LINES sung with its last vowel given 0.35 s: the level of that vowel's second
    half against the median of the line's other vowels (dB)."""
    from airap.acoustic import LINE_LEAD_IN, LINE_TAIL
    from airap.acoustic.base import PitchPlan
    from airap.text import analyze_line

    out = []
    for text, lang, notes in HELD_LINES:
        line, _ = analyze_line(text, lang)
        durations = [list(s.phoneme_durations) for s in engine.natural_timing(line, voices[lang]).syllables]
        durations[-1][-1] = 0.35
        sung = engine.sing(line, voices[lang], durations, [0.0] * len(durations), lead_in=LINE_LEAD_IN,
                           tail=LINE_TAIL, pitch=PitchPlan(notes=notes))
        spans = sung.alignment.syllables
        others = np.median([_level_db(sung, s.vowel_onset, s.end) for s in spans[:-1]])
        last = spans[-1]
        out.append(_level_db(sung, (last.vowel_onset + last.end) / 2, last.end) - others)
    return out


def test_kokoro_holds_a_sung_lines_last_vowel_then_releases_it(renderer, monkeypatch):
    """Sung, a line's last vowel keeps its opening level and is released over its length. Kokoro's
    own energy curve lets it decay to breath: the second half of 大 47 dB under the line's other
    vowels (29 dB released), of "due" 12 dB (10 dB)."""
    from airap.acoustic import kokoro

    voices = {"en": "rose", "zh": "xi"}
    held = _last_vowel_second_half_db(renderer.engine, voices)
    monkeypatch.setattr(kokoro, "held_energy", lambda energy, *args, **kwargs: energy)
    own = _last_vowel_second_half_db(renderer.engine, voices)
    assert all(h > o - 0.5 for h, o in zip(held, own)) and np.mean(held) - np.mean(own) > 6.0, (held, own)


@pytest.mark.models
def test_fast_engine_holds_a_sung_lines_last_vowel():
    """FastSpeech-lite holds it to its end, voiced: its own reading faded the last half of 大 by 80 dB,
    of "due" by 32 dB, to a whisper."""
    pytest.importorskip("torch")
    from airap.render import Renderer

    held = _last_vowel_second_half_db(Renderer("fast").engine, {"en": "kumo", "zh": "kumo"})
    assert min(held) > -8.0, held
