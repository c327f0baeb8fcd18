"""A settings file that does not parse: defaults and a warning, and the file is kept."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenpair.cli import cli
from greenpair.core import messages
from greenpair.core.config import (
    Settings,
    index_dir,
    load_settings,
    save_settings,
    settings_path,
)
from greenpair.core.errors import ConfigError
from tests.helpers.mounts import read_only_view, small_tmpfs


@pytest.fixture
def warnings_seen() -> list[str]:
    seen: list[str] = []

    def listener(level: str, text: str) -> None:
        if level == "warning":
            seen.append(text)

    messages.connect(listener)
    yield seen
    messages.disconnect(listener)


@pytest.mark.parametrize("text", ['{"eco_mode": tru', "[1, 2]", "\xff\xfe garbage", ""])
def test_unparsable_file_gives_defaults_a_warning_and_is_kept(
    text: str, warnings_seen: list[str]
) -> None:
    path = settings_path()
    path.write_bytes(text.encode("latin-1"))
    assert load_settings() == Settings()
    assert load_settings() == Settings()  # warned once, not on every read
    assert len(warnings_seen) == 1
    assert "does not parse" in warnings_seen[0]
    assert "The file is kept as it is" in warnings_seen[0]
    with pytest.raises(ConfigError, match="saving would overwrite it"):
        save_settings(Settings(eco_mode=True))
    assert path.read_bytes() == text.encode("latin-1")


def test_wrong_types_fall_back_per_key(warnings_seen: list[str]) -> None:
    settings_path().write_text(json.dumps({"eco_mode": "yes", "threads": 3}))
    settings = load_settings()
    assert settings.eco_mode is False
    assert settings.threads == 3
    assert warnings_seen == ["Setting 'eco_mode' should be bool, got 'yes'. Using the default, False."]


def test_cli_reads_with_a_warning_and_refuses_to_overwrite() -> None:
    path = settings_path()
    path.write_text('{"threads": 2,,}')
    runner = CliRunner()
    shown = runner.invoke(cli, ["config", "show"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["threads"] == 0
    changed = runner.invoke(cli, ["config", "set", "threads", "4"])
    assert changed.exit_code != 0
    assert isinstance(changed.exception, ConfigError)
    assert path.read_text() == '{"threads": 2,,}'


def test_read_only_or_full_data_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "home"
    source.mkdir()
    with read_only_view(source, tmp_path / "ro") as home:
        monkeypatch.setenv("GREENPAIR_HOME", str(home))
        assert load_settings() == Settings()
        with pytest.raises(ConfigError, match="Read-only file system"):
            save_settings(Settings(threads=2))
        with pytest.raises(ConfigError, match=r"Cannot create .*indexes"):
            index_dir(tmp_path)
    with small_tmpfs(tmp_path / "full", "16k") as home:
        monkeypatch.setenv("GREENPAIR_HOME", str(home))
        subprocess.run(["dd", "if=/dev/zero", f"of={home}/filler", "bs=4k", "count=8"],
                       capture_output=True, check=False)
        with pytest.raises(ConfigError, match="No space left on device"):
            save_settings(Settings(recent_repos=["x" * 100_000]))
