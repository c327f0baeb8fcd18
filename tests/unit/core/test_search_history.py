"""History evidence on a real git repository made by the test: past commit messages
point at the files they changed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from greenpair.core.index import open_index
from greenpair.core.index.search import DEFAULT, gather, search
from greenpair.core.index.search.git_log import load
from tests.conftest import git, make_repo

FILES = {
    "app/pricing.py": '''
        def price(amount, rate):
            """The price of an amount after a rate."""
            return round(amount * (1 - rate), 2)
    ''',
    "app/report.py": '''
        def monthly(rows):
            """Monthly report: one line per order with its discount and discount code."""
            return [f"{r.code} discount {r.discount}" for r in rows]
    ''',
    **{f"app/util_{i}.py": f"def helper_{i}(items):\n    return sorted(items)[{i}]\n"
       for i in range(4)},
}


def commit(repo: Path, path: str, text: str, message: str) -> None:
    (repo / path).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.invalid",
        "commit", "-q", "-m", message)


def test_past_commit_messages_point_at_the_files_they_changed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    pricing = (repo / "app/pricing.py").read_text()
    commit(repo, "app/pricing.py", pricing + "\n# cents\n",
           "Round discounts to whole cents before tax")
    commit(repo, "app/pricing.py", pricing + "\n# cents, half up\n",
           "Discounted prices lose a cent when rounding half up")
    report = (repo / "app/report.py").read_text()
    commit(repo, "app/report.py", report + "\n# column\n", "Add a column to the monthly report")

    history = load(repo)
    assert history is not None
    assert len(history.commits) == 4  # the initial commit too
    index = open_index(repo)
    for _ in index.update(embed=False):
        pass
    query = "discount is off by a cent"
    ev = gather(index, index.lexical(), query)
    lex = index.lexical()
    ranked = sorted(ev.files["history"], key=lambda f: -ev.files["history"][f])
    assert lex.paths[ranked[0]] == "app/pricing.py"
    assert search(index, query, 3).files[0] == "app/pricing.py"
    # Without history the file that says "discount" most wins.
    no_history = replace(DEFAULT, weights={**DEFAULT.weights, "history": 0.0})
    assert search(index, query, 3, no_history).files[0] == "app/report.py"

    # A new commit is seen at the next search (HEAD moved).
    commit(repo, "app/util_0.py", "def helper_0(items):\n    return items\n",
           "Monthly totals of the invoice ledger")
    ev = gather(index, index.lexical(), "invoice ledger totals")
    assert [lex.paths[f] for f in ev.files["history"]] == ["app/util_0.py"]
    index.close()


def test_no_history_without_git(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES, init_git=False)
    assert load(repo) is None
    index = open_index(repo)
    for _ in index.update(embed=False):
        pass
    assert gather(index, index.lexical(), "discount rounding").files["history"] == {}
    index.close()


def test_history_of_a_worktree(tmp_path: Path) -> None:
    """A worktree's ``.git`` is a file that points at its git folder."""
    from greenpair.core.index.search.git_log import head_key

    repo = make_repo(tmp_path / "repo", FILES)
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    assert (tmp_path / "wt" / ".git").is_file()
    assert head_key(tmp_path / "wt") is not None
    history = load(tmp_path / "wt")
    assert history is not None
    assert len(history.commits) == 1


def test_history_is_read_with_the_index_not_at_the_first_search(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The update reads the git log (background work); the first search then finds it
    ready, and reads it again only when ``HEAD`` moves."""
    from greenpair.core.index.search import git_log as history

    reads: list[Path] = []
    real_load = history.load

    def counting_load(repo: Path) -> history.History | None:
        reads.append(repo)
        return real_load(repo)

    monkeypatch.setattr(history, "load", counting_load)
    repo = make_repo(tmp_path / "repo", FILES)
    commit(repo, "app/report.py", "def monthly(rows):\n    return rows\n",
           "Monthly ledger lines")
    index = open_index(repo)
    for _ in index.update(embed=False):
        pass
    assert len(reads) == 1
    ev = gather(index, index.lexical(), "monthly ledger", dense=False)
    assert len(reads) == 1
    assert [index.lexical().paths[f] for f in ev.files["history"]][:1] == ["app/report.py"]
    index.close()
