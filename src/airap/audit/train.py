"""Train the forced aligner on the teacher corpus (one readable loop, resumable).

Data: where a shard kept the teacher's own audio (corpus recipe cast-1), half of its utterances are
that audio, so the judge learns the sound of Kokoro's renders; the rest are turned back into audio
by our synthesis, as our own engines sound. Half of all of them also go through the render's vocal
chain (high-pass, compression, reverb), since finished vocals.wav stems carry it. Labels: the teacher's symbol of each 5 ms frame, from its durations, moved earlier by its
acoustic lead. Two shards are held out to measure the aligner itself.

    .venv/bin/python -m airap.audit.train --corpus /work/corpus --out runs/aligner --minutes 20
"""

from __future__ import annotations

import argparse
import functools
import math
import random
import time
import zlib
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .aligner import HOP_SECONDS, SAMPLE_RATE, AlignerConfig, build_net, forced_align, log_mel

TEACHER_FRAME = 0.025
# held out to measure the judge itself: one shard of the first corpus, one of cast-1 without and
# one with the teacher's audio (names that a corpus lacks are simply absent)
HELDOUT_SHARDS = ("shard_00015.npz", "shard_en_00033.npz", "shard_00099.npz")
TEACHER_AUDIO_SHARE = 0.5  # of the utterances of a shard that kept the teacher's audio
VOWEL_SYMBOLS = "aeiouyɑɐɒæɔəɚɛɜɨɪɯøœʊʌɤᵻAIOWYˈˌ"  # vowels, diphthong letters, and the stress marks before them


def frame_labels(ids: np.ndarray, frames: np.ndarray, n: int, lead: float) -> np.ndarray:
    """The symbol id sounding at each 5 ms frame centre."""
    bounds = np.round((np.concatenate([[0.0], np.cumsum(frames)]) * TEACHER_FRAME - lead) / HOP_SECONDS, 6)
    k = np.searchsorted(bounds, np.arange(n), side="right") - 1
    return ids[np.clip(k, 0, len(ids) - 1)]


def prepare(corpus: Path, cache: Path, lead: float, log=print) -> None:
    """Corpus shards -> cached (log-mel, labels) per shard; resumable (one file per shard)."""
    from ..corpus import load_audio, load_shard
    from ..mix.chain import vocal_chain
    from ..waveform import synthesize

    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    for path in sorted(Path(corpus).glob("shard_*.npz")):
        out = cache / path.name
        if out.exists():
            continue
        rng = np.random.default_rng(zlib.crc32(path.name.encode()))
        mels, labels, ids_all, frames_all = [], [], [], []
        audio = load_audio(path)
        for k, utt in enumerate(load_shard(path)):
            if audio is not None and rng.random() < TEACHER_AUDIO_SHARE:
                y = audio[k].astype(np.float32) / 32768.0
            else:
                y = synthesize(utt["feats"], SAMPLE_RATE, seed=k)
            if rng.random() < 0.5:
                y = vocal_chain(y, SAMPLE_RATE)
            y = y * 10 ** (rng.uniform(-20, 0) / 20)
            mel = log_mel(y, SAMPLE_RATE)
            mels.append(mel.astype(np.float16))
            labels.append(frame_labels(utt["ids"], utt["frames"], len(mel), lead).astype(np.int16))
            ids_all.append(utt["ids"].astype(np.int16))
            frames_all.append(utt["frames"].astype(np.int16))
        obj = lambda xs: np.array(xs + [None], dtype=object)[:-1]  # noqa: E731 (ragged arrays)
        tmp = out.with_suffix(".tmp.npz")
        np.savez(tmp, mel=obj(mels), labels=obj(labels), ids=obj(ids_all), frames=obj(frames_all))
        tmp.replace(out)
        log(f"prepared {path.name}: {len(mels)} utterances, {time.time() - t0:.0f} s")


def load_cache(cache: Path, heldout: bool) -> list[dict]:
    out = []
    for path in sorted(cache.glob("shard_*.npz")):
        if (path.name in HELDOUT_SHARDS) != heldout:
            continue
        z = np.load(path, allow_pickle=True)
        for k in range(len(z["mel"])):
            out.append({"mel": z["mel"][k].astype(np.float32), "labels": z["labels"][k].astype(np.int64),
                        "ids": z["ids"][k].astype(np.int64), "frames": z["frames"][k].astype(np.int64)})
    return out


def crops(utts: list[dict], batch: int, length: int, rng: random.Random):
    """Random fixed-length crops (zero-padded at the edges of short utterances)."""
    import torch

    x = np.zeros((batch, length, utts[0]["mel"].shape[1]), np.float32)
    y = np.full((batch, length), -100, np.int64)
    for b in range(batch):
        u = utts[rng.randrange(len(utts))]
        n = len(u["mel"])
        s = rng.randrange(max(n - length, 0) + 1)
        m = min(length, n - s)
        x[b, :m], y[b, :m] = u["mel"][s : s + m], u["labels"][s : s + m]
    return torch.from_numpy(x).transpose(1, 2), torch.from_numpy(y)


