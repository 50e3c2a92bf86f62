"""One readable training loop (nanoGPT style): config as data, resumable checkpoints.

    python -m airap.training.train --corpus /path/corpus --out runs/taco [--tiny] [--minutes 60]

Resumes from ``out/last.pt`` when it exists (optimizer, step, RNG and feature statistics included;
plain files, so a run survives a move to a new machine).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..acoustic.tacotron.config import EncoderConfig, FastSpeechConfig, TacotronConfig, TrainConfig, config_for
from ..acoustic.tacotron.model import FastSpeechLite, Tacotron2
from ..corpus import load


def feature_stats(utts: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    allf = np.concatenate([u["feats"] for u in utts[:2000]])
    mean, std = allf.mean(0), allf.std(0) + 1e-4
    mean[1], std[1] = 0.0, 1.0  # voicing stays 0/1
    return mean.astype(np.float32), std.astype(np.float32)


def make_batch(utts: list[dict], cfg: EncoderConfig, mean, std):
    """Pad a list of utterances. Targets are grouped r frames per decoder step; the attention target
    of step k is the token the teacher was saying in 25 ms frame k."""
    r = cfg.reduction
    b = len(utts)
    t_max = max(len(u["ids"]) for u in utts)
    steps = max(int(u["frames"].sum()) for u in utts)
    ids = torch.zeros(b, t_max, dtype=torch.long)
    lengths = torch.zeros(b, dtype=torch.long)
    feats = torch.zeros(b, steps * r, cfg.n_features)
    gate = torch.zeros(b, steps)
    frame_mask = torch.zeros(b, steps * r)
    step_mask = torch.zeros(b, steps)
    att_target = torch.zeros(b, steps, dtype=torch.long)
    token_frames = torch.zeros(b, t_max, dtype=torch.long)  # teacher decoder steps per token
    token_pitch = torch.zeros(b, t_max)  # mean normalised log F0 over the token's frames
    for i, u in enumerate(utts):
        n = len(u["ids"])
        ids[i, :n] = torch.from_numpy(u["ids"])
        lengths[i] = n
        k = int(u["frames"].sum())
        f = (u["feats"][: k * r] - mean) / std
        feats[i, : len(f)] = torch.from_numpy(f)
        frame_mask[i, : k * r] = 1
        step_mask[i, :k] = 1
        gate[i, k - 1 :] = 1
        att_target[i, :k] = torch.from_numpy(np.repeat(np.arange(n), u["frames"]))
        token_frames[i, :n] = torch.from_numpy(u["frames"])
        starts = np.concatenate([[0], np.cumsum(u["frames"])[:-1]]) * r
        lf0 = f[:, 0]
        token_pitch[i, :n] = torch.from_numpy(np.array([lf0[a : a + d * r].mean() for a, d in zip(starts, u["frames"])],
                                                       dtype=np.float32))
    speaker = torch.tensor([u["speaker"] for u in utts])
    return ids, lengths, speaker, feats, gate, frame_mask, step_mask, att_target, token_frames, token_pitch


def _token_mse(pred, target, lengths):
    mask = (torch.arange(pred.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)).float()
    return (((pred - target) ** 2) * mask).sum() / mask.sum()


def losses(model, batch, tcfg: TrainConfig):
    ids, lengths, speaker, feats, gate, frame_mask, step_mask, att_target, token_frames, token_pitch = batch
    r = model.cfg.reduction
    m = frame_mask.unsqueeze(2)
    denom = m.sum() * feats.shape[2]
    log_frames = torch.log1p(token_frames.float())
    if isinstance(model, FastSpeechLite):
        out, post, log_dur, pitch = model(ids, lengths, speaker, token_frames * r, token_pitch)
        n = min(out.shape[1], feats.shape[1])
        feat_loss = ((out[:, :n] - feats[:, :n]).abs() * m[:, :n]).sum() / denom
        post_loss = ((post[:, :n] - feats[:, :n]).abs() * m[:, :n]).sum() / denom
        dur_loss = _token_mse(log_dur, log_frames, lengths)
        pitch_loss = _token_mse(pitch, token_pitch, lengths)
        total = feat_loss + post_loss + dur_loss + pitch_loss
        return total, {"feat": feat_loss.item(), "post": post_loss.item(), "dur": dur_loss.item(), "pitch": pitch_loss.item()}
    targets = feats.reshape(feats.shape[0], -1, r * feats.shape[2])
    out, post, gate_logits, attn, log_dur = model(ids, lengths, speaker, targets)
    feat_loss = ((out - feats).abs() * m).sum() / denom
    post_loss = ((post - feats).abs() * m).sum() / denom
    dur_loss = _token_mse(log_dur, log_frames, lengths)
    gate_loss = (F.binary_cross_entropy_with_logits(gate_logits, gate, reduction="none",
                                                    pos_weight=torch.tensor(tcfg.stop_pos_weight)) * step_mask).sum() / step_mask.sum()
    picked = attn.gather(2, att_target.unsqueeze(2)).squeeze(2).clamp_min(1e-6)
    att_loss = -(picked.log() * step_mask).sum() / step_mask.sum()
    total = feat_loss + post_loss + gate_loss + tcfg.attention_weight * att_loss + dur_loss
    return total, {"feat": feat_loss.item(), "post": post_loss.item(), "gate": gate_loss.item(), "att": att_loss.item(),
                   "dur": dur_loss.item()}


def batches(utts: list[dict], size: int, rng: random.Random):
    """Length-bucketed batches (similar lengths together: less padding, less wasted CPU)."""
    order = sorted(range(len(utts)), key=lambda i: int(utts[i]["frames"].sum()) + rng.random() * 8)
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(groups)
    for g in groups:
        yield [utts[i] for i in g]


def save(path: Path, model, opt, step, mean, std, cfg, tcfg, metrics, rng_state):
    tmp = path.with_suffix(".tmp")
    kind = "fastspeech" if isinstance(model, FastSpeechLite) else "tacotron"
    torch.save({"kind": kind, "model": model.state_dict(), "opt": opt.state_dict(), "step": step, "mean": mean, "std": std,
                "config": asdict(cfg), "train_config": asdict(tcfg), "metrics": metrics, "rng": rng_state}, tmp)
    tmp.replace(path)


def train(corpus: Path, out: Path, cfg: TacotronConfig | FastSpeechConfig | None, tcfg: TrainConfig, minutes: float,
          max_steps: int | None = None, log=print, kind: str = "tacotron", init: Path | None = None) -> dict:
    """Train (or resume) a model of `kind` on `corpus` for `minutes` or `max_steps`. cfg None = the
    kind's default config. `init` warm-starts every parameter whose name and shape match."""
    torch.set_num_threads(tcfg.threads)
    cfg = config_for(kind) if cfg is None else cfg
    if (kind == "fastspeech") != isinstance(cfg, FastSpeechConfig):
        raise ValueError(f"a {type(cfg).__name__} cannot configure a {kind} model")
    recipe = corpus / "recipe.json"
    if recipe.exists():  # one speaker embedding per voice the corpus was read by
        cfg = replace(cfg, n_speakers=len(json.loads(recipe.read_text())["voices"]))
    out.mkdir(parents=True, exist_ok=True)
    utts = [u for u in load(corpus) if 2 * int(u["frames"].sum()) <= tcfg.max_frames]
    if not utts:
        raise SystemExit(f"no utterances in {corpus}")
    rng = random.Random(tcfg.seed)
    torch.manual_seed(tcfg.seed)
    model = FastSpeechLite(cfg) if kind == "fastspeech" else Tacotron2(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    step, metrics = 0, {}
    ckpt = out / "last.pt"
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        missing, _ = model.load_state_dict(state["model"], strict=False)
        if missing:  # the architecture grew (a new head): keep the weights, restart the optimizer
            log(f"new parameters initialised: {sorted({k.split('.')[0] for k in missing})}")
        else:
            opt.load_state_dict(state["opt"])
        step, mean, std, metrics = state["step"], state["mean"], state["std"], state["metrics"]
        rng.setstate(state["rng"])
        log(f"resumed at step {step}")
    elif init is not None:  # warm start from shipped fp16 weights (optimizer starts afresh)
        state = torch.load(init, weights_only=False)
        own = model.state_dict()
        matching = {k: v.float() for k, v in state["model"].items() if k in own and own[k].shape == v.shape}
        model.load_state_dict(matching, strict=False)
        mean, std = np.asarray(state["mean"]), np.asarray(state["std"])
        same = len(matching) == len(own)
        step = int(state.get("step", 0)) if same else 0
        log(f"warm start from {init}: {len(matching)}/{len(own)} tensors" + (f" (step {step})" if same else ""))
    else:
        mean, std = feature_stats(utts)
    log(f"{len(utts)} utterances, {sum(u['frames'].sum() for u in utts) * 0.025 / 3600:.2f} h, "
        f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    t0 = time.time()
    seen_shards = len(list(corpus.glob("shard_*.npz")))
    history = metrics.setdefault("history", [])
    done = False
    while not done:
        for group in batches(utts, tcfg.batch_size, rng):
            model.train()
            loss, parts = losses(model, make_batch(group, cfg, mean, std), tcfg)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.grad_clip)
            # gentle decay after warm-up keeps late steps stable
            for g in opt.param_groups:
                g["lr"] = tcfg.lr * min(1.0, 0.5 ** (step / 4000))
            opt.step()
            step += 1
            elapsed = time.time() - t0
            if step % 10 == 0:
                log(f"step {step} loss {loss.item():.3f} " + " ".join(f"{k} {v:.3f}" for k, v in parts.items())
                    + f" ({elapsed / 60:.1f} min)")
                history.append({"step": step, "minutes": round(elapsed / 60, 2), **{k: round(v, 4) for k, v in parts.items()}})
            if step % tcfg.checkpoint_every == 0:
                save(ckpt, model, opt, step, mean, std, cfg, tcfg, metrics, rng.getstate())
            if elapsed > minutes * 60 or (max_steps and step >= max_steps):
                done = True
                break
            if step % 200 == 0 and len(list(corpus.glob("shard_*.npz"))) > seen_shards:
                break  # the corpus is still being built: pick up the new shards
        if not done:
            shards = len(list(corpus.glob("shard_*.npz")))
            if shards > seen_shards:
                seen_shards = shards
                utts = [u for u in load(corpus) if 2 * int(u["frames"].sum()) <= tcfg.max_frames]
                log(f"corpus grew: {len(utts)} utterances")
    save(ckpt, model, opt, step, mean, std, cfg, tcfg, metrics, rng.getstate())
    return {"step": step, "history": history}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--model", choices=["tacotron", "fastspeech"], default="tacotron")
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--init", default=None, help="start from shipped weights (src/airap/models/<kind>.pt)")
    a = ap.parse_args()
    tcfg = replace(TrainConfig(), threads=a.threads, **({"batch_size": a.batch} if a.batch else {}))
    result = train(Path(a.corpus), Path(a.out), config_for(a.model, tiny=a.tiny), tcfg, a.minutes, a.steps,
                   kind=a.model, init=Path(a.init) if a.init else None)
    print(json.dumps({"step": result["step"]}))


if __name__ == "__main__":
    main()
