"""Shared pieces of the patch benchmark: git in a scratch checkout, the benchmark's own
test run, and the judgement (resolved, false passes).

Nothing here imports greenpair: the task builder and the runner's evaluation must not
depend on the product they judge.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]  # the repository root of whichever checkout holds this file
COLLECT_ERRORS = "__collect_errors__"
VERSION_PY = (
    'version = "{v}"\n__version__ = version\n'
    'version_tuple = {t!r}\n__version_tuple__ = version_tuple\n'
)


def git(repo: Path, *args: str, check: bool = True, input_text: str | None = None) -> str:
    """Run git in ``repo`` and return stdout."""
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          input=input_text, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def checkout_clean(repo: Path, commit: str) -> None:
    """Reset ``repo``'s work tree to ``commit`` (detached), removing untracked files.

    Ignored files stay (an index, ``_version.py``), which keeps re-checkouts cheap."""
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-q", "-fd")
    git(repo, "checkout", "-q", "--detach", commit)


def ensure_clone(source: str, dest: Path) -> Path:
    """A clone of ``source`` (path or URL) at ``dest`` sharing objects when local."""
    if not (dest / ".git").exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        args = ["git", "clone", "-q"]
        if Path(source).exists():
            args.append("--shared")
        subprocess.run([*args, source, str(dest)], check=True)
    return dest


def apply_diff(repo: Path, diff: str) -> str | None:
    """Apply a unified diff in ``repo``; None when it applied, else git's message."""
    if not diff.strip():
        return "empty diff"
    for extra in ([], ["--3way"]):
        proc = subprocess.run(["git", "-C", str(repo), "apply", "--whitespace=nowarn", *extra],
                              input=diff if diff.endswith("\n") else diff + "\n",
                              capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return None
    return proc.stderr.strip() or "git apply failed"


PY_PACKAGING = frozenset({"pyproject.toml", "setup.cfg", "setup.py", "tox.ini"})
JS_PACKAGING = frozenset({"package.json", "package-lock.json", "jest.config.js"})


@dataclass(frozen=True)
class Project:
    """A repository the benchmark builds tasks from: where its code and its tests live.

    pytest and click are Python projects with a ``src`` layout whose tests run with pytest
    from the checkout (``PYTHONPATH=src``); commander.js is JavaScript, its tests run with
    jest from a ``node_modules`` installed once and linked into each checkout.
    """

    name: str  # the instance ids' prefix and the task file's suffix
    repo: str  # owner/name on GitHub
    source_prefix: str  # the package's folder: a task's fix is only under it
    test_prefix: str  # the tests' folder: a task's test changes are only under it
    is_test_file: Callable[[str], bool]  # whether a path is one of its test modules
    runner: str = "pytest"  # or "jest", "go"
    packaging: frozenset[str] = PY_PACKAGING  # a commit changing one changes the environment
    # Go keeps tests beside the code: what is source, and what belongs to the tests
    # (test files and testdata), when a folder does not say it
    is_source: Callable[[str], bool] | None = None
    is_test_path: Callable[[str], bool] | None = None

    def source(self, path: str) -> bool:
        """Whether ``path`` is the project's code (a task's fix is only there)."""
        return self.is_source(path) if self.is_source else path.startswith(self.source_prefix)

    def test_path(self, path: str) -> bool:
        """Whether ``path`` is part of the tests (a task's test patch is only there)."""
        return self.is_test_path(path) if self.is_test_path else \
            path.startswith(self.test_prefix)


def is_test_file(path: str) -> bool:
    """pytest's own ``python_files`` for its ``testing/`` tree."""
    if not path.startswith("testing/") or not path.endswith(".py"):
        return False
    if path.startswith(("testing/example_scripts/", "testing/plugins_integration/")):
        return False
    name = path.rsplit("/", 1)[-1]
    return (name.startswith("test_") or name.endswith("_test.py")
            or (path.startswith("testing/python/") and path.count("/") == 2
                and name != "conftest.py"))


def in_tests_folder(path: str) -> bool:
    """pytest's default ``python_files`` (``test_*.py``) under ``tests/``."""
    name = path.rsplit("/", 1)[-1]
    return path.startswith("tests/") and name.startswith("test_") and name.endswith(".py")


def jest_test_file(path: str) -> bool:
    """commander.js's tests: ``tests/*.test.js`` (fixtures and typings tests are not)."""
    return path.startswith("tests/") and path.count("/") == 1 and path.endswith(".test.js")


def go_source(path: str) -> bool:
    """A Go module's code: ``.go`` files that are not tests, testdata or examples."""
    parts = path.split("/")
    return path.endswith(".go") and not path.endswith("_test.go") and \
        not {"testdata", "_example", "_examples"} & set(parts[:-1])


def go_test_path(path: str) -> bool:
    """What a Go commit's test patch holds: ``_test.go`` files and ``testdata/``."""
    return path.endswith("_test.go") or "testdata" in path.split("/")[:-1]


GO_PACKAGING = frozenset({"go.mod", "go.sum"})

PROJECTS = {
    "pytest": Project("pytest", "pytest-dev/pytest", "src/_pytest/", "testing/", is_test_file),
    # click's tests run with pytest alone and test a library, not the test runner itself
    "click": Project("click", "pallets/click", "src/click/", "tests/", in_tests_folder),
    # another language: a JavaScript library whose tests run with jest, offline
    "commander": Project("commander", "tj/commander.js", "lib/", "tests/", jest_test_file,
                         runner="jest", packaging=JS_PACKAGING),
    # Go modules of the standard library alone (their tests run offline), tests beside code
    **{name: Project(name, repo, "", "", lambda p: p.endswith("_test.go"), runner="go",
                     packaging=GO_PACKAGING, is_source=go_source, is_test_path=go_test_path)
       for name, repo in (("mux", "gorilla/mux"), ("pflag", "spf13/pflag"),
                          ("toml", "BurntSushi/toml"))},
}


def project_of(task: dict[str, Any]) -> Project:
    """The project a task was built from (its id's prefix)."""
    return PROJECTS[str(task["instance_id"]).rsplit("-", 1)[0]]


def test_file_of(test_id: str) -> str:
    """The file of a pytest node id or a jest id (``tests/x.test.js > suite > name``)."""
    return test_id.split("::")[0].split(" > ")[0]


@dataclass
class TestRun:
    """Outcomes of one run of some test files."""

    outcomes: dict[str, str] = field(default_factory=dict)
    collect_errors: list[str] = field(default_factory=list)
    timed_out: bool = False
    returncode: int | None = None
    seconds: float = 0.0
    tail: str = ""

    def passed(self) -> set[str]:
        """Node ids that passed."""
        return {k for k, v in self.outcomes.items() if v == "passed"}

    def status(self, nodeid: str) -> str:
        """``passed``/``failed``/``skipped``, or ``missing`` (not collected: a failure)."""
        return self.outcomes.get(nodeid, "missing")


def prepare_tree(repo: Path) -> None:
    """Write the ``_version.py`` that setuptools-scm would (ignored by git)."""
    target = repo / "src" / "_pytest" / "_version.py"
    if not target.parent.is_dir():
        return
    tag = git(repo, "describe", "--tags", "--abbrev=0", check=False).strip()
    nums = [int(x) for x in tag.split(".")[:3] if x.isdigit()]
    if len(nums) != 3:
        nums = [9, 0, 0]
    nums[2] += 1  # setuptools-scm's "next patch release, dev" for an untagged commit
    target.write_text(VERSION_PY.format(v="{}.{}.{}.dev0".format(*nums),
                                        t=(*nums, "dev0")))


def test_env(repo: Path) -> dict[str, str]:
    """The environment for running the checkout's own pytest from ``src``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "PYTHON", "GREENPAIR_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(repo / "src"), str(HERE)])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    env.pop("CI", None)  # some of pytest's tests change behaviour on CI
    return env


def test_command(python: str) -> str:
    """The shell command a tool can use to run the checkout's tests (``--test-command``).

    ``PYTHONPATH=src`` is relative: the tool runs it at the root of its own scratch copy,
    so the patched sources are the ones tested."""
    return f"PYTHONPATH=src {python} -m pytest -p no:cacheprovider -q"


def _timed_run(cmd: list[str], repo: Path, env: dict[str, str], timeout_s: float,
               run: TestRun) -> None:
    """Run a test command in ``repo``: its exit status, output tail, time and timeout
    go into ``run``."""
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True,
                              timeout=timeout_s, check=False)
        run.returncode = proc.returncode
        run.tail = (proc.stdout + proc.stderr)[-2000:]
    except subprocess.TimeoutExpired:
        run.timed_out = True
    run.seconds = round(time.monotonic() - start, 2)


def link_node_modules(repo: Path, node_modules: Path | None) -> None:
    """Link the installed ``node_modules`` into a checkout (``git clean`` removes the link,
    never what it points to)."""
    link = repo / "node_modules"
    if node_modules is not None and not link.exists():
        link.symlink_to(node_modules.resolve(), target_is_directory=True)


def read_jest_report(data: dict[str, Any], repo: Path, run: TestRun) -> None:
    """Jest's ``--json`` report into ``run``: ``path > full name`` ids (the shape
    Greenpair reports), pending and todo tests as skipped, and a file with no test that
    failed to run as a collect error."""
    for suite in data.get("testResults", []):
        rel = os.path.relpath(suite.get("name", ""), repo).replace(os.sep, "/")
        cases = suite.get("assertionResults") or []
        if not cases and suite.get("status") == "failed":
            run.collect_errors.append(rel)
        for case in cases:
            status = {"passed": "passed", "failed": "failed"}.get(case.get("status"),
                                                                  "skipped")
            run.outcomes[f"{rel} > {case.get('fullName') or case.get('title')}"] = status


GO_TEST_FUNC = re.compile(r"^func\s+((?:Test|Fuzz|Example)\w*)\s*\(", re.MULTILINE)


def go_env(cache: Path) -> dict[str, str]:
    """Go offline, on the installed toolchain, with the benchmark's own build cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPAIR_")}
    env.update(GOPROXY="off", GOTOOLCHAIN="local", GOTELEMETRY="off", GOFLAGS="-mod=mod",
               GOCACHE=str(cache))
    return env


