"""Train the beat activation network (``airap.beat.activation``): one readable loop, resumable.

Data: folders built by ``benchmarks/tracking_set.py DIR SEED`` with seeds >= 1000 (airap's generator
in every style on two soundfonts, the benchmark's drum machine with kits drawn from the seed, click
tracks, tempo-varying takes; each with its true beats and downbeats). ``prepare`` turns a folder into
one feature file (the audio may then be deleted). Never trained on: the set's dev and held-out
splits, fresh seeds below 1000 and the General-MIDI loops of ``benchmarks/loop_set.py``.

    .venv/bin/python -m airap.training.beat_net prepare DIR... --cache CACHE
    .venv/bin/python -m airap.training.beat_net train --cache CACHE --out RUN --minutes M --export PATH
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..beat.activation import ANALYSIS_RATE, HOP, N_MELS, BeatNetConfig, log_mel

FPS = ANALYSIS_RATE / HOP
CROP = 2048  # frames per training example (23.8 s: the receptive field)
BATCH = 16
STRETCH = (0.85, 1.18)  # random tempo change of a crop: every tempo in between is seen


def prepare(folders: list[Path], cache: Path, log=print) -> None:
    """Each folder -> CACHE/<folder>.npz: log-mel per file and its beats and downbeats (s)."""
    import soundfile as sf

    cache.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        target = cache / f"{folder.name}.npz"
        if target.exists():
            continue
        truths = json.loads((folder / "truth.json").read_text())
        arrays = {}
        for i, t in enumerate(truths):
            y, sr = sf.read(folder / f"{t['name']}.wav", dtype="float32", always_2d=True)
            arrays[f"mel_{i}"] = log_mel(y.mean(axis=1), sr).astype(np.float16)
            arrays[f"beats_{i}"] = np.asarray(t["beats"], np.float64)
            arrays[f"downbeats_{i}"] = np.asarray(t["downbeats"], np.float64)
        arrays["names"] = np.array([t["name"] for t in truths])
        np.savez(target, **arrays)
        log(f"prepared {folder.name}: {len(truths)} files")


def load_cache(cache: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    items = []
    for path in sorted(cache.glob("*.npz")):
        with np.load(path) as z:
            for i in range(len(z["names"])):
                items.append((z[f"mel_{i}"], z[f"beats_{i}"], z[f"downbeats_{i}"]))
    return items


def build_net(config: BeatNetConfig):
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, d: int):
            super().__init__()
            self.dil = nn.Conv1d(config.channels, config.channels, config.kernel, dilation=d,
                                 padding=d * (config.kernel - 1) // 2)
            self.mix = nn.Conv1d(config.channels, config.channels, 1)
            self.drop = nn.Dropout(0.1)

        def forward(self, h):
            return h + self.mix(self.drop(nn.functional.elu(self.dil(h))))

    class BeatNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Conv1d(N_MELS, config.channels, 3, padding=1)
            self.blocks = nn.ModuleList(Block(d) for d in config.dilations)
            self.out = nn.Conv1d(config.channels, 2, 1)

        def forward(self, x):  # x [B, N_MELS, T] -> logits [B, 2, T]
            h = nn.functional.elu(self.inp(x))
            for b in self.blocks:
                h = b(h)
            return self.out(nn.functional.elu(h))

    torch.manual_seed(0)
    return BeatNet()


def targets(times: np.ndarray, start: float, stretch: float, n: int) -> np.ndarray:
    """Frame targets of a crop: 1 on the frame nearest each event, 0.5 either side (Böck's widening)."""
    out = np.zeros(n, np.float32)
    frames = np.round((times - start) * FPS / stretch).astype(int)
    for off, v in ((-1, 0.5), (1, 0.5), (0, 1.0)):
        f = frames + off
        f = f[(f >= 0) & (f < n)]
        out[f] = np.maximum(out[f], v)
    return out


def example(item, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A random crop, tempo-stretched, tilted and band-masked: features [N_MELS, CROP], targets [2, CROP]."""
    mel, beats, downbeats = item
    stretch = rng.uniform(*STRETCH)
    span = CROP * stretch
    start_f = rng.uniform(0, max(0.0, len(mel) - span))
    src = start_f + np.arange(CROP) * stretch
    lo = np.clip(np.floor(src).astype(int), 0, len(mel) - 1)
    hi = np.clip(lo + 1, 0, len(mel) - 1)
    w = (src - np.floor(src))[:, None]
    x = (1 - w) * mel[lo].astype(np.float32) + w * mel[hi].astype(np.float32)
    x[src >= len(mel)] = 0.0
    x = x + rng.uniform(-0.15, 0.15) * np.linspace(-1, 1, N_MELS)[None] + rng.uniform(-0.1, 0.1)
    if rng.random() < 0.5:
        b0 = int(rng.integers(0, N_MELS - 8))
        x[:, b0:b0 + int(rng.integers(2, 9))] = 0.0
    x = np.clip(x, 0.0, 1.0).astype(np.float32)
    start = start_f / FPS
    y = np.stack([targets(beats, start, stretch, CROP), targets(downbeats, start, stretch, CROP)])
    y[:, src >= len(mel)] = 0.0
    return x.T, y


def train(cache: Path, out: Path, minutes: float, export: Path | None, lr: float = 2e-3, log=print) -> None:
    import torch

    torch.set_num_threads(1)
    items, folders = load_cache(cache), len(list(cache.glob("*.npz")))
    config = BeatNetConfig()
    net = build_net(config)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    out.mkdir(parents=True, exist_ok=True)
    step, spent = 0, 0.0
    if (out / "last.pt").exists():
        state = torch.load(out / "last.pt", weights_only=False)
        net.load_state_dict(state["net"])
        opt.load_state_dict(state["opt"])
        step, spent = state["step"], state["seconds"]
    rng = np.random.default_rng(step)
    budget = spent + minutes * 60
    t0 = time.time() - spent
    while time.time() - t0 < budget:
        # cosine decay over the whole budget (resumes continue the same schedule)
        frac = min(1.0, (time.time() - t0) / budget)
        for g in opt.param_groups:
            g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * frac))
        batch = [example(items[int(rng.integers(len(items)))], rng) for _ in range(BATCH)]
        x = torch.from_numpy(np.stack([b[0] for b in batch]))
        y = torch.from_numpy(np.stack([b[1] for b in batch]))
        net.train()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 500 == 0 and len(list(cache.glob("*.npz"))) != folders:  # a cache still being built
            items, folders = load_cache(cache), len(list(cache.glob("*.npz")))
        if step % 50 == 0:
            log(f"step {step} loss {loss.item():.4f} lr {opt.param_groups[0]['lr']:.2e} {time.time() - t0:.0f}s")
        if step % 200 == 0:
            torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step,
                        "seconds": time.time() - t0}, out / "last.pt")
    torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step, "seconds": time.time() - t0},
               out / "last.pt")
    if export:
        export_weights(net, config, export, step=step, minutes=(time.time() - t0) / 60, files=len(items))


def export_weights(net, config: BeatNetConfig, path: Path, **facts) -> None:
    """fp16 npz + manifest (sha256, config, recipe): what ``airap.beat.activation.load_net`` reads."""
    params = {k: v.detach().numpy().astype(np.float16) for k, v in net.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        np.savez(f, **params)
    manifest = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "bytes": path.stat().st_size, "kind": "beat-activation", "dtype": "float16",
                "parameters": int(sum(v.size for v in params.values())), "config": asdict(config),
                "data": "benchmarks/tracking_set.py seeds >= 1000 (generator, drum machine, clicks, tempo-varying)",
                "recipe": "python -m airap.training.beat_net train --cache CACHE --out RUN --minutes M --export PATH",
                **facts}
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=1) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m airap.training.beat_net")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("folders", nargs="+", type=Path)
    p.add_argument("--cache", type=Path, required=True)
    t = sub.add_parser("train")
    t.add_argument("--cache", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--minutes", type=float, default=30.0)
    t.add_argument("--export", type=Path, default=None)
    a = ap.parse_args(argv)
    if a.cmd == "prepare":
        prepare(a.folders, a.cache)
    else:
        train(a.cache, a.out, a.minutes, a.export)


if __name__ == "__main__":
    main()