def boundary_errors(net, cfg: AlignerConfig, log_prior: np.ndarray, utts: list[dict], lead: float) -> dict:
    """Forced-align held-out utterances; error of every symbol start vs its label, and of vowel starts."""
    import torch

    from ..acoustic.tokens import load_vocab

    vocab = load_vocab()
    vowel_ids = {vocab[c] for c in VOWEL_SYMBOLS}
    errs, verrs = [], []
    net.eval()
    with torch.no_grad():
        for u in utts:
            out = net(torch.from_numpy(u["mel"].T[None].copy()))[0].T
            lp = torch.log_softmax(out, -1).numpy().astype(np.float64)
            ids = u["ids"]
            starts = forced_align(lp[:, ids] - cfg.prior_scale * log_prior[ids][None]) * HOP_SECONDS
            truth = np.concatenate([[0.0], np.cumsum(u["frames"])[:-1]]) * TEACHER_FRAME - lead
            e = (starts - truth)[1:] * 1000  # the first start is the file start
            errs += list(e)
            verrs += [d for d, i, prev in zip(e, ids[1:], ids[:-1]) if i in vowel_ids and prev not in vowel_ids]
    net.train()
    errs, verrs = np.abs(np.array(errs)), np.abs(np.array(verrs))
    return {"symbols": len(errs), "within_20ms": round(float(np.mean(errs <= 20)), 4),
            "median_abs_ms": round(float(np.median(errs)), 1),
            "vowel_onsets": len(verrs), "vowel_within_20ms": round(float(np.mean(verrs <= 20)), 4),
            "vowel_p95_abs_ms": round(float(np.percentile(verrs, 95)), 1)}


def train(cache: Path, out: Path, cfg: AlignerConfig, minutes: float, batch: int = 16, length: int = 600,
          lr: float = 2e-3, log=print, init: Path | None = None) -> dict:
    """Train (or resume from ``out/last.pt``) for ``minutes``; ``init``: start from shipped weights
    (e.g. ``models/aligner.pt``) instead of from scratch."""
    import torch

    utts, held = load_cache(cache, heldout=False), load_cache(cache, heldout=True)
    counts = np.bincount(np.concatenate([u["labels"] for u in utts]), minlength=cfg.n_classes) + 1.0
    log_prior = np.log(counts / counts.sum())
    net = build_net(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    step, rng = 0, random.Random(0)
    ckpt = out / "last.pt"
    if ckpt.exists():  # resume
        blob = torch.load(ckpt, map_location="cpu", weights_only=False)
        net.load_state_dict(blob["model"])
        opt.load_state_dict(blob["opt"])
        step = blob["step"]
        rng.setstate(blob["rng"])
        log(f"resumed at step {step}")
    elif init is not None:
        blob = torch.load(init, map_location="cpu", weights_only=False)
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["model"].items()})
        log(f"started from {init} ({blob.get('step')} steps)")
    out.mkdir(parents=True, exist_ok=True)
    log(f"{len(utts)} training / {len(held)} held-out utterances, "
        f"{sum(p.numel() for p in net.parameters()) / 1e6:.2f} M parameters")

    def save(metrics=None):
        torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "step": step, "rng": rng.getstate(),
                    "config": asdict(cfg), "log_prior": log_prior, "metrics": metrics}, ckpt.with_suffix(".tmp"))
        ckpt.with_suffix(".tmp").replace(ckpt)

    t0, loss_sum = time.time(), 0.0
    first = step
    while (done := (time.time() - t0) / (minutes * 60)) < 1.0:
        for g in opt.param_groups:  # the run is time-boxed: short warm-up, cosine decay over the box
            g["lr"] = lr * min(1.0, (step - first + 1) / 200) * 0.5 * (1 + math.cos(math.pi * done))
        x, y = crops(utts, batch, length, rng)
        loss = torch.nn.functional.cross_entropy(net(x), y, ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        loss_sum += loss.item()
        if step % 100 == 0:
            log(f"step {step} loss {loss_sum / 100:.3f} {time.time() - t0:.0f} s")
            loss_sum = 0.0
        if step % 500 == 0:
            save()
    metrics = boundary_errors(net, cfg, log_prior, held, cfg.label_lead)
    log(f"held-out: {metrics}")
    save(metrics)
    return metrics


def export(ckpt: Path, path: Path, corpus: Path, minutes: float | None = None) -> None:
    """fp16 weights + config + class prior (what ForcedAligner loads) and a manifest beside them."""
    import hashlib
    import json

    import torch

    blob = torch.load(ckpt, map_location="cpu", weights_only=False)
    torch.save({"model": {k: (v.half() if v.is_floating_point() else v) for k, v in blob["model"].items()},
                "config": blob["config"], "log_prior": blob["log_prior"].astype(np.float32),
                "step": blob["step"]}, path)
    manifest = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "bytes": path.stat().st_size, "kind": "forced-aligner", "dtype": "float16",
                "parameters": sum(v.numel() for v in blob["model"].values()), "steps": blob["step"],
                "train_minutes": minutes, "config": blob["config"],
                "data": f"teacher corpus ({corpus.name}), WORLD-resynthesised, half through the vocal chain; "
                        f"held out: {', '.join(HELDOUT_SHARDS)}",
                "recipe": "python -m airap.audit.train --corpus CORPUS --out RUN --minutes M --export PATH",
                "metrics_heldout": blob["metrics"]}
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=1))


def main():
    ap = argparse.ArgumentParser(description="train the forced aligner used to check renders (resumable)")
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--cache", default=None, help="prepared features (default: <out>/data)")
    ap.add_argument("--out", default="runs/aligner")
    ap.add_argument("--minutes", type=float, default=20)
    ap.add_argument("--prepare-only", action="store_true")
    ap.add_argument("--init", default=None, help="start from these weights (e.g. src/airap/models/aligner.pt)")
    ap.add_argument("--export", default=None, help="write fp16 weights here after training")
    a = ap.parse_args()
    cfg = AlignerConfig()
    out = Path(a.out)
    cache = Path(a.cache) if a.cache else out / "data"
    log = functools.partial(print, flush=True)
    prepare(Path(a.corpus), cache, cfg.label_lead, log)
    if a.prepare_only:
        return
    train(cache, out, cfg, a.minutes, log=log, init=Path(a.init) if a.init else None)
    if a.export:
        export(out / "last.pt", Path(a.export), Path(a.corpus))


if __name__ == "__main__":
    main()
