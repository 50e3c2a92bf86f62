"""What a render keeps for the next one: its sung takes and played beat stems, so that the next
render of the same song sings and plays only what changed.

A take is one ``engine.sing`` call as the render made it (character timbre and accents applied),
filed under a digest of everything that decides its audio: the engine and its weights, the
character's catalogue entry, the analysed line, the planned durations and rests, the pitch plan,
the detune and the accents. Durations enter the digest rounded to 1 µs: the planner derives them
from slot times, and a line moved to a later bar gets the same durations up to float rounding.

A played beat stem is filed under the digest of its notes (``beat.stem_digest``) as the int16 that
FluidSynth played (exact; ~10 MB per stem-minute).

Every render with an output folder files them in ``OUT/.airap-takes/`` (a ``manifest.json`` with
the format and the engine, one ``<digest>.npz`` per take, one ``stem-<digest>.npy`` per stem). ``reuse=PREVIOUS_OUT`` reads
them back: a take found there is not sung again. A store from another engine, format or airap
version, or one that cannot be read, is ignored with a warning: the render sings everything,
never a wrong take.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .acoustic.base import SungLine
from .align.types import Alignment, AlignmentHealth, SyllableSpan

TAKES_DIR = ".airap-takes"
TAKES_FORMAT = 13  # raised whenever the same inputs would now be sung differently (2: accents against the line; 3: the timbre
# shift's shorter STFT; 4: Kokoro given room after a line's last syllable; 5: a 20-ms glide between sung notes;
# 6: a sung line's last vowel held; 7: Kokoro's vowel onsets refitted on rapped renders; 8: onset offsets per character;
# 9: Kokoro's lead after silence 40 -> 5 ms; 10: a stray per phoneme, tried; 11: 9's singing again;
# 12: Kokoro's whole lead moved by the cast's median, tried; 13: 9's singing again)
DURATION_DIGITS = 6  # durations in the digest rounded to 1 µs (see the module docstring)


def take_digest(engine_id: str, *parts: object) -> str:
    """The digest of a take: the engine, then every input of the sing call (reprs of dataclasses,
    lists of floats rounded to ``DURATION_DIGITS``)."""

    def canonical(x):
        if isinstance(x, float):
            return round(x, DURATION_DIGITS)
        if isinstance(x, (list, tuple)):
            return [canonical(v) for v in x]
        if isinstance(x, np.ndarray):
            return canonical(x.tolist())
        if x is None or isinstance(x, (int, str, bool)):
            return x
        return repr(x)

    text = json.dumps([engine_id, TAKES_FORMAT, __version__, *(canonical(p) for p in parts)], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _save(path: Path, sung: SungLine) -> None:
    meta = {"sample_rate": sung.sample_rate, "notes": list(sung.notes) if sung.notes is not None else None,
            "alignment": asdict(sung.alignment)}
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
    np.savez(tmp, audio=np.asarray(sung.audio, np.float32), meta=np.array(json.dumps(meta)))
    tmp.replace(path)


def _load(path: Path) -> SungLine:
    with np.load(path, allow_pickle=False) as z:
        audio = z["audio"].astype(np.float32)
        meta = json.loads(str(z["meta"]))
    al = meta["alignment"]
    health = AlignmentHealth(**al["health"]) if al.get("health") else None
    alignment = Alignment([SyllableSpan(s["start"], s["vowel_onset"], s["end"], tuple(s["phoneme_durations"]))
                           for s in al["syllables"]], al["duration"], health)
    notes = tuple(meta["notes"]) if meta["notes"] is not None else None
    return SungLine(audio=audio, sample_rate=int(meta["sample_rate"]), alignment=alignment, notes=notes)


@dataclass
class TakeStore:
    """This render's takes: read from ``reuse`` (a previous render's folder), filed in ``out``."""

    engine_id: str
    out: Path | None = None
    reuse: Path | None = None
    warnings: list[str] = field(default_factory=list)
    reused: int = 0
    sung: int = 0
    damaged: int = 0  # kept takes that could not be read (sung again)
    lines_sung: set[int] = field(default_factory=set)  # numbers (0-based) of the lines with a take sung anew
    _used: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._source = self._readable(self.reuse) if self.reuse is not None else None
        self._dir = None
        if self.out is not None:
            self._dir = Path(self.out) / TAKES_DIR
            if self._readable(self._dir, quiet=True) is None and self._dir.exists():
                shutil.rmtree(self._dir, ignore_errors=True)  # our own store from another version: replaced
            try:
                self._dir.mkdir(exist_ok=True)
                (self._dir / "manifest.json").write_text(json.dumps(self._manifest()))
            except OSError as e:
                self.warnings.append(f"sung lines are not kept for reuse ({e.strerror or e})")
                self._dir = None

    def _manifest(self) -> dict:
        return {"format": TAKES_FORMAT, "airap": __version__, "engine": self.engine_id}

    def _readable(self, folder: Path, quiet: bool = False) -> Path | None:
        """The store inside ``folder`` (a render's folder or the store itself) if it is ours."""
        store = folder if folder.name == TAKES_DIR else folder / TAKES_DIR
        try:
            manifest = json.loads((store / "manifest.json").read_text())
        except (OSError, ValueError) as e:
            if not quiet:
                why = "has no kept takes" if isinstance(e, FileNotFoundError) else "cannot be read"
                self.warnings.append(f"reuse: {str(folder)!r} {why}; every line is sung")
            return None
        if manifest != self._manifest():
            if not quiet:
                self.warnings.append(f"reuse: {str(folder)!r} was rendered by {manifest.get('engine', '?')} "
                                     f"(airap {manifest.get('airap', '?')}), not {self.engine_id} (airap "
                                     f"{__version__}); every line is sung")
            return None
        return store

    def get(self, digest: str) -> SungLine | None:
        """The take filed under ``digest`` in this render's own store or the reused one, if readable."""
        for store in (self._dir, self._source):
            if store is None:
                continue
            path = store / f"{digest}.npz"
            if not path.exists():
                continue
            try:
                sung = _load(path)
            except (OSError, ValueError, KeyError, TypeError):
                with self._lock:
                    self.damaged += 1
                continue  # a damaged take is sung again
            with self._lock:
                self.reused += 1
                self._used.add(digest)
            if store is not self._dir and self._dir is not None:
                self._file(digest, sung)
            return sung
        return None

    def put(self, digest: str, sung: SungLine, line: int | None = None) -> None:
        with self._lock:
            self.sung += 1
            self._used.add(digest)
            if line is not None:
                self.lines_sung.add(line)
        self._file(digest, sung)

    def _file(self, digest: str, sung: SungLine) -> None:
        if self._dir is None:
            return
        try:
            _save(self._dir / f"{digest}.npz", sung)
        except OSError as e:
            with self._lock:
                self.warnings.append(f"sung lines are not kept for reuse ({e.strerror or e})")
                self._dir = None

    @property
    def stems(self) -> KeptStems:
        """The played beat stems (for ``beat.generate_beat``)."""
        return KeptStems(self)

    def report(self) -> list[str]:
        """What the render should say about its kept takes (once every take is sung)."""
        if self.damaged:
            return [*self.warnings, f"reuse: {self.damaged} kept take{'s' * (self.damaged != 1)} could not be "
                    "read and {} sung again".format("were" if self.damaged != 1 else "was")]
        return list(self.warnings)

    def finish(self) -> None:
        """After the render's files are written: drop what this render's own store holds and the
        render did not use (an edited line's old take)."""
        if self._dir is None:
            return
        for path in [*self._dir.glob("*.npz"), *self._dir.glob("stem-*.npy")]:
            if path.stem not in self._used:
                path.unlink(missing_ok=True)


class KeptStems:
    """Beat stems in a :class:`TakeStore` (``beat.generate.KeptStems``): read from this render's store
    or the reused one, filed in this render's. A stem that cannot be read is absent (played again)."""

    def __init__(self, store: TakeStore):
        self.store = store

    def get(self, digest: str) -> np.ndarray | None:
        store = self.store
        for folder in (store._dir, store._source):
            path = None if folder is None else folder / f"{digest}.npy"
            if path is None or not path.exists():
                continue
            try:
                audio = np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                continue
            if audio.dtype != np.int16 or audio.ndim != 2:
                continue
            if folder is not store._dir:
                self.put(digest, audio)  # this render's folder keeps what it used
            with store._lock:
                store._used.add(digest)
            return audio
        return None

    def put(self, digest: str, audio: np.ndarray) -> None:
        store = self.store
        with store._lock:
            store._used.add(digest)
        if store._dir is None:
            return
        tmp = store._dir / f".{digest}.{os.getpid()}.{threading.get_ident()}.tmp.npy"
        try:
            np.save(tmp, audio)
            tmp.replace(store._dir / f"{digest}.npy")
        except OSError as e:
            with store._lock:
                store.warnings.append(f"beat stems are not kept for reuse ({e.strerror or e})")


def cached_sing(store: TakeStore | None, digest_parts: tuple, sing, line: int | None) -> SungLine:
    """``sing()``, or the take a previous render filed under the same inputs (``line``: the song's
    line it belongs to, counted when it has to be sung)."""
    if store is None:
        return sing()
    digest = take_digest(store.engine_id, *digest_parts)
    sung = store.get(digest)
    if sung is None:
        sung = sing()
        store.put(digest, sung, line)
    return sung
