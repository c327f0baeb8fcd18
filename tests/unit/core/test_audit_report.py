"""The audit's report and its refusals (our own logic; the traced session itself is in
tests/integration/test_egress_audit.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenpair.cli import cli, main
from greenpair.core.audit import AuditReport, EntryPointRun, scratch_copy
from greenpair.core.egress import parse_line

ORT_DNS = ('4242<python> connect(17, {sa_family=AF_INET, sin_port=htons(53), '
           'sin_addr=inet_addr("10.0.0.53")}, 16) = -1 ENETUNREACH (Network is unreachable)')


def _report(*runs: EntryPointRun) -> AuditReport:
    return AuditReport(repository="/r", scratch="/tmp/s", files_copied=3, model="m.gguf",
                       tracer="strace 6.1", namespace=True, started="2026-12-02 01:00:00 UTC",
                       entry_points=list(runs))


def test_a_clean_report_says_zero_attempts() -> None:
    report = _report(EntryPointRun("index", ["index"], 0, 1.5, []))
    assert report.clean
    data = report.to_json()
    assert data["attempts"] == []
    assert data["clean"] is True
    assert data["entry_points"] == [{"name": "index", "command": "greenpair index",
                                     "exit_code": 0, "seconds": 1.5, "attempts": 0,
                                     "note": ""}]
    assert "0 attempts" in report.to_text()
    assert "fresh network namespace" in report.to_text()


def test_attempts_are_listed_with_who_made_them() -> None:
    report = _report(EntryPointRun("index", ["index"], 0, 1.0, []),
                     EntryPointRun("ask", ["ask", "q"], 0, 9.0, parse_line(ORT_DNS)))
    assert not report.clean
    [attempt] = report.to_json()["attempts"]  # type: ignore[misc]
    assert attempt == {"pid": 4242, "command": "python", "syscall": "connect",
                       "family": "AF_INET", "address": "10.0.0.53", "port": 53,
                       "result": "-1 ENETUNREACH (Network is unreachable)",
                       "entry_point": "ask"}
    text = report.to_text()
    assert "1 attempt(s)" in text
    assert "[ask] pid 4242 (python) connect AF_INET 10.0.0.53:53 (DNS)" in text
    json.dumps(report.to_json())  # serialisable as it is


def test_the_scratch_copy_leaves_secrets_and_ignored_files_out(tmp_repo: Path,
                                                               tmp_path: Path) -> None:
    (tmp_repo / ".env").write_text("TOKEN=x\n")
    (tmp_repo / ".gitignore").write_text("build/\n")
    (tmp_repo / "build").mkdir()
    (tmp_repo / "build/out.py").write_text("x = 1\n")
    copied = scratch_copy(tmp_repo, tmp_path / "copy", max_files=100)
    names = sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*")
                   if p.is_file() and ".git" not in p.parts)
    assert ".env" not in names
    assert "build/out.py" not in names
    assert copied == len(names)
    assert (tmp_path / "copy/.git").is_dir()
    assert scratch_copy(tmp_repo, tmp_path / "few", max_files=2) == 2


def test_audit_without_strace_is_a_clear_error(tmp_repo: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "--repo", str(tmp_repo)])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "needs strace" in err
    assert "apt-get install strace" in err


def test_audit_is_listed_in_help() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert "audit" in result.output
