"""Writing results: audio, MIDI, timings and LRC. Every file is written to a temporary name in the
same folder and renamed, so an existing file is never half-overwritten."""

from __future__ import annotations

import json
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .types import Track


@contextmanager
def atomic_path(path: Path):
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results are meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_audio(path: Path, audio: np.ndarray, sr: int, subtype: str = "PCM_16") -> None:
    import soundfile as sf

    with atomic_path(path) as tmp:
        if Path(path).suffix == ".mp3":
            sf.write(tmp, audio, sr, format="MP3", subtype="MPEG_LAYER_III")
        else:
            sf.write(tmp, audio, sr, format="WAV", subtype=subtype)


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _lrc_time(t: float) -> str:
    t = max(t, 0.0)
    m, s = divmod(t, 60)
    return f"{int(m):02d}:{s:05.2f}"


def _lrc_field(text: str) -> str:
    """One line of LRC: a line break or control character in a title would start a forged tag line."""
    return re.sub(r"\s+", " ", "".join(ch if ch.isprintable() else " " for ch in text)).strip()


def lrc(track: Track) -> str:
    """Enhanced LRC: a [mm:ss.xx] tag per line and a <mm:ss.xx> tag before each word."""
    out = [f"[ti:{_lrc_field(track.title)}]", "[re:airap]"]
    for line in track.lines:
        words = " ".join(f"<{_lrc_time(w.start)}>{_lrc_field(w.text)}" for w in line.words)
        out.append(f"[{_lrc_time(line.start)}]{words} <{_lrc_time(line.end)}>")
    return "\n".join(out) + "\n"


def timings_json(track: Track) -> str:
    return json.dumps(track.timings_dict(), ensure_ascii=False, indent=1)


def write_track(track: Track, out_dir: Path, formats: tuple[str, ...] = ("wav",)) -> list[Path]:
    out_dir = Path(out_dir)
    written = []
    for name, audio in (("mix", track.mix), ("vocals", track.vocals), ("beat", track.beat)):
        p = out_dir / f"{name}.wav"
        # Stems are pre-limiter (they sum to the mix before its limiter): float keeps their peaks.
        write_audio(p, audio, track.sample_rate, "PCM_16" if name == "mix" else "FLOAT")
        written.append(p)
    if "mp3" in formats:
        p = out_dir / "mix.mp3"
        write_audio(p, track.mix, track.sample_rate)
        written.append(p)
    if track.midi is not None:
        p = out_dir / "beat.mid"
        with atomic_path(p) as tmp:
            track.midi.write(str(tmp))
        written.append(p)
    write_text(out_dir / "timings.json", timings_json(track))
    write_text(out_dir / "lyrics.lrc", lrc(track))
    written += [out_dir / "timings.json", out_dir / "lyrics.lrc"]
    return written
