"""What a patch's check ran and how it ended, in words a user can trust.

A ``CheckResult`` says exactly what was checked: the static check (or why it was
skipped), the tests that ran with their counts, the command, the output, and how many
drafts were tried. ``summary`` never says "passed" when nothing ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATUSES = ("passed", "failed", "no_tests", "skipped", "timeout", "error")
MAX_OUTPUT_CHARS = 6000


@dataclass
class StaticResult:
    """The fast static check of the changed files.

    Attributes:
        status: "passed", "failed", "skipped", "timeout" or "error".
        tool: What ran ("python compile", "tsc --noEmit", "go vet", "cargo check"), or "".
        reason: Why it was skipped (or what failed), in words.
        output: The compiler's messages (trimmed).
        seconds: How long it took.
    """

    status: str
    tool: str = ""
    reason: str = ""
    output: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The ``static`` object of ``patch --json``'s ``check``."""
        return {"status": self.status, "tool": self.tool, "reason": self.reason,
                "output": self.output, "seconds": round(self.seconds, 2)}


@dataclass
class TestOutcome:
    """One test that ran: its id, whether it passed, and its failure text when not."""

    __test__ = False  # not a pytest class

    id: str
    passed: bool
    message: str = ""


@dataclass
class TryRecord:
    """One try: its draft and its check (the ledger keeps the same figures). Status
    "repeat": the draft was an edit already checked, so it was not checked again."""

    attempt: int
    status: str
    passed: int
    failed: int
    draft_joules: float | None
    check_joules: float | None
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        def j(x: float | None) -> float | None:
            return None if x is None else round(x, 3)
        return {"try": self.attempt, "status": self.status, "passed": self.passed,
                "failed": self.failed, "draft_joules": j(self.draft_joules),
                "check_joules": j(self.check_joules), "seconds": round(self.seconds, 2)}


@dataclass
class CheckResult:
    """The check of one draft (after the repair loop: of the draft shown).

    Attributes:
        status: One of ``STATUSES``.
        summary: One line for people ("static check passed · 14 tests passed (2nd try)").
        static: The static check, or None when it was not reached.
        tests_run: Ids of the tests that ran.
        passed: Tests that passed.
        failed: Tests that failed (errors included).
        tries: Drafts checked (1: no repair).
        output: The failing output (trimmed), or the test run's tail.
        command: The test command that ran ("" when none).
        outcomes: Each test's result (failures carry their message).
        seconds: Time spent checking (test runs and static checks, all tries).
        attempts: Each try's record.
        namespace: Whether the tests ran in a network namespace.
        joules: Energy of this draft's check (the ledger's ``check`` window).
        stopped: Why the repair loop stopped before its last try ("" when it did not).
        total_joules: The whole request's energy: every draft and check of the repair
            loop and the test run before drafting (the reply's ``energy_j`` is the shown
            draft's alone).
        executed: Functions of the repository (path, first line, qualified name) that the
            failing tests executed, when the run was traced (the run before drafting).
        not_run: Why tests that were found did not run ("go is not installed"); "" when
            they ran or none were found. The status is then ``no_tests``: nothing ran.
    """

    status: str
    summary: str = ""
    static: StaticResult | None = None
    tests_run: list[str] = field(default_factory=list)
    passed: int = 0
    failed: int = 0
    tries: int = 0
    output: str = ""
    command: str = ""
    outcomes: list[TestOutcome] = field(default_factory=list, repr=False)
    seconds: float = 0.0
    attempts: list[TryRecord] = field(default_factory=list)
    namespace: bool = False
    joules: float | None = None
    stopped: str = ""
    total_joules: float | None = None
    executed: list[tuple[str, int, str]] = field(default_factory=list, repr=False)
    not_run: str = ""

    def __post_init__(self) -> None:
        assert self.status in STATUSES, self.status

    @property
    def ok(self) -> bool:
        """Whether nothing that ran failed (``no_tests`` and ``skipped`` are not failures)."""
        return self.status in {"passed", "no_tests", "skipped"}

    def to_json(self) -> dict[str, Any]:
        """The ``check`` object of ``greenpair patch --json``."""
        return {
            "status": self.status,
            "summary": self.summary,
            "static": None if self.static is None else self.static.to_json(),
            "tests_run": list(self.tests_run),
            "outcomes": {o.id: "passed" if o.passed else "failed" for o in self.outcomes},
            "passed": self.passed,
            "failed": self.failed,
            "tries": self.tries,
            "output": self.output,
            "command": self.command,
            "seconds": round(self.seconds, 2),
            "namespace": self.namespace,
            "joules": None if self.joules is None else round(self.joules, 3),
            "stopped": self.stopped,
            "not_run": self.not_run,
            "total_joules": None if self.total_joules is None else round(self.total_joules, 3),
            "attempts": [a.to_json() for a in self.attempts],
        }


def skipped(reason: str, *, tries: int = 0) -> CheckResult:
    """A check that did not run, saying why."""
    return CheckResult("skipped", summary=f"not checked: {reason}", tries=tries)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th…"""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summarise(result: CheckResult) -> str:
    """The one-line summary of ``result`` (what ran, and how it ended)."""
    parts: list[str] = []
    st = result.static
    if st is not None:
        if st.status == "skipped":
            parts.append(f"no static check ({st.reason})" if st.reason else "no static check")
        elif st.status == "passed":
            parts.append("static check passed")
        elif st.status == "timeout":
            parts.append(f"static check ({st.tool}) ran out of time")
        else:
            parts.append(f"static check failed ({st.tool})")
    if result.status == "timeout" and (st is None or st.status != "timeout"):
        ran = f" after {_plural(result.passed + result.failed, 'test')}" \
            if result.passed + result.failed else ""
        ran += f" ({result.failed} failed)" if result.failed else ""
        parts.append(f"tests stopped at the time limit{ran}")
    elif result.status == "no_tests":
        parts.append(f"tests found but not run ({result.not_run})" if result.not_run
                     else "no tests found for this change")
    elif result.passed or result.failed:
        if result.failed:
            parts.append(f"{_plural(result.failed, 'test')} failed, {result.passed} passed")
        else:
            parts.append(f"{_plural(result.passed, 'test')} passed")
    elif result.status == "passed" and result.command:
        parts.append(f"`{result.command}` succeeded")
    elif result.status == "failed" and result.command and (st is None or st.status != "failed"):
        parts.append(f"`{result.command}` failed")
    elif result.status == "error":
        parts.append("the check could not run" + (f": {result.output.splitlines()[0]}"
                                                  if result.output.strip() else ""))
    text = " · ".join(parts) or result.status
    if result.tries > 1:
        text += f" ({ordinal(result.tries)} try)"
    return text


def trim(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """The head and tail of ``text`` when it is long (the middle is elided)."""
    if len(text) <= limit:
        return text
    head = limit // 3
    tail = limit - head
    return text[:head] + f"\n… ({len(text) - limit:,} characters left out) …\n" + text[-tail:]
