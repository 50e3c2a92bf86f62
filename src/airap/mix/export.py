"""Writing results: audio, MIDI, timings and LRC. Every file is written to a temporary name in the
same folder and renamed, so an existing file is never half-overwritten."""

from __future__ import annotations

import json
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
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


def write_audio(path: Path, audio: np.ndarray, sr: int, subtype: str = "PCM_16", track: Track | None = None) -> None:
    """One audio file, atomically; with ``track``, tagged with what it is (see :func:`tag_file`)."""
    import soundfile as sf

    with atomic_path(path) as tmp:
        if Path(path).suffix == ".mp3":
            sf.write(tmp, audio, sr, format="MP3", subtype="MPEG_LAYER_III")
        else:
            with sf.SoundFile(tmp, "w", sr, audio.shape[1] if audio.ndim == 2 else 1, subtype, format="WAV") as f:
                if track is not None:  # RIFF INFO: INAM, IART, ICMT, ISFT
                    f.title, f.artist, f.software = track.title, track.artist, track.generator
                    f.comment = ai_label(track)
                f.write(audio)
        if track is not None and not tag_file(tmp, track) and TAGS_MISSING not in track.warnings:
            track.warnings.append(TAGS_MISSING)


TAGS_MISSING = "mix files carry no ID3 tags (install the optional tags extra: pip install 'airap[tags]')"


def ai_label(track: Track) -> str:
    return f"AI-generated with {track.generator}: synthetic voices and beat"


ID3_KEYS = {"C": "C", "C#": "C#", "D": "D", "Eb": "Eb", "E": "E", "F": "F", "F#": "F#", "G": "G", "Ab": "Ab",
            "A": "A", "Bb": "Bb", "B": "B"}


def _id3_key(key: str) -> str:
    """"A minor" -> "Am" (ID3 TKEY: up to three characters, 'm' for minor)."""
    parts = key.split()
    if not parts or parts[0] not in ID3_KEYS:
        return ""
    return ID3_KEYS[parts[0]] + ("m" if len(parts) > 1 and parts[1] == "minor" else "")


def tag_file(path: Path, track: Track) -> bool:
    """ID3v2.4 tags (mutagen) on an MP3 or inside a WAV: title, artist (the characters), BPM, key,
    the lyrics (USLT), the syllable-timed lyrics (SYLT, milliseconds, so players show them in time)
    and the AI label (TXXX:AI_GENERATED, and the encoder field)."""
    try:  # the optional "tags" extra (GPL-2.0+): without it the RIFF INFO and timings.json carry the label
        from mutagen.id3 import ID3, SYLT, TBPM, TIT2, TKEY, TPE1, TSSE, TXXX, USLT
        from mutagen.mp3 import MP3
        from mutagen.wave import WAVE
    except ImportError:
        return False

    audio = MP3(path) if Path(path).suffix == ".mp3" else WAVE(path)
    if audio.tags is None:
        audio.add_tags()
    tags: ID3 = audio.tags
    lang = "zho" if track.lang == "zh" else "eng"
    tags.add(TIT2(encoding=3, text=track.title))
    tags.add(TPE1(encoding=3, text=track.artist))
    tags.add(TBPM(encoding=3, text=str(int(round(track.bpm)))))
    if _id3_key(track.key):
        tags.add(TKEY(encoding=3, text=_id3_key(track.key)))
    tags.add(USLT(encoding=3, lang=lang, desc="", text="\n".join(ln.text for ln in track.lines)))
    sylt = []
    for ln in track.lines:
        for w in ln.words:
            for k, syl in enumerate(w.syllables):
                lead = ("\n" if w is ln.words[0] else " ") if k == 0 and sylt else ""
                sylt.append((lead + syl.text, max(0, int(round(syl.start * 1000)))))
    tags.add(SYLT(encoding=3, lang=lang, format=2, type=1, desc="", text=sylt))
    tags.add(TXXX(encoding=3, desc="AI_GENERATED", text=ai_label(track)))
    tags.add(TSSE(encoding=3, text=track.generator))
    audio.save()
    return True


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


def write_track(track: Track, out_dir: Path, formats: tuple[str, ...] = ("wav",), threads: int = 1) -> list[Path]:
    """Every file of the track in ``out_dir``, each written atomically; the audio files ``threads``
    at a time (libsndfile frees the GIL)."""
    out_dir = Path(out_dir)
    stems = [("mix", track.mix), ("vocals", track.vocals), ("beat", track.beat), *track.parts.items()]
    if track.adlibs is not None:
        stems.append(("adlibs", track.adlibs))
    # Stems are pre-limiter (they sum to the mix before its limiter): float keeps their peaks.
    jobs = [(out_dir / f"{name}.wav", audio, "PCM_16" if name == "mix" else "FLOAT", track if name == "mix" else None)
            for name, audio in stems]
    if "mp3" in formats:
        jobs.append((out_dir / "mix.mp3", track.mix, "PCM_16", track))
    write = lambda job: write_audio(job[0], job[1], track.sample_rate, job[2], job[3])  # noqa: E731
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(write, jobs))
    else:
        for job in jobs:
            write(job)
    written = [job[0] for job in jobs]
    if track.midi is not None:
        p = out_dir / "beat.mid"
        with atomic_path(p) as tmp:
            track.midi.write(str(tmp))
        written.append(p)
    write_text(out_dir / "timings.json", timings_json(track))
    write_text(out_dir / "lyrics.lrc", lrc(track))
    written += [out_dir / "timings.json", out_dir / "lyrics.lrc"]
    return written
