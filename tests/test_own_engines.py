"""Our shipped models behind the same engine interface, end to end (weights in src/airap/models)."""

import json

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("torch")

from airap.acoustic.tacotron.checkpoint import default_weights  # noqa: E402

pytestmark = pytest.mark.models


@pytest.mark.parametrize("engine", ["fast", "tacotron"])
def test_render_with_our_engine(engine, tmp_path):
    if not default_weights("fastspeech" if engine == "fast" else "tacotron").exists():
        pytest.fail("shipped weights are missing from src/airap/models")
    from airap.render import Renderer, RenderRequest

    r = Renderer(engine)
    res = r.render(RenderRequest(lyrics="Run it back, run it back\n我们一起走", bpm=96), tmp_path)
    t = json.loads((tmp_path / "timings.json").read_text())
    sylls = [s for ln in t["lines"] for w in ln["words"] for s in w["syllables"]]
    assert len(sylls) == 6 + 5
    # the plan is applied exactly (fast: to half a 12.5 ms frame; tacotron: by feature warping)
    assert max(abs(s["vowel_onset"] - s["slot_time"]) for s in sylls) < 0.007
    vocals, sr = sf.read(tmp_path / "vocals.wav")
    mono = np.abs(vocals.mean(axis=1))
    sounding = [mono[int(s["vowel_onset"] * sr): int((s["vowel_onset"] + 0.06) * sr)].max() for s in sylls]
    assert np.mean(np.array(sounding) > 0.01) > 0.8
    assert res.track.duration > 5


def test_manifests_match_weights():
    import hashlib

    for kind in ("tacotron", "fastspeech"):
        path = default_weights(kind)
        manifest = json.loads(path.with_suffix(".json").read_text())
        assert manifest["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert manifest["dtype"] == "float16" and manifest["steps"] > 0


def test_the_catalogue_lists_the_voices_each_shipped_model_knows():
    from airap import catalog
    from airap.acoustic.tacotron.checkpoint import TacotronModel

    for engine, kind in (("fast", "fastspeech"), ("tacotron", "tacotron")):
        assert catalog.engine_voices(engine) == tuple(TacotronModel(default_weights(kind), kind=kind).voices), engine


def test_a_damaged_checkpoint_is_a_setup_error_that_names_it(tmp_path):
    import shutil

    pytest.importorskip("torch")
    from airap.acoustic.tacotron.checkpoint import TacotronModel, default_weights
    from airap.errors import SetupError

    shipped = default_weights("fastspeech")
    weights = tmp_path / "fastspeech.pt"
    shutil.copy(shipped, weights)
    shutil.copy(shipped.with_suffix(".json"), tmp_path / "fastspeech.json")
    assert TacotronModel(weights, kind="fastspeech").digest  # the intact copy loads
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(SetupError, match=r"fastspeech\.pt are damaged.*git checkout"):
        TacotronModel(weights, kind="fastspeech")
    (tmp_path / "fastspeech.json").unlink()  # no manifest: torch itself must fail cleanly on a truncated file
    weights.write_bytes(bytes(data[:1000]))
    with pytest.raises(SetupError, match="cannot read the fastspeech weights"):
        TacotronModel(weights, kind="fastspeech")
