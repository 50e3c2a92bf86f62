"""Shipped weights, checked before they are loaded: shared by every stage that ships a model (the
acoustic models, the waveform refiner), so neither stage imports the other for it."""

from __future__ import annotations

from pathlib import Path

from .errors import SetupError

RESTORE = "restore the shipped file with `git checkout -- {path}` (or reinstall airap)"


def check_weights(path: Path) -> str:
    """The file's sha256; a shipped file (one with a ``<kind>.json`` manifest beside it) must match
    its manifest, so a damaged checkpoint is a set-up error that names it, never a wrong voice."""
    import hashlib
    import json

    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as e:
        raise SetupError(f"cannot read the weights {path}: {e.strerror or e}; {RESTORE.format(path=path)}") from None
    manifest = path.with_suffix(".json")
    if manifest.exists():
        try:
            expected = json.loads(manifest.read_text()).get("sha256")
        except ValueError:
            raise SetupError(f"the manifest {manifest} is not JSON; {RESTORE.format(path=manifest)}") from None
        if expected and expected != digest:
            raise SetupError(f"the weights {path} are damaged or replaced (sha256 {digest[:12]}…, the manifest "
                             f"{manifest.name} says {expected[:12]}…); {RESTORE.format(path=path)}")
    return digest
