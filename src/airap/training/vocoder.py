"""Train the spectral refiner (``waveform.refine``) on the corpus: the teacher's audio against our
synthesis of the teacher's own WORLD features. One readable loop; resumable from ``OUT/last.pt``.

    python -m airap.training.vocoder --corpus /work/corpus-cast --out RUN --minutes 60 [--threads 1]
    python -m airap.training.vocoder --corpus /work/corpus-cast --out RUN --export   # -> src/airap/models/refiner.pt

Only shards that kept the teacher's audio are used. Every tenth of them (index % 10 == VALID_SHARD)
is the validation split: its loss is reported, it never trains. The waveform benchmark measures on
held-out lines the corpus never read (``benchmarks/vocoders.py``).

With ``--student RUN/export/fastspeech.pt`` it learns on that model's features instead (on the
teacher's durations and F0), so it also undoes the student's smoothing; ``--init`` starts it from a
copy-synthesis run.

Loss: multi-resolution log-mel L1 (plus spectral convergence) on the refined waveform after the
iSTFT, so the gain is judged on what a listener gets, not on frames that overlap-add would smear,
and on band energies, the part of the magnitude that matters (see ``waveform/refine.py``).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..corpus import load_audio, load_shard
from ..waveform.fast import synthesize_parts
from ..waveform.refine import (
    FFT_SIZE,
    N_BINS,
    RefinerConfig,
    apply_gain,
    build_network,
    istft,
    network_input,
    stft,
)
from ..waveform.world import FEATURE_DIM, HOP_SECONDS, SAMPLE_RATE

HOP = int(round(HOP_SECONDS * SAMPLE_RATE))
VALID_SHARD = 9  # shard index % 10: the validation split
RESOLUTIONS = ((512, 128, 40), (1024, 256, 80), (2048, 512, 128))  # (window, hop, mel bands) of the loss
MODELS = Path(__file__).resolve().parents[1] / "models"


@dataclass(frozen=True)
class VocoderTrainConfig:
    batch_size: int = 16
    segment_frames: int = 64  # 0.8 s per example
    lr: float = 1e-3
    weight_decay: float = 1e-5
    grad_clip: float = 1.0
    checkpoint_every: int = 200
    valid_every: int = 500
    threads: int = 1
    seed: int = 0


@dataclass
class Batch:
    periodic: object  # torch tensors [B, samples]
    noise: object
    teacher: object
    feats: object  # [B, frames, FEATURE_DIM]


@dataclass
class Clip:
    periodic: np.ndarray  # float32, our synthesis of the teacher's features: the pulse-train part
    noise: np.ndarray  # ... and the noise part
    teacher: np.ndarray  # int16, the teacher's audio
    feats: np.ndarray  # [frames, FEATURE_DIM]


def student_features(student, utt) -> np.ndarray:
    """The student's features for an utterance on the teacher's own durations (ground-truth aligned),
    with the teacher's F0 and voicing: what the student makes of the envelope, on the teacher's time
    line, so the refiner learns to undo the student's smoothing as well as our synthesis's."""
    feats, _ = student.infer_durations(list(utt["ids"]), utt["speaker"], 2 * np.asarray(utt["frames"]))
    feats = feats[: len(utt["feats"])].astype(np.float32)
    feats[:, :2] = utt["feats"][: len(feats), :2]
    return feats


def load_clips(corpus: Path, split: str, min_frames: int, student=None) -> list[Clip]:
    """Utterances with audio of the ``train`` or ``valid`` split, each synthesised once here (from the
    student's features when one is given, else from the teacher's)."""
    clips = []
    for path in sorted(Path(corpus).glob("shard_*.npz")):
        index = int(path.stem.split("_")[1])
        if (index % 10 == VALID_SHARD) != (split == "valid"):
            continue
        audio = load_audio(path)
        if audio is None:
            continue
        for utt, teacher in zip(load_shard(path), audio):
            feats = utt["feats"] if student is None else student_features(student, utt)
            n = min(len(feats) * HOP, len(teacher))
            if n // HOP < min_frames + 1:
                continue
            parts = synthesize_parts(feats)
            clips.append(Clip(parts.periodic[:n], parts.noise[:n], teacher[:n], feats))
    return clips


def input_stats(clips: list[Clip], torch, window, n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = random.Random(seed)
    rows = []
    for clip in rng.sample(clips, min(n, len(clips))):
        p, q = (stft(torch, torch.from_numpy(x), window) for x in (clip.periodic, clip.noise))
        f = torch.from_numpy(_frames(clip.feats, 0, len(p)))
        rows.append(network_input(torch, p, q, f, torch.zeros(1), torch.ones(1)).numpy())
    x = np.concatenate(rows)
    return x.mean(0).astype(np.float32), np.maximum(x.std(0), 1e-3).astype(np.float32)


def _frames(feats: np.ndarray, start: int, count: int) -> np.ndarray:
    idx = np.minimum(np.arange(start, start + count), len(feats) - 1)
    return feats[idx]


def make_batch(clips: list[Clip], cfg: VocoderTrainConfig, rng: random.Random, torch):
    """Random segments, aligned to the feature hop so frame k of the segment is feature frame start + k."""
    n = cfg.segment_frames * HOP
    periodic, noise, teacher, feats = [], [], [], []
    for _ in range(cfg.batch_size):
        clip = rng.choice(clips)
        start = rng.randrange(0, len(clip.periodic) // HOP - cfg.segment_frames)
        periodic.append(clip.periodic[start * HOP : start * HOP + n])
        noise.append(clip.noise[start * HOP : start * HOP + n])
        teacher.append(clip.teacher[start * HOP : start * HOP + n].astype(np.float32) / 32768.0)
        feats.append(_frames(clip.feats, start, cfg.segment_frames + 1))
    return Batch(torch.from_numpy(np.stack(periodic)), torch.from_numpy(np.stack(noise)),
                 torch.from_numpy(np.stack(teacher)), torch.from_numpy(np.stack(feats).astype(np.float32)))


@functools.cache
def _mel(win: int, bands: int):
    import librosa
    import torch

    return torch.from_numpy(librosa.filters.mel(sr=SAMPLE_RATE, n_fft=win, n_mels=bands, fmin=0.0,
                                                fmax=SAMPLE_RATE / 2).astype(np.float32))


def stft_loss(torch, y, target):
    """Multi-resolution loss: spectral convergence + log-mel L1, averaged over the resolutions."""
    total = 0.0
    for win, hop, bands in RESOLUTIONS:
        w = torch.hann_window(win)
        a = torch.stft(y, win, hop, window=w, return_complex=True).abs()
        b = torch.stft(target, win, hop, window=w, return_complex=True).abs()
        mel = _mel(win, bands)
        la = torch.log(torch.matmul(mel, a).clamp_min(1e-5))
        lb = torch.log(torch.matmul(mel, b).clamp_min(1e-5))
        total = total + torch.linalg.norm(b - a) / torch.linalg.norm(b) + (la - lb).abs().mean()
    return total / len(RESOLUTIONS)


def refined(torch, net, batch: Batch, mean, std, window):
    p, q = stft(torch, batch.periodic, window), stft(torch, batch.noise, window)
    gain = net(network_input(torch, p, q, batch.feats, mean, std))
    return istft(torch, apply_gain(torch, p, q, gain), window, batch.periodic.shape[-1])


def train(corpus: Path, out: Path, minutes: float, tcfg: VocoderTrainConfig = VocoderTrainConfig(),
          cfg: RefinerConfig = RefinerConfig(), student: Path | None = None, init: Path | None = None) -> None:
    """Train (or resume from ``out/last.pt``) for ``minutes``. ``student``: learn on that acoustic
    model's features (fastspeech weights) instead of the teacher's; ``init``: start from another
    run's weights and input statistics."""
    import torch

    torch.set_num_threads(tcfg.threads)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    net_student = None
    if student is not None:
        from ..acoustic.tacotron.checkpoint import TacotronModel

        net_student = TacotronModel(student, tcfg.threads, kind="fastspeech")
    train_clips = load_clips(corpus, "train", tcfg.segment_frames, net_student)
    valid_clips = load_clips(corpus, "valid", tcfg.segment_frames, net_student)
    hours = sum(len(c.periodic) for c in train_clips) / SAMPLE_RATE / 3600
    print(f"{len(train_clips)} training clips ({hours:.2f} h), {len(valid_clips)} validation clips, "
          f"loaded in {time.time() - t0:.0f} s", flush=True)
    window = torch.hann_window(FFT_SIZE)
    net = build_network(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=tcfg.lr, weight_decay=tcfg.weight_decay)
    last = out / "last.pt"
    if last.exists():
        state = torch.load(last, map_location="cpu", weights_only=False)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, mean, std, history = state["step"], state["mean"], state["std"], state["history"]
        rng = random.Random()
        rng.setstate(state["rng"])
        print(f"resumed at step {step}", flush=True)
    elif init is not None:
        state = torch.load(init, map_location="cpu", weights_only=False)
        net.load_state_dict({k: v.float() for k, v in state["model"].items()})
        step, history, rng = 0, [{"init": str(init), "init_step": state["step"]}], random.Random(tcfg.seed)
        mean, std = state["mean"], state["std"]
        print(f"started from {init} (step {state['step']})", flush=True)
    else:
        step, history, rng = 0, [], random.Random(tcfg.seed)
        mean, std = input_stats(train_clips, torch, window)
    mean_t, std_t = torch.from_numpy(mean), torch.from_numpy(std)
    valid_rng = random.Random(12345)
    valid = [make_batch(valid_clips, tcfg, valid_rng, torch) for _ in range(4)] if valid_clips else []

    def save():
        tmp = last.with_suffix(".tmp")
        torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(), "step": step, "mean": mean, "std": std,
                    "config": asdict(cfg), "train_config": asdict(tcfg), "history": history,
                    "rng": rng.getstate()}, tmp)
        tmp.replace(last)

    deadline = time.time() + minutes * 60
    started, running = time.time(), []
    while time.time() < deadline:
        batch = make_batch(train_clips, tcfg, rng, torch)
        loss = stft_loss(torch, refined(torch, net, batch, mean_t, std_t, window), batch.teacher)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), tcfg.grad_clip)
        opt.step()
        step += 1
        running.append(float(loss.detach()))
        if step % tcfg.checkpoint_every == 0:
            save()
        if step % tcfg.valid_every == 0 or time.time() >= deadline:
            with torch.no_grad():
                v = [float(stft_loss(torch, refined(torch, net, b, mean_t, std_t, window), b.teacher)) for b in valid]
                base = [float(stft_loss(torch, b.periodic + b.noise, b.teacher)) for b in valid]
            row = {"step": step, "train": round(float(np.mean(running)), 4), "valid": round(float(np.mean(v)), 4),
                   "valid_unrefined": round(float(np.mean(base)), 4),
                   "seconds_per_step": round((time.time() - started) / len(running), 3)}
            history.append(row)
            print(json.dumps(row), flush=True)
            running, started = [], time.time()
    save()


