"""Issue 14, a performance: sung hooks on their notes, their intelligibility, and accents on the beat.
Real renders of the sheets in benchmarks/data/delivery (a rapped verse and a sung hook: one line on
given notes, one on a composed melody), English and Mandarin, with each engine that sings. ``dev_*``
sheets were listened to while the composer and the pitch rules were written; ``heldout_*`` were not; ``fresh_*`` were written in session 11 before its changes and run only after them.

Measured on the files only (vocals.wav and the grid and notes in timings.json):
- pitch: pyin F0 over each sung syllable's steady part (30-80 % of the way from its vowel onset to the
  next syllable) against its note: median absolute error (cents), share of voiced frames within 50;
- intelligibility: Whisper-base WER (EN) / CER (ZH) of the hook lines sung vs the same sheet with the
  hook rapped, and of the verse with accents vs without (same lines, same run);
- accents: onsets found on the vocal stem of the verse (librosa onset detection, not the plan); the
  mean level (the loudest 20-ms RMS within 80 ms of the onset: the vowel after it) and F0 (median
  over the same 80 ms) of onsets within 40 ms of a beat of the grid against the others; the same
  analysis on the render without accents is the baseline.

    .venv/bin/python benchmarks/performance.py [--engines kokoro,fast]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import yaml

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "delivery"
SHEETS = ("dev_en", "dev_zh", "heldout_en", "heldout_zh", "fresh_en", "fresh_zh")
ON_BEAT_S = 0.04
WINDOW_S = 0.08
ANALYSIS_SR = 16000


def rapped(sheet: str) -> str:
    """The same sheet with its hook rapped: no `sing`, no notes."""
    data = yaml.safe_load(sheet)
    for sec in data["sections"]:
        sec.pop("sing", None)
        sec["lines"] = [ln["text"] if isinstance(ln, dict) else ln for ln in sec["lines"]]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _mono(folder: Path) -> tuple[np.ndarray, dict]:
    import librosa
    import soundfile as sf

    y, sr = sf.read(folder / "vocals.wav", dtype="float32")
    y = librosa.resample(y.mean(axis=1), orig_sr=sr, target_sr=ANALYSIS_SR)
    return y, json.loads((folder / "timings.json").read_text(encoding="utf-8"))


def _f0(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import librosa

    f0, voiced, _ = librosa.pyin(y, fmin=60, fmax=900, sr=ANALYSIS_SR, frame_length=1024, hop_length=160)
    return np.where(voiced, f0, np.nan), librosa.times_like(f0, sr=ANALYSIS_SR, hop_length=160)


def pitch_errors(folder: Path) -> list[float]:
    y, t = _mono(folder)
    f0, times = _f0(y)
    errors = []
    for ln in t["lines"]:
        syl = [s for w in ln["words"] for s in w["syllables"]]
        for i, s in enumerate(syl):
            if s["note"] is None:
                continue
            import librosa

            end = syl[i + 1]["start"] if i + 1 < len(syl) else s["end"]
            a = s["vowel_onset"] + 0.3 * (end - s["vowel_onset"])
            b = s["vowel_onset"] + 0.8 * (end - s["vowel_onset"])
            m = (times >= a) & (times < b) & np.isfinite(f0)
            errors += list(np.abs(1200 * np.log2(f0[m] / 440.0) + 6900 - 100 * librosa.note_to_midi(s["note"])))
    return errors


def accent_contrast(folder: Path, section: str | None = "verse") -> dict:
    """Level and F0 of the vocal stem's onsets on the beat vs off it (reads the grid, not the plan),
    over the lines of ``section`` (None: every line), from its first line's start to its last's end."""
    import librosa

    y, t = _mono(folder)
    verse = [ln for ln in t["lines"] if section is None or ln["section"] == section]
    a, b = verse[0]["start"], verse[-1]["end"]
    onsets = librosa.onset.onset_detect(y=y, sr=ANALYSIS_SR, hop_length=160, units="time")
    onsets = onsets[(onsets >= a) & (onsets <= b)]
    f0, times = _f0(y[int(a * ANALYSIS_SR):int(b * ANALYSIS_SR)])
    times = times + a
    beats = np.array(t["beats"])
    rows = {"on": {"db": [], "st": []}, "off": {"db": [], "st": []}}
    for o in onsets:
        seg = y[int(o * ANALYSIS_SR):int((o + WINDOW_S) * ANALYSIS_SR)]
        frame = int(0.02 * ANALYSIS_SR)
        if len(seg) < frame:
            continue
        key = "on" if np.min(np.abs(beats - o)) < ON_BEAT_S else "off"
        rms = np.sqrt(np.convolve(seg ** 2, np.ones(frame) / frame, mode="valid"))
        rows[key]["db"].append(20 * np.log10(rms.max() + 1e-9))
        m = (times >= o) & (times < o + WINDOW_S) & np.isfinite(f0)
        if m.any():
            rows[key]["st"].append(float(np.median(12 * np.log2(f0[m] / 440.0))))
    return {"onsets_on_beat": len(rows["on"]["db"]), "onsets_off_beat": len(rows["off"]["db"]),
            "level_db_on_minus_off": round(float(np.mean(rows["on"]["db"]) - np.mean(rows["off"]["db"])), 2),
            "f0_semitones_on_minus_off": round(float(np.nanmean(rows["on"]["st"]) - np.nanmean(rows["off"]["st"])), 2)}


def intelligibility(folder: Path, section: str) -> float:
    from airap.evaluate import score_lines

    y, t = _mono(folder)
    lines = [(ln["text"], ln["start"], ln["end"]) for ln in t["lines"] if ln["section"] == section]
    r = score_lines(y, ANALYSIS_SR, lines)
    return r.get("wer_en", r.get("cer_zh"))


def main() -> None:
    from airap.render import Renderer
    from airap.request import RenderRequest

    ap = argparse.ArgumentParser()
    ap.add_argument("--engines", default="kokoro,fast")
    ap.add_argument("--sheets", default=",".join(SHEETS), help="which sheets of benchmarks/data/delivery")
    ap.add_argument("--keep", help="keep the renders in this folder (else a temporary one)")
    ap.add_argument("--out", default=str(HERE / "results_performance.json"))
    a = ap.parse_args()
    report: dict = {"command": " ".join(["benchmarks/performance.py"] + sys.argv[1:]), "renders": {}}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = a.keep or scratch
        for engine in a.engines.split(","):
            renderer = Renderer(engine)
            for name in a.sheets.split(","):
                sheet = (DATA / f"{name}.yaml").read_text(encoding="utf-8")
                out = {}
                for variant, lyrics, accents in (("sung", sheet, True), ("rapped_hook", rapped(sheet), True),
                                                 ("no_accents", sheet, False)):
                    folder = Path(tmp) / engine / name / variant
                    renderer.render(RenderRequest(lyrics=lyrics, accents=accents), folder)
                    out[variant] = folder
                errors = pitch_errors(out["sung"])
                row = {
                    "pitch_frames": len(errors),
                    "pitch_median_cents": round(float(np.median(errors)), 1) if errors else None,
                    "pitch_within_50_cents": round(float(np.mean(np.array(errors) < 50)), 3) if errors else None,
                    "hook_error_sung": intelligibility(out["sung"], "hook"),
                    "hook_error_rapped": intelligibility(out["rapped_hook"], "hook"),
                    "verse_error_accents": intelligibility(out["sung"], "verse"),
                    "verse_error_no_accents": intelligibility(out["no_accents"], "verse"),
                    "accents": accent_contrast(out["sung"]),
                    "accents_baseline_off": accent_contrast(out["no_accents"]),
                }
                report["renders"][f"{engine}/{name}"] = row
                print(json.dumps({f"{engine}/{name}": row}, ensure_ascii=False), file=sys.stderr, flush=True)
    Path(a.out).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
