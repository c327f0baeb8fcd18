"""``greenpair audit`` end to end: the real traced session on a real repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.egress import ROOT, require_tracing

pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_audit_json_on_a_real_repository_is_clean(
    tmp_repo: Path, tiny_model_path: Path, tmp_path: Path
) -> None:
    require_tracing()
    (tmp_repo / ".env").write_text("SECRET_TOKEN=do-not-copy\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT / "app"), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-m", "greenpair", "audit", "--repo", str(tmp_repo),
                           "--json"], env=env, capture_output=True, text=True, timeout=1800,
                          check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    report = json.loads(done.stdout)
    assert report["attempts"] == []
    assert (report["verdict"], report["reasons"], report["clean"]) == ("clean", [], True)
    assert report["network_namespace"] is True  # root here and in CI
    assert report["tracer"].startswith("strace")
    assert report["files_copied"] == 5  # the .env secret was not copied
    assert Path(report["model"]).resolve() == tiny_model_path.resolve()
    names = [e["name"] for e in report["entry_points"]]
    assert names == ["index", "search", "ask", "patch --apply", "patch --undo", "mcp (stdio)",
                     "watch (45 s)"]
    by_name = {e["name"]: e for e in report["entry_points"]}
    assert all(e["attempts"] == 0 for e in report["entry_points"])
    assert all(e["completed"] and e["io_uring"] == 0 for e in report["entry_points"])
    for name in ("index", "search", "ask", "patch --apply", "patch --undo", "mcp (stdio)",
                 "watch (45 s)"):
        assert by_name[name]["exit_code"] == 0, by_name[name]
    assert "io_uring_setup" in report["traced_syscalls"]
    assert "[1/7] greenpair index (traced)" in done.stderr
    assert (tmp_repo / ".env").read_text() == "SECRET_TOKEN=do-not-copy\n"  # only read
