"""The teacher corpus on disk: shards of utterances, each written atomically (a build stopped at any
time resumes where it was). Written by ``airap.training.corpus``; read by the training loop and by
the audit judge's trainer, which therefore depend on this file format only.

An utterance: token ids (Kokoro symbol ids, the engines' layout), teacher frames per token (25 ms),
speaker id, WORLD features [2 * frames, FEATURE_DIM], its text and language, and whether it was read
at the teacher's own pace or rapped on a flow plan's durations. Shards built since session 9 also
keep the teacher's audio (int16, 24 kHz; ``load_audio``), for training a vocoder: it is not loaded
with the utterances, which the acoustic model's training holds in memory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NotRequired, TypedDict

import numpy as np

SHARD = 50  # utterances per shard file


class Utterance(TypedDict):
    ids: np.ndarray  # token ids
    frames: np.ndarray  # teacher frames (25 ms) per token
    speaker: int
    feats: np.ndarray  # WORLD features [2 * frames.sum(), FEATURE_DIM]
    text: str
    lang: str
    rapped: bool  # read on a flow plan's durations (else at the teacher's own pace)
    audio: NotRequired[np.ndarray]  # int16, 24 kHz, 600 samples per teacher frame (written, not loaded)


def write_shard(path: Path, utts: list[Utterance]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    obj = lambda key: np.array([u[key] for u in utts] + [None], dtype=object)[:-1]  # noqa: E731 (ragged arrays)
    np.savez(tmp, ids=obj("ids"), frames=obj("frames"), speaker=np.array([u["speaker"] for u in utts]),
             feats=obj("feats"), text=np.array([u["text"] for u in utts]), lang=np.array([u["lang"] for u in utts]),
             rapped=np.array([u["rapped"] for u in utts], bool),
             **({"audio": obj("audio")} if utts and all("audio" in u for u in utts) else {}))
    tmp.replace(path)


def load_shard(path: Path) -> list[Utterance]:
    """The utterances of one shard file."""
    z = np.load(path, allow_pickle=True)
    rapped = z["rapped"] if "rapped" in z.files else np.zeros(len(z["speaker"]), bool)  # the first corpus: reads only
    return [{"ids": z["ids"][k].astype(np.int64), "frames": z["frames"][k].astype(np.int64),
             "speaker": int(z["speaker"][k]), "feats": z["feats"][k].astype(np.float32),
             "text": str(z["text"][k]), "lang": str(z["lang"][k]), "rapped": bool(rapped[k])} for k in range(len(z["speaker"]))]


def load_audio(path: Path) -> list[np.ndarray] | None:
    """The teacher's audio of every utterance of one shard (int16, 24 kHz), or None if it kept none."""
    z = np.load(path, allow_pickle=True)
    return [np.asarray(a, np.int16) for a in z["audio"]] if "audio" in z.files else None


def load(corpus_dir: Path) -> list[Utterance]:
    """All utterances of all finished shards."""
    return [u for path in sorted(Path(corpus_dir).glob("shard_*.npz")) for u in load_shard(path)]
