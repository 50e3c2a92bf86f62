"""Ship a checkpoint: model weights only, fp16, plus a manifest (sha256, corpus recipe and seed,
steps, metrics). Commit a new version only when it measures better than the one in git.

    python -m airap.training.export RUN/last.pt --corpus corpus --metrics metrics.json

A FastSpeech-lite export also measures the spread of envelope and pitch its features lack against
the teacher's (``acoustic/tacotron/spread.py``) on the corpus, and stores it with the weights.
Weights whose corpus is not at hand get it from fresh teacher reads in their own voices:

    python -m airap.training.export --spread-only src/airap/models/fastspeech.pt
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from ..acoustic.tacotron.spread import SPREAD_UTTERANCES, Spread, measure_spread
from ..catalog import OWN_MODEL_SPEAKERS
from ..errors import SetupError

MODELS = Path(__file__).resolve().parents[1] / "models"


def export(checkpoint: Path, corpus: Path | None = None, metrics: dict | None = None, out_dir: Path = MODELS) -> Path:
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    kind = state.get("kind", "tacotron")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{kind}.pt"
    recipe = json.loads((corpus / "recipe.json").read_text()) if corpus and (corpus / "recipe.json").exists() else None
    small = {"kind": kind, "model": {k: v.half() if v.is_floating_point() else v for k, v in state["model"].items()},
             "mean": state["mean"], "std": state["std"], "config": state["config"], "step": state["step"],
             "voices": list((recipe or {}).get("voices") or OWN_MODEL_SPEAKERS)}
    torch.save(small, path)
    history = state.get("metrics", {}).get("history", [])
    manifest = {"file": path.name, "sha256": _sha256(path), "bytes": path.stat().st_size, "kind": kind, "dtype": "float16",
                "parameters": sum(v.numel() for v in state["model"].values()), "steps": state["step"],
                "train_minutes": history[-1]["minutes"] if history else None, "config": state["config"],
                "train_config": state.get("train_config"), "corpus_recipe": recipe,
                "corpus_utterances": len(list(corpus.glob("shard_*.npz"))) * 50 if corpus else None,
                "final_losses": history[-1] if history else None, "metrics": metrics or {}}
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=1))
    if kind == "fastspeech" and corpus is not None:
        add_spread(path, corpus)
    return path


def corpus_utterances(corpus: Path) -> Iterator[dict]:
    """The corpus's utterances in shard order (what the spread is measured on)."""
    for shard in sorted(corpus.glob("shard_*.npz")):
        z = np.load(shard, allow_pickle=True)
        for ids, frames, speaker, feats in zip(z["ids"], z["frames"], z["speaker"], z["feats"]):
            yield {"ids": ids, "frames": frames, "speaker": speaker, "feats": feats}


def teacher_utterances(voices: list[str]) -> Iterator[dict]:
    """Utterances as the corpus builder makes them (training-pool lines of the cast recipe, natural and
    rapped in its shares), read by the teacher in ``voices`` (speaker id = index): for weights whose
    corpus is gone."""
    from ..acoustic import load_engine
    from .corpus import CorpusRecipe, make_utterance, plan_readings, splits

    recipe = replace(CorpusRecipe(), voices=tuple(voices))
    train, _ = splits(CorpusRecipe())
    engine = load_engine("kokoro")
    for (lang, text), reading in zip(train, plan_readings(recipe, train)):
        utt = make_utterance(engine, text, lang, reading, recipe.voices)
        if utt is not None:
            yield utt


def add_spread(path: Path, corpus: Path | None = None) -> Spread:
    """Measure a FastSpeech-lite file's spread of envelope and pitch against the teacher's on the first
    SPREAD_UTTERANCES of ``corpus`` (None: fresh teacher reads in the file's own voices) and store it
    in the file and its manifest."""
    from ..acoustic.tacotron.checkpoint import TacotronModel

    net = TacotronModel(path, kind="fastspeech")
    if net.kind != "fastspeech":
        raise SetupError(f"{path} holds {net.kind} weights; the spread is measured for FastSpeech-lite ones")
    utterances = corpus_utterances(corpus) if corpus is not None else teacher_utterances(net.voices)
    spread = measure_spread(lambda ids, speaker, fpt: net.infer_durations(ids, speaker, fpt, restore=False)[0],
                            itertools.islice(utterances, SPREAD_UTTERANCES))
    table = spread.to_state()
    state = torch.load(path, map_location="cpu", weights_only=False)
    state.update(table)
    torch.save(state, path)
    manifest_path = path.with_suffix(".json")
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"file": path.name}
    manifest.update(sha256=_sha256(path), bytes=path.stat().st_size, **table,
                    spread_measured_on=f"{SPREAD_UTTERANCES} teacher utterances at the teacher's durations")
    manifest_path.write_text(json.dumps(manifest, indent=1))
    return spread


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main():
    warnings.filterwarnings("ignore")  # the text front-end's libraries warn on import (jieba: pkg_resources)
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", help="RUN/last.pt to export, or with --spread-only an exported fastspeech.pt")
    ap.add_argument("--corpus", default=None)
    ap.add_argument("--metrics", default=None, help="a JSON file of measured metrics to record")
    ap.add_argument("--spread-only", action="store_true",
                    help="measure an exported FastSpeech-lite file's spread of envelope and pitch (on --corpus, "
                         "else on fresh teacher reads in its voices) and store it in the file")
    a = ap.parse_args()
    if a.spread_only:
        spread = add_spread(Path(a.checkpoint), Path(a.corpus) if a.corpus else None)
        print(f"envelope {np.round(spread.envelope, 2)}\npitch {spread.pitch:.3f}")
        return
    metrics = json.loads(Path(a.metrics).read_text()) if a.metrics else None
    print(export(Path(a.checkpoint), Path(a.corpus) if a.corpus else None, metrics))


if __name__ == "__main__":
    from ..errors import AirapError

    try:
        main()
    except AirapError as e:  # a missing or damaged file: one line, no traceback
        raise SystemExit(f"airap.training.export: error: {e}") from None
