"""Our acoustic model, for real but tiny: a handful of lines read by the Kokoro teacher, a few
training steps, then masked free-running inference."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    from airap.acoustic import load_engine
    from airap.corpus import write_shard
    from airap.training.corpus import CorpusRecipe, Reading, make_utterance

    folder = tmp_path_factory.mktemp("corpus")
    engine = load_engine("kokoro")
    lines = [("en", "run it back"), ("en", "flow so cold"), ("zh", "我们一起走"), ("en", "beat on the grid"),
             ("zh", "节奏很好"), ("en", "never skip a word")]
    # every third line rapped on a flow plan (92 BPM, straight 16ths), the rest read at natural pace
    readings = [Reading(i % 2, i % 3 == 0, 92.0, "straight") for i in range(len(lines))]
    utts = [make_utterance(engine, text, lang, r, CorpusRecipe().voices) for (lang, text), r in zip(lines, readings)]
    write_shard(folder / "shard_00000.npz", [u for u in utts if u is not None])
    return folder


@pytest.mark.models
def test_corpus_features_match_teacher_frames(tiny_corpus):
    from airap.corpus import load, load_audio
    from airap.waveform import FEATURE_DIM

    utts = load(tiny_corpus)
    assert len(utts) == 6
    assert [u["rapped"] for u in utts] == [True, False, False, True, False, False]
    audio = load_audio(tiny_corpus / "shard_00000.npz")
    for u, a in zip(utts, audio):
        assert "audio" not in u and len(a) == 600 * u["frames"].sum() and a.dtype == np.int16
    for u in utts:
        assert u["feats"].shape == (2 * u["frames"].sum(), FEATURE_DIM)
        assert len(u["ids"]) == len(u["frames"]) and u["frames"].min() >= 1


def test_corpus_folder_of_another_recipe_is_refused(tmp_path):
    from dataclasses import replace

    from airap.errors import SetupError
    from airap.training.corpus import CorpusRecipe, check_recipe

    check_recipe(tmp_path, CorpusRecipe())
    check_recipe(tmp_path, CorpusRecipe())  # the same recipe resumes
    with pytest.raises(SetupError, match="another recipe"):
        check_recipe(tmp_path, replace(CorpusRecipe(), rapped_share=0.5))


@pytest.mark.models
def test_tiny_training_loss_falls_and_masked_inference_is_complete(tiny_corpus, tmp_path):
    from dataclasses import replace

    from airap.acoustic.tacotron.config import TINY, TrainConfig
    from airap.acoustic.tacotron.model import Tacotron2
    from airap.align import check_health
    from airap.corpus import load
    from airap.training.train import train

    result = train(tiny_corpus, tmp_path / "run", TINY, replace(TrainConfig(), batch_size=6, lr=3e-3), minutes=5,
                   max_steps=60, log=lambda *_: None)
    hist = result["history"]
    first = np.mean([h["feat"] + h["att"] for h in hist[:2]])
    last = np.mean([h["feat"] + h["att"] for h in hist[-2:]])
    assert last < first * 0.9
    state = torch.load(tmp_path / "run" / "last.pt", weights_only=False)
    model = Tacotron2(TINY)
    model.load_state_dict(state["model"])
    model.eval()
    for u in load(tiny_corpus):
        _, attn, stopped = model.infer(torch.tensor([u["ids"]]), torch.tensor([u["speaker"]]), use_mask=True)
        h = check_health(attn.numpy(), stopped)
        assert not h.skipped_tokens and not h.repeated_tokens and h.backward_steps == 0 and h.stopped, h.reason()
    # resume: a second call continues from the checkpoint
    again = train(tiny_corpus, tmp_path / "run", TINY, replace(TrainConfig(), batch_size=6), minutes=5,
                  max_steps=62, log=lambda *_: None)
    assert again["step"] == 62


def test_feature_warp_hits_target_boundaries():
    from airap.acoustic.tacotron.engine import warp_features

    feats = np.stack([np.repeat(np.arange(3.0), [4, 6, 2]), np.ones(12)], axis=1).astype(np.float32)
    out = warp_features(feats, np.array([0, 4, 10, 12.0]), np.array([0, 8, 11, 15.0]))
    assert len(out) == 15
    assert np.allclose(out[:7, 0], 0) and np.allclose(out[9:10, 0], 1) and np.allclose(out[12:, 0], 2)


@pytest.mark.models
def test_tiny_fastspeech_training_loss_falls_and_durations_are_exact(tiny_corpus, tmp_path):
    from dataclasses import replace

    from airap.acoustic.tacotron.config import FAST_TINY, TrainConfig
    from airap.acoustic.tacotron.model import FastSpeechLite
    from airap.corpus import load
    from airap.training.train import train

    result = train(tiny_corpus, tmp_path / "fast", FAST_TINY, replace(TrainConfig(), batch_size=6, lr=3e-3), minutes=5,
                   max_steps=60, log=lambda *_: None, kind="fastspeech")
    hist = result["history"]
    assert np.mean([h["post"] for h in hist[-2:]]) < 0.9 * np.mean([h["post"] for h in hist[:2]])
    model = FastSpeechLite(FAST_TINY)
    model.load_state_dict(torch.load(tmp_path / "fast" / "last.pt", weights_only=False)["model"])
    model.eval()
    u = load(tiny_corpus)[0]
    planned = torch.tensor([[3] * len(u["ids"])])
    feats, frames = model.infer(torch.tensor([u["ids"]]), torch.tensor([u["speaker"]]), planned)
    assert feats.shape[0] == 3 * len(u["ids"]) and frames.tolist() == planned[0].tolist()

    # exported: the spread of envelope and pitch measured on the corpus, stored with the weights, the manifest still true
    from airap.acoustic.tacotron.checkpoint import TacotronModel
    from airap.training.export import export
    from airap.waveform.world import N_MGC

    path = export(tmp_path / "fast" / "last.pt", tiny_corpus, out_dir=tmp_path / "export")
    net = TacotronModel(path, kind="fastspeech")  # checks the file against its manifest
    assert net.spread is not None and len(net.spread.envelope) == N_MGC and net.spread.envelope[0] == 1.0
    assert net.spread.pitch > 0
    restored, _ = net.infer_durations(list(u["ids"]), int(u["speaker"]), planned[0].numpy())
    flat, _ = net.infer_durations(list(u["ids"]), int(u["speaker"]), planned[0].numpy(), restore=False)
    assert restored.shape == flat.shape and not np.allclose(restored, flat)
