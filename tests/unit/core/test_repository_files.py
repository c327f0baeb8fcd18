"""Repository hygiene that packages and Windows checkouts depend on."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_the_packaged_catalog_is_a_copy_of_models_catalog() -> None:
    packaged = ROOT / "app" / "greenpair" / "data" / "catalog.toml"
    assert not packaged.is_symlink()
    assert packaged.read_bytes() == (ROOT / "models" / "catalog.toml").read_bytes(), (
        "app/greenpair/data/catalog.toml differs from models/catalog.toml: copy one onto the other"
    )


def test_no_symlinks_are_tracked() -> None:
    # A git symlink checks out as a text file on Windows (core.symlinks=false).
    listing = subprocess.run(
        ["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    links = [line.split("\t", 1)[1] for line in listing.splitlines() if line.startswith("120000")]
    assert links == []


def test_setup_scripts_are_posix_sh() -> None:
    scripts = sorted((ROOT / "packaging").rglob("*.sh"))
    assert scripts
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        assert text.startswith("#!/bin/sh\n"), script
        for bashism in ("mapfile", "[[ ", "compgen", "local ", "${#", "+=("):
            assert bashism not in text, f"{script.name} uses {bashism!r}"
        result = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
