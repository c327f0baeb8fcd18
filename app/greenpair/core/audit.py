"""The privacy audit: a short real session, traced at the system-call level.

``run_audit`` copies the files Greenpair would index from a repository into a scratch
folder (secrets are never copied: the walker skips them), then runs the real commands on
it one by one (``index``, ``search``, ``ask``, ``patch --apply``, ``patch --undo``, and
``watch`` for :data:`WATCH_S`, longer than ONNX Runtime's telemetry client waits before it
first looks up its host), each in its own process under
:func:`greenpair.core.egress.traced_argv`: every thread and child is traced, inside a fresh
network namespace where the system allows one. The report lists every attempt to leave
(network, a lookup through a local daemon, an undecodable address), by whom, and every
Unix-socket destination.

The verdict (:attr:`AuditReport.verdict`) is ``clean`` only when there was no attempt, no
io_uring blind spot, and every step ran to its expected end, judged by its exit status
and its own output (:mod:`greenpair.core.audit_steps`): an index with chunks, search
results, an answer, a patch applied and then undone, a watch that started and stopped.
Otherwise it is ``attempts`` or ``incomplete``, with the reasons.

The session uses a scratch data directory (``GREENPAIR_HOME``) that links the
provisioned models, so the user's own indexes, settings and history are untouched.
"""

from __future__ import annotations

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

from greenpair.core.audit_steps import WATCH_S as WATCH_S  # re-exported
from greenpair.core.audit_steps import session
from greenpair.core.config import TINY_MODEL, models_dir
from greenpair.core.egress import (
    TRACED_SYSCALLS,
    Attempt,
    namespace_prefix,
    require_strace,
    run_traced,
)
from greenpair.core.errors import ModelError

DEFAULT_MAX_FILES = 200
# `greenpair audit`'s exit status for each verdict.
EXIT_CODES = {"clean": 0, "attempts": 1, "incomplete": 2}


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
    records: list[Attempt]
    note: str = ""  # why the step did not reach its expected end ("" when it did)
    completed: bool = True

    @property
    def attempts(self) -> list[Attempt]:
        """Its attempts to leave (network, lookup, undecoded)."""
        return [r for r in self.records if r.is_egress]

    @property
    def local(self) -> list[Attempt]:
        """Its Unix-socket and other local destinations (recorded, not attempts)."""
        return [r for r in self.records if r.kind == "local" and r.family != "AF_INET"
                and r.family != "AF_INET6"]

    @property
    def blind_spots(self) -> list[Attempt]:
        """Its io_uring set-ups (traffic strace cannot see)."""
        return [r for r in self.records if r.kind == "io_uring"]

    def to_json(self) -> dict[str, object]:
        """The record for ``--json``."""
        return {"name": self.name, "command": "greenpair " + " ".join(self.args),
                "exit_code": self.exit_code, "seconds": round(self.seconds, 2),
                "completed": self.completed, "attempts": len(self.attempts),
                "unix_sockets": sorted({f"{r.address} -> {r.result or '?'}"
                                        for r in self.local if r.family == "AF_UNIX"}),
                "io_uring": len(self.blind_spots), "note": self.note}


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
    def reasons(self) -> list[str]:
        """Why the verdict is not clean (empty when it is)."""
        why = [f"{len(self.attempts)} attempt(s) to leave the machine"] if self.attempts \
            else []
        why += [f"{run.name} did not complete: {run.note}" for run in self.entry_points
                if not run.completed]
        blind = [run.name for run in self.entry_points if run.blind_spots]
        if blind:
            why.append("io_uring was set up (" + ", ".join(blind) + "): its connects and "
                       "sends are invisible to strace")
        if not self.entry_points:
            why.append("no step ran")
        return why

    @property
    def verdict(self) -> str:
        """``clean``, ``attempts`` (something tried to leave) or ``incomplete`` (a step did
        not reach its expected end, or io_uring hid traffic): nothing is proven then."""
        if self.attempts:
            return "attempts"
        return "incomplete" if self.reasons else "clean"

    @property
    def clean(self) -> bool:
        """No attempt, no blind spot, and every step ran to its expected end."""
        return self.verdict == "clean"

    @property
    def exit_code(self) -> int:
        """``greenpair audit``'s exit status: 0 clean, 1 attempts, 2 incomplete."""
        return EXIT_CODES[self.verdict]

    def headline(self) -> str:
        """One line: the verdict and its first reason."""
        if self.clean:
            return ("Clean: 0 attempts to leave this machine, and every step ran to its "
                    "expected end.")
        return f"{self.verdict.capitalize()}: " + "; ".join(self.reasons)

    def to_json(self) -> dict[str, object]:
        """The report for security teams (``greenpair audit --json``)."""
        return {
            "attempts": [{**a.to_json(), "entry_point": name} for name, a in self.attempts],
            "entry_points": [run.to_json() for run in self.entry_points],
            "clean": self.clean,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "repository": self.repository,
            "scratch_copy": self.scratch,
            "files_copied": self.files_copied,
            "model": self.model,
            "tracer": self.tracer,
            "traced_syscalls": list(TRACED_SYSCALLS),
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
            f"({', '.join(TRACED_SYSCALLS)}), in " + isolation,
            "",
            f"  {'entry point':<14} {'exit':>4} {'seconds':>8} {'attempts':>9} {'done':>5}",
        ]
        for run in self.entry_points:
            code = "-" if run.exit_code is None else str(run.exit_code)
            lines.append(f"  {run.name:<14} {code:>4} {run.seconds:>8.1f} "
                         f"{len(run.attempts):>9} {'yes' if run.completed else 'NO':>5}"
                         + (f"  ({run.note})" if run.note else ""))
        local = sorted({(run.name, r.address, r.result or "?") for run in self.entry_points
                        for r in run.local if r.family in {"AF_UNIX", "AF_LOCAL"}})
        lines.append("")
        lines.append(f"Unix sockets reached or tried (recorded, not attempts): {len(local)}")
        lines.extend(f"  [{name}] {address} -> {result}" for name, address, result in local)
        lines.append("")
        if self.attempts:
            lines.append(f"{len(self.attempts)} attempt(s) to leave this machine:")
            lines.extend(f"  [{name}] {a.describe()}" for name, a in self.attempts)
        else:
            lines.append("0 attempts: no connect or send beyond loopback, no DNS, no lookup "
                         "through a local resolver or proxy, no undecodable address.")
        lines.append(f"Verdict: {self.verdict.upper()}" + (
            "" if self.clean else " — " + "; ".join(self.reasons)))
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
    from greenpair.core.llm.model_store import find_model

    wanted = model or TINY_MODEL
    path = find_model(wanted)
    if path is None:
        raise ModelError(
            f"The audit needs the model {wanted!r} on this machine.",
            hint=f"Pull it with `greenpair models pull {wanted}`, or pass --model with a "
                 "GGUF file or another downloaded model.",
        )
    return str(path)


