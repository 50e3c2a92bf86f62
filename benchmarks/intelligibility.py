"""Intelligibility of our models vs the teacher on held-out lines (never trained on): Whisper-base
WER (EN) / CER (ZH). Same lines, same run: Kokoro reading them; Kokoro's audio through WORLD
analysis + our fast synthesis (the ceiling of our representation); our Tacotron (masked inference); our
FastSpeech-lite; all of ours through `waveform.synthesize`. Prints JSON.

    .venv/bin/python benchmarks/intelligibility.py --heldout corpus/heldout.txt --n 200 \
        [--tacotron runs/taco/last.pt] [--fast runs/fast/last.pt]
"""

import argparse
import json
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")


def main():
    from airap.acoustic import load_engine
    from airap.acoustic.tacotron.checkpoint import TacotronModel
    from airap.evaluate import _norm_en, _norm_zh, error_rate, transcribe
    from airap.text import analyze_line
    from airap.waveform import synthesize, world_features

    ap = argparse.ArgumentParser()
    ap.add_argument("--heldout", default="corpus/heldout.txt")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--tacotron", default=None)
    ap.add_argument("--fast", default=None)
    a = ap.parse_args()
    lines = [t.strip() for t in Path(a.heldout).read_text(encoding="utf-8").splitlines() if t.strip()]
    half = len(lines) // 2  # the held-out file is EN first, then ZH
    step_en, step_zh = max(1, half // (a.n // 2)), max(1, (len(lines) - half) // (a.n // 2))
    picked = [("en", t) for t in lines[:half:step_en][: a.n // 2]] + [("zh", t) for t in lines[half::step_zh][: a.n // 2]]
    teacher = load_engine("kokoro")
    models = {}
    if a.tacotron:
        models["tacotron_masked"] = TacotronModel(Path(a.tacotron))
    if a.fast:
        models["fastspeech"] = TacotronModel(Path(a.fast), kind="fastspeech")
    systems = ["teacher", "teacher_world_resynth", *models]
    scores = {s: {"en": {"ref": [], "hyp": []}, "zh": {"ref": [], "hyp": []}} for s in systems}
    seconds = {s: 0.0 for s in systems}
    examples = []
    for i, (lang, text) in enumerate(picked):
        line, _ = analyze_line(text, lang)
        if line is None:
            continue
        voice_idx = i % 8
        voice = models[next(iter(models))].voices[voice_idx] if models else "kumo"
        t = time.time()
        read = teacher.teacher_read(line, voice)
        ids, audio = read.ids, read.audio
        seconds["teacher"] += time.time() - t
        audios = {"teacher": (audio, 24000), "teacher_world_resynth": (synthesize(world_features(audio)), 24000)}
        for name, net in models.items():
            t = time.time()
            if net.kind == "fastspeech":
                feats, _ = net.infer_durations(ids, voice_idx)
            else:
                feats, _, _ = net.infer(ids, voice_idx, use_mask=True)
            audios[name] = (synthesize(feats), 24000)
            seconds[name] += time.time() - t
        norm = _norm_en if lang == "en" else _norm_zh
        ref = norm(text)
        row = {"text": text}
        for name, (y, sr) in audios.items():
            heard = transcribe(y, sr, lang)
            scores[name][lang]["ref"].extend(ref)
            scores[name][lang]["hyp"].extend(norm(heard))
            row[name] = heard.strip()
        if i % 25 == 0:
            examples.append(row)
    out = {"lines": len(picked), "systems": {}}
    for name in systems:
        en, zh = scores[name]["en"], scores[name]["zh"]
        out["systems"][name] = {"wer_en": round(error_rate(en["ref"], en["hyp"]), 4),
                                "cer_zh": round(error_rate(zh["ref"], zh["hyp"]), 4),
                                "synth_seconds_total": round(seconds.get(name, 0.0), 1)}
    t_en, t_zh = out["systems"]["teacher"]["wer_en"], out["systems"]["teacher"]["cer_zh"]
    for name in models:
        s = out["systems"][name]
        s["ratio_to_teacher_en"] = round(s["wer_en"] / max(t_en, 1e-3), 2)
        s["ratio_to_teacher_zh"] = round(s["cer_zh"] / max(t_zh, 1e-3), 2)
    out["examples"] = examples[:8]
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
