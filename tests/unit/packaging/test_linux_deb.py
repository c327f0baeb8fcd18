"""The .deb layout, from a stand-in for PyInstaller's one-folder app (dpkg-deb is real)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "packaging"))

import linux_deb  # noqa: E402 - a script folder, not a package


@pytest.fixture
def app(tmp_path: Path) -> Path:
    folder = tmp_path / "work" / "dist" / "greenpair"
    (folder / "_internal").mkdir(parents=True)
    (folder / "greenpair").write_text("#!/bin/sh\necho greenpair\n", encoding="utf-8")
    (folder / "greenpair").chmod(0o755)
    (folder / "_internal" / "lib.so").write_bytes(b"\0" * 4096)
    return folder


def test_tree_installs_to_opt_with_command_menu_entry_icons_and_rapl_docs(
    app: Path, tmp_path: Path
) -> None:
    tree = linux_deb.deb_tree(app, tmp_path / "deb", "1.2.3")
    assert (tree / "opt/greenpair/greenpair").is_file()
    assert os.readlink(tree / "usr/bin/greenpair") == "/opt/greenpair/greenpair"
    entry = (tree / "usr/share/applications/greenpair.desktop").read_text(encoding="utf-8")
    assert "Exec=/usr/bin/greenpair gui\n" in entry
    assert "Icon=greenpair\n" in entry
    icons = tree / "usr/share/icons/hicolor"
    for size in (16, 32, 48, 64, 128, 256, 512):
        assert (icons / f"{size}x{size}/apps/greenpair.png").is_file()
    assert (icons / "scalable/apps/greenpair.svg").is_file()
    rapl = tree / "usr/share/doc/greenpair/rapl"
    assert {p.name for p in rapl.iterdir()} == {
        "60-greenpair-rapl.rules", "greenpair-rapl.tmpfiles.conf", "README-rapl.md"}
    assert not (tree / "etc").exists()  # the RAPL rule is an opt-in, never installed
    control = (tree / "DEBIAN/control").read_text(encoding="utf-8")
    assert "Package: greenpair\nVersion: 1.2.3\n" in control
    assert "libxcb-cursor0" in control
    assert int(control.split("Installed-Size: ")[1].split("\n")[0]) >= 4


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian)")
def test_build_makes_a_deb_dpkg_can_read_and_a_tarball(app: Path, tmp_path: Path) -> None:
    deb, archive = linux_deb.build(app, tmp_path / "out", "1.2.3")
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True,
                             text=True, check=True).stdout
    assert "./opt/greenpair/greenpair" in listing
    assert "./usr/bin/greenpair -> /opt/greenpair/greenpair" in listing
    info = subprocess.run(["dpkg-deb", "--field", str(deb), "Package", "Version"],
                          capture_output=True, text=True, check=True).stdout
    assert info.split() == ["Package:", "greenpair", "Version:", "1.2.3"]
    assert archive.name.startswith("greenpair-1.2.3-linux-")
