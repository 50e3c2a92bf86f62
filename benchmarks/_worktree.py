"""Another revision's source tree, for benchmarks that compare against a base in the same run."""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def worktree(rev: str, dest: Path):
    """A temporary git worktree of ``rev`` at ``dest`` (detached, removed afterwards); yields its root."""
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(dest), rev], check=True,
                   capture_output=True)
    try:
        yield dest
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(dest)], capture_output=True)
