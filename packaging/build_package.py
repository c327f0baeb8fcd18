"""Build the desktop package for this OS with PyInstaller (``make package``).

1. The wheel, with the verified ONNX embedder inside (``build_wheel.py``), and the portable
   llama-cpp-python wheel that setup built (``install-llama.sh --build-only``; with
   ``GREENPAIR_GPU`` set, that GPU build) are unpacked into a staging folder that comes
   first on ``PYTHONPATH``, so PyInstaller bundles them and not the development checkout.
2. PyInstaller builds the one-folder app from ``packaging/greenpair.spec`` (torch and the
   other export-time tools excluded).
3. Linux: ``linux_deb.py`` makes the ``.deb`` and the portable ``.tar.gz``. macOS: the
   ``.app`` goes into a ``.dmg`` (``hdiutil``). Windows: the folder is what
   ``packaging/windows/greenpair.iss`` (Inno Setup) installs.

Usage: ``python packaging/build_package.py [--out dist]``; prints the artefacts.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import build_wheel  # noqa: E402 - a sibling script, not a package

LLAMA_VERSION = "0.3.36"


def llama_wheel() -> Path:
    """The llama-cpp-python wheel setup built for this machine and GPU choice."""
    pip = Path(sys.executable).parent / "pip"
    out = subprocess.run(
        ["sh", str(HERE / "install-llama.sh"), str(pip), LLAMA_VERSION, "--build-only"],
        check=True, capture_output=True, text=True,
    ).stdout
    return Path(out.strip().splitlines()[-1])


def stage(work: Path) -> Path:
    """Unpack Greenpair's and llama-cpp-python's wheels into ``work/site``."""
    site = work / "site"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)
    wheel = build_wheel.build(work / "wheel")
    for archive in (wheel, llama_wheel()):
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.namelist()
                       if m.startswith(("greenpair/", "llama_cpp/"))]
            zf.extractall(site, members)
    return site


def pyinstaller(site: Path, work: Path) -> Path:
    """Run PyInstaller; returns the one-folder app (or the .app on macOS)."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(work / "dist"), "--workpath", str(work / "build"),
         str(HERE / "greenpair.spec")],
        check=True, env=env,
    )
    if sys.platform == "darwin":
        return work / "dist" / "Greenpair.app"
    return work / "dist" / "greenpair"


def version() -> str:
    """Greenpair's version, read from pyproject.toml."""
    for line in (ROOT / "pyproject.toml").read_text(encoding="utf-8").splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise SystemExit("no version in pyproject.toml")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "package")
    args = parser.parse_args()
    out, work = args.out.resolve(), args.work.resolve()
    out.mkdir(parents=True, exist_ok=True)
    app = pyinstaller(stage(work), work)
    if sys.platform.startswith("linux"):
        import linux_deb

        artefacts = linux_deb.build(app, out, version())
    elif sys.platform == "darwin":
        dmg = out / f"Greenpair-{version()}.dmg"
        subprocess.run(["hdiutil", "create", "-volname", "Greenpair", "-srcfolder", str(app),
                        "-ov", "-format", "UDZO", str(dmg)], check=True)
        artefacts = [dmg]
    else:
        artefacts = [app]  # packaging/windows/greenpair.iss turns it into an installer
    for artefact in artefacts:
        print(artefact)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
