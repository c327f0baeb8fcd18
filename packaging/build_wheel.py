"""Build Greenpair's wheel with the verified ONNX embedder inside (no torch at run time).

The source tree is staged in a temporary folder, the verified int8 export of the embedding
model is written into the staged ``greenpair/data/embedder/`` (made from the torch model
once per machine, checked by cosine against it: ``embedder_bundle.write_bundle``), and the
wheel is built from there, so the checkout never holds generated model files.

Needs the ``export`` extra (torch, sentence-transformers, the source model) in the Python
that runs it. Usage::

    python packaging/build_wheel.py [--out dist]

Prints the wheel's path on the last line.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_STAGED = ("app", "models", "pyproject.toml", "README.md")
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "embedder")


def build(out: Path) -> Path:
    """Build the wheel into ``out`` and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="greenpair-wheel-") as tmp:
        stage = Path(tmp) / "src"
        stage.mkdir()
        for name in _STAGED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, stage / name, ignore=_IGNORE)
            else:
                shutil.copy2(source, stage / name)
        env = {**os.environ, "PYTHONPATH": str(stage / "app")}
        subprocess.run(
            [sys.executable, "-m", "greenpair.core.index.embedder", "--bundle",
             str(stage / "app" / "greenpair" / "data" / "embedder")],
            check=True, env=env,
        )
        before = set(out.glob("greenpair-*.whl"))
        for old in before:
            old.unlink()
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
             str(stage), "-w", str(out)],
            check=True,
        )
    wheels = sorted(out.glob("greenpair-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one greenpair wheel in {out}, found {wheels}")
    return wheels[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    args = parser.parse_args()
    print(build(args.out.resolve()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
