"""A fifth beat-tracking source: plain drum loops played by General-MIDI kits through FluidSynth
(pretty_midi), drawn at random from a seed. They share nothing with ``tracking_set.py``'s drum
machine or airap's generator beyond the soundfonts: rock, hip-hop, ride, funk (ghost notes), shuffle,
disco and half-time grooves, with crashes on bar lines, fills, a bass line, a pickup fill. Most of
them have no bass and no chords: the bar is told by the drums alone. Every file is split ``fresh``:
a seed is a held-out set until it has been looked at.

    .venv/bin/python benchmarks/loop_set.py DIR SEED   # DIR/<name>.wav + DIR/truth.json (tracking_set's format)
"""

from __future__ import annotations

import json
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from tracking_set import Truth, _truth  # noqa: E402

SR = 44100
FONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")
KICK, SNARE, CLOSED, OPEN, RIDE, CRASH, CLAP = 36, 38, 42, 46, 51, 49, 39
# groove: (tempo range, swing, {16th step: [(drum, velocity)]} over one 4/4 bar)
EIGHTHS = {s: [(CLOSED, 70)] for s in range(0, 16, 2)}
SIXTEENTHS = {s: [(CLOSED, 75 if s % 2 == 0 else 55)] for s in range(16)}


def _groove(hats: dict, **hits: list[tuple[int, int, int]]) -> dict:
    out = {s: list(v) for s, v in hats.items()}
    for steps in hits.values():
        for step, drum, vel in steps:
            out.setdefault(step, []).append((drum, vel))
    return out


GROOVES = {
    "rock8": ((70, 170), 0.5, _groove(EIGHTHS, k=[(0, KICK, 110), (8, KICK, 105)], s=[(4, SNARE, 110), (12, SNARE, 110)])),
    "rock16": ((80, 160), 0.5, _groove(SIXTEENTHS, k=[(0, KICK, 110), (8, KICK, 105), (10, KICK, 95)],
                                       s=[(4, SNARE, 110), (12, SNARE, 110)])),
    "hiphop": ((70, 100), 0.58, _groove(EIGHTHS, k=[(0, KICK, 115), (7, KICK, 95), (10, KICK, 105)],
                                        s=[(4, SNARE, 115), (12, SNARE, 115)])),
    "ride": ((90, 170), 0.5, _groove({s: [(RIDE, 80)] for s in range(0, 16, 4)}, k=[(0, KICK, 110), (8, KICK, 105)],
                                     s=[(4, SNARE, 110), (12, SNARE, 110)])),
    "funk": ((80, 120), 0.5, _groove(SIXTEENTHS, k=[(0, KICK, 115), (3, KICK, 90), (10, KICK, 105)],
                                     s=[(4, SNARE, 115), (12, SNARE, 115), (7, SNARE, 40), (9, SNARE, 35), (15, SNARE, 40)])),
    "shuffle": ((80, 140), 0.66, _groove(EIGHTHS, k=[(0, KICK, 110), (8, KICK, 105), (11, KICK, 85)],
                                         s=[(4, SNARE, 110), (12, SNARE, 110)])),
    "disco": ((110, 130), 0.5, _groove({s: [(OPEN if s % 4 == 2 else CLOSED, 75)] for s in range(0, 16, 2)},
                                       k=[(s, KICK, 110) for s in (0, 4, 8, 12)], c=[(4, CLAP, 105), (12, CLAP, 105)])),
    "halftime": ((130, 170), 0.5, _groove(EIGHTHS, k=[(0, KICK, 115), (3, KICK, 90), (11, KICK, 100)],
                                          s=[(8, SNARE, 115)])),
}
FILL = [(12, SNARE, 90), (13, SNARE, 95), (14, SNARE, 100), (15, SNARE, 110)]  # the bar's last beat in 16ths


def loop(name: str, seed: int, index: int, rng: np.random.Generator) -> tuple[np.ndarray, Truth]:
    """The ``index``-th loop of groove ``name`` in set ``seed``: its audio (mono float32 at SR) and its truth."""
    import pretty_midi

    (lo, hi), swing, groove = GROOVES[name]
    bpm = int(rng.integers(lo, hi + 1))
    crash, fills, bass, pickup = rng.random() < 0.5, rng.random() < 0.5, rng.random() < 0.3, rng.random() < 0.25
    beat = 60.0 / bpm
    bars = int(np.ceil(45.0 / (4 * beat)))
    start = beat if pickup else 0.0  # a pickup: one beat of snare fill before the first bar
    midi = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    drums, low = pretty_midi.Instrument(0, is_drum=True), pretty_midi.Instrument(33)

    def at(bar: int, step: int) -> float:
        eighth = start + bar * 4 * beat + (step // 2) * beat / 2
        return eighth + (swing * beat / 2 if step % 2 else 0.0)

    def hit(drum: int, t: float, vel: int) -> None:
        v = int(np.clip(vel + rng.integers(-8, 9), 20, 127))
        drums.notes.append(pretty_midi.Note(v, drum, max(0.0, t), max(0.0, t) + 0.08))

    if pickup:
        for step, drum, vel in FILL:
            hit(drum, at(-1, step), vel)
    root = int(rng.integers(36, 43))
    for b in range(bars):
        pattern = dict(groove)
        if fills and b % 4 == 3:
            pattern = {s: v for s, v in groove.items() if s < 12}
            for step, drum, vel in FILL:
                pattern.setdefault(step, []).append((drum, vel))
        for step, hits in pattern.items():
            for drum, vel in hits:
                hit(drum, at(b, step), vel)
        if crash and b % 4 == 0:
            hit(CRASH, at(b, 0), 100)
        if bass:
            for step, interval in ((0, 0), (6, 0), (8, 7), (14, 5)):
                low.notes.append(pretty_midi.Note(95, root + interval, at(b, step), at(b, step) + beat * 0.45))
    midi.instruments += [drums] + ([low] if bass else [])
    font = FONTS[int(rng.integers(len(FONTS)))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = midi.fluidsynth(fs=SR, synthesizer=font)
    y = (0.8 * y / (np.abs(y).max() + 1e-9)).astype(np.float32)
    beats = start + beat * np.arange(bars * 4 + 1)
    if pickup:
        beats = np.concatenate([[0.0], beats])
    extras = [x for x in ("crash every 4 bars" if crash else "", "fills every 4 bars" if fills else "",
                          "bass" if bass else "", "pickup fill" if pickup else "") if x]
    truth = _truth(f"loop{seed}_{name}_{bpm}_{index}", "gm_loop", -1, beats, 1 if pickup else 0, True, swing,
                   f"{Path(font).stem}; " + ", ".join(extras), len(y) / SR - 1.0)
    return y, truth


def build(out: Path, seed: int, per_groove: int = 5) -> list[Truth]:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    truths = []
    for name in GROOVES:
        for i in range(per_groove):
            y, truth = loop(name, seed, i, rng)
            sf.write(out / f"{truth.name}.wav", y, SR)
            truths.append(truth)
    (out / "truth.json").write_text(json.dumps([asdict(t) for t in truths], indent=1))
    return truths


if __name__ == "__main__":
    ts = build(Path(sys.argv[1]), int(sys.argv[2]))
    print(json.dumps({"files": len(ts), "by_groove": {g: sum(f"_{g}_" in t.name for t in ts) for g in GROOVES}}))
