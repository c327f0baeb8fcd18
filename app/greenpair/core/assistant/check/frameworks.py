"""How each test runner is called on the nearest tests, and how its results are read.

Every runner reports each test by id with its outcome, so the check can say exactly
which tests ran: pytest's ``-rA`` summary lines, unittest's ``-v`` lines, ``go test
-json`` events, cargo's ``test … ok`` lines, vitest's, jest's and mocha's JSON reports, and
Greenpair's own reporter for Node's built-in runner (``node_reporter``). A user's
own command is read the same way when its output has one of these shapes; otherwise only
its exit status counts.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from greenpair.core.assistant.check.discovery import Found, go_module, go_test_funcs
from greenpair.core.assistant.check.node_reporter import parse_report, write_reporter
from greenpair.core.assistant.check.result import TestOutcome
from greenpair.core.assistant.check.runner import check_env, repo_python

# A node id's parameters may hold spaces (``test_pager[strip ansi]``): ``[...]`` is whole.
_PYTEST_ID = r"\S+?(?:\[[^\]\n]*\])?"
_PYTEST_LINE = re.compile(rf"^(PASSED|FAILED|ERROR|XPASS|XFAIL) ({_PYTEST_ID})(?: - (.*))?$",
                          re.MULTILINE)
# ``-v`` progress lines, printed as each test ends: what a run stopped at its time limit
# still says (the short summary comes only at the end).
_PYTEST_PROGRESS = re.compile(rf"^(\S+::{_PYTEST_ID}) (PASSED|FAILED|ERROR|XPASS|XFAIL)"
                              r"(?:\s+\[\s*\d+%\])?\s*$", re.MULTILINE)
_PYTEST_SECTION = re.compile(r"^_{3,} (?:ERROR collecting |ERROR at \w+ of )?(.+?) _{3,}$",
                             re.MULTILINE)
# The run's own short summary is the last one: a test that runs pytest inside (pytester)
# prints whole inner summaries into its captured output, above it.
_PYTEST_SUMMARY = re.compile(r"^=+ short test summary info =+$", re.MULTILINE)
_PYTEST_COUNTS = re.compile(r"(\d+) (passed|failed|errors?|xfailed|xpassed)")
_UNITTEST_LINE = re.compile(
    r"^(\w+) \(([\w.]+)\)(?:\n[^\n]*?)? \.\.\. (ok|FAIL|ERROR|expected failure|"
    r"unexpected success|skipped)", re.MULTILINE)
_UNITTEST_SECTION = re.compile(r"^(?:FAIL|ERROR): (\w+) \(([\w.]+)\)", re.MULTILINE)
_CARGO_LINE = re.compile(r"^test (\S+) \.\.\. (ok|FAILED|ignored)", re.MULTILINE)
_CARGO_SECTION = re.compile(r"^---- (\S+) stdout ----$", re.MULTILINE)
_CARGO_RUNNING = re.compile(r"^\s*Running (?:unittests )?(\S+\.rs) \(.*\)$", re.MULTILINE)


@dataclass
class Plan:
    """A test command and how to read its results.

    Attributes:
        framework: "pytest", "unittest", "go", "cargo", "vitest", "jest", "mocha", "node"
            (Node's built-in runner) or "command".
        argv: The command.
        display: The command as shown to the user.
        report: A file the runner writes its results to (JSON reporters), or None.
        parse: Reads (output, report text) into outcomes.
        no_tests_codes: Exit statuses that mean "nothing was collected".
    """

    framework: str
    argv: list[str]
    display: str
    report: Path | None = None
    parse: Callable[[str, str], list[TestOutcome]] = field(default=lambda out, rep: [])
    no_tests_codes: tuple[int, ...] = ()


def _has_module(python: str, module: str, root: Path) -> bool:
    try:
        done = subprocess.run(
            [python, "-c", f"import importlib.util,sys; sys.exit(importlib.util.find_spec("
                           f"{module!r}) is None)"],
            cwd=root, env=check_env(root), capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def parse_pytest(output: str, _report: str = "") -> list[TestOutcome]:
    """Outcomes from pytest's ``-rA`` short summary (failure text from its sections), or
    from its ``-v`` progress lines when the run stopped before the summary. Only the last
    summary counts: lines of inner runs in captured output are not this run's tests."""
    sections: dict[str, str] = {}
    heads = list(_PYTEST_SECTION.finditer(output))
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(output)
        body = output[m.end():end]
        body = re.split(r"^={3,} ", body, maxsplit=1, flags=re.MULTILINE)[0]
        sections[m.group(1).strip()] = body.strip("\n")
    outcomes: dict[str, TestOutcome] = {}
    if not _PYTEST_LINE.search(output):  # no summary (stopped early): the progress lines
        for m in _PYTEST_PROGRESS.finditer(output):
            ident, kind = m.group(1), m.group(2)
            outcomes.setdefault(ident, TestOutcome(ident, kind in {"PASSED", "XFAIL"}, ""))
        return list(outcomes.values())
    summaries = list(_PYTEST_SUMMARY.finditer(output))
    for m in _PYTEST_LINE.finditer(output, summaries[-1].end() if summaries else 0):
        kind, ident, why = m.group(1), m.group(2), m.group(3) or ""
        passed = kind in {"PASSED", "XFAIL"}
        message = ""
        if not passed:
            tail = ident.split("::", 1)[-1].replace("::", ".")
            message = next((body for head, body in sections.items()
                            if head in (tail, ident) or tail.endswith(head)), why)
        key = ident if kind != "ERROR" or ident not in outcomes else ident + " (teardown)"
        outcomes[key] = TestOutcome(ident, passed, message)
    return list(outcomes.values())


def parse_unittest(output: str, _report: str = "") -> list[TestOutcome]:
    """Outcomes from ``python -m unittest -v``."""
    sections: dict[str, str] = {}
    heads = list(_UNITTEST_SECTION.finditer(output))
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(output)
        sections[m.group(2)] = output[m.start():end].split("\n-----", 2)[-1].strip()
    out = []
    for m in _UNITTEST_LINE.finditer(output):
        name, where, kind = m.groups()
        if kind == "skipped":
            continue
        ident = where if where.endswith("." + name) else f"{where}.{name}"
        passed = kind in {"ok", "expected failure"}
        out.append(TestOutcome(ident, passed, "" if passed else sections.get(where, "")))
    return out


def parse_go(output: str, _report: str = "", root: Path | None = None) -> list[TestOutcome]:
    """Outcomes from ``go test -json`` events; a package that fails to build is one
    failed outcome (``ex/cart (package)``) whose message is the compiler's output.

    With ``root`` (the module's folder), a test is named by its file, as a request names
    it (``cart/price_test.go::TestDiscount``, a subtest ``…::TestDiscount/zero``); a test
    whose file is not found there keeps Go's name (``example.com/shop/cart/TestDiscount``).
    """
    where = _go_test_files(root) if root is not None else None
    logs: dict[tuple[str, str], list[str]] = {}
    out: list[TestOutcome] = []
    reported: set[str] = set()  # packages with a test outcome
    building = ""  # the package whose compiler output is being read (plain text)
    for line in output.splitlines():
        if not line.startswith("{"):
            # Before Go 1.24 a package that does not build is told in plain text:
            # "# ex/cart [ex/cart.test]", the compiler's lines, "FAIL\tex/cart [build failed]"
            if m := _GO_BUILD_HEADER.match(line):
                building = m.group(1)
            elif m := _GO_BUILD_FAILED.match(line):
                if m.group(1) not in reported:
                    reported.add(m.group(1))
                    out.append(TestOutcome(f"{m.group(1)} (package)", False,
                                           "".join(logs.get((m.group(1), ""), [line + "\n"]))))
                building = ""
            elif building and line.strip():
                logs.setdefault((building, ""), []).append(line + "\n")
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            continue
        if not isinstance(ev, dict):
            continue
        key = (str(ev.get("Package", "")), str(ev.get("Test", "") or ""))
        if ev.get("Action") == "build-output":  # Go 1.24+: the compiler's lines as events
            package = str(ev.get("ImportPath", "")).split(" [")[0]
            logs.setdefault((package, ""), []).append(str(ev.get("Output", "")))
        elif ev.get("Action") == "output":
            logs.setdefault(key, []).append(str(ev.get("Output", "")))
        elif ev.get("Action") in {"pass", "fail"} and key[1]:
            passed = ev["Action"] == "pass"
            file = where(*key) if where is not None else ""
            out.append(TestOutcome(f"{file}::{key[1]}" if file else f"{key[0]}/{key[1]}",
                                   passed, "" if passed else "".join(logs.get(key, []))))
            reported.add(key[0])
        elif ev.get("Action") == "fail" and key[0] not in reported:
            reported.add(key[0])
            out.append(TestOutcome(f"{key[0]} (package)", False, "".join(logs.get(key, []))))
    return out


_GO_BUILD_HEADER = re.compile(r"^# (\S+)(?: \[\S+\])?$")
_GO_BUILD_FAILED = re.compile(r"^FAIL\t(\S+) \[(?:build|setup) failed\]$")


def _go_test_files(root: Path) -> Callable[[str, str], str]:
    """``(package, test) -> the _test.go file that declares the test`` ("" if unknown),
    for the module at ``root``; each package's folder is read once."""
    module = go_module(root)
    found: dict[str, dict[str, str]] = {}

    def where(package: str, test: str) -> str:
        if not module or not (package == module or package.startswith(module + "/")):
            return ""
        folder = package[len(module) + 1:] or "."
        if folder not in found:
            found[folder] = {}
            base = root / folder
            files = sorted(base.glob("*_test.go")) if base.is_dir() else []
            for file in files:
                rel = file.relative_to(root).as_posix()
                for name in go_test_funcs(root, rel):
                    found[folder].setdefault(name, rel)
        return found[folder].get(test.split("/")[0], "")

    return where


def parse_cargo(output: str, _report: str = "") -> list[TestOutcome]:
    """Outcomes from ``cargo test``'s ``test name ... ok`` lines.

    A unit test keeps cargo's name (``price::tests::ten_percent_off``); an integration
    test is named by its file (``tests/checkout.rs::full_discount_is_free``, from the
    ``Running tests/checkout.rs (…)`` line above it), the form a request names it by."""
    out: list[TestOutcome] = []
    blocks = _CARGO_RUNNING.split(output)  # [before, target, its output, target, ...]
    for target, text in [("", blocks[0]), *zip(blocks[1::2], blocks[2::2], strict=True)]:
        sections: dict[str, str] = {}
        heads = list(_CARGO_SECTION.finditer(text))
        for i, m in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            section = text[m.end():end]
            sections[m.group(1)] = section.split("\nfailures:\n", 1)[0].strip()
        prefix = f"{target}::" if "tests" in PurePosixPath(target).parts[:-1] else ""
        out += [TestOutcome(prefix + name, kind == "ok",
                            "" if kind == "ok" else sections.get(name, ""))
                for name, kind in _CARGO_LINE.findall(text) if kind != "ignored"]
    return out


_JEST_FILE = re.compile(r"^(PASS|FAIL) +(\S+)", re.MULTILINE)


def parse_jest_files(output: str) -> list[TestOutcome]:
    """Each test file's verdict from jest's ``PASS``/``FAIL`` lines, with a failed file's
    section of the output as its message: what is left when jest wrote no report (a test
    made the code under test call ``process.exit``, and jest stopped there)."""
    heads = list(_JEST_FILE.finditer(output))
    out = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(output)
        passed = m.group(1) == "PASS"
        out.append(TestOutcome(m.group(2), passed,
                               "" if passed else output[m.start():end].strip()[-3000:]))
    return out


def parse_jest_json(root: Path) -> Callable[[str, str], list[TestOutcome]]:
    """A parser of vitest's and jest's JSON report (the same shape); without a report,
    the files jest printed as passed or failed (``parse_jest_files``)."""
    def parse(output: str, report: str) -> list[TestOutcome]:
        try:
            data = json.loads(report)
        except ValueError:
            return parse_jest_files(output)
        out = []
        for suite in data.get("testResults", []):
            name = str(suite.get("name", ""))
            try:
                rel = str(PurePosixPath(Path(name).resolve().relative_to(root.resolve())))
            except ValueError:
                rel = name
            for case in suite.get("assertionResults", []):
                status = case.get("status")
                if status not in {"passed", "failed"}:
                    continue
                out.append(TestOutcome(f"{rel} > {case.get('fullName', case.get('title'))}",
                                       status == "passed",
                                       "\n".join(case.get("failureMessages") or [])))
            if not suite.get("assertionResults") and suite.get("status") == "failed":
                out.append(TestOutcome(rel, False, str(suite.get("message", ""))))
        return out
    return parse


def parse_mocha_json(root: Path) -> Callable[[str, str], list[TestOutcome]]:
    """A parser of mocha's ``json`` reporter (its ``output`` file; mocha before 9.2
    ignores that option and prints the report, so it is looked for in the output too)."""
    def parse(output: str, report: str) -> list[TestOutcome]:
        text = report or output[max(0, output.find('{\n  "stats"')):]
        try:
            data = json.loads(text)
        except ValueError:
            return []
        out = []
        for key, passed in (("passes", True), ("failures", False)):
            for case in data.get(key) or []:
                name = str(case.get("file") or "")
                try:
                    rel = str(PurePosixPath(Path(name).resolve().relative_to(root.resolve())))
                except (ValueError, OSError):
                    rel = name
                err = case.get("err") or {}
                message = "" if passed else str(err.get("stack") or err.get("message") or "")
                title = str(case.get("fullTitle") or case.get("title") or "")
                out.append(TestOutcome(f"{rel} > {title}" if rel else title, passed, message))
        return out
    return parse


def parse_any(output: str, report: str = "") -> list[TestOutcome]:
    """Outcomes from a user's command whose output has a known runner's shape."""
    for parser in (parse_pytest, parse_go, parse_cargo, parse_unittest):
        found = parser(output, report)
        if found:
            return found
    return []


# ``node --test`` in an npm script (``node --test``, ``node --import tsx --test test/``)
_NODE_TEST_SCRIPT = re.compile(r"(?:^|[\s;&|(])node((?:\s+[^;&|]*?)?)\s--test(?=[\s;&|)]|$)")


def node_options(script: str) -> list[str]:
    """The options the npm test script gives node before ``--test`` (a loader such as
    ``--import tsx`` that TypeScript tests need), kept for the check's own run."""
    m = _NODE_TEST_SCRIPT.search(script)
    if m is None:
        return []
    try:
        words = shlex.split(m.group(1))
    except ValueError:
        return []
    out: list[str] = []
    skip = False
    for word in words:  # the check sets the reporters (one destination each) itself
        if skip:
            skip = False
        elif word.startswith("--test-reporter"):
            skip = "=" not in word
        else:
            out.append(word)
    return out
_NODE_TEST_IMPORT = re.compile(r"""(?:from\s+|require\(\s*|import\s+)['"]node:test['"]""")


def js_runner(root: Path, pkg: dict, files: list[str]) -> str | None:
    """Which runner runs the JavaScript tests (vitest, jest, mocha or Node's own): the npm
    test script's, else the one the dependencies hold, else Node's built-in runner when
    the test files import ``node:test``."""
    script = str((pkg.get("scripts") or {}).get("test", ""))
    deps = {**(pkg.get("devDependencies") or {}), **(pkg.get("dependencies") or {})}
    for tool in ("vitest", "jest", "mocha"):
        if tool in script:
            return tool
    if _NODE_TEST_SCRIPT.search(script):
        return "node"
    for tool in ("vitest", "jest", "mocha"):
        if tool in deps:
            return tool
    for rel in files:
        try:
            head = (root / rel).read_text(encoding="utf-8", errors="replace")[:20_000]
        except OSError:
            continue
        if _NODE_TEST_IMPORT.search(head):
            return "node"
    return None


def _node_plan(root: Path, files: list[str], report: Path, options: list[str]) -> Plan | str:
    """Node's built-in runner on ``files`` with the script's own ``options``: its ``spec``
    reporter for the user, and Greenpair's reporter for each test's outcome
    (``node_reporter``)."""
    import shutil

    node = shutil.which("node")
    if node is None:
        return "node is not installed"
    reporter = write_reporter(report.parent)
    argv = [node, *options, "--test", "--test-reporter=spec",
            "--test-reporter-destination=stdout", f"--test-reporter={reporter}",
            f"--test-reporter-destination={report}", *files]
    return Plan("node", argv, "node --test " + " ".join(files), report,
                lambda _out, rep: parse_report(root, rep))


def _js_plan(root: Path, files: list[str], report: Path) -> Plan | str:
    try:
        pkg = json.loads((root / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pkg = None
    tool = js_runner(root, pkg if isinstance(pkg, dict) else {}, files)
    if tool == "node":
        script = str(((pkg or {}).get("scripts") or {}).get("test", "")) \
            if isinstance(pkg, dict) else ""
        return _node_plan(root, files, report, node_options(script))
    if pkg is None:
        return "no readable package.json"
    if tool is None:
        return "the npm test script runs none of vitest, jest, mocha or node --test"
    exe = root / "node_modules" / ".bin" / tool
    if not exe.exists():
        return f"{tool} is not installed in node_modules (run npm install)"
    if tool == "vitest":
        argv = [str(exe), "run", "--reporter=json", f"--outputFile={report}", *files]
    elif tool == "mocha":
        argv = [str(exe), "--reporter", "json", "--reporter-option", f"output={report}",
                *files]
        return Plan(tool, argv, f"mocha {' '.join(files)}", report, parse_mocha_json(root))
    else:
        argv = [str(exe), "--ci", "--json", f"--outputFile={report}", "--runTestsByPath",
                *files]
    return Plan(tool, argv, f"{tool} {' '.join(files)}", report, parse_jest_json(root))


def _go_plan(go: str, found: Found, root: Path) -> Plan:
    """``go test`` of the packages found, or of the tests named in the request (their
    packages, ``-run`` their top-level names; a named file: every test it declares).
    ``-count=1``: a check runs the tests, never reports a cached result."""
    names: list[str] = []
    for ident in found.ids:
        path, _, name = ident.partition("::")
        names += [name.split("/")[0]] if name else go_test_funcs(root, path)
    pkgs = found.packages or sorted({_go_package(t.split("::")[0]) for t in found.ids})
    run = ["-run", "^(" + "|".join(dict.fromkeys(names)) + ")$"] if names else []
    display = " ".join(["go test", *pkgs, *([run[0], shlex.quote(run[1])] if run else [])])

    def parse(output: str, report: str) -> list[TestOutcome]:
        # packages test in parallel: the changed package's tests (listed first) lead
        order = {p.removeprefix("./"): i for i, p in enumerate(pkgs)}
        return sorted(parse_go(output, report, root), key=lambda o: order.get(
            str(PurePosixPath(o.id.split("::")[0]).parent), len(order)))

    return Plan("go", [go, "test", "-json", "-count=1", *run, *pkgs], display, parse=parse)


def _go_package(path: str) -> str:
    parent = str(PurePosixPath(path).parent)
    return "." if parent == "." else "./" + parent


def plan_for(found: Found, root: Path, report: Path) -> Plan | str:
    """The command that runs ``found`` in the copy at ``root``, or why none can."""
    targets = found.ids or found.files
    if found.language == "python":
        python = repo_python(root)
        if _has_module(python, "pytest", root):
            argv = [python, "-m", "pytest", "-rA", "--tb=short", "-v", "-p",
                    "no:cacheprovider", "--color=no", *targets]
            return Plan("pytest", argv, "pytest " + " ".join(targets), parse=parse_pytest,
                        no_tests_codes=(5,))
        modules = [t.split("::")[0] for t in targets]
        return Plan("unittest", [python, "-m", "unittest", "-v", *modules],
                    "python -m unittest " + " ".join(modules), parse=parse_unittest)
    if found.language == "javascript":
        return _js_plan(root, [t for t in targets if "::" not in t], report)
    if found.language == "go":
        import shutil

        go = shutil.which("go")
        if go is None:
            return "go is not installed"
        if not (root / "go.mod").is_file():
            return "there is no go.mod at the repository's top (go test runs in a module)"
        return _go_plan(go, found, root)
    if found.language == "rust":
        import shutil

        cargo = shutil.which("cargo")
        if cargo is None:
            return "cargo is not installed"
        args = [f for f in found.filters if f.startswith("-")]
        names = [f for f in found.filters if not f.startswith("-")]
        rest = ["--", *names] if names else []  # the test harness takes several filters
        # --no-fail-fast: a failing target (the unit tests) stops cargo before the next
        argv = [cargo, "test", "--offline", "--no-fail-fast", *args, *rest]
        return Plan("cargo", argv, " ".join(["cargo test", *args, *rest]), parse=parse_cargo)
    return "no test runner for these files"


TESTS_PLACEHOLDER = "{tests}"
_PYTEST_COMMAND = re.compile(r"(?:^|[\s/;&|])(?:py\.test|pytest)(?:\s|$)")


def command_targets_tests(command: str) -> bool:
    """Whether the user's command can be given the tests to run: it has the ``{tests}``
    placeholder, or it is a pytest run (the ids are added at its end)."""
    return TESTS_PLACEHOLDER in command or _PYTEST_COMMAND.search(command) is not None


def _names_tests(args: str) -> bool:
    """Whether pytest's arguments already name what to run (a file, a node id, a folder)."""
    try:
        words = shlex.split(args)
    except ValueError:
        return True  # unparsable: leave it as the user wrote it
    return any(not w.startswith("-") and ("::" in w or w.endswith(".py") or "/" in w)
               for w in words)


def command_plan(command: str, found: Found | None = None) -> Plan:
    """The user's own test command (``test_command`` setting or ``--test-command``).

    The tests found for the change (``found``: named in the request, else the nearest)
    go where the command has ``{tests}``; a pytest command without the placeholder that
    names no test itself gets them at its end, with ``-rA`` so every test's outcome is reported. Any other command
    runs as written. A placeholder with nothing found stands for nothing (the whole
    suite, as the command would run it).
    """
    targets: list[str] = []
    if found is not None and found.language in {"python", "javascript"}:
        targets = found.ids or found.files
    quoted = " ".join(shlex.quote(t) for t in targets)
    if TESTS_PLACEHOLDER in command:
        command = command.replace(TESTS_PLACEHOLDER, quoted).strip()
    elif (m := _PYTEST_COMMAND.search(command)) and targets and \
            not _names_tests(command[m.end():]):
        flags = "" if re.search(r"(?:^|\s)-r\w*A", command) else " -rA"
        command = f"{command.rstrip()}{flags} {quoted}"
    return Plan("command", ["sh", "-c", command], command, parse=parse_any,
                no_tests_codes=(5,) if "pytest" in command else ())
