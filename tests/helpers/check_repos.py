"""Small repositories for the patch check's tests, with this interpreter as their `.venv`
(so their tests run with pytest whatever python3 is on PATH)."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from tests.conftest import make_repo


def with_venv(repo: Path) -> Path:
    """Link the running interpreter's environment as ``repo/.venv`` (git-excluded)."""
    venv = repo / ".venv"
    target = Path(sys.prefix)
    if not (target / "bin" / "python").exists():  # not a venv: a folder with a python link
        (repo / ".venv-made" / "bin").mkdir(parents=True)
        (repo / ".venv-made" / "bin" / "python").symlink_to(sys.executable)
        target = repo / ".venv-made"
    venv.symlink_to(target, target_is_directory=True)
    exclude = repo / ".git" / "info" / "exclude"
    if exclude.parent.is_dir():
        with exclude.open("a", encoding="utf-8") as fh:
            fh.write("\n.venv\n.venv-made\n")
    return repo


def python_repo(root: Path, files: dict[str, str]) -> Path:
    """A committed git repository of ``files`` with a ``.venv``."""
    return with_venv(make_repo(root, files))


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (``.git`` included, links by target)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in {".venv", ".venv-made"}]
        for name in filenames:
            path = Path(dirpath, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