def run_go_tests(repo: Path, files: list[str], timeout_s: float, nice: int = 15) -> TestRun:
    """``go test -json -count=1`` of the packages of ``files``; the outcome of each test
    function those files declare, by ``path::TestName`` (the shape a request names, and
    Greenpair reports); a package that does not build is a collect error, its tests
    missing."""
    run = TestRun()
    declared: dict[tuple[str, str], str] = {}
    for f in files:
        folder = f.rsplit("/", 1)[0] if "/" in f else "."
        for name in GO_TEST_FUNC.findall((repo / f).read_text(errors="replace")):
            declared.setdefault((folder, name), f)
    pkgs = sorted({"./" + folder if folder != "." else "." for folder, _ in declared} |
                  {"./" + f.rsplit("/", 1)[0] if "/" in f else "." for f in files})
    cache = Path(tempfile.gettempdir()) / "patchbench-go-cache"
    cmd = ["nice", "-n", str(nice), "go", "test", "-json", "-count=1", *pkgs]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=repo, env=go_env(cache), capture_output=True,
                              text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        run.timed_out = True
        run.seconds = round(time.monotonic() - start, 2)
        return run
    run.seconds = round(time.monotonic() - start, 2)
    run.returncode = proc.returncode
    run.tail = (proc.stdout + proc.stderr)[-2000:]
    module = ""
    mod = repo / "go.mod"
    if mod.is_file():
        m = re.search(r"^module\s+(\S+)", mod.read_text(errors="replace"), re.MULTILINE)
        module = m.group(1) if m else ""
    tested: set[str] = set()

    def folder_of(pkg: str) -> str:
        return "." if pkg == module else pkg[len(module) + 1:] if module and \
            pkg.startswith(module + "/") else pkg

    for line in (proc.stdout + proc.stderr).splitlines():
        if not line.startswith("{"):  # before Go 1.24: "FAIL\tex/cart [build failed]"
            m = re.match(r"^FAIL\t(\S+) \[(?:build|setup) failed\]$", line)
            if m and folder_of(m.group(1)) not in run.collect_errors:
                run.collect_errors.append(folder_of(m.group(1)))
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        pkg, test, action = ev.get("Package", ""), ev.get("Test") or "", ev.get("Action")
        folder = folder_of(pkg)
        if action in {"pass", "fail", "skip"} and test and "/" not in test:
            tested.add(folder)
            file = declared.get((folder, test))
            if file is not None:
                run.outcomes[f"{file}::{test}"] = {"pass": "passed", "fail": "failed",
                                                   "skip": "skipped"}[action]
        elif action == "fail" and not test and folder not in tested and \
                folder not in run.collect_errors:
            run.collect_errors.append(folder)
    return run


