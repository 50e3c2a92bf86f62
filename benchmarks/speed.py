"""Speed on one CPU thread: text -> waveform for a 40-character English and a 40-character Mandarin
line with our models and our fast source-filter synthesis, vs Griffin-Lim (32 iterations) on the same
features (the WORLD parameters turned into an STFT magnitude: envelope x harmonic comb at F0, mixed by
aperiodicity) and vs pyworld's own synthesis of the same features. Median of 5.
Prints JSON with zh40_seconds, en40_seconds, griffinlim_seconds.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/speed.py [--tacotron runs/taco/last.pt] [--fast runs/fast/last.pt]
"""

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
os.environ.setdefault("OMP_NUM_THREADS", "1")
EN40 = "If you can't read this, blame a teacher."
ZH40 = "每一句歌词都是我的梦想踩着节拍我一路向前闯从地下室唱到了大舞台每个字都准时落在鼓"


def world_to_magnitude(feats: np.ndarray, sr: int = 24000, n_fft: int = 1024) -> np.ndarray:
    import pyworld as pw

    from airap.waveform.world import N_MGC

    f = feats.astype(np.float64)
    sp = pw.decode_spectral_envelope(np.ascontiguousarray(f[:, 2 : 2 + N_MGC]), sr, n_fft)
    ap = pw.decode_aperiodicity(np.ascontiguousarray(np.minimum(f[:, 2 + N_MGC :], 0)), sr, n_fft)
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    f0 = np.exp(f[:, 0]) * (f[:, 1] > 0.5)
    comb = np.where(f0[:, None] > 0, 0.5 + 0.5 * np.cos(2 * np.pi * freqs[None, :] / np.maximum(f0[:, None], 1)), 1.0)
    return np.sqrt(sp) * ((1 - ap) * comb + ap)


def timed(fn, n=5):
    out, times = None, []
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def main():
    import torch

    from airap.acoustic.tacotron.checkpoint import TacotronModel
    from airap.acoustic.tokens import line_tokens, load_vocab
    from airap.text import analyze_line
    from airap.waveform import HOP_SECONDS, griffinlim_from_logspec, synthesize, world_synthesize

    torch.set_num_threads(1)
    ap = argparse.ArgumentParser()
    ap.add_argument("--tacotron", default=None)
    ap.add_argument("--fast", default=None)
    a = ap.parse_args()
    vocab = load_vocab()
    out = {"threads": 1, "en40_text": EN40, "zh40_text": ZH40, "en_chars": len(EN40), "zh_chars": len(ZH40), "models": {}}
    analyze_line(EN40)  # warm the lexicons (one-off load, not per line)
    analyze_line(ZH40)
    for kind, path in (("tacotron", a.tacotron), ("fastspeech", a.fast)):
        net = TacotronModel(Path(path) if path else None, kind=kind, threads=1)
        res = {}
        for tag, text in (("en40", EN40), ("zh40", ZH40)):
            def run(text=text, net=net):
                ids, _ = line_tokens(analyze_line(text)[0], vocab)
                feats = net.infer_durations(ids, 0)[0] if net.kind == "fastspeech" else net.infer(ids, 0)[0]
                return feats, synthesize(feats)

            sec, (feats, audio) = timed(run)
            res[f"{tag}_seconds"] = round(sec, 4)
            res[f"{tag}_audio_seconds"] = round(len(audio) / 24000, 2)
            mag = world_to_magnitude(feats)
            gl_sec, _ = timed(lambda mag=mag: griffinlim_from_logspec(np.log(mag + 1e-8), n_iter=32), n=3)
            world_sec, _ = timed(lambda feats=feats: world_synthesize(feats))
            ours_sec, _ = timed(lambda feats=feats: synthesize(feats))
            res[f"{tag}_our_synthesis_seconds"] = round(ours_sec, 4)
            res[f"{tag}_world_synthesis_seconds"] = round(world_sec, 4)
            res[f"{tag}_griffinlim32_seconds"] = round(gl_sec, 4)
        out["models"][kind] = res
    first = out["models"].get("fastspeech") or out["models"]["tacotron"]
    out["zh40_seconds"], out["en40_seconds"] = first["zh40_seconds"], first["en40_seconds"]
    out["griffinlim_seconds"] = first["en40_griffinlim32_seconds"]
    out["hop_seconds"] = HOP_SECONDS
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
