"""A shared index on a real ``chroma run`` server: two developers, one collection.

The server is Chroma's own (``chroma run`` from the installed package) on a free loopback
port; the developers are ``greenpair index --chroma-url`` processes with separate data
directories and separate clones, run at the same time.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.config import Settings
from greenpair.core.index import open_index
from greenpair.core.index.identity import normalise_remote, repo_identity
from greenpair.core.index.vectors import collection_name
from tests.conftest import git, make_repo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tmp_path_factory.mktemp("chroma-server")
    exe = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(exe), "run", "--path", str(data), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            chromadb.HttpClient(host="127.0.0.1", port=port,
                                settings=ChromaSettings(anonymized_telemetry=False)).heartbeat()
            break
        except Exception:  # noqa: BLE001 - not up yet: any error
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("chroma run did not start")
            time.sleep(0.2)  # the server process has no readiness event to wait on
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(30)


def _count(url: str, repo: Path, space: str) -> int:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.HttpClient(host="127.0.0.1", port=int(url.rsplit(":", 1)[1]),
                                 settings=ChromaSettings(anonymized_telemetry=False))
    return client.get_collection(collection_name(space, repo_identity(repo))).count()


def _index(repo: Path, home: Path, url: str) -> subprocess.Popen[str]:
    home.mkdir(exist_ok=True)
    models = Path(os.environ["GREENPAIR_HOME"]) / "models"
    if models.exists() and not (home / "models").exists():
        (home / "models").symlink_to(models.resolve(), target_is_directory=True)
    env = {**os.environ, "GREENPAIR_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "greenpair", "index", "--repo", str(repo),
                             "--chroma-url", url, "--json", "--quiet"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return json.loads(out)


def test_remote_urls_of_one_project_agree() -> None:
    same = {normalise_remote(u) for u in (
        "git@github.com:team/shop.git", "https://github.com/team/shop",
        "ssh://git@github.com:22/team/shop.git", "https://user:pw@GitHub.com/team/shop.git/")}
    assert same == {"github.com/team/shop"}


def test_two_developers_share_one_collection(tmp_path: Path, tmp_repo: Path,
                                             chroma_url: str) -> None:
    dev1, dev2, dev3 = (tmp_path / n for n in ("dev1", "dev2", "dev3"))
    for clone in (dev1, dev2, dev3):
        git(tmp_path, "clone", "-q", str(tmp_repo), str(clone))
    other = make_repo(tmp_path / "billing", {"billing/invoice.py": '''
        def invoice_number(year, seq):
            """Invoice numbers look like 2026-000123."""
            return f"{year}-{seq:06d}"
        '''})
    assert repo_identity(dev1) == repo_identity(dev2) != repo_identity(other)

    # Two developers index the same commit at the same time, a third project meanwhile.
    runs = [_index(dev1, tmp_path / "home1", chroma_url),
            _index(dev2, tmp_path / "home2", chroma_url),
            _index(other, tmp_path / "home1b", chroma_url)]
    first, second, billing = (_result(p) for p in runs)
    space = str(first["embedding"])
    n = int(first["embedded_chunks"])  # type: ignore[arg-type]
    assert n > 0
    assert second["embedded_chunks"] == n
    store1, store2 = first["vector_store"], second["vector_store"]
    assert store1["shared"]
    assert store1["where"] == chroma_url
    shop_vectors = _count(chroma_url, dev1, space)
    assert shop_vectors == n  # same ids from both: every vector stored once
    billing_vectors = _count(chroma_url, other, space)
    assert billing_vectors == billing["embedded_chunks"] > 0

    # A third developer reuses the vectors instead of embedding them.
    third = _result(_index(dev3, tmp_path / "home3", chroma_url))
    assert third["vector_store"]["fetched"] >= 1  # type: ignore[index]
    assert third["vector_store"]["added"] == 0  # type: ignore[index]
    assert third["vector_store"]["already_stored"] == n  # type: ignore[index]
    print(f"shared chroma: dev1 {store1}, dev2 {store2}, dev3 {third['vector_store']}; "
          f"collection shop={shop_vectors} (embedded chunks {n}), billing={billing_vectors}")

    # dev1 deletes a file and re-indexes: nothing is deleted from the shared collection,
    # so dev2 (still on the old commit) keeps its vectors, and billing is untouched.
    git(dev1, "rm", "-q", "src/shop/discounts.py")
    git(dev1, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-qm", "rm")
    _result(_index(dev1, tmp_path / "home1", chroma_url))
    assert _count(chroma_url, dev1, space) == shop_vectors
    assert _count(chroma_url, other, space) == billing_vectors
    print(f"after dev1 deleted discounts.py and re-indexed: shop={_count(chroma_url, dev1, space)}"
          f", billing={_count(chroma_url, other, space)}")

    os.environ["GREENPAIR_HOME"] = str(tmp_path / "home2")  # restored by monkeypatch
    index = open_index(dev2, Settings(chroma_url=chroma_url))
    try:
        vector = index.embedder().embed(["apply a discount code to the total"])[0]
        hits = index.vectors().query(vector, 10)
        assert "src/shop/discounts.py" in {h[1] for h in hits}  # dev2 still has it
        assert index.search("apply a discount code", k=3).files[0] == "src/shop/discounts.py"
    finally:
        index.close()
