"""Render every character's preview clip (rapped over a beat, in its default language) into
src/airap/data/previews/<name>.mp3: small mono MP3s shipped with the package, so the page plays a
preview at once and no request ever renders one. Run after changing the cast:

    .venv/bin/python scripts/make_previews.py [--only name,name]
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

warnings.filterwarnings("ignore")

PREVIEW_LINES = {
    "en": "Yo, it's {name} on the mic\nEvery word right on the beat",
    "zh": "我是{name}来到这里\n每个字都落在鼓点上",
}
PREVIEW_RATE = 22050
PREVIEW_LEAD_IN = 1.5  # s of beat before the first line
PREVIEW_TAIL = 1.5
OUT = Path(__file__).resolve().parents[1] / "src" / "airap" / "data" / "previews"


def main():
    from airap import catalog
    from airap.render import Renderer
    from airap.request import RenderRequest

    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=None)
    ap.add_argument("--beats", action="store_true", help="only the beat styles' 10-second previews")
    a = ap.parse_args()
    if a.beats:
        return beat_previews()
    OUT.mkdir(parents=True, exist_ok=True)
    renderer = Renderer("kokoro", threads=2)
    for v in catalog.VOICES.values():
        if a.only and v.name not in a.only.split(","):
            continue
        lyrics = PREVIEW_LINES[v.default_lang].format(name=v.name)
        res = renderer.render(RenderRequest(lyrics=lyrics, voice=v.name, bpm=92, beat="boom-bap", seed=1))
        write_preview(OUT / f"{v.name}.mp3", voice_clip(res.track), res.track.sample_rate)
    for stale in OUT.glob("*.mp3"):
        if stale.stem not in catalog.VOICES:
            stale.unlink()


def voice_clip(track) -> np.ndarray:
    """The rapped lines with a beat's lead-in and a short tail, not the song's whole intro and outro:
    a voice preview should start with the voice."""
    sr = track.sample_rate
    a = max(0.0, track.lines[0].start - PREVIEW_LEAD_IN)
    b = min(track.duration, track.lines[-1].end + PREVIEW_TAIL)
    clip = track.mix[int(a * sr):int(b * sr)].mean(axis=1)
    fade = int(0.3 * sr)
    clip[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)
    clip[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    return clip


def write_preview(path: Path, audio: np.ndarray, sample_rate: int) -> None:
    """A small MP3 at PREVIEW_RATE (mono or stereo as given)."""
    from scipy import signal

    y = signal.resample_poly(audio, PREVIEW_RATE // 50, sample_rate // 50, axis=0).astype(np.float32)
    sf.write(path, y, PREVIEW_RATE, format="MP3", subtype="MPEG_LAYER_III", compression_level=0.9)
    print(path.stem, f"{path.stat().st_size // 1000} kB")


def beat_previews():
    """data/previews/beats/<style>.mp3: each style's verse end, fill, drop and hook, 10 s, stereo."""
    from airap import catalog
    from airap.beat import preview_beat
    from airap.mix.chain import master

    out = OUT / "beats"
    out.mkdir(parents=True, exist_ok=True)
    for style in catalog.STYLES.values():
        clip, _ = master(preview_beat(style, seed=1), 44100)
        write_preview(out / f"{style.name}.mp3", clip, 44100)
    for stale in out.glob("*.mp3"):
        if stale.stem not in catalog.STYLES:
            stale.unlink()


if __name__ == "__main__":
    main()
