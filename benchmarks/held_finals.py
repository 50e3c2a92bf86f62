"""Issue 14: a sung line's last vowel is held, not faded to breath. Held-out lines (the held-out verse
of benchmarks/voices.py, 8 English and 8 Mandarin, never used for ENERGY_ONSET_S) are sung on fixed
notes at natural durations, their last vowel given ``--holds`` seconds, by each engine with the hold
(this tree) and without it (the engines' held_energy / held_world_vowel replaced by the identity: the
engine's own curves), in the same run (a coda after it kept to CODA_S). Per setting: how loud each
quarter of the last vowel is against the median of the line's other vowels (dB, RMS), the share of
lines whose last vowel's second half is within 8 dB of them, and how much of that half pyin hears
voiced.

    .venv/bin/python benchmarks/held_finals.py [--engines kokoro,fast] [--holds 0.3,0.6]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from airap.acoustic.pitch import ENERGY_ONSET_S  # noqa: E402
from voices import VERSES  # noqa: E402

VOICES = {"kokoro": {"en": ("rose", "nico"), "zh": ("xi", "jian")}, "fast": {"en": ("kumo",), "zh": ("kumo",)}}
MELODY = (57, 59, 60, 62, 60, 59, 57, 55)  # cycled over the line: a plain up-and-down, not a composed one
WITHIN_DB = 8.0
CODA_S = 0.08  # s: the sung flow gives a held syllable's coda a share of its time, a line-final one ~0.05-0.1 s
LOUD_DB = -30.0  # a frame counts as voiced when pyin says so and it is within 30 dB of the line's vowels


def _level_db(audio: np.ndarray, sr: int, start: float, end: float) -> float:
    x = audio[int(start * sr):int(end * sr)].astype(np.float64)
    return float(10 * np.log10(np.mean(x ** 2) + 1e-20))


def sing_last_held(engine, text: str, lang: str, voice: str, hold: float) -> dict:
    """One line sung with its last vowel given ``hold`` s: quarters' levels and voicing of its second half."""
    import librosa

    from airap.acoustic import LINE_LEAD_IN, LINE_TAIL
    from airap.acoustic.base import PitchPlan
    from airap.text import analyze_line

    line, _ = analyze_line(text, lang)
    durations = [list(s.phoneme_durations) for s in engine.natural_timing(line, voice).syllables]
    final = line.syllables[-1]
    durations[-1][final.nucleus_index] = hold
    for k in range(final.nucleus_index + 1, len(durations[-1])):  # a coda as the sung flow gives it
        durations[-1][k] = min(durations[-1][k], CODA_S)
    notes = tuple(MELODY[i % len(MELODY)] for i in range(len(durations)))
    sung = engine.sing(line, voice, durations, [0.0] * len(durations), lead_in=LINE_LEAD_IN, tail=LINE_TAIL,
                       pitch=PitchPlan(notes=notes))
    y, sr, spans = sung.audio, sung.sample_rate, sung.alignment.syllables
    others = float(np.median([_level_db(y, sr, s.vowel_onset, s.end) for s in spans[:-1]]))
    start = spans[-1].vowel_onset + sum(durations[-1][final.vowel_index:final.nucleus_index])
    edges = np.linspace(start, start + hold, 5)  # the held vowel (after a Mandarin medial glide)
    half = y[int(edges[2] * sr):int(edges[4] * sr)]
    _, voiced, _ = librosa.pyin(half, fmin=65, fmax=800, sr=sr, frame_length=2048, hop_length=240)
    rms = librosa.feature.rms(y=half, frame_length=2048, hop_length=240)[0][: len(voiced)]
    voiced = voiced & (20 * np.log10(rms + 1e-10) > others + LOUD_DB)
    return {"quarters_db": [round(_level_db(y, sr, a, b) - others, 1) for a, b in zip(edges, edges[1:])],
            "second_half_db": round(_level_db(y, sr, edges[2], edges[4]) - others, 1),
            "second_half_voiced": round(float(np.mean(voiced)), 3)}


def main() -> None:
    warnings.filterwarnings("ignore")
    ap = argparse.ArgumentParser()
    ap.add_argument("--engines", default="kokoro,fast")
    ap.add_argument("--holds", default="0.3,0.6")
    ap.add_argument("--out", default=str(HERE / "results_held_finals.json"))
    a = ap.parse_args()
    from airap.acoustic import kokoro
    from airap.acoustic.tacotron import engine as own_engine
    from airap.render import Renderer

    t0, rows = time.time(), []
    holds = {kokoro: ("held_energy", kokoro.held_energy), own_engine: ("held_world_vowel", own_engine.held_world_vowel)}
    engines_own = {kokoro: ("held_energy", lambda energy, *_, **__: energy),
                   own_engine: ("held_world_vowel", lambda features, *_: features)}
    for name in a.engines.split(","):
        engine = Renderer(name).engine
        for lang, voices in VOICES[name].items():
            for voice in voices:
                for hold in map(float, a.holds.split(",")):
                    for setting, patch in (("held", holds), ("engine's own", engines_own)):
                        for module, (attr, fn) in patch.items():
                            setattr(module, attr, fn)
                        for text in VERSES["heldout"][lang]:
                            rows.append({"engine": name, "lang": lang, "voice": voice, "hold_s": hold,
                                         "setting": setting, "text": text,
                                         **sing_last_held(engine, text, lang, voice, hold)})
                    for module, (attr, fn) in holds.items():
                        setattr(module, attr, fn)
    summary = {}
    for r in rows:
        summary.setdefault(f"{r['engine']} {r['lang']} hold {r['hold_s']} s, {r['setting']}", []).append(r)
    table = {k: {"lines": len(v),
                 "median_quarters_db": [round(float(np.median([r["quarters_db"][q] for r in v])), 1) for q in range(4)],
                 "within_8_db": round(float(np.mean([r["second_half_db"] > -WITHIN_DB for r in v])), 3),
                 "second_half_voiced": round(float(np.mean([r["second_half_voiced"] for r in v])), 3)}
             for k, v in summary.items()}
    report = {"energy_onset_s": ENERGY_ONSET_S, "melody": MELODY, "summary": table, "rows": rows,
              "wall_s": round(time.time() - t0)}
    Path(a.out).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(table, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
