"""The privacy audit: a short real session, traced at the system-call level.

``run_audit`` copies the files Greenpair would index from a repository into a scratch
folder (secrets are never copied: the walker skips them), then runs the real commands on
it one by one (``index``, ``search``, ``ask``, ``patch --apply``, ``patch --undo``, and
``watch`` for 45 s, long enough to see a library that phones home after a delay), each
in its own process under :func:`greenpair.core.egress.traced_argv`: every thread and child
is traced, inside a fresh network namespace where the system allows one. The report lists
every connection attempted beyond the machine, by whom, or says "0 attempts".

The session uses a scratch data directory (``GREENPAIR_HOME``) that links the
provisioned models, so the user's own indexes, settings and history are untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from greenpair.core.config import TINY_MODEL, models_dir
from greenpair.core.egress import Attempt, namespace_prefix, require_strace, run_traced
from greenpair.core.errors import ModelError

DEFAULT_MAX_FILES = 200
WATCH_S = 45.0  # long enough for a library that waits before it phones home (ORT: ~12 s)


@dataclass
class AuditStep:
    """Progress: the entry point about to run (``number`` of ``total``)."""

    name: str
    number: int
    total: int


@dataclass
class EntryPointRun:
    """One traced command of the session."""

    name: str
    args: list[str]
    exit_code: int | None  # None: skipped
    seconds: float
    attempts: list[Attempt]
    note: str = ""

    def to_json(self) -> dict[str, object]:
        """The record for ``--json``."""
        return {"name": self.name, "command": "greenpair " + " ".join(self.args),
                "exit_code": self.exit_code, "seconds": round(self.seconds, 2),
                "attempts": len(self.attempts), "note": self.note}


@dataclass
class AuditReport:
    """What the traced session did on the network (nothing, when clean)."""

    repository: str
    scratch: str
    files_copied: int
    model: str
    tracer: str
    namespace: bool
    started: str
    entry_points: list[EntryPointRun] = field(default_factory=list)

    @property
    def attempts(self) -> list[tuple[str, Attempt]]:
        """Every attempt with the entry point that made it."""
        return [(run.name, a) for run in self.entry_points for a in run.attempts]

    @property
    def clean(self) -> bool:
        """No attempt to reach beyond the machine in any traced entry point."""
        return not self.attempts

    def to_json(self) -> dict[str, object]:
        """The report for security teams (``greenpair audit --json``)."""
        return {
            "attempts": [{**a.to_json(), "entry_point": name} for name, a in self.attempts],
            "entry_points": [run.to_json() for run in self.entry_points],
            "clean": self.clean,
            "repository": self.repository,
            "scratch_copy": self.scratch,
            "files_copied": self.files_copied,
            "model": self.model,
            "tracer": self.tracer,
            "traced_syscalls": ["connect", "sendto", "sendmsg", "sendmmsg"],
            "network_namespace": self.namespace,
            "started": self.started,
        }

    def to_text(self) -> str:
        """The report for people."""
        isolation = "a fresh network namespace (unshare -n)" if self.namespace else \
            "the normal network (no namespace permitted here)"
        lines = [
            f"Greenpair privacy audit, {self.started}",
            f"Repository: {self.repository} ({self.files_copied} files copied to a scratch "
            "folder)",
            f"Model: {self.model}",
            f"Traced: every thread and child process with {self.tracer} "
            "(connect, sendto, sendmsg, sendmmsg), in " + isolation,
            "",
            f"  {'entry point':<14} {'exit':>4} {'seconds':>8} {'attempts':>9}",
        ]
        for run in self.entry_points:
            code = "-" if run.exit_code is None else str(run.exit_code)
            lines.append(f"  {run.name:<14} {code:>4} {run.seconds:>8.1f} "
                         f"{len(run.attempts):>9}" + (f"  ({run.note})" if run.note else ""))
        lines.append("")
        if self.clean:
            lines.append("0 attempts: nothing tried to connect beyond this machine "
                         "(loopback and local sockets only, no DNS lookup).")
        else:
            lines.append(f"{len(self.attempts)} attempt(s) to reach beyond this machine:")
            lines.extend(f"  [{name}] {a.describe()}" for name, a in self.attempts)
        return "\n".join(lines)


def _tracer_version(strace: str) -> str:
    done = subprocess.run([strace, "-V"], capture_output=True, text=True, check=False,
                          timeout=30)
    first = done.stdout.splitlines()[0] if done.stdout else "strace"
    return first.replace("-- version ", "").strip()


def greenpair_argv(*args: str) -> list[str]:
    """The command line that runs ``greenpair ARGS`` with this installation."""
    if getattr(sys, "frozen", False):  # a packaged build: the executable is Greenpair
        return [sys.executable, *args]
    return [sys.executable, "-m", "greenpair", *args]


def scratch_copy(repo: Path, dest: Path, max_files: int = DEFAULT_MAX_FILES) -> int:
    """Copy up to ``max_files`` indexable files of ``repo`` into a new git repo ``dest``.

    Only what the walker would index is copied (no secret, binary or ignored file).

    Returns:
        The number of files copied.
    """
    from greenpair.core.repo.walker import WalkedFile, walk

    copied = 0
    for entry in walk(repo):
        if not isinstance(entry, WalkedFile):
            continue
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.abs_path, target)
        copied += 1
        if copied >= max_files:
            break
    dest.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=Greenpair audit", "-c", "user.email=audit@localhost",
                  "commit", "-q", "--allow-empty", "-m", "scratch copy for the audit"]):
        subprocess.run(["git", *args], cwd=dest, env=env, check=True, capture_output=True,
                       timeout=120)
    return copied


def _audit_model(model: str | None) -> str:
    from greenpair.core.llm.store import find_model

    wanted = model or TINY_MODEL
    path = find_model(wanted)
    if path is None:
        raise ModelError(
            f"The audit needs the model {wanted!r} on this machine.",
            hint=f"Pull it with `greenpair models pull {wanted}`, or pass --model with a "
                 "GGUF file or another downloaded model.",
        )
    return str(path)


def _session(scratch: Path, model: str, query: str) -> list[tuple[str, list[str]]]:
    repo = ["--repo", str(scratch)]
    return [
        ("index", ["index", *repo, "--quiet"]),
        ("search", ["search", *repo, query]),
        ("ask", ["ask", *repo, "--model", model, "--json", f"Where is {query}?"]),
        ("patch --apply", ["patch", *repo, "--model", model, "--apply", "--json",
                           f"Add a short comment above {query}."]),
        ("patch --undo", ["patch", *repo, "--undo"]),
        _mcp_step(repo, model, query),
        # A library that phones home only after a delay shows in a long-lived process.
        (f"watch ({WATCH_S:.0f} s)", ["watch", *repo]),
    ]


def _mcp_step(repo: list[str], model: str, query: str) -> tuple[str, list[str]]:
    """``greenpair mcp`` over stdio, driven by the official MCP client in a parent process
    (``mcp --probe``): lists the tools, calls search_code, read_span and ask_code; both
    processes are traced (strace follows children). Exit 0 only when every call answered."""
    return ("mcp (stdio)", ["mcp", *repo, "--model", model, "--probe", query])


def run_audit(
    repo: Path,
    *,
    model: str | None = None,
    max_files: int = DEFAULT_MAX_FILES,
    query: str = "the main entry point",
    work_dir: Path | None = None,
    cancel: threading.Event | None = None,
) -> Generator[AuditStep, None, AuditReport]:
    """Run the traced session on a scratch copy of ``repo``.

    Args:
        repo: The repository to copy (it is only read).
        model: The model for ask and patch (default: the small SmolLM2-135M).
        max_files: At most this many files are copied (a short session).
        query: What the session searches and asks for.
        work_dir: Where the scratch copy and data directory go (default: a new temporary
            folder, removed afterwards).
        cancel: Set from another thread to stop the running command (the window's
            worker passes its cancel event).

    Yields:
        An :class:`AuditStep` before each entry point runs.

    Returns:
        The :class:`AuditReport`.

    Raises:
        PrivacyError: strace is missing or a trace was not written.
        ModelError: The model is not on this machine.
        Cancelled: ``cancel`` was set.
    """
    strace = require_strace()
    model_path = _audit_model(model)
    owned = work_dir is None
    base = Path(tempfile.mkdtemp(prefix="greenpair-audit-")) if owned else Path(work_dir)
    try:
        scratch = base / "repo"
        home = base / "home"
        home.mkdir(parents=True, exist_ok=True)
        (home / "models").symlink_to(models_dir(), target_is_directory=True)
        files = scratch_copy(Path(repo), scratch, max_files)
        env = {**os.environ, "GREENPAIR_HOME": str(home)}
        report = AuditReport(
            repository=str(Path(repo).resolve()), scratch=str(scratch), files_copied=files,
            model=model_path, tracer=_tracer_version(strace),
            namespace=namespace_prefix() is not None,
            started=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        )
        steps = _session(scratch, model_path, query)
        applied = True
        for number, (name, args) in enumerate(steps, 1):
            yield AuditStep(name, number, len(steps))
            if name == "patch --undo" and not applied:
                report.entry_points.append(EntryPointRun(
                    name, args, None, 0.0, [], note="skipped: the model's patch did not apply"))
                continue
            started = time.monotonic()
            done = run_traced(greenpair_argv(*args), base / f"{number}.trace", env,
                              cancel=cancel,
                              stop_after_s=WATCH_S if args[0] == "watch" else None)
            run = EntryPointRun(name, args, done.exit_code, time.monotonic() - started,
                                done.attempts)
            if name == "patch --apply":
                applied = done.exit_code == 0 and _applied(done.stdout)
                if not applied:
                    run.note = "the small model's patch was not valid (traffic still traced)"
            elif done.exit_code != 0 and done.stderr.strip():
                run.note = done.stderr.strip().splitlines()[-1][:200]
            report.entry_points.append(run)
        return report
    finally:
        if owned:
            shutil.rmtree(base, ignore_errors=True)


def _applied(stdout: str) -> bool:
    try:
        data = json.loads(stdout)
    except ValueError:
        return False
    return bool(isinstance(data, dict) and data.get("applied"))
