"""A repository whose ignore files hold lines git skips as invalid is indexed, searched
and walked as git sees it (issue 11: ``GitIgnorePatternError: Invalid git pattern: '!'``
used to kill index, search, ask and the window)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from greenpair.core.repo.ignore import IgnoreRules
from greenpair.core.repo.walker import SkippedFile, WalkedFile, walk
from tests.conftest import SAMPLE_FILES, git, make_repo

APP = str(Path(__file__).resolve().parents[2] / "app")

# As in black's own test data: a lone "!" and a trailing backslash, among valid lines.
TOP_IGNORE = "# build output\n*.log\n!\nbuild/\n!keep.log\n"
NESTED_IGNORE = "\\\ncache\\\n*.tmp\n"


def _hostile_repo(root: Path) -> Path:
    files = dict(SAMPLE_FILES)
    files[".gitignore"] = TOP_IGNORE
    files["src/.gitignore"] = NESTED_IGNORE
    repo = make_repo(root, files)
    for rel in ("debug.log", "keep.log", "build/out.py", "src/shop/x.tmp", "!", "src/cache\\"):
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("def leftover():\n    return 1\n")
    return repo


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": APP}
    return subprocess.run(
        [sys.executable, "-m", "greenpair", *args], capture_output=True, text=True, env=env,
        timeout=600, check=False,
    )


def test_walk_matches_git_on_real_files(tmp_path: Path) -> None:
    repo = _hostile_repo(tmp_path / "repo")
    every = sorted(
        p.relative_to(repo).as_posix() for p in repo.rglob("*")
        if ".git" not in p.relative_to(repo).parts
    )
    git_says = set(git(repo, "check-ignore", "--no-index", *every).split("\n")) - {""}
    rules = IgnoreRules(repo)
    assert {p for p in every if rules.is_ignored(p)} == git_says
    assert git_says == {"build", "build/out.py", "debug.log", "src/shop/x.tmp"}
    entries = list(walk(repo))
    bad = {(e.path, e.detail) for e in entries if isinstance(e, SkippedFile)
           and e.reason == "bad_ignore_line"}
    assert bad == {
        (".gitignore:3", "'!' is not a valid pattern; git skips this line too"),
        ("src/.gitignore:1", "'\\\\' is not a valid pattern; git skips this line too"),
        ("src/.gitignore:2", "'cache\\\\' is not a valid pattern; git skips this line too"),
    }
    walked = {e.path for e in entries if isinstance(e, WalkedFile)}
    assert {"keep.log", "!", "src/cache\\", "src/shop/cart.py"} <= walked


def test_index_and_search_succeed_and_count_the_bad_lines(tmp_path: Path) -> None:
    repo = _hostile_repo(tmp_path / "repo")
    index = _run("index", "--repo", str(repo), "--json")
    assert index.returncode == 0, index.stderr
    assert "Traceback" not in index.stderr
    stats = json.loads(index.stdout)
    assert stats["skipped"]["bad_ignore_line"] == 3
    assert stats["skipped"]["ignored"] == 3  # build/, debug.log, src/shop/x.tmp
    search = _run("search", "--repo", str(repo), "--json", "apply a discount code")
    assert search.returncode == 0, search.stderr
    assert json.loads(search.stdout)["files"][0] == "src/shop/discounts.py"
