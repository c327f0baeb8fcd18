"""Which repository paths the assistant may read into a prompt or write a patch to.

A path must stay inside the repository (after resolving ``..`` and symlinks), must not be
inside ``.git``, must not be a secret file (the walker's deny-list), and a patch may only
touch text files.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from greenpair.core.errors import PatchError

BINARY_SNIFF_BYTES = 8192


class RefusedPath(PatchError):
    """A patch would touch a path it never may (outside, secret, binary, .git)."""


def _is_secret(rel_path: str) -> bool:
    from greenpair.core.repo.walker import is_secret_path

    return is_secret_path(rel_path)


def normalise_rel_path(rel_path: str) -> str:
    """A model-written path as a clean repository-relative POSIX path (no checks)."""
    text = rel_path.strip().strip("`'\"").replace("\\", "/")
    for prefix in ("a/", "b/"):  # unified-diff prefixes
        if text.startswith(prefix) and len(text) > 2:
            text = text[2:]
            break
    while text.startswith("./"):
        text = text[2:]
    return text


def resolve_inside(repo: Path, rel_path: str) -> Path:
    """The absolute path of ``rel_path`` in ``repo``.

    Raises:
        PatchError: The path is absolute, climbs out of the repository, or resolves
            (through a symlink) outside it, or points into ``.git``.
    """
    root = Path(repo).resolve()
    pure = PurePosixPath(rel_path)
    if not rel_path or pure.is_absolute() or Path(rel_path).is_absolute():
        raise RefusedPath(
            f"Refusing to touch {rel_path!r}: only paths relative to the repository are allowed.",
            hint="The model proposed an absolute path; ask again naming a file in the repository.",
        )
    if rel_path.startswith("~") or pure.parts[:1] == ("$HOME",):
        raise RefusedPath(
            f"Refusing to touch {rel_path!r}: it names a file in a home directory.",
            hint="Greenpair only edits files inside the repository you opened.",
        )
    target = (root / pure).resolve()
    if target != root and root not in target.parents:
        raise RefusedPath(
            f"Refusing to touch {rel_path!r}: it is outside the repository {root}.",
            hint="Greenpair only edits files inside the repository you opened.",
        )
    # Case-insensitively: on macOS and Windows ``.GIT/hooks`` is ``.git/hooks``.
    if ".git" in (part.lower() for part in target.relative_to(root).parts):
        raise RefusedPath(f"Refusing to touch {rel_path!r}: it is inside .git.")
    return target


def is_binary_file(path: Path) -> bool:
    """True when ``path`` looks binary (a NUL byte early on, or neither UTF-8 nor
    ISO-8859-1 text)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        from greenpair.core.repo.filters import is_latin1_text

        return not is_latin1_text(data)
    return False


def check_editable(repo: Path, rel_path: str) -> Path:
    """The absolute path of a file a patch may write.

    Raises:
        PatchError: Outside the repository, a secret file, or a binary file.
    """
    target = resolve_inside(repo, rel_path)
    rel = target.relative_to(Path(repo).resolve()).as_posix()
    if _is_secret(rel) or _is_secret(rel_path):
        raise RefusedPath(
            f"Refusing to touch {rel_path!r}: it looks like a secret file.",
            hint="Greenpair never reads or writes secret files (keys, .env, credentials).",
        )
    if target.is_dir():
        raise RefusedPath(f"Refusing to touch {rel_path!r}: it is a directory.")
    if target.exists() and is_binary_file(target):
        raise RefusedPath(
            f"Refusing to touch {rel_path!r}: it is a binary file.",
            hint="Patches can only change text files.",
        )
    return target


def is_readable_repo_file(repo: Path, rel_path: str) -> Path | None:
    """The file's absolute path if it may be shown to the model, else None."""
    try:
        target = resolve_inside(repo, rel_path)
    except RefusedPath:
        return None
    if not target.is_file() or _is_secret(rel_path):
        return None
    return target
