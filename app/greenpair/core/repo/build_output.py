"""Build output recognised by its structure: compiled copies of the repository's sources.

Many repositories keep what a build made from their sources (a package's ``dist/`` with
``cjs/``, ``esm/`` and ``types/`` copies of ``src/``, ``.d.ts`` files beside the ``.ts``
they describe, a ``build/lib/`` copy of a Python package). Such a file answers no request
better than its source and crowds it out of the ranking, so the index leaves it out,
with the reason in ``index --json``.

Recognised, from the list of paths (and content hashes) alone:

* a **compiled twin**: a JavaScript or declaration file (``.js``, ``.mjs``, ``.cjs``,
  ``.d.ts``...) whose path ends like a TypeScript source's path, extension aside:
  ``dist/cjs/internal/map.js`` and ``dist/types/internal/map.d.ts`` for
  ``src/internal/map.ts``; beside it (``map.js`` next to ``map.ts``) or in a mirrored
  tree, where at least the file's folder must match too;
* a **copy**: a file with the same content and the same path ending as another one, in
  a tree with its own copies (``build/lib/pkg/mod.py`` of ``src/pkg/mod.py``);
* a **build output folder**: the folder holding such a mirrored tree (``dist/`` above
  ``dist/cjs/``) when most of its scripts are twins or copies; then its other scripts
  (bundles such as ``dist/bundles/rxjs.umd.js``, entry points) and maps go too.

Hand-written declarations (a ``.d.ts`` without a ``.ts`` twin) and sources in a folder
that merely shares a name with a build folder stay in the index.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

_SOURCE_EXTS = (".ts", ".tsx", ".mts", ".cts")
_OUTPUT_EXTS = (".d.ts", ".d.mts", ".d.cts", ".js", ".mjs", ".cjs", ".jsx")
# Files that a build output folder holds besides its compiled scripts.
_FOLDER_EXTS = (*_OUTPUT_EXTS, ".map", ".ts", ".tsx")
MIN_FOLDER_TWINS = 3  # a folder is build output when it holds at least this many ...
MIN_FOLDER_SHARE = 0.5  # ... and this share of its scripts are twins or copies
_MAX_COPIES = 8  # more files with one content are boilerplate, not a copied tree
_EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # sha256 of b""


def _split(path: str, exts: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    """``(folders + stem, extension)`` of ``path`` when it ends in one of ``exts``."""
    lower = path.lower()
    for ext in exts:
        if lower.endswith(ext) and len(path) > len(ext):
            return tuple(path[: -len(ext)].split("/")), ext
    return None


def _common_suffix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _folder(parts: tuple[str, ...], depth: int) -> str:
    return "/".join(parts[:depth])


_Pair = tuple[str, tuple[str, ...], tuple[str, ...], str]  # path, its parts, source's


class _Finder:
    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.found: dict[str, str] = {}
        self.roots: dict[str, int] = defaultdict(int)  # output folder -> twins in it

    def run(self) -> dict[str, str]:
        self._keep(self._twin_pairs(), "compiled copy of {}")
        self._keep(self._copy_pairs(), "copy of {}")
        self._folders()
        return self.found

    def _twin_pairs(self) -> list[_Pair]:
        """Every output script with every source of the same stem."""
        sources: dict[str, list[tuple[tuple[str, ...], str]]] = defaultdict(list)
        for path in self.files:
            split = _split(path, _SOURCE_EXTS)
            if split and _split(path, _OUTPUT_EXTS) is None:
                sources[split[0][-1]].append((split[0], path))
        pairs = []
        for path in self.files:
            split = _split(path, _OUTPUT_EXTS)
            if split is not None:
                stem = split[0]
                pairs += [(path, stem, src, src_path) for src, src_path in sources[stem[-1]]]
        return pairs

    def _copy_pairs(self) -> list[_Pair]:
        """Files of equal content and name, each with the shallowest of them."""
        by_hash: dict[str, list[str]] = defaultdict(list)
        for path, digest in self.files.items():
            if digest and digest != _EMPTY and path not in self.found:
                by_hash[digest].append(path)
        pairs = []
        for paths in by_hash.values():
            if 1 < len(paths) <= _MAX_COPIES:
                paths.sort(key=lambda p: (p.count("/"), p))
                first = tuple(paths[0].split("/"))
                for other in paths[1:]:
                    parts = tuple(other.split("/"))
                    if parts[-1] == first[-1]:
                        pairs.append((other, parts, first, paths[0]))
        return pairs

    def _keep(self, pairs: list[_Pair], why: str) -> None:
        """Keep the pairs whose trees mirror each other: a file beside its source, or a
        mapping of folders (``dist/cjs/`` to ``src/``) that at least
        ``MIN_FOLDER_TWINS`` pairs share."""
        mapping: dict[tuple[tuple[str, ...], tuple[str, ...]], int] = defaultdict(int)
        keyed = []
        for path, out, src, src_path in pairs:
            same = _common_suffix(out, src)
            key = (out[: len(out) - same], src[: len(src) - same])
            mapping[key] += 1
            keyed.append((path, key, src_path))
        for path, (out_root, src_root), src_path in keyed:
            if path in self.found:
                continue
            if out_root != src_root and mapping[out_root, src_root] < MIN_FOLDER_TWINS:
                continue
            self.found[path] = why.format(src_path)
            shared = _common_suffix(tuple(reversed(out_root)), tuple(reversed(src_root)))
            if len(out_root) > shared:  # the folder where the two trees part
                self.roots[_folder(out_root, shared + 1)] += 1

    def _folders(self) -> None:
        for root, twins in sorted(self.roots.items()):
            if twins < MIN_FOLDER_TWINS:
                continue
            prefix = root + "/"
            inside = [p for p in self.files if p.startswith(prefix)]
            scripts = [p for p in inside if p.lower().endswith((*_OUTPUT_EXTS, ".py"))]
            marked = sum(1 for p in scripts if p in self.found)
            if not scripts or marked / len(scripts) < MIN_FOLDER_SHARE:
                continue
            why = (f"in build output folder {prefix} ({marked} of its {len(scripts)} "
                   "scripts are copies of sources)")
            for path in inside:
                if path not in self.found and path.lower().endswith(_FOLDER_EXTS):
                    self.found[path] = why


def recognise(files: dict[str, str] | Iterable[str]) -> dict[str, str]:
    """Build output among a repository's files.

    Args:
        files: Repository-relative POSIX paths, or paths → content hashes (hashes let
            identical copies be found; without them only compiled twins are).

    Returns:
        Path → why it is build output (``compiled copy of map.ts``, ``copy of
        src/pkg/mod.py``, ``build output folder dist/: ...``), for the files to leave out.
    """
    table = dict(files) if isinstance(files, dict) else dict.fromkeys(files, "")
    return _Finder(table).run()
