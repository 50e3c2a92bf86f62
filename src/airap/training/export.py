"""Ship a checkpoint: model weights only, fp16, plus a manifest (sha256, corpus recipe and seed,
steps, metrics). Commit a new version only when it measures better than the one in git.

    python -m airap.training.export RUN/last.pt --corpus corpus --metrics metrics.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import torch

from ..catalog import OWN_MODEL_SPEAKERS

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
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    history = state.get("metrics", {}).get("history", [])
    manifest = {"file": path.name, "sha256": digest, "bytes": path.stat().st_size, "kind": kind, "dtype": "float16",
                "parameters": sum(v.numel() for v in state["model"].values()), "steps": state["step"],
                "train_minutes": history[-1]["minutes"] if history else None, "config": state["config"],
                "train_config": state.get("train_config"), "corpus_recipe": recipe,
                "corpus_utterances": len(list(corpus.glob("shard_*.npz"))) * 50 if corpus else None,
                "final_losses": history[-1] if history else None, "metrics": metrics or {}}
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=1))
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("--corpus", default=None)
    ap.add_argument("--metrics", default=None, help="a JSON file of measured metrics to record")
    a = ap.parse_args()
    metrics = json.loads(Path(a.metrics).read_text()) if a.metrics else None
    print(export(Path(a.checkpoint), Path(a.corpus) if a.corpus else None, metrics))


if __name__ == "__main__":
    main()