def export(run: Path, corpus: Path | None = None, out_dir: Path = MODELS) -> Path:
    """fp16 weights + input statistics + config, and a manifest with the sha256 and the history."""
    import torch

    state = torch.load(run / "last.pt", map_location="cpu", weights_only=False)
    path = out_dir / "refiner.pt"
    torch.save({"model": {k: v.half() for k, v in state["model"].items()}, "mean": state["mean"], "std": state["std"],
                "config": state["config"], "step": state["step"]}, path)
    recipe = json.loads((corpus / "recipe.json").read_text()) if corpus and (corpus / "recipe.json").exists() else None
    manifest = {"file": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "bytes": path.stat().st_size,
                "kind": "refiner", "dtype": "float16", "parameters": sum(v.numel() for v in state["model"].values()),
                "steps": state["step"], "config": state["config"], "train_config": state["train_config"],
                "corpus_recipe": (recipe or {}).get("name"), "history": state["history"][-5:]}
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=1))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--student", type=Path, default=None, help="learn on this fastspeech model's features")
    ap.add_argument("--init", type=Path, default=None, help="start from this run's last.pt")
    ap.add_argument("--export", action="store_true", help="write the run's weights to src/airap/models/refiner.pt")
    a = ap.parse_args()
    if a.export:
        print(export(a.out, a.corpus))
        return
    train(a.corpus, a.out, a.minutes, VocoderTrainConfig(threads=a.threads), student=a.student, init=a.init)


if __name__ == "__main__":
    main()

__all__ = ["FEATURE_DIM", "N_BINS", "train", "export"]