def run_tests(python: str, repo: Path, files: list[str], timeout_s: float,
              nice: int = 15, node_modules: Path | None = None) -> TestRun:
    """Run ``files`` with the checkout's own pytest, with jest from ``node_modules`` when
    given (ids ``path > full name``), or with go when they are Go test files, and collect
    per-test outcomes."""
    if files and all(f.endswith("_test.go") for f in files):
        present = [f for f in files if (repo / f).is_file()]
        return run_go_tests(repo, present, timeout_s, nice) if present else \
            TestRun(tail="no test files present")
    if node_modules is not None:
        link_node_modules(repo, node_modules)
    else:
        prepare_tree(repo)
    present = [f for f in files if (repo / f).is_file()]
    run = TestRun()
    if not present:
        run.tail = "no test files present"
        return run
    with tempfile.TemporaryDirectory(prefix="patchbench-") as tmp:
        out = Path(tmp) / "outcomes.json"
        if node_modules is not None:
            env = {k: v for k, v in os.environ.items() if not k.startswith("GREENPAIR_")}
            env.pop("CI", None)
            cmd = ["nice", "-n", str(nice), str(repo / "node_modules" / ".bin" / "jest"),
                   "--ci", "--json", f"--outputFile={out}", "--coverage=false",
                   "--runTestsByPath", *present]
        else:
            env = test_env(repo)
            env["PATCH_BENCH_OUTCOMES"] = str(out)
            cmd = ["nice", "-n", str(nice), python, "-m", "pytest", "-p", "outcome_plugin",
                   "-p", "no:cacheprovider", "-q", "-o", "console_output_style=classic",
                   "--basetemp", str(Path(tmp) / "base"), *present]
        _timed_run(cmd, repo, env, timeout_s, run)
        if not out.is_file():
            return run
        data: dict[str, Any] = json.loads(out.read_text())
        if node_modules is not None:
            read_jest_report(data, repo, run)
        else:
            run.collect_errors = list(data.pop(COLLECT_ERRORS, []))
            run.outcomes = {k: str(v) for k, v in data.items()}
    return run


