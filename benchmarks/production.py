"""Issue 13: beats that sound like records. Every style renders three songs (plain lyrics files with
section tags, one without), with this tree and with a base revision, in the same run; the beat stem
and the mix are then measured from the files alone (nothing reads the arrangement).

    .venv/bin/python benchmarks/production.py [--base 0e49f3a] [--engine fast] [--pictures docs/beats]

Songs (benchmarks/data/production): ``dev_en`` was listened to while the arrangement rules were
written (seed 1); ``heldout_zh`` (Mandarin section names, seed 2) and ``heldout_untagged_en`` (no
tags: the default form must find the hook, seed 3) were not, and are reported apart. ``fresh_en``
(hook first, seed 4) and ``fresh_zh`` (seed 5) were written at the start of session 13, before any
change made that session, and ``fresh2_*`` (seeds 6, 7; an outro, plain ``[verse]``/``[hook]`` tags
on Mandarin) before a trial change of the hook's entrance (not kept): a third split that no rule or
threshold has seen.

Metrics, all defined before the first run and not changed after it:
All beat metrics read the generator's output before the mix (raw_beat.wav: beat.wav is the beat's
share of the mix, ducked under the vocal, which would count the vocal's phrasing as variation).
- variation: adjacent 4-bar phrases inside one section (counted from the section's downbeat) differ
  when the correlation of their 16th-step onset patterns (onset strength at each of the 64 slots) is
  under ONSET_CORR_SAME, or their mean log-mel spectra differ by more than SPECTRUM_DB_SAME on average
  over the bands within SPECTRUM_RANGE_DB of the loudest. (That band limit was added after the first
  run: without it, the base's repeated bar, whose phrases differ only by seeded hat velocities,
  differed by 1.4-1.7 dB in near-silent bands and counted as varied. With it, those phrases differ by
  0.1-0.9 dB.);
- contrast: a checkerboard-kernel novelty curve on the beat stem (per-beat log-mel + onset strength,
  cosine self-similarity, a Gaussian-tapered kernel NOVELTY_HALF_BEATS beats wide on each side); its
  peaks (local maxima over +-4 beats above mean + 1 std) must fall within one beat of every hook start;
  the same detector on beat.wav (the beat stem as heard, ducked under the vocal) is reported beside it;
- loudness and true peak of mix.wav (pyloudnorm; 4x resample_poly);
- the mix stage's seconds per minute of audio (the renderer's own stage clock).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _worktree import ROOT, worktree  # noqa: E402

SONGS = {"dev_en": ("dev_en.txt", 1, "dev"), "heldout_zh": ("heldout_zh.txt", 2, "held-out"),
         "heldout_untagged_en": ("heldout_untagged_en.txt", 3, "held-out"),
         # written at the start of session 13, before any change that session, and never listened to
         "fresh_en": ("fresh_en.txt", 4, "fresh"), "fresh_zh": ("fresh_zh.txt", 5, "fresh"),
         "fresh2_en": ("fresh2_en.txt", 6, "fresh"), "fresh2_zh": ("fresh2_zh.txt", 7, "fresh")}
SPLITS = ("dev", "held-out", "fresh")
ONSET_CORR_SAME = 0.9
SPECTRUM_DB_SAME = 1.0
SPECTRUM_RANGE_DB = 30.0  # bands more than this under the phrase's loudest band are left out
NOVELTY_HALF_BEATS = 8
SR = 44100


# -- rendering (run in a subprocess with the tree under test first on sys.path) ------------------------

def render_all(src: str, out: str, styles: list[str], engine: str) -> None:
    sys.path.insert(0, os.path.join(src, "src"))
    import soundfile as sf

    import airap.render as render_module
    from airap.render import Renderer
    from airap.request import RenderRequest

    # the generator's own output, copied before the mix ducks it under the vocal: the render hands its
    # arrays to the mix (consume=True), so the Beat's own audio becomes beat.wav, the ducked share
    raw = []
    played = render_module.backing_beat

    def keep_raw(*a, **k):
        beat = played(*a, **k)
        raw.append(beat.audio.copy())
        return beat

    render_module.backing_beat = keep_raw
    renderer = Renderer(engine)
    for song, (file, seed, _) in SONGS.items():
        lyrics = (HERE / "data" / "production" / file).read_text(encoding="utf-8")
        for style in styles:
            folder = Path(out) / song / style
            t = time.perf_counter()
            res = renderer.render(RenderRequest(lyrics=lyrics, beat=style, seed=seed), folder)
            sf.write(folder / "raw_beat.wav", raw.pop(), res.track.sample_rate, subtype="FLOAT")
            (folder / "stage_seconds.json").write_text(json.dumps(
                {**res.timings, "wall": time.perf_counter() - t, "duration": res.track.duration}))
            print(song, style, f"{res.track.duration:.1f} s", flush=True)


def run_tree(src: Path, out: Path, styles: list[str], engine: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(src / "src"), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, __file__, "--render-only", str(src), str(out), ",".join(styles), engine],
                   check=True, env=env)


# -- measuring ---------------------------------------------------------------------------------------

def load_beat(folder: Path, name: str = "raw_beat.wav"):
    """The generated beat as the generator played it (raw_beat.wav: not ducked under the vocal), or
    ``beat.wav``, the beat stem as heard in the mix."""
    import soundfile as sf

    y, sr = sf.read(folder / name, dtype="float32")
    return y.mean(axis=1), sr


def song_form(timings: dict) -> list[dict]:
    """Sections as the files tell them: this tree writes them; for the base, runs of the lines'
    section names, each from the downbeat at or before its first line."""
    if timings.get("sections"):
        return timings["sections"]
    downs = np.asarray(timings["downbeats"])
    runs = []
    for ln in timings["lines"]:
        if not runs or runs[-1]["name"] != ln["section"]:
            start = float(downs[downs <= ln["start"] + 0.12].max()) if (downs <= ln["start"] + 0.12).any() else 0.0
            runs.append({"name": ln["section"], "kind": "hook" if ln["section"] in ("hook", "副歌") else "verse",
                         "start": start})
    for k, r in enumerate(runs):
        r["end"] = runs[k + 1]["start"] if k + 1 < len(runs) else timings["lines"][-1]["end"]
    return runs


def _slot_times(beats: np.ndarray, b0: int, n_beats: int) -> np.ndarray:
    """16th-note times over ``n_beats`` beats from beat index ``b0`` (linear between beats)."""
    idx = b0 + np.arange(4 * n_beats) / 4
    return np.interp(idx, np.arange(len(beats)), beats)


def variation(y: np.ndarray, sr: int, timings: dict) -> dict:
    import librosa

    beats = np.asarray(timings["beats"])
    hop = 256
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop)
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, hop_length=hop, n_mels=40))
    frames = lambda t: np.clip((np.asarray(t) * sr / hop).astype(int), 0, len(env) - 1)  # noqa: E731
    pairs = differ = 0
    details = []
    for sec in song_form(timings):
        if sec["kind"] in ("intro", "outro"):
            continue
        b0 = int(np.argmin(np.abs(beats - sec["start"])))
        b_end = int(np.argmin(np.abs(beats - sec["end"])))
        phrases = []
        for start in range(b0, b_end - 15, 16):
            slots = _slot_times(beats, start, 16)
            width = int(0.02 * sr / hop)
            onset = np.array([env[max(0, f - width):f + width + 1].max() for f in frames(slots)])
            f0, f1 = frames(beats[start]), frames(beats[start + 16])
            phrases.append((onset, mel[:, f0:f1].mean(axis=1)))
        for (o1, m1), (o2, m2) in zip(phrases, phrases[1:]):
            corr = float(np.corrcoef(o1, o2)[0, 1]) if o1.std() > 0 and o2.std() > 0 else 1.0
            top = np.maximum(m1, m2)
            audible = top > top.max() - SPECTRUM_RANGE_DB  # near-silent bands only add noise
            spec = float(np.mean(np.abs(m1 - m2)[audible]))
            pairs += 1
            differ += corr < ONSET_CORR_SAME or spec > SPECTRUM_DB_SAME
            details.append([round(corr, 3), round(spec, 2)])
    return {"phrase_pairs": pairs, "differ": differ, "share": round(differ / pairs, 3) if pairs else None,
            "corr_spec": details}


def novelty_hooks(y: np.ndarray, sr: int, timings: dict) -> dict:
    import librosa

    beats = np.asarray(timings["beats"])
    hop = 512
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, hop_length=hop, n_mels=40))
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop)
    bf = np.clip((beats * sr / hop).astype(int), 0, mel.shape[1] - 1)
    feats = np.array([np.concatenate([mel[:, a:b].mean(axis=1), [env[a:b].mean() * 4]])
                      for a, b in zip(bf[:-1], bf[1:]) if b > a])
    feats = (feats - feats.mean(axis=0)) / (feats.std(axis=0) + 1e-9)
    unit = feats / (np.linalg.norm(feats, axis=1, keepdims=True) + 1e-9)
    ssm = unit @ unit.T
    k = NOVELTY_HALF_BEATS
    ax = np.arange(-k, k) + 0.5
    kernel = np.outer(np.sign(ax), np.sign(ax)) * np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * (k / 2) ** 2))
    pad = np.pad(ssm, k, mode="edge")
    nov = np.array([np.sum(pad[i:i + 2 * k, i:i + 2 * k] * kernel) for i in range(len(ssm))])
    thr = nov.mean() + nov.std()
    peaks = [i for i in range(len(nov)) if nov[i] > thr and nov[i] == nov[max(0, i - 4):i + 5].max()]
    hook_beats = [int(np.argmin(np.abs(beats - s["start"]))) for s in song_form(timings) if s["kind"] == "hook"]
    found = [any(abs(p - h) <= 1 for p in peaks) for h in hook_beats]
    bounds = [int(np.argmin(np.abs(beats - s["start"]))) for s in song_form(timings)]
    spurious = [p for p in peaks if not any(abs(p - b) <= 1 for b in bounds)]
    return {"hooks": len(hook_beats), "found": int(sum(found)), "peaks": len(peaks), "peaks_off_boundaries": len(spurious)}


def contrast(y: np.ndarray, sr: int, timings: dict) -> dict:
    """Loudness (RMS dB), spectral centroid and onset density of the 4 bars after a boundary against
    the 4 bars before it: mean absolute change at section starts vs at phrase starts inside sections."""
    import librosa

    beats = np.asarray(timings["beats"])
    onsets = librosa.onset.onset_detect(y=y, sr=sr, units="time")

    def feats(t0: float, t1: float) -> np.ndarray:
        seg = y[int(t0 * sr):int(t1 * sr)]
        rms = 10 * np.log10(np.mean(seg ** 2) + 1e-12)
        cent = float(np.mean(librosa.feature.spectral_centroid(y=seg, sr=sr, hop_length=1024)))
        dens = np.sum((onsets >= t0) & (onsets < t1)) / max(t1 - t0, 1e-9)
        return np.array([rms, cent / 1000.0, dens])

    def change(b: int) -> np.ndarray | None:
        if b - 16 < 0 or b + 16 >= len(beats):
            return None
        return np.abs(feats(beats[b], beats[b + 16]) - feats(beats[b - 16], beats[b]))

    form = song_form(timings)
    at_sections, inside = [], []
    for sec in form[1:]:
        b = int(np.argmin(np.abs(beats - sec["start"])))
        c = change(b)
        if c is not None and sec["kind"] != "outro":
            at_sections.append(c)
        b_end = int(np.argmin(np.abs(beats - sec["end"])))
        for p in range(b + 16, b_end - 15, 16):
            c = change(p)
            if c is not None:
                inside.append(c)
    mean = lambda xs: [round(float(v), 2) for v in np.mean(xs, axis=0)] if xs else None  # noqa: E731
    return {"at_section_starts": mean(at_sections), "inside_sections": mean(inside),
            "columns": ["rms_db", "centroid_khz", "onsets_per_s"]}


def loudness(folder: Path) -> dict:
    import pyloudnorm
    import soundfile as sf

    from airap.mix import true_peak_db

    y, sr = sf.read(folder / "mix.wav", dtype="float32")
    return {"lufs": round(pyloudnorm.Meter(sr).integrated_loudness(y), 2), "true_peak_dbtp": round(true_peak_db(y, sr), 2)}


def measure_tree(out: Path, styles: list[str]) -> dict:
    result = {}
    for song in SONGS:
        for style in styles:
            folder = out / song / style
            timings = json.loads((folder / "timings.json").read_text())
            stages = json.loads((folder / "stage_seconds.json").read_text())
            y, sr = load_beat(folder)
            files = {p.name for p in folder.iterdir()}
            result[f"{song}/{style}"] = {
                "duration_s": round(stages["duration"], 1),
                "sections": [f"{s['name']}:{s.get('bars', '?')}" for s in song_form(timings)],
                "variation": variation(y, sr, timings), "novelty": novelty_hooks(y, sr, timings),
                "novelty_heard": novelty_hooks(*load_beat(folder, "beat.wav"), timings),
                "contrast": contrast(y, sr, timings),
                **loudness(folder),
                "mix_seconds_per_minute": round(stages["mix"] / stages["duration"] * 60, 3),
                "stems": sorted(f for f in files if f in {"drums.wav", "bass.wav", "music.wav"}),
            }
    return result


def summary(rows: dict, styles: list[str]) -> dict:
    out = {}
    for split in SPLITS:
        songs = [s for s, (_, _, sp) in SONGS.items() if sp == split]
        keys = [f"{s}/{st}" for s in songs for st in styles]
        pairs = sum(rows[k]["variation"]["phrase_pairs"] for k in keys)
        differ = sum(rows[k]["variation"]["differ"] for k in keys)
        hooks = sum(rows[k]["novelty"]["hooks"] for k in keys)
        found = sum(rows[k]["novelty"]["found"] for k in keys)
        heard = sum(rows[k]["novelty_heard"]["found"] for k in keys if "novelty_heard" in rows[k])
        at = [rows[k]["contrast"]["at_section_starts"] for k in keys if rows[k]["contrast"]["at_section_starts"]]
        inside = [rows[k]["contrast"]["inside_sections"] for k in keys if rows[k]["contrast"]["inside_sections"]]
        out[split] = {"variation_share": round(differ / pairs, 3) if pairs else None, "phrase_pairs": pairs,
                      "contrast_at_section_starts": [round(float(v), 2) for v in np.mean(at, axis=0)] if at else None,
                      "contrast_inside_sections": [round(float(v), 2) for v in np.mean(inside, axis=0)] if inside else None,
                      "hooks_found": f"{found}/{hooks}",
                      "hooks_found_in_beat_wav": f"{heard}/{hooks}",
                      "lufs_range": [min(rows[k]["lufs"] for k in keys), max(rows[k]["lufs"] for k in keys)],
                      "max_true_peak": max(rows[k]["true_peak_dbtp"] for k in keys),
                      "mix_s_per_min_median": float(np.median([rows[k]["mix_seconds_per_minute"] for k in keys])),
                      "durations": [rows[k]["duration_s"] for k in keys]}
    return out


def pictures(out: Path, styles: list[str], dest: Path) -> None:
    """docs/beats/<style>.png: the beat stem's spectrogram of the dev song with its sections marked."""
    import librosa
    import librosa.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dest.mkdir(parents=True, exist_ok=True)
    for style in styles:
        folder = out / "dev_en" / style
        y, sr = load_beat(folder)
        timings = json.loads((folder / "timings.json").read_text())
        fig, ax = plt.subplots(figsize=(14, 3.6))
        S = librosa.amplitude_to_db(np.abs(librosa.stft(y[::2], n_fft=2048, hop_length=512)), ref=np.max)
        librosa.display.specshow(S, sr=sr // 2, hop_length=512, x_axis="time", y_axis="log", ax=ax, cmap="magma")
        for k, s in enumerate(timings["sections"]):
            ax.axvline(s["start"], color="white", lw=1.2)
            ax.text(s["start"] + 0.5, (9000 if k % 2 else 5000), f"{s['name']} ({s['bars']} bars)", color="white",
                    fontsize=8, va="top")
        ax.set_title(f"{style}: beat stem of the dev song, sections marked")
        fig.tight_layout()
        fig.savefig(dest / f"{style}.png", dpi=70)
        plt.close(fig)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--render-only":
        _, _, src, out, styles, engine = sys.argv
        return render_all(src, out, styles.split(","), engine)
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="0e49f3a", help="the revision before issue 13 (one repeated bar)")
    ap.add_argument("--engine", default="fast")
    ap.add_argument("--pictures", default=None, help="write one PNG per style here")
    ap.add_argument("--out", default=str(HERE / "results_production.json"))
    ap.add_argument("--keep", default=None, help="render into this folder and keep it (default: a temporary one)")
    ap.add_argument("--measure-only", default=None, help="measure a folder kept by --keep, render nothing")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from airap import catalog

    styles = list(catalog.STYLES)
    if a.measure_only:
        kept = Path(a.measure_only)
        base_styles = [s for s in styles if (kept / "base" / "dev_en" / s).exists()]
        new, base = measure_tree(kept / "new", styles), measure_tree(kept / "base", base_styles)
        if a.pictures:
            pictures(kept / "new", styles, Path(a.pictures))
        return report(a, styles, base_styles, new, base)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(a.keep or scratch)
        run_tree(ROOT, tmp / "new", styles, a.engine)
        with worktree(a.base, tmp / "base_src") as base_src:
            base_styles = [s for s in styles if (base_src / "src").exists() and s in
                           subprocess.run([sys.executable, "-c", "from airap import catalog; print(*catalog.STYLES)"],
                                          env={**os.environ, "PYTHONPATH": str(base_src / "src")},
                                          capture_output=True, text=True).stdout.split()]
            run_tree(base_src, tmp / "base", base_styles, a.engine)
        new, base = measure_tree(tmp / "new", styles), measure_tree(tmp / "base", base_styles)
        if a.pictures:
            pictures(tmp / "new", styles, Path(a.pictures))
    report(a, styles, base_styles, new, base)


def report(a, styles, base_styles, new, base) -> None:
    report = {"base_rev": a.base, "engine": a.engine,
              "thresholds": {"onset_corr_same": ONSET_CORR_SAME, "spectrum_db_same": SPECTRUM_DB_SAME,
                             "spectrum_range_db": SPECTRUM_RANGE_DB,
                             "novelty_half_beats": NOVELTY_HALF_BEATS},
              "summary": {"new": summary(new, styles), "base": summary(base, base_styles)},
              "per_song_style": {"new": new, "base": base}}
    Path(a.out).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(json.dumps(report["summary"], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
