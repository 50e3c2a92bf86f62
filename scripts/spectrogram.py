"""Draw a render's spectrogram with its sections, lines (voice) and syllable marks, to look at what a
change did to the sound:

    .venv/bin/python scripts/spectrogram.py OUT_DIR [--stem vocals|mix|beat] [--png OUT_DIR/spectrogram.png]

Vowel onsets are white ticks, the grid slots they were planned on yellow; each line is labelled with
its voice (and crew).
"""

import argparse
import json
from pathlib import Path

import numpy as np
import soundfile as sf


def main():
    import librosa
    import librosa.display
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--stem", default="vocals", choices=["vocals", "mix", "beat"])
    ap.add_argument("--png", default=None)
    a = ap.parse_args()
    folder = Path(a.folder)
    timings = json.loads((folder / "timings.json").read_text(encoding="utf-8"))
    y, sr = sf.read(folder / f"{a.stem}.wav", dtype="float32")
    y = y.mean(axis=1) if y.ndim == 2 else y
    S = librosa.amplitude_to_db(np.abs(librosa.stft(y, n_fft=2048, hop_length=512)), ref=np.max)
    fig, ax = plt.subplots(figsize=(max(10, len(y) / sr / 2.5), 5))
    librosa.display.specshow(S, sr=sr, hop_length=512, x_axis="time", y_axis="log", ax=ax, cmap="magma", vmin=-80)
    for db in timings["downbeats"]:
        ax.axvline(db, color="#888", lw=0.4)
    section = None
    for line in timings["lines"]:
        if line["section"] != section:
            section = line["section"]
            ax.axvline(line["start"], color="cyan", lw=1.2)
            ax.text(line["start"], 9000, section, color="cyan", fontsize=9, va="top")
        who = line.get("voice", "") + (" + " + ", ".join(line["crew"]) if line.get("crew") else "")
        ax.text(line["start"], 60, who, color="white", fontsize=7)
        for word in line["words"]:
            for s in word["syllables"]:
                ax.vlines(s["slot_time"], 40, 55, color="yellow", lw=0.8)
                ax.vlines(s["vowel_onset"], 55, 75, color="white", lw=0.8)
    ax.set_ylim(40, 11000)
    ax.set_title(f"{folder.name}: {a.stem} — {timings.get('title', '')}, {timings['bpm']:.0f} BPM")
    fig.tight_layout()
    out = Path(a.png) if a.png else folder / f"spectrogram_{a.stem}.png"
    fig.savefig(out, dpi=90)
    print(out)


if __name__ == "__main__":
    main()
