"""The beat-tracking benchmark set: instrumentals with known beats and downbeats, from four sources
that share no code with each other beyond numpy/scipy (and, for the first, airap's generator):

- ``generator``: airap's own arranged beats, every style, on two soundfonts (FluidR3, TimGM6mb), some
  cut so that they start inside a bar (a pickup), some on a grid whose tempo wanders;
- ``drum_machine``: a minimal drum machine written only for this benchmark: synthesised kits (808
  and short kicks, noise snares, claps, rimshots, closed/open hats, a sine bass, a saw pad), seven
  patterns, swing 0.5-0.66, fills, a break bar, intros with no drums, pickups;
- ``click``: metronome tracks (accented downbeat click, some with quiet 8ths, a woodblock);
- ``tempo_varying``: drum-machine takes whose tempo wanders by up to +-2 % or slows down at the end
  (a ritardando), or speeds up.

Every file is assigned to ``dev`` or ``heldout`` by a fixed rule (two of every five files of each
source are held out). Held-out files are never looked at while the tracker is tuned.

    .venv/bin/python benchmarks/tracking_set.py DIR [FRESH_SEED]  # DIR/<name>.wav + DIR/truth.json
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import signal

SR = 44100
HELD_OUT = (1, 3)  # positions (index mod 5) inside each source that form the held-out split
# Seeds from TRAINING_SEEDS on make training material for the beat activation network
# (``python -m airap.training.beat_net``): their kits, fills and generated patterns are drawn from
# the seed too, where a fresh set below it reuses one kit per position (so old fresh sets stay as built).
TRAINING_SEEDS = 1000
_sound_seed = 0


@dataclass(frozen=True)
class Truth:
    name: str
    source: str
    split: str
    bpm: float  # median tempo of the true beats
    constant_tempo: bool
    swing: float
    beats: list[float]
    downbeats: list[float]
    note: str


def _split(index: int) -> str:
    if index < 0:
        return "fresh"
    return "heldout" if index % 5 in HELD_OUT else "dev"


def _random_drum_cases(rng: np.random.Generator, n: int) -> list[tuple]:
    """Drum-machine cases drawn at random (the fresh set): pattern, kit, bpm, swing, intro bars,
    pickup beats, break bar."""
    kits = ("short_noise", "short_clap", "808_clap", "808_rim")
    return [(str(rng.choice(list(PATTERNS))), str(rng.choice(kits)), int(rng.integers(60, 181)),
             float(rng.choice([0.5, 0.5, 0.54, 0.58, 0.62, 0.66])), int(rng.choice([0, 0, 2, 4])),
             int(rng.integers(0, 4)), None if rng.random() < 0.5 else int(rng.integers(6, 20))) for _ in range(n)]


# -- the beat-time function -----------------------------------------------------------------------

def beat_times(bpm: float, n_beats: int, start: float, wander: float = 0.0, rit: float = 0.0, seed: int = 0) -> np.ndarray:
    """Times of ``n_beats + 1`` beats from ``start``: a constant tempo, or one that wanders smoothly by
    up to ``wander`` (fraction) around ``bpm``, times a ritardando that stretches the last eighth of
    the take by up to ``rit`` (negative: accelerando)."""
    rng = np.random.default_rng(seed)
    k = np.arange(n_beats)
    drift = np.zeros(n_beats)
    if wander:
        noise = np.cumsum(rng.standard_normal(n_beats))
        noise = signal.savgol_filter(noise - np.linspace(noise[0], noise[-1], n_beats), 31, 2, mode="nearest")
        drift = wander * noise / (np.abs(noise).max() + 1e-9)
    slow = 1 + rit * np.clip((k - 0.75 * n_beats) / (0.25 * n_beats), 0, 1) ** 2
    periods = 60.0 / (bpm * (1 + drift)) * slow
    return start + np.concatenate([[0.0], np.cumsum(periods)])


def sixteenth(beats: np.ndarray, swing: float) -> np.ndarray:
    """16th-note times between consecutive beats; the off 16th of each 8th sits at ``swing``."""
    out = []
    for a, b in zip(beats[:-1], beats[1:]):
        p = b - a
        out += [a, a + p * swing / 2, a + p / 2, a + p / 2 + p * swing / 2]
    return np.array(out + [beats[-1]])


# -- the drum machine's sounds ------------------------------------------------------------------

def _env(n: int, decay: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (decay * SR))


def kick_808(rng) -> np.ndarray:
    n = int(0.6 * SR)
    t = np.arange(n) / SR
    f = 48 + 110 * np.exp(-t / 0.03)
    return np.tanh(2.5 * np.sin(2 * np.pi * np.cumsum(f) / SR) * _env(n, 0.25))


def kick_short(rng) -> np.ndarray:
    n = int(0.25 * SR)
    t = np.arange(n) / SR
    f = 60 + 140 * np.exp(-t / 0.015)
    click = rng.standard_normal(n) * _env(n, 0.002) * 0.5
    return np.sin(2 * np.pi * np.cumsum(f) / SR) * _env(n, 0.07) + click


def snare_noise(rng) -> np.ndarray:
    n = int(0.25 * SR)
    body = np.sin(2 * np.pi * 185 * np.arange(n) / SR) * _env(n, 0.04)
    noise = signal.sosfilt(signal.butter(2, [1500, 8000], "bandpass", fs=SR, output="sos"), rng.standard_normal(n))
    return 0.6 * body + noise * _env(n, 0.07)


def clap(rng) -> np.ndarray:
    n = int(0.3 * SR)
    noise = signal.sosfilt(signal.butter(2, [900, 5000], "bandpass", fs=SR, output="sos"), rng.standard_normal(n))
    env = np.zeros(n)
    for k, d in enumerate((0.0, 0.011, 0.022)):
        i = int(d * SR)
        env[i:] += _env(n - i, 0.006 if k < 2 else 0.09)
    return noise * env


def rimshot(rng) -> np.ndarray:
    n = int(0.06 * SR)
    t = np.arange(n) / SR
    return (np.sin(2 * np.pi * 1700 * t) + 0.7 * np.sin(2 * np.pi * 420 * t)) * _env(n, 0.008)


def hat(rng, open_: bool = False) -> np.ndarray:
    n = int((0.35 if open_ else 0.05) * SR)
    noise = signal.sosfilt(signal.butter(4, 7000, "highpass", fs=SR, output="sos"), rng.standard_normal(n))
    return 0.5 * noise * _env(n, 0.12 if open_ else 0.012)


def click_sound(freq: float, wood: bool = False) -> np.ndarray:
    n = int(0.03 * SR)
    t = np.arange(n) / SR
    tone = np.sin(2 * np.pi * freq * t) + (0.5 * np.sin(2 * np.pi * 2.7 * freq * t) if wood else 0)
    return tone * _env(n, 0.004 if wood else 0.006)


# Patterns: per 16th step of a bar, the hits (k kick, s snare/clap/rim, h hat, o open hat).
PATTERNS = {
    "backbeat": ("k.h.s.h.k.k.s.h.", "hhhhhhhhhhhhhhhh"),
    "boom_bap": ("k...s..k..k.s...", "h.h.h.h.h.h.h.h."),
    "trap_half": ("k.....k.s.....k.", "hhhhhhhhhhhhhhhh"),
    "four_floor": ("k...k...k...k...", "..o...o...o...o."),
    "dembow": ("k..sk.s.k..sk.s.", "h.h.h.h.h.h.h.h."),
    "breakbeat": ("k.k.s..s.kk.s..s", "h.h.h.h.h.h.h.h."),  # snares on 2 and 4 plus ghost 16ths
    "drill": ("k.....s...k.s...", "h..h..h.h..h..h."),
}


def _place(out: np.ndarray, sound: np.ndarray, t: float, gain: float) -> None:
    i = int(round(t * SR))
    if 0 <= i < len(out):
        m = min(len(sound), len(out) - i)
        out[i:i + m] += gain * sound[:m]


def drum_machine(beats: np.ndarray, pattern: str, swing: float, kit: dict, rng, *, intro_bars: int = 0,
                 fills: bool = True, break_bar: int | None = None, pad: bool = True) -> np.ndarray:
    """Play ``pattern`` over the beats (4 per bar from beats[0]); the first ``intro_bars`` have only the
    pad and bass; bars before every 8th bar end in a snare fill; ``break_bar`` drops the drums."""
    drums_pat, hats_pat = PATTERNS[pattern]
    steps = sixteenth(beats, swing)
    n = int((beats[-1] + 1.0) * SR)
    out = np.zeros(n)
    n_bars = (len(beats) - 1) // 4
    roots = (45, 41, 43, 40)  # A2 F2 G2 E2: a bass and a pad that change at bar starts
    for bar in range(n_bars):
        s0 = bar * 16
        root = roots[bar % 4]
        t0, t1 = beats[bar * 4], beats[bar * 4 + 4]
        if pad:  # a soft saw chord, low-passed: harmony without onsets
            m = int((t1 - t0) * SR)
            tt = np.arange(m) / SR
            chord = sum(signal.sawtooth(2 * np.pi * 440 * 2 ** ((root + 12 + iv - 69) / 12) * tt) for iv in (0, 3, 7))
            chord = signal.sosfilt(signal.butter(2, 1200, fs=SR, output="sos"), chord) * 0.05
            chord *= np.minimum(1, np.minimum(tt / 0.05, (tt[-1] - tt + 1e-3) / 0.05))
            _place(out, chord, t0, 1.0)
        bass_f = 440 * 2 ** ((root - 69) / 12)
        for step in (0, 6, 8, 14) if bar >= intro_bars else (0, 8):
            t = steps[s0 + step]
            m = int(0.25 * SR)
            _place(out, 0.3 * np.sin(2 * np.pi * bass_f * np.arange(m) / SR) * _env(m, 0.12), t, 1.0)
        if bar < intro_bars or bar == break_bar:
            continue
        fill = fills and bar % 8 == 7
        for step in range(16):
            t = steps[s0 + step]
            vel = 0.75 + 0.25 * rng.random()
            if fill and step >= 12:
                _place(out, kit["snare"], t, 0.6 * vel)
                continue
            d, h = drums_pat[step], hats_pat[step]
            if d == "k":
                _place(out, kit["kick"], t, vel)
            elif d == "s":
                _place(out, kit["snare"], t, 0.8 * vel)
            if h == "h":
                _place(out, kit["hat"], t, (0.5 if step % 2 else 0.8) * vel)
            elif h == "o":
                _place(out, kit["open"], t, 0.6 * vel)
    return out


def _kit(name: str, rng) -> dict:
    kick = kick_808(rng) if name in ("808_clap", "808_rim") else kick_short(rng)
    snare = {"808_clap": clap, "808_rim": rimshot, "short_noise": snare_noise, "short_clap": clap}[name](rng)
    return {"kick": kick, "snare": snare, "hat": hat(rng), "open": hat(rng, True)}


def _stereo(y: np.ndarray, rng) -> np.ndarray:
    y = y / (np.abs(y).max() + 1e-9) * 0.8
    y = y + 10 ** (-60 / 20) * rng.standard_normal(len(y))  # a noise floor, as a real bounce has
    return np.stack([y, y], axis=1).astype(np.float32)


def _truth(name, source, index, beats, first_downbeat, constant, swing, note, end) -> Truth:
    beats = beats[beats <= end]
    return Truth(name, source, _split(index), round(float(60 / np.median(np.diff(beats))), 2), constant, swing,
                 [round(float(b), 4) for b in beats], [round(float(b), 4) for b in beats[first_downbeat::4]], note)


# -- the four sources --------------------------------------------------------------------------

def generator_files(out: Path, fresh: np.random.Generator | None = None) -> list[Truth]:
    """airap's generator: every style at two tempi of its range, FluidR3 for one and TimGM6mb for the
    other; every third file cut to start a beat or three into its first bar."""
    from airap import catalog
    from airap.beat import BeatGrid, generate_beat

    truths = []
    fonts = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")
    index = 0
    for s_i, style in enumerate(catalog.STYLES.values()):
        lo, hi = style.bpm_range
        for f_i, font in enumerate(fonts):
            if fresh is not None and f_i != s_i % 2:  # the fresh set: one font per style, a random tempo
                continue
            bpm = lo + (hi - lo) * (fresh.uniform() if fresh is not None else 0.25 + 0.5 * f_i) + (s_i % 3)
            os.environ["AIRAP_SOUNDFONT"] = font
            bars = 20
            wander = 0.015 if index % 7 == 4 else 0.0
            beats = beat_times(bpm, bars * 4, 0.0, wander=wander, seed=index)
            grid = BeatGrid(tuple(beats), 0, 4, style.swing)
            audio = generate_beat(style, grid, seed=index + (1000 if fresh is not None else 0) + _sound_seed).audio
            cut = (index % 3) * (beats[1] - beats[0]) if index % 3 else 0.0  # start 1-2 beats into bar 0
            audio = audio[int(round(cut * SR)):]
            name = f"{'f' if fresh is not None else ''}gen_{style.name}_{int(bpm)}_{'fluid' if f_i == 0 else 'timgm'}"
            sf.write(out / f"{name}.wav", audio, SR)
            end = len(audio) / SR - 1.0
            shifted = beats - cut
            first = int(np.searchsorted(shifted, -1e-6))
            truths.append(_truth(name, "generator", -1 if fresh is not None else index, shifted[first:], (4 - first % 4) % 4 if first else 0,
                                 wander == 0, style.swing, f"{Path(font).stem}; starts {index % 3} beat(s) into bar 0"
                                 if cut else Path(font).stem, end))
            index += 1
    os.environ.pop("AIRAP_SOUNDFONT", None)
    return truths


def drum_machine_files(out: Path, fresh: np.random.Generator | None = None) -> list[Truth]:
    cases = _random_drum_cases(fresh, 14) if fresh is not None else [  # pattern, kit, bpm, swing, intro bars, pickup beats, break bar
        ("backbeat", "short_noise", 92, 0.5, 0, 0, None), ("boom_bap", "short_clap", 88, 0.6, 2, 0, None),
        ("trap_half", "808_clap", 140, 0.5, 0, 1, 9), ("four_floor", "short_noise", 124, 0.5, 4, 0, None),
        ("dembow", "808_rim", 96, 0.54, 0, 2, None), ("breakbeat", "short_noise", 170, 0.5, 0, 0, 12),
        ("drill", "808_rim", 142, 0.5, 2, 3, None), ("backbeat", "808_clap", 64, 0.66, 0, 1, None),
        ("boom_bap", "short_noise", 100, 0.62, 0, 0, 8), ("trap_half", "808_rim", 75, 0.5, 2, 0, None),
        ("dembow", "short_clap", 104, 0.5, 0, 3, None), ("four_floor", "808_clap", 128, 0.56, 0, 2, 16),
        ("breakbeat", "short_clap", 84, 0.58, 4, 0, None), ("drill", "808_clap", 72, 0.5, 0, 1, None),
    ]
    truths = []
    for index, (pattern, kit, bpm, swing, intro, pickup, brk) in enumerate(cases):
        rng = np.random.default_rng(100 + index + (1000 if fresh is not None else 0) + _sound_seed)
        bars = 24
        beats = beat_times(bpm, bars * 4, 0.3)
        y = drum_machine(beats, pattern, swing, _kit(kit, rng), rng, intro_bars=intro, break_bar=brk)
        cut = beats[pickup] - 0.3 if pickup else 0.0
        y = y[int(round(cut * SR)):]
        name = f"{f'fdm_{index}_' if fresh is not None else 'dm_'}{pattern}_{kit}_{bpm}"
        sf.write(out / f"{name}.wav", _stereo(y, rng), SR)
        shifted = beats - cut
        first = int(np.searchsorted(shifted, -1e-6))
        note = ", ".join(x for x in (f"intro {intro} bars without drums" if intro else "", f"pickup {pickup} beats"
                                     if pickup else "", f"break at bar {brk}" if brk else "", "fills every 8 bars") if x)
        truths.append(_truth(name, "drum_machine", -1 if fresh is not None else index, shifted[first:],
                             (4 - first % 4) % 4, True, swing, note,
                             len(y) / SR - 1.0))
    return truths


def click_files(out: Path, fresh: np.random.Generator | None = None) -> list[Truth]:
    cases = [(int(fresh.integers(60, 181)), bool(fresh.integers(2)), bool(fresh.integers(2))) for _ in range(6)
             ] if fresh is not None else [(60, False, False), (90, True, False), (120, False, True), (150, False, False), (76, True, True),
             (180, False, False), (100, False, False), (135, True, False)]  # bpm, quiet 8ths, woodblock
    truths = []
    for index, (bpm, eighths, wood) in enumerate(cases):
        rng = np.random.default_rng(200 + index + (1000 if fresh is not None else 0) + _sound_seed)
        beats = beat_times(bpm, 4 * 20, 0.5)
        y = np.zeros(int((beats[-1] + 1) * SR))
        for k, t in enumerate(beats[:-1]):
            _place(y, click_sound(2000 if k % 4 == 0 else 1000, wood), t, 1.0 if k % 4 == 0 else 0.7)
            if eighths:
                _place(y, click_sound(1000, wood), (t + beats[k + 1]) / 2, 0.25)
        name = f"{f'fclick_{index}_' if fresh is not None else 'click_'}{bpm}{'_8ths' if eighths else ''}{'_wood' if wood else ''}"
        sf.write(out / f"{name}.wav", _stereo(y, rng), SR)
        truths.append(_truth(name, "click", -1 if fresh is not None else index, beats, 0, True, 0.5, "accented downbeat", len(y) / SR - 1.0))
    return truths


def tempo_varying_files(out: Path, fresh: np.random.Generator | None = None) -> list[Truth]:
    cases = [(c[0], c[1], c[2], c[3], float(fresh.choice([0.0, 0.01, 0.02])), float(fresh.choice([0.0, 0.1, -0.06])))
             for c in _random_drum_cases(fresh, 8)] if fresh is not None else [  # pattern, kit, bpm, swing, wander, ritardando (+ slower, - faster)
        ("backbeat", "short_noise", 95, 0.5, 0.02, 0.0), ("boom_bap", "short_clap", 86, 0.6, 0.02, 0.0),
        ("trap_half", "808_clap", 138, 0.5, 0.015, 0.0), ("backbeat", "808_rim", 110, 0.5, 0.0, 0.12),
        ("dembow", "short_noise", 98, 0.5, 0.02, 0.08), ("breakbeat", "short_clap", 120, 0.55, 0.01, 0.0),
        ("four_floor", "808_clap", 122, 0.5, 0.0, -0.06), ("drill", "808_rim", 140, 0.5, 0.02, 0.0),
    ]
    truths = []
    for index, (pattern, kit, bpm, swing, wander, rit) in enumerate(cases):
        seed = 300 + index + (1000 if fresh is not None else 0) + _sound_seed
        rng = np.random.default_rng(seed)
        beats = beat_times(bpm, 4 * 24, 0.4, wander=wander, rit=rit, seed=seed)
        y = drum_machine(beats, pattern, swing, _kit(kit, rng), rng)
        name = f"{f'ftv_{index}_' if fresh is not None else 'tv_'}{pattern}_{bpm}_{'wander' if wander else ''}{'rit' if rit > 0 else 'accel' if rit < 0 else ''}"
        sf.write(out / f"{name}.wav", _stereo(y, rng), SR)
        note = f"tempo wanders +-{wander:.1%}" if wander else ""
        note += (", " if note and rit else "") + (f"ritardando {rit:.0%}" if rit > 0 else f"accelerando {-rit:.0%}"
                                                  if rit < 0 else "")
        truths.append(_truth(name, "tempo_varying", -1 if fresh is not None else index, beats, 0,
                             wander == 0 and rit == 0, swing, note, len(y) / SR - 1.0))
    return truths


def build(out: Path, fresh_seed: int | None = None) -> list[Truth]:
    """The set (splits ``dev`` and ``heldout``), or with ``fresh_seed`` a fresh set drawn at random
    from the same four sources (split ``fresh``): a second held-out set, made after the first one
    had been looked at, for any change made after that."""
    global _sound_seed
    out.mkdir(parents=True, exist_ok=True)
    _sound_seed = 7919 * fresh_seed if fresh_seed is not None and fresh_seed >= TRAINING_SEEDS else 0
    rng = None if fresh_seed is None else np.random.default_rng(fresh_seed)
    truths = (generator_files(out, rng) + drum_machine_files(out, rng) + click_files(out, rng)
              + tempo_varying_files(out, rng))
    (out / "truth.json").write_text(json.dumps([asdict(t) for t in truths], indent=1))
    return truths


def load(folder: Path) -> list[Truth]:
    return [Truth(**t) for t in json.loads((folder / "truth.json").read_text())]


if __name__ == "__main__":
    ts = build(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
    print(json.dumps({"files": len(ts), "by_source": {s: sum(t.source == s for t in ts) for s in {t.source for t in ts}},
                      "heldout": sum(t.split == "heldout" for t in ts)}))
