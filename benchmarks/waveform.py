"""Waveform reconstruction from our representation (WORLD features at 12.5 ms), same lines, same run:
the teacher's audio is analysed once, then rebuilt by (a) our fast source-filter synthesis, (b) pyworld's
synthesis, (c) Griffin-Lim (32 iterations) on the STFT magnitude the features describe. Reports Whisper
WER (EN) / CER (ZH) vs the teacher's own audio, log-mel L1 distance to the teacher's audio, and seconds
of synthesis per second of audio on one thread. Prints JSON.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/waveform.py --heldout corpus/heldout.txt --n 40
"""

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).parent))


def main():
    import librosa
    import torch

    from airap.acoustic import load_engine
    from airap.evaluate import _norm_en, _norm_zh, error_rate, transcribe
    from airap.text import analyze_line
    from airap.waveform import griffinlim_from_logspec, synthesize, world_features, world_synthesize
    from speed import world_to_magnitude

    torch.set_num_threads(1)
    ap = argparse.ArgumentParser()
    ap.add_argument("--heldout", default="corpus/heldout.txt")
    ap.add_argument("--n", type=int, default=40, help="lines per language")
    a = ap.parse_args()
    lines = [t.strip() for t in Path(a.heldout).read_text(encoding="utf-8").splitlines() if t.strip()]
    half = len(lines) // 2
    picked = [("en", t) for t in lines[: half : half // a.n][: a.n]] + [("zh", t) for t in lines[half :: half // a.n][: a.n]]
    teacher = load_engine("kokoro", threads=1)
    voices = ["kumo", "alpha", "fox", "mitten", "duo", "shadow", "spark", "mouse"]
    methods = {"ours_fast_source_filter": synthesize, "pyworld_synthesize": world_synthesize,
               "griffinlim32": lambda f: griffinlim_from_logspec(np.log(world_to_magnitude(f) + 1e-8), n_iter=32)}
    systems = ["teacher", *methods]
    scores = {s: {"en": ([], []), "zh": ([], [])} for s in systems}
    seconds = {m: 0.0 for m in methods}
    mel_l1 = {m: [] for m in methods}
    audio_seconds = 0.0

    def logmel(y):
        return np.log(librosa.feature.melspectrogram(y=y, sr=24000, n_fft=1024, hop_length=300, n_mels=80) + 1e-6)

    for i, (lang, text) in enumerate(picked):
        line, _ = analyze_line(text, lang)
        if line is None:
            continue
        audio = teacher.teacher_read(line, voices[i % len(voices)]).audio
        feats = world_features(audio)
        audio_seconds += len(audio) / 24000
        outs = {"teacher": audio}
        for name, fn in methods.items():
            t = time.perf_counter()
            outs[name] = fn(feats)
            seconds[name] += time.perf_counter() - t
        ref_mel = logmel(audio)
        for name in methods:
            m = logmel(outs[name])
            n = min(m.shape[1], ref_mel.shape[1])
            mel_l1[name].append(float(np.mean(np.abs(m[:, :n] - ref_mel[:, :n]))))
        norm = _norm_en if lang == "en" else _norm_zh
        ref = norm(text)
        for name, y in outs.items():
            scores[name][lang][0].extend(ref)
            scores[name][lang][1].extend(norm(transcribe(y, 24000, lang)))
    out = {"lines_per_language": a.n, "audio_seconds": round(audio_seconds, 1), "systems": {}}
    for name in systems:
        row = {"wer_en": round(error_rate(*scores[name]["en"]), 4), "cer_zh": round(error_rate(*scores[name]["zh"]), 4)}
        if name in methods:
            row["log_mel_l1_to_teacher"] = round(float(np.mean(mel_l1[name])), 3)
            row["seconds_per_audio_second"] = round(seconds[name] / audio_seconds, 4)
        out["systems"][name] = row
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
