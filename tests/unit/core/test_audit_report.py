"""The audit's report and its refusals (our own logic; the traced session itself is in
tests/integration/test_egress_audit.py)."""

from __future__ import annotations

import json
from collections.abc import Generator
from pathlib import Path

import pytest
from click.testing import CliRunner

from greenpair.cli import cli, main
from greenpair.core.audit import AuditReport, EntryPointRun, scratch_copy
from greenpair.core.audit_steps import session
from greenpair.core.egress import TracedRun, parse_line

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
                                     "exit_code": 0, "seconds": 1.5, "completed": True,
                                     "attempts": 0, "unix_sockets": [], "io_uring": 0,
                                     "note": ""}]
    assert (data["verdict"], data["reasons"], report.exit_code) == ("clean", [], 0)
    assert "0 attempts" in report.to_text()
    assert "Verdict: CLEAN" in report.to_text()
    assert "fresh network namespace" in report.to_text()


def test_attempts_are_listed_with_who_made_them() -> None:
    report = _report(EntryPointRun("index", ["index"], 0, 1.0, []),
                     EntryPointRun("ask", ["ask", "q"], 0, 9.0, parse_line(ORT_DNS)))
    assert not report.clean
    [attempt] = report.to_json()["attempts"]  # type: ignore[misc]
    assert attempt == {"pid": 4242, "command": "python", "syscall": "connect",
                       "family": "AF_INET", "address": "10.0.0.53", "port": 53,
                       "result": "-1 ENETUNREACH (Network is unreachable)",
                       "kind": "network", "reason": "", "entry_point": "ask"}
    text = report.to_text()
    assert "1 attempt(s)" in text
    assert "[ask] pid 4242 (python) connect AF_INET 10.0.0.53:53 (DNS)" in text
    assert (report.verdict, report.exit_code) == ("attempts", 1)
    json.dumps(report.to_json())  # serialisable as it is


def test_a_step_that_crashed_makes_the_audit_incomplete_not_clean() -> None:
    report = _report(EntryPointRun("index", ["index"], 70, 0.3, [], completed=False,
                                   note="exit 70: Error: crashed at start-up"),
                     EntryPointRun("search", ["search"], 0, 1.0, []))
    assert report.attempts == []  # nothing tried to leave, and yet nothing is proven
    assert not report.clean
    assert (report.verdict, report.exit_code) == ("incomplete", 2)
    assert report.reasons == ["index did not complete: exit 70: Error: crashed at start-up"]
    assert "Verdict: INCOMPLETE" in report.to_text()
    assert report.headline().startswith("Incomplete: index did not complete")
    assert _report().verdict == "incomplete"  # no step ran: nothing proven


def test_io_uring_refuses_a_clean_verdict_and_unix_sockets_are_listed() -> None:
    ring = parse_line("9<python3> io_uring_setup(8, {flags=0}) = 5")
    unix = parse_line('9<python3> connect(4, {sa_family=AF_UNIX, sun_path="/run/a.sock"}, '
                      '13) = -1 ENOENT (No such file or directory)')
    report = _report(EntryPointRun("watch", ["watch"], 0, 45.0, ring + unix))
    assert report.attempts == []
    assert report.verdict == "incomplete"
    assert "io_uring" in report.reasons[0]
    assert "[watch] /run/a.sock -> -1 ENOENT" in report.to_text()
    assert report.to_json()["entry_points"][0]["unix_sockets"] == [  # type: ignore[index]
        "/run/a.sock -> -1 ENOENT (No such file or directory)"]


def _run(code: int, stdout: str = "", stderr: str = "") -> TracedRun:
    return TracedRun(code, stdout, stderr, [])


def test_each_step_is_judged_by_its_exit_and_its_own_output(tmp_repo: Path) -> None:
    steps = {s.name: s for s in session(tmp_repo, "m.gguf", "cart", [("a.py", "f")], 5)}
    index, ask, watch = steps["index"], steps["ask"], steps["watch (5 s)"]
    assert index.check(_run(0, '{"files": 5, "chunks": 12}'), tmp_repo) == ""
    assert "nothing indexed" in index.check(_run(0, '{"files": 0, "chunks": 0}'), tmp_repo)
    assert index.check(_run(70, "", "Error: boom\nhint"), tmp_repo) == "exit 70: Error: boom"
    assert ask.check(_run(0, '{"answer": "In cart.py."}'), tmp_repo) == ""
    assert ask.check(_run(0, '{"answer": ""}'), tmp_repo) == "no answer produced"
    assert watch.check(_run(0, "", "Watching x\nStopping."), tmp_repo) == ""
    assert watch.check(_run(0, "", ""), tmp_repo) == "watch did not start"
    apply, undo = steps["patch --apply"], steps["patch --undo"]
    assert "not applied" in apply.check(_run(0, '{"applied": false}'), tmp_repo)
    assert "no file changed" in apply.check(_run(0, '{"applied": true}'), tmp_repo)
    assert undo.check(_run(0), tmp_repo) == ""  # the working tree is clean
    (tmp_repo / "README.md").write_text("changed\n")
    assert apply.check(_run(0, '{"applied": true}'), tmp_repo) == ""
    assert undo.check(_run(0), tmp_repo) == "the files were not restored"


def test_the_cli_exits_with_the_verdict(tmp_repo: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from greenpair.core import audit

    def fake_audit(*_args: object, **_kwargs: object) -> Generator[object, None, AuditReport]:
        yield from ()
        return _report(EntryPointRun("ask", ["ask"], 1, 0.5, [], completed=False,
                                     note="exit 1: Error: no model"))

    monkeypatch.setattr(audit, "run_audit", fake_audit)
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", "--repo", str(tmp_repo)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "Verdict: INCOMPLETE" in captured.out
    assert "Incomplete: ask did not complete: exit 1: Error: no model" in captured.err


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
