"""The key an upload's composed melody is written in: `beat.detect_key_root` (Krumhansl-Kessler
profiles on the mean chroma) on our own generated beats, whose keys are known (every style x three
seeds), against a baseline in the same run: the loudest chroma bin taken as the minor tonic.
Nothing was tuned on these beats; there is no independent labelled set of uploads yet.

    .venv/bin/python benchmarks/key_detection.py
"""

from __future__ import annotations

import json
import warnings

import numpy as np

warnings.filterwarnings("ignore")
SEEDS = (1, 4, 7)


def main() -> None:
    import librosa

    from airap.beat import BeatGrid, detect_key_root, generate_beat, key_root
    from airap.catalog import STYLES, get_style

    rows, exact, fifth, base = {}, 0, 0, 0
    for name in STYLES:
        style = get_style(name)
        for seed in SEEDS:
            beat = generate_beat(style, BeatGrid.regular(90, 12, swing=style.swing), seed=seed)
            truth = key_root(seed) % 12
            found = detect_key_root(beat.audio, 44100) % 12
            chroma = librosa.feature.chroma_stft(y=beat.audio.mean(axis=1), sr=44100, n_fft=4096, hop_length=2048)
            loudest = int(np.argmax(chroma.mean(axis=1)))
            exact += found == truth
            fifth += (found - truth) % 12 == 7
            base += loudest == truth
            rows[f"{name}/{seed}"] = {"key": truth, "found": found, "baseline": loudest}
    n = len(rows)
    report = {"beats": n, "exact": exact, "a_fifth_up": fifth, "baseline_exact": base, "per_beat": rows}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
