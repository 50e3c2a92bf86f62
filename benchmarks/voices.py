"""The cast, measured in one run: per character, rapped at 92 BPM on the shipped flow and read at
natural pace (the same lines): Whisper-base WER (EN) / CER (ZH); speaker similarity (Resemblyzer,
which ships its weights) between every pair of characters on the same lines, with the same-voice /
different-lines figure as its calibration; each character's own English vs Mandarin similarity;
DNSMOS (speechmos) SIG / BAK / OVRL / P.808, rapped vs read; render seconds. Prints JSON and draws the
similarity matrix to docs/voices_similarity.png.

Two verse sets: ``dev`` chose the packs and blends (``--screen`` renders every Kokoro pack on 4 dev
lines per language); ``heldout`` was written separately and never used for a choice: its figures
are the ones reported.

    .venv/bin/python benchmarks/voices.py [--set heldout] [--lines 8] [--workers 2] [--only a,b]
    .venv/bin/python benchmarks/voices.py --screen --set dev --lines 4
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

BPM = 92
VERSES = {
    "dev": {
        "en": ["Pull up to the corner with the bass turned loud", "Every word I write is for the people in the crowd",
               "Started with a notebook and a dream inside my chest", "Now the city knows my name and I don't need the rest",
               "Keep the rhythm steady while the drummer hits the snare", "Count it up from one to ten and I will meet you there",
               "Money on my mind but I keep my family first", "Every single verse I spit is better than the worst"],
        "zh": ["我从小就在街头长大", "每天练习从来不害怕", "音乐是我唯一的方向", "写下每句话给你欣赏",
               "朋友们陪我一起前进", "这座城市听见我声音", "梦想不会因为风停下", "我会一直唱到天涯"],
    },
    "heldout": {
        "en": ["Morning light is breaking and I'm walking down the block", "Headphones on my ears and I'm moving with the clock",
               "Teacher told me slow down but I never learned to wait", "Now I'm running every bar like I'm racing to the gate",
               "Paper planes are flying from the window to the street", "Seven days a week I keep my promise to the beat",
               "If you hear me on the radio remember where I'm from", "Little kid with big ideas and a pocket full of drum"],
        "zh": ["清晨的阳光照进窗户", "我带着耳机走在路途", "老师说慢一点别着急", "可我的节奏从不停息",
               "纸飞机飞过那条小街", "一周七天我都不休歇", "如果你在电台听见我", "别忘了我从哪里走过"],
    },
}
SCREEN_PREFIXES = ("af_", "am_", "bf_", "bm_", "zf_", "zm_", "jf_", "jm_")
GAP = 0.4  # s of silence between natural-pace lines


def _worker_init(screen: bool) -> None:
    os.environ["AIRAP_EVAL_THREADS"] = "1"
    warnings.filterwarnings("ignore")
    import torch

    torch.set_num_threads(1)
    if screen:  # every pack becomes a voice of its own name (benchmark only)
        from airap import catalog
        from airap.acoustic.voicepacks import load_packs

        for pack in load_packs():
            if pack.startswith(SCREEN_PREFIXES):
                catalog.VOICES[pack] = catalog.VoiceEntry(pack, pack, catalog.mix(pack))


_state: dict = {}


def _tools():
    if not _state:
        from resemblyzer import VoiceEncoder

        from airap.render import Renderer

        _state["renderer"] = Renderer("kokoro", threads=1)
        _state["encoder"] = VoiceEncoder("cpu", verbose=False)
    return _state["renderer"], _state["encoder"]


def _embed(encoder, audio: np.ndarray, sr: int) -> np.ndarray:
    from resemblyzer import preprocess_wav

    return encoder.embed_utterance(preprocess_wav(audio.astype(np.float32), source_sr=sr))


def _dnsmos(audio: np.ndarray, sr: int) -> dict:
    import librosa
    from speechmos import dnsmos

    y = librosa.resample(audio.astype(np.float32), orig_sr=sr, target_sr=16000)
    y = 0.9 * y / max(1e-9, float(np.abs(y).max()))
    m = dnsmos.run(y, 16000)
    return {k: round(float(m[k + "_mos"]), 3) for k in ("sig", "bak", "ovrl", "p808")}


# The rapped stem is mostly rests (the beat's intro bars, the rests between lines, the outro: the
# held-out Mandarin verse 18 s of lines in 44 s), and DNSMOS scores those rests as a poor recording
# (session 16: duke 3.11 on the whole stem, 3.89 on its lines, 3.90 read). So the rapped figure is
# taken on the lines alone, each cut from its first syllable to its last (plus a little either
# side) with GAP of silence after it, as the read lines are laid out; the whole stem's is kept beside it.
LINE_MARGIN = (0.05, 0.1)  # s kept before a line's first syllable and after its last


def _sung_lines(audio: np.ndarray, sr: int, spans: list[tuple[str, float, float]]) -> np.ndarray:
    pieces = []
    for _, start, end in spans:
        pieces += [audio[max(0, int((start - LINE_MARGIN[0]) * sr)):int((end + LINE_MARGIN[1]) * sr)],
                   np.zeros(int(GAP * sr), np.float32)]
    return np.concatenate(pieces)


def _rapped(renderer, voice: str, lang: str, lines: list[str]) -> dict:
    from airap.evaluate import score_lines
    from airap.request import RenderRequest

    t = time.perf_counter()
    res = renderer.render(RenderRequest(lyrics="\n".join(lines), voice=voice, bpm=BPM, lang=lang))
    seconds = time.perf_counter() - t
    track = res.track
    audio = track.vocals.mean(axis=1)
    spans = [(ln.text, ln.start, ln.end) for ln in track.lines]
    return {"audio": audio, "sr": track.sample_rate, "spans": spans, "render_s": seconds, "audio_s": track.duration,
            "score": score_lines(audio, track.sample_rate, spans)}


def _natural(renderer, voice: str, lang: str, lines: list[str]) -> dict:
    from airap import catalog
    from airap.acoustic import SungLine, apply_timbre
    from airap.evaluate import score_lines
    from airap.text import analyze_line

    engine = renderer.engine
    timbre = catalog.entry(voice).timbre
    pieces, spans, t = [], [], 0.0
    for text in lines:
        line, _ = analyze_line(text, lang)
        read = SungLine(engine.teacher_read(line, voice).audio, engine.sample_rate, None)
        audio = apply_timbre(read, timbre.semitones, timbre.effect).audio  # the character's own sound
        pieces += [audio, np.zeros(int(GAP * engine.sample_rate), np.float32)]
        spans.append((text, t, t + len(audio) / engine.sample_rate))
        t += len(audio) / engine.sample_rate + GAP
    audio = np.concatenate(pieces)
    return {"audio": audio, "sr": engine.sample_rate, "spans": spans,
            "score": score_lines(audio, engine.sample_rate, spans)}


def measure(voice: str, verse_set: str, n_lines: int) -> dict:
    from airap import catalog

    renderer, encoder = _tools()
    out = {"voice": voice}
    for lang in catalog.entry(voice).languages:  # a line in another language would be sung by a fallback
        lines = VERSES[verse_set][lang][:n_lines]
        rap, nat = _rapped(renderer, voice, lang, lines), _natural(renderer, voice, lang, lines)
        metric = "wer" if lang == "en" else "cer"
        half = rap["spans"][len(rap["spans"]) // 2][1] - 0.1
        cut = int(half * rap["sr"])
        out[lang] = {
            f"rapped_{metric}": rap["score"][f"{metric}_{lang}"], f"natural_{metric}": nat["score"][f"{metric}_{lang}"],
            "rapped_lines": [(ln["text"], ln["heard"]) for ln in rap["score"]["lines"] if ln["error"] > 0],
            "render_s": round(rap["render_s"], 2), "audio_s": round(rap["audio_s"], 2), "dnsmos_rapped": _dnsmos(_sung_lines(rap["audio"], rap["sr"], rap["spans"]), rap["sr"]),
            "dnsmos_rapped_stem": _dnsmos(rap["audio"], rap["sr"]),
            "dnsmos_natural": _dnsmos(nat["audio"], nat["sr"]),
            "emb": _embed(encoder, rap["audio"], rap["sr"]).tolist(),
            "emb_halves": [_embed(encoder, rap["audio"][:cut], rap["sr"]).tolist(),
                           _embed(encoder, rap["audio"][cut:], rap["sr"]).tolist()],
            "emb_natural": _embed(encoder, nat["audio"], nat["sr"]).tolist(),
        }
    return out


def _measure_args(args: tuple) -> dict:
    return measure(*args)


def _cos(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def summarise(rows: list[dict]) -> dict:
    names = [r["voice"] for r in rows]
    n = len(rows)
    sim = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            common = [lang for lang in ("en", "zh") if lang in rows[i] and lang in rows[j]]
            sim[i, j] = np.mean([_cos(rows[i][lang]["emb"], rows[j][lang]["emb"]) for lang in common])
    off = sim - np.eye(n) * 9
    same_voice = [_cos(*r[lang]["emb_halves"]) for r in rows for lang in ("en", "zh") if lang in r]
    # the largest set whose every pair is below 0.85 (greedy: drop the voice with the most close pairs)
    keep = list(range(n))
    while True:
        close = [(sum(off[i, j] >= 0.85 for j in keep if j != i), i) for i in keep]
        worst = max(close)
        if worst[0] == 0:
            break
        keep.remove(worst[1])
    per_voice = {}
    for i, r in enumerate(rows):
        per_voice[r["voice"]] = {
            **{lang: {k: v for k, v in r[lang].items() if not k.startswith("emb")} for lang in ("en", "zh") if lang in r},
            "en_vs_zh_similarity": round(_cos(r["en"]["emb"], r["zh"]["emb"]), 3) if "zh" in r else None,
            "closest": names[int(np.argmax(off[i]))], "closest_similarity": round(float(off[i].max()), 3),
        }
    return {"voices": per_voice, "names": names, "similarity": np.round(sim, 3).tolist(),
            "calibration_same_voice_other_lines": {"mean": round(float(np.mean(same_voice)), 3),
                                                   "min": round(float(np.min(same_voice)), 3)},
            "distinct_below_0.85": [names[i] for i in keep], "n_distinct": len(keep)}


def transform_cost(rows: list[dict]) -> dict:
    """Seconds each timbre transform takes per second of sung audio, beside what the engine took to
    sing it (render seconds per second of the 92 BPM verse, median over the plain characters)."""
    from airap import catalog
    from airap.acoustic import SungLine, apply_timbre

    sr, seconds = 24000, 30.0
    t = np.arange(int(sr * seconds)) / sr
    audio = (0.2 * sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 20))).astype(np.float32)
    line = SungLine(audio, sr, None)
    apply_timbre(SungLine(audio[:sr], sr, None), 1.0, "robot")  # first calls pay librosa's set-up: not counted
    out = {}
    for v in catalog.VOICES.values():
        if v.timbre.semitones or v.timbre.effect:
            t0 = time.perf_counter()
            apply_timbre(line, v.timbre.semitones, v.timbre.effect)
            out[v.name] = round((time.perf_counter() - t0) / seconds, 4)
    plain = [r[lang]["render_s"] / r[lang]["audio_s"] for r in rows for lang in ("en", "zh")
             if lang in r and catalog.entry(r["voice"]).timbre == catalog.Timbre()]
    return {"transform_seconds_per_audio_second": out,
            "render_seconds_per_audio_second": round(float(np.median(plain)), 4) if plain else None}


def draw(summary: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, sim = summary["names"], np.array(summary["similarity"])
    fig, ax = plt.subplots(figsize=(1 + 0.45 * len(names), 0.8 + 0.45 * len(names)))
    im = ax.imshow(sim, vmin=0.5, vmax=1.0, cmap="magma")
    ax.set_xticks(range(len(names)), names, rotation=90)
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            if i != j:
                ax.text(j, i, f"{sim[i, j]:.2f}"[1:], ha="center", va="center", fontsize=6,
                        color="white" if sim[i, j] < 0.85 else "black")
    fig.colorbar(im, ax=ax, fraction=0.04, label="speaker similarity (Resemblyzer, mean of EN and ZH raps)")
    ax.set_title("airap cast: similarity on the same lines (< 0.85 = distinct)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=list(VERSES), default="heldout")
    ap.add_argument("--lines", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default=None, help="comma-separated voice names")
    ap.add_argument("--screen", action="store_true", help="every Kokoro pack as a voice (to choose the cast)")
    ap.add_argument("--png", default="docs/voices_similarity.png")
    ap.add_argument("--rows", default=None, help="also save every measurement (with embeddings) here")
    a = ap.parse_args()
    if a.screen:
        from airap.acoustic.voicepacks import load_packs

        voices = sorted(p for p in load_packs() if p.startswith(SCREEN_PREFIXES))
    else:
        from airap import catalog

        voices = list(catalog.VOICES)
    if a.only:
        voices = [v for v in voices if v in a.only.split(",")]
    from airap.evaluate import whisper_model

    whisper_model(1)  # assemble the model files once, before the workers need them
    t = time.time()
    ctx = multiprocessing.get_context("spawn")
    rows = []
    with ctx.Pool(a.workers, initializer=_worker_init, initargs=(a.screen,)) as pool:
        for row in pool.imap(_measure_args, [(v, a.set, a.lines) for v in voices]):
            rows.append(row)
            print(json.dumps({"voice": row["voice"], **{lang: {k: v for k, v in row[lang].items()
                             if not k.startswith("emb") and k != "rapped_lines"} for lang in ("en", "zh") if lang in row}}),
                  file=sys.stderr, flush=True)
    if a.rows:  # every measurement, embeddings included, to summarise again without rendering
        Path(a.rows).write_text(json.dumps(rows))
    summary = summarise(rows)
    summary["transform_cost"] = transform_cost(rows)
    if a.png and not a.screen:
        draw(summary, a.png)
    summary.update({"set": a.set, "lines_per_language": a.lines, "bpm": BPM, "wall_s": round(time.time() - t, 1)})
    print(json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