def patch_targets(scratch: Path, most: int = 3) -> list[tuple[str, str]]:
    """Files and functions the patch step can name: top-level ``def`` s of Python files,
    by path (else the first file and "its first function")."""
    import re

    found: list[tuple[str, str]] = []
    for path in sorted(scratch.rglob("*.py")):
        if ".git" in path.parts or len(found) >= most:
            continue
        try:
            names = re.findall(r"^def (\w+)\(", path.read_text(errors="replace"), re.M)
        except OSError:
            continue
        found += [(str(path.relative_to(scratch)), name) for name in names]
    if found:
        return found[:most]
    files = sorted(p for p in scratch.rglob("*") if p.is_file() and ".git" not in p.parts)
    return [(str(files[0].relative_to(scratch)) if files else "the code",
             "its first function")]


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
    base = Path(tempfile.mkdtemp(prefix="greenpair-audit-")) if work_dir is None else work_dir
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
        steps = session(scratch, model_path, query, patch_targets(scratch))
        applied = True
        for number, step in enumerate(steps, 1):
            yield AuditStep(step.name, number, len(steps))
            if step.name == "patch --undo" and not applied:
                report.entry_points.append(EntryPointRun(
                    step.name, step.args, None, 0.0, [], completed=False,
                    note="skipped: no patch was applied, so there is nothing to undo"))
                continue
            if step.prepare is not None:
                step.prepare(scratch)
            started = time.monotonic()
            records: list[Attempt] = []
            tries: list[str] = []
            for tried, args in enumerate((step.args, *step.alternatives), 1):
                done = run_traced(greenpair_argv(*args), base / f"{number}.{tried}.trace",
                                  env, cancel=cancel, stop_after_s=step.stop_after_s)
                records += done.records  # every try's traffic counts
                why = step.check(done, scratch)
                if not why:
                    break
                tries.append(f"try {tried}: {why}" if step.alternatives else why)
            note = "; ".join(tries) if why else \
                (f"applied on try {tried} ({'; '.join(tries)})" if tries else "")
            report.entry_points.append(EntryPointRun(
                step.name, args, done.exit_code, time.monotonic() - started, records,
                note=note, completed=not why))
            if step.name == "patch --apply":
                applied = not why
        return report
    finally:
        if owned:
            shutil.rmtree(base, ignore_errors=True)
