"""Walking only some paths (the watcher's refresh) gives what the full walk gives there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from greenpair.core.repo import walker
from greenpair.core.repo.walker import Entry, refresh_scope, walk, walk_paths
from tests.unit.core.test_walker_gitignore import _make_repo


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tricky gitignore repository plus secrets, vendored code, binaries and links."""
    root = _make_repo(tmp_path_factory.mktemp("paths") / "repo")
    extra = {
        ".env": "TOKEN=x\n", "config/.ssh/id_rsa": "key\n", "deploy/secrets/db.yaml": "pw\n",
        "node_modules/lib/index.js": "x\n", "env2/pyvenv.cfg": "home=/\n",
        "env2/lib/site.py": "x = 1\n", "src/app.js": "var a=1;" * 400 + "\n",
        "src/mod.py": "def f():\n    return 1\n", "big/huge.txt": "x" * 5000 + "\n",
    }
    for rel, text in extra.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / "src/image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (root / "src/blob.dat").write_bytes(bytes(range(256)))
    (root / "src/link_to_mod.py").symlink_to("mod.py")
    (root / "src/loop").symlink_to(".")
    (root / "to_build").symlink_to("build", target_is_directory=True)  # an ignored target
    (root / "links").mkdir()  # git matches a link as a file: `dironly/` does not apply
    (root / "links/dironly").symlink_to("../build", target_is_directory=True)
    (root.parent / "elsewhere").mkdir()
    (root / "outside").symlink_to(root.parent / "elsewhere", target_is_directory=True)
    (root / "dangling.py").symlink_to("nowhere.py")
    return root


def _below(entries: list[Entry], rel: str) -> list[Entry]:
    return [e for e in entries if e.path.rstrip("/") == rel or e.path.startswith(rel + "/")]


def _all_paths(root: Path) -> list[str]:
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in dirs + files:
            out.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return sorted(out)


def test_every_path_walks_as_in_the_full_walk(tree: Path) -> None:
    full = list(walk(tree, max_bytes=4096))
    paths = _all_paths(tree)
    assert len(paths) > 100
    for rel in paths:
        assert list(walk_paths(tree, [rel], max_bytes=4096)) == _below(full, rel), rel
    # The tree exercises the rules: every reason but ``undecodable`` shows up.
    reasons = {e.reason for e in full if isinstance(e, walker.SkippedFile)}
    assert {"secret", "binary", "too_large", "minified", "vendored", "ignored",
            "symlink_loop", "symlink_outside", "unreadable", "duplicate"} <= reasons


def test_links_to_an_ignored_folder_are_walked_below_the_link(tree: Path) -> None:
    changed = ["to_build/out.txt", "links/dironly/out.txt"]
    inside = list(walk_paths(tree, changed))
    assert [e.path for e in inside] == changed
    assert all(isinstance(e, walker.WalkedFile) for e in inside)
    assert _below(list(walk(tree)), "links") == inside[1:]


def test_missing_paths_and_git_internals_yield_nothing(tree: Path) -> None:
    assert list(walk_paths(tree, ["gone.py", "src/gone/deeper.py", ".git/config"])) == []


def test_secret_files_are_never_opened(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real_open = walker._open_bytes

    def spy(path: Path, limit: int = -1) -> bytes:
        opened.append(Path(path).relative_to(tree).as_posix())
        return real_open(path, limit)

    monkeypatch.setattr(walker, "_open_bytes", spy)
    entries = list(walk_paths(tree, [".env", "deploy", "config", "src/mod.py"]))
    assert opened == ["src/mod.py"]
    assert {(e.path, e.reason) for e in entries if isinstance(e, walker.SkippedFile)} == {
        (".env", "secret"), ("deploy/secrets/db.yaml", "secret"), ("config/.ssh/", "secret"),
    }


@pytest.mark.parametrize(
    ("changed", "scope"),
    [
        (["src/a.py", "src/a.py", "docs/b.md"], ["docs/b.md", "src/a.py"]),
        (["src", "src/a.py", "src/x/y.py", "src-old/a.py", "src old/b.py"],
         ["src", "src old/b.py", "src-old/a.py"]),
        (["pkg/.gitignore", "pkg/sub/a.py"], ["pkg"]),  # its rules decide what pkg keeps
        (["lib/env/pyvenv.cfg"], ["lib/env"]),  # a marker turns the folder into vendored
        (["a.py", ".gitignore"], None),  # the top rules: walk everything
        (["sub/.greenpairignore"], ["sub"]),
        (["./"], None),
        ([], []),
    ],
)
def test_refresh_scope(changed: list[str], scope: list[str] | None) -> None:
    assert refresh_scope(changed) == scope