@dataclass
class Judgement:
    """The benchmark's verdict on one patched tree."""

    resolved: bool
    fail_to_pass_passed: int
    fail_to_pass_total: int
    pass_to_pass_broken: list[str]
    failing: list[str]  # FAIL_TO_PASS ids that did not pass


def judge(run: TestRun, fail_to_pass: list[str], pass_to_pass: list[str]) -> Judgement:
    """Resolved = every FAIL_TO_PASS passes and every PASS_TO_PASS still passes."""
    failing = [t for t in fail_to_pass if run.status(t) != "passed"]
    broken = [t for t in pass_to_pass if run.status(t) != "passed"]
    ok = not run.timed_out and not failing and not broken
    return Judgement(ok, len(fail_to_pass) - len(failing), len(fail_to_pass), broken, failing)


def false_passes(reported: dict[str, str], run: TestRun, mode: str,
                 named_test: str | None, check_status: str | None) -> list[str]:
    """Tests the tool called passing that fail in the benchmark's run of the same tree.

    ``reported`` maps test names the tool ran to its status. A name matches a node id when
    equal, or when one ends with the other after a ``/`` or ``::`` (tools may report paths
    relative to another root). In the failing-test mode, a tool verdict of ``passed`` while
    the named test does not pass is a false pass too.
    """
    out: list[str] = []
    for name, status in reported.items():
        if status != "passed":
            continue
        if any(run.outcomes[n] == "failed" for n in run.outcomes if same_test(n, name)):
            out.append(name)
    if (mode == "failing_test" and named_test and check_status == "passed"
            and run.status(named_test) != "passed"
            and not any(same_test(named_test, name) for name in out)):
        out.append(named_test)
    return out


def same_test(nodeid: str, name: str) -> bool:
    """Whether a reported test name denotes ``nodeid`` (equal, or one a suffix of the other
    after ``/`` or ``::``), or names the file that holds it (a tool may report a whole
    file: a file reported passing covers every test in it)."""
    return (nodeid == name or nodeid.endswith(("/" + name, "::" + name))
            or name.endswith(("/" + nodeid, "::" + nodeid))
            or nodeid.startswith((name + "::", name + " > ")))
