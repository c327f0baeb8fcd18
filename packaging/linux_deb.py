"""The Linux ``.deb`` and portable ``.tar.gz`` from PyInstaller's one-folder app.

The ``.deb`` installs the app to ``/opt/greenpair``, the command ``/usr/bin/greenpair`` (a
link), the desktop entry, the icons in the hicolor theme, and the RAPL udev rule and tmpfiles
entry as *documentation* under ``/usr/share/doc/greenpair/rapl/``: reading RAPL counters as a
user re-opens CVE-2020-8694 to that user, so it stays an opt-in (README-rapl.md says how).
Models and indexes live in the user's data directory, never under ``/opt``, so removing the
package leaves only those.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Qt's xcb platform plugin needs these system libraries (PyInstaller bundles Qt itself).
DEPENDS = [
    "libc6 (>= 2.31)", "libgl1", "libegl1", "libfontconfig1", "libfreetype6", "libdbus-1-3",
    "libxkbcommon0", "libxkbcommon-x11-0", "libx11-xcb1", "libxcb1", "libxcb-cursor0",
    "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
    "libxcb-randr0", "libxcb-shape0", "libxcb-xfixes0", "libxcb-xinerama0", "libxcb-xkb1",
    "libxrender1", "libxi6", "git",
]
RECOMMENDS = ["xclip", "xdotool"]  # the hotkey's copy/paste on X11
POSTINST = """#!/bin/sh
set -e
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
  gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database -q /usr/share/applications || true
fi
"""


def _arch() -> str:
    out = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True)
    return out.stdout.strip() or "amd64"


def _installed_kib(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink()) // 1024


def _desktop_entry() -> str:
    text = (HERE / "linux" / "greenpair.desktop").read_text(encoding="utf-8")
    return text.replace("Exec=greenpair ", "Exec=/usr/bin/greenpair ")


def _icons(share: Path) -> None:
    for png in sorted((ROOT / "assets" / "png").glob("greenpair-[0-9]*.png")):
        size = png.stem.rsplit("-", 1)[1]
        target = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "greenpair.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target)
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "assets" / "greenpair.svg", scalable / "greenpair.svg")


def deb_tree(app: Path, tree: Path, version: str) -> Path:
    """Lay out the package's files under ``tree`` (the dpkg-deb root)."""
    if tree.exists():
        shutil.rmtree(tree)
    shutil.copytree(app, tree / "opt" / "greenpair", symlinks=True)
    (tree / "usr" / "bin").mkdir(parents=True)
    os.symlink("/opt/greenpair/greenpair", tree / "usr" / "bin" / "greenpair")
    share = tree / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    (share / "applications" / "greenpair.desktop").write_text(_desktop_entry(), encoding="utf-8")
    _icons(share)
    doc = share / "doc" / "greenpair"
    (doc / "rapl").mkdir(parents=True)
    for name in ("60-greenpair-rapl.rules", "greenpair-rapl.tmpfiles.conf", "README-rapl.md"):
        shutil.copy2(HERE / "linux" / name, doc / "rapl" / name)
    shutil.copy2(HERE / "linux" / "greenpair-autostart.desktop", doc / "greenpair-autostart.desktop")
    (doc / "copyright").write_text(
        "Greenpair\nLicense: Apache-2.0\nBundled libraries keep their own licenses "
        "(Qt/PySide6: LGPL-3.0; llama.cpp: MIT; ONNX Runtime: MIT; all-MiniLM-L6-v2: Apache-2.0).\n",
        encoding="utf-8",
    )
    control = tree / "DEBIAN"
    control.mkdir()
    (control / "control").write_text(
        f"Package: greenpair\nVersion: {version}\nSection: devel\nPriority: optional\n"
        f"Architecture: {_arch()}\nInstalled-Size: {_installed_kib(tree)}\n"
        f"Depends: {', '.join(DEPENDS)}\nRecommends: {', '.join(RECOMMENDS)}\n"
        "Maintainer: Greenpair developers <greenpair@localhost>\n"
        "Description: private, green coding assistant that runs on your machine\n"
        " Indexes a repository, answers questions with citations, drafts patches and\n"
        " completes code from a global hotkey, with a small local model. No byte of\n"
        " code leaves the machine; every answer shows the energy it took.\n"
        " Models are downloaded into the user's data directory on first run.\n",
        encoding="utf-8",
    )
    for name, text in (("postinst", POSTINST), ("postrm", POSTINST)):
        (control / name).write_text(text, encoding="utf-8")
        (control / name).chmod(0o755)
    return tree


def build(app: Path, out: Path, version: str) -> list[Path]:
    """Build ``greenpair_<version>_<arch>.deb`` and the ``.tar.gz`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    work = app.parent.parent
    tree = deb_tree(app, work / "deb", version)
    deb = out / f"greenpair_{version}_{_arch()}.deb"
    # gzip: readable by every dpkg, and ~10x faster to make than xz for a 0.5 GB tree.
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(tree), str(deb)],
                   check=True, stdout=subprocess.DEVNULL)
    name = f"greenpair-{version}-linux-{os.uname().machine}"
    archive = out / f"{name}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(app, arcname=name)
        tar.add(HERE / "linux" / "greenpair.desktop", arcname=f"{name}/share/greenpair.desktop")
        tar.add(ROOT / "assets" / "png" / "greenpair-256.png", arcname=f"{name}/share/greenpair.png")
        tar.add(HERE / "linux" / "README-portable.md", arcname=f"{name}/README.md")
    return [deb, archive]
