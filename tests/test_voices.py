"""The cast: voice packs (fetched and checked at set-up), catalogue entries, defaults by language,
aliases, and the timbre transforms (lengths kept, effects measurable). No model runs here."""

import io
import tarfile

import numpy as np
import pytest

from airap import catalog
from airap.acoustic import SungLine
from airap.acoustic.timbre import apply_timbre, robotize, shift_pitch_and_formants, telephone
from airap.acoustic.voicepacks import PACK_SHAPE, PACKS_FILE, load_packs, packs_from_tarball
from airap.align import Alignment
from airap.errors import SetupError
from airap.request import RenderRequest, resolve
from airap.text import parse_lyrics

SR = 24000


def test_every_character_is_made_of_installed_packs():
    packs = load_packs()
    for v in catalog.VOICES.values():
        for lang in v.languages:
            style = v.style_for(lang)
            assert style.timbre and style.packs <= set(packs), (v.name, lang)
        assert v.default_lang in v.languages and v.description and v.tags
        assert v.timbre.effect in (None, "robot", "telephone")
    assert len(catalog.VOICES) >= 16
    assert all(alias not in catalog.VOICES and target in catalog.VOICES for alias, target in catalog.ALIASES.items())


def test_a_corrupt_or_missing_pack_cache_says_how_to_repair(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRAP_CACHE", str(tmp_path))
    with pytest.raises(SetupError, match="airap setup"):
        load_packs()
    real = load_packs.__globals__["cache_dir"]()  # the monkeypatched cache folder
    (real / PACKS_FILE).write_bytes(b"not an npz")
    (real / PACKS_FILE).with_suffix(".json").write_text('{"sha256": "00"}')
    with pytest.raises(SetupError, match="corrupt.*airap setup"):
        load_packs()


def test_a_pack_of_the_wrong_size_is_refused(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, size in (("zf_good.bin", int(np.prod(PACK_SHAPE)) * 4), ("zf_bad.bin", 100)):
            info = tarfile.TarInfo(f"package/voices/{name}")
            info.size = size
            tar.addfile(info, io.BytesIO(bytes(size)))
    (tmp_path / "p.tgz").write_bytes(buf.getvalue())
    with pytest.raises(SetupError, match="zf_bad.bin"):
        packs_from_tarball(tmp_path / "p.tgz")


def test_default_character_follows_the_lyrics_language():
    voices = catalog.engine_voices("kokoro")
    for lyrics, lang in (("Run it back, run it back", "en"), ("这个节奏真的很好\n我们一起走", "zh")):
        settings = resolve(RenderRequest(lyrics=lyrics), parse_lyrics(lyrics), voices)
        assert settings.line_voices[0] == catalog.DEFAULT_VOICES[lang]
        assert lang in catalog.VOICES[catalog.DEFAULT_VOICES[lang]].languages


def test_old_names_still_work():
    for old, new in catalog.ALIASES.items():
        assert catalog.get_voice(old).name == new


def test_unknown_character_suggests_close_names():
    with pytest.raises(Exception, match="did you mean"):
        catalog.get_voice(next(iter(catalog.VOICES))[:-1] + "x")


def _tone(f0: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12))).astype(np.float32)


def _f0(y: np.ndarray) -> float:
    import librosa

    f0, voiced, _ = librosa.pyin(y, fmin=60, fmax=800, sr=SR, frame_length=1024)
    return float(np.nanmedian(f0[voiced]))


def test_pitch_shift_keeps_length_and_moves_pitch():
    y = _tone(150.0)
    up = shift_pitch_and_formants(y, SR, 5.0)
    assert len(up) == len(y)
    assert _f0(up) == pytest.approx(150.0 * 2 ** (5 / 12), rel=0.04)


def test_robot_hums_at_one_pitch_and_telephone_cuts_the_lows():
    y = _tone(180.0) * np.linspace(0.2, 1, SR).astype(np.float32)
    robot = robotize(y, SR)
    assert len(robot) == len(y) and _f0(robot) == pytest.approx(110.0, rel=0.05)
    low = _tone(100.0) * 0.0 + (0.3 * np.sin(2 * np.pi * 120 * np.arange(SR) / SR)).astype(np.float32)
    phone = telephone(low, SR)
    assert len(phone) == len(low) and np.sqrt(np.mean(phone**2)) < 0.2 * np.sqrt(np.mean(low**2))


def test_apply_timbre_keeps_alignment_length_and_loudness():
    y = _tone(200.0)
    sung = SungLine(audio=y, sample_rate=SR, alignment=Alignment(syllables=[], duration=1.0))
    out = apply_timbre(sung, semitones=-4.0, effect="telephone")
    assert len(out.audio) == len(y) and out.alignment is sung.alignment
    assert np.sqrt(np.mean(out.audio**2)) == pytest.approx(np.sqrt(np.mean(y**2)), rel=1e-3)
    assert apply_timbre(sung) is sung
