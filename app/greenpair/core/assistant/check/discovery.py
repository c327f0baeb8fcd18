"""The tests nearest a change: tests that import the changed module or are named after it.

Found by a scan of the scratch copy (test files only are read, each at most once):

* Python: ``test_*.py`` / ``*_test.py`` (and files under ``tests/``) that import the
  changed module (``import a.b``, ``from a.b import c``, ``from a import b``, relative
  imports) or are named after it (``test_b.py``);
* TypeScript / JavaScript: ``*.test.ts``, ``*.spec.js``, ``__tests__/*`` that import the
  changed file by a relative path (or an entry file, ``index.js`` or the package's
  ``main``, that imports it), share its name, or extend it (``command.alias.test.js``);
* Go: the ``*_test.go`` files of the changed package, and test files elsewhere that
  import the package;
* Rust: the changed module's own ``#[test]`` functions and ``tests/<name>.rs``.

A request that names a test (``testing/test_x.py::test_y``) targets it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from greenpair.core.assistant.check.scratch import ENV_DIRS, SKIP_DIRS
from greenpair.core.toml_compat import tomllib

MAX_TEST_FILES = 12
MAX_SCAN_FILES = 20_000
MAX_READ_BYTES = 512 * 1024
_JS_EXT = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_JS_TEST = re.compile(r"\.(test|spec)\.(ts|tsx|js|jsx|mjs|cjs|mts|cts)$")
# A test file, then pytest's ``::Class::name`` and its parameters ``[...]``, which may hold
# spaces and punctuation (``test_pager[strip ansi]``, ``test_x[a, b]``): up to the ``]``.
_NAMED = re.compile(r"(?P<path>(?:[\w.-]+/)*[\w.-]+\.(?:py|ts|tsx|js|jsx|mjs|go|rs))"
                    r"(?P<rest>(?:(?:::[\w.-]+)+(?:\[[^\]\n`]*\])?)?)")
_PY_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)",
                      re.MULTILINE)
_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n#]+)", re.MULTILINE)
_JS_SPEC = re.compile(r"""(?:from\s+|require\(\s*|import\(\s*|import\s+)['"]([^'"]+)['"]""")
_GO_IMPORT = re.compile(r'"([^"\s]+)"')


@dataclass
class Found:
    """The nearest tests of a change.

    Attributes:
        language: "python", "javascript", "go", "rust" (None: nothing to run).
        files: Test files, nearest first (repository-relative).
        ids: Tests named in the request (pytest node ids or files), run as given.
        packages: Go packages (``./dir``) to test.
        filters: Rust test-name filters and ``--test`` targets.
        reason: How they were found, or why none were.
    """

    language: str | None
    files: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def empty(self) -> bool:
        """Whether no test was found."""
        return not (self.files or self.ids or self.packages or self.filters)


def named_tests(task: str, root: Path) -> list[str]:
    """Test ids or test files the request names that exist in the copy at ``root``.

    A file counts when its name follows a test convention, or when the request gives a
    pytest node id in it (``testing/python/approx.py::TestX::test_y``: a project can
    collect tests from any file name, as pytest's ``python_files`` allows). In a Go
    module, a request about a test's result ("make TestParseHex pass") may name the test
    function alone: it is found by its declaration.
    """
    out: list[str] = []
    for m in _NAMED.finditer(task):
        path = m.group("path").strip("./") if m.group("path").startswith("./") \
            else m.group("path")
        node_id = bool(m.group("rest")) and path.endswith(".py")  # pytest's path::name
        if not (is_test_file(path) or node_id) or not (root / path).is_file():
            continue
        ident = path + m.group("rest").rstrip(".")
        if ident not in out:
            out.append(ident)
    if not out and _ABOUT_A_TEST_RESULT.search(task) and (root / "go.mod").is_file():
        out = _go_tests_by_name(root, tuple(dict.fromkeys(_GO_TEST_NAME.findall(task))))
    return out


# A Go test named alone ("make TestParseHex pass"), without its file, in a request about
# a test's result (not "rename TestParseHex", where the test itself is what changes)
_GO_TEST_NAME = re.compile(r"(?<![\w./:-])((?:Test|Fuzz)[A-Z_]\w*)\b")
_ABOUT_A_TEST_RESULT = re.compile(r"\b(?:pass|passes|passing|fail|fails|failing)\b", re.I)
MAX_GO_TEST_FILES = 5_000


def _go_tests_by_name(root: Path, names: tuple[str, ...]) -> list[str]:
    """``file::Name`` for each Go test function in ``names`` that one ``_test.go`` file of
    the module declares (a name two packages declare is ambiguous: left out)."""
    if not names:
        return []
    where: dict[str, list[str]] = {}
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and d not in ENV_DIRS
                             and not d.startswith((".", "_")) and d not in {"testdata", "vendor"})
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        files += [name if rel == "." else f"{rel}/{name}"
                  for name in sorted(filenames) if name.endswith("_test.go")]
        if len(files) >= MAX_GO_TEST_FILES:
            break
    for rel in files[:MAX_GO_TEST_FILES]:
        declared = set(_GO_TEST_FUNC.findall(_read(root, rel)))
        for test in declared.intersection(names):
            where.setdefault(test, []).append(rel)
    return [f"{where[t][0]}::{t}" for t in names if len(where.get(t, [])) == 1]


def named_test_files(task: str, root: Path) -> list[str]:
    """The files of the tests the request names (``named_tests`` without the ``::`` part),
    sorted: what an edit must leave as it is."""
    return sorted({t.split("::")[0] for t in named_tests(task, root)}) if task else []


def is_test_file(path: str) -> bool:
    """Whether ``path`` follows a test-file convention of its language."""
    p = PurePosixPath(path)
    name = p.name
    if name.endswith(".py"):
        return (name.startswith("test_") or name.endswith("_test.py")) and \
            name != "conftest.py"
    if name.endswith("_test.go"):
        return True
    if _JS_TEST.search(name):
        return True
    if name.endswith(_JS_EXT) and "__tests__" in p.parts:
        return True
    return name.endswith(".rs") and "tests" in p.parts[:-1]  # a crate's tests/


def _scan(root: Path) -> list[str]:
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and d not in ENV_DIRS
                             and not d.startswith("."))
        rel = os.path.relpath(dirpath, root)
        for name in sorted(filenames):
            path = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
            if is_test_file(path):
                out.append(path)
        if len(out) > MAX_SCAN_FILES:
            break
    return out


def _read(root: Path, rel: str) -> str:
    try:
        with (root / rel).open("rb") as fh:
            return fh.read(MAX_READ_BYTES).decode("utf-8", "replace")
    except OSError:
        return ""


def python_module(path: str) -> str:
    """The dotted module name of a Python file (``src/`` and ``lib/`` dropped)."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[0] in {"src", "lib"} and len(parts) > 1:
        parts = parts[1:]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _python_imports(text: str, test_path: str) -> set[str]:
    """Every module a Python file imports (``from a import b`` gives ``a`` and ``a.b``)."""
    package = python_module(str(PurePosixPath(test_path).parent / "__init__.py"))
    found: set[str] = set()
    for m in _PY_FROM.finditer(text):
        base, names = m.group(1), m.group(2).strip("() \t\n")
        if base.startswith("."):
            dots = len(base) - len(base.lstrip("."))
            anchor = package.split(".") if package else []
            anchor = anchor[: len(anchor) - (dots - 1)] if dots > 1 else anchor
            base = ".".join([*anchor, base.lstrip(".")]).strip(".")
        if base:
            found.add(base)
        for name in names.replace("\n", " ").split(","):
            word = name.strip().split(" ")[0]
            if word and word != "*":
                found.add(f"{base}.{word}" if base else word)
    for m in _PY_IMPORT.finditer(text):
        for name in m.group(1).split(","):
            word = name.strip().split(" ")[0]
            if word:
                found.add(word)
    return found


def _python(root: Path, changed: Sequence[str], tests: list[str]) -> Found:
    modules = {python_module(p) for p in changed if p.endswith(".py")} - {""}
    stems = {PurePosixPath(p).stem for p in changed}
    stems |= {PurePosixPath(p).parent.name for p in changed if p.endswith("__init__.py")}
    scored: dict[str, int] = {}
    for path in changed:
        if is_test_file(path) and path.endswith(".py"):
            scored[path] = 3
    for test in (t for t in tests if t.endswith(".py")):
        stem = PurePosixPath(test).stem
        core = stem.removeprefix("test_").removesuffix("_test")
        if core in stems or any(core.startswith(s + "_") for s in stems if len(s) > 2):
            scored[test] = max(scored.get(test, 0), 2)
        imports = _python_imports(_read(root, test), test)
        if any(i == m or i.startswith(m + ".") for i in imports for m in modules):
            scored[test] = max(scored.get(test, 0), 1) + (1 if test in scored else 0)
    files = sorted(scored, key=lambda t: (-scored[t], t))[:MAX_TEST_FILES]
    return Found("python", files=files, reason="named after or importing " +
                 ", ".join(sorted(modules)) if files else "")


def _strip_js(path: str) -> str:
    p = PurePosixPath(path)
    return str(p.with_suffix("")) if p.suffix in _JS_EXT else str(p)


def _js_resolve(root: Path, spec_path: str) -> str | None:
    """The file a relative import resolves to (``./a`` → ``a.ts``, ``a/index.js``; the
    package's root → its ``main``), or None when none exists in the copy."""
    base = "" if spec_path in {".", ""} else spec_path
    if base and (root / base).is_file():
        return base
    tries = [base + ext for ext in _JS_EXT] if base else []
    if not base:
        try:
            main = json.loads((root / "package.json").read_text(encoding="utf-8")).get("main")
        except (OSError, ValueError, AttributeError):
            main = None
        if isinstance(main, str) and main and ".." not in PurePosixPath(main).parts:
            tries.append(os.path.normpath(main).replace(os.sep, "/"))
    tries += [str(PurePosixPath(base or ".", "index")) + ext for ext in _JS_EXT]
    return next((t for t in tries if (root / t).is_file()), None)


def _relative_imports(path: str, text: str) -> list[str]:
    """The paths (normalised, extension as written) of ``path``'s relative imports."""
    base = PurePosixPath(path).parent
    return [os.path.normpath(str(base / spec)).replace(os.sep, "/")
            for spec in _JS_SPEC.findall(text) if spec.startswith(".")]


_WORDS = re.compile(r"[A-Za-z][a-z0-9]*|[A-Z]+(?![a-z])")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORDS.findall(text)}


def _javascript(root: Path, changed: Sequence[str], tests: list[str], hint: str = "") -> Found:
    """Tests named after a changed file (``cart.test.ts``, or ``cart.total.test.ts`` when
    ``total`` is in the request or the changed lines), tests that import it, and tests
    that import an entry file (``index.js``, the package's ``main``) that imports it."""
    targets = {_strip_js(p) for p in changed}
    targets |= {str(PurePosixPath(t).parent) for t in targets if t.endswith("/index")}
    stems = {PurePosixPath(_strip_js(p)).name for p in changed}
    hinted = _words(hint)
    scored: dict[str, float] = {p: 3 for p in changed if is_test_file(p)}
    entries: dict[str, bool] = {}  # an import path -> whether its entry imports a change

    def imports_changed(path: str, text: str) -> bool:
        return any(_strip_js(r) in targets or r in targets
                   for r in _relative_imports(path, text))

    def via_entry(resolved: str) -> bool:
        if resolved not in entries:  # each import path resolved and read once
            entry = _js_resolve(root, resolved)
            entries[resolved] = entry is not None and entry not in changed and \
                not is_test_file(entry) and imports_changed(entry, _read(root, entry))
        return entries[resolved]

    for test in (t for t in tests if t.endswith(_JS_EXT)):
        name = _JS_TEST.sub("", PurePosixPath(test).name)
        name = PurePosixPath(name).stem if name.endswith(_JS_EXT) else name
        score = scored.get(test, 0.0)
        if name in stems:
            score += 2
        else:
            stem = next((s for s in stems if name.startswith(s + ".")), None)
            if stem is not None:  # commander's command.alias.test.js for command.js
                score += 1 + (1 if _words(name[len(stem) + 1:]) <= hinted else 0)
        text = _read(root, test)
        resolved = _relative_imports(test, text)
        if any(_strip_js(r) in targets or r in targets for r in resolved):
            score += 1
        elif any(via_entry(r) for r in resolved):
            score += 0.5
        if score:
            scored[test] = score
    files = sorted(scored, key=lambda t: (-scored[t], t))[:MAX_TEST_FILES]
    return Found("javascript", files=files,
                 reason="named after or importing the changed files" if files else "")


def go_module(root: Path) -> str:
    """The module path that ``go.mod`` at ``root`` declares ("" when there is none)."""
    m = re.search(r"^module\s+(\S+)", _read(root, "go.mod"), re.MULTILINE)
    return m.group(1).strip('"') if m else ""


_GO_TEST_FUNC = re.compile(r"^func\s+((?:Test|Fuzz|Example)\w*)\s*\(", re.MULTILINE)


def go_test_funcs(root: Path, test_file: str) -> list[str]:
    """The test functions (``TestX``, ``FuzzX``, ``ExampleX``) a ``_test.go`` file declares."""
    return list(dict.fromkeys(_GO_TEST_FUNC.findall(_read(root, test_file))))


def _go(root: Path, changed: Sequence[str], tests: list[str]) -> Found:
    dirs = {str(PurePosixPath(p).parent) for p in changed if p.endswith(".go")}
    module = go_module(root)
    packages: set[str] = set()
    wanted = {module if d == "." else f"{module}/{d}" for d in dirs}
    budget = [MAX_GO_READS]

    def imports_changed(rel: str) -> bool:
        budget[0] -= 1
        return budget[0] >= 0 and bool(wanted & set(_GO_IMPORT.findall(_read(root, rel))))

    code_imports: dict[str, bool] = {}  # per folder: its non-test code imports the change
    for test in (t for t in tests if t.endswith("_test.go")):
        tdir = str(PurePosixPath(test).parent)
        if tdir in dirs or tdir in packages or (module and imports_changed(test)):
            packages.add(tdir)
        elif module:
            if tdir not in code_imports:
                code_imports[tdir] = _package_imports(root, tdir, imports_changed)
            if code_imports[tdir]:
                packages.add(tdir)  # its code imports the change: its tests reach it
    pkgs = sorted(packages, key=lambda d: (d not in dirs, d))[:MAX_TEST_FILES]
    return Found("go", packages=["./" + d if d != "." else "." for d in pkgs],
                 files=[t for t in tests if str(PurePosixPath(t).parent) in packages],
                 reason="the changed packages and their importers" if pkgs else "")


MAX_GO_READS = 2_000  # files read to find a change's importers in a large module


def _package_imports(root: Path, folder: str, imports: Callable[[str], bool]) -> bool:
    """Whether a non-test file of the Go package in ``folder`` passes ``imports``."""
    base = root / folder
    return any(imports(f.relative_to(root).as_posix()) for f in sorted(base.glob("*.go"))
               if not f.name.endswith("_test.go"))


def _crate_of(root: Path, path: str) -> tuple[str, str]:
    """The folder (``""``: the root) and package name of the crate that holds ``path``:
    the nearest ``Cargo.toml`` above it with a ``[package]`` (a workspace's root has none)."""
    parent = PurePosixPath(path).parent
    for folder in [parent, *parent.parents]:
        manifest = root / folder / "Cargo.toml"
        if not manifest.is_file():
            continue
        try:
            package = tomllib.loads(_read(root, str(folder / "Cargo.toml"))).get("package")
        except tomllib.TOMLDecodeError:
            package = None
        if isinstance(package, dict) and isinstance(package.get("name"), str):
            return ("" if str(folder) == "." else str(folder)), package["name"]
    return "", ""


_RUST_WORD = r"(?<![\w]){}(?![\w])"


def _rust(root: Path, changed: Sequence[str]) -> Found:
    """Cargo targets and filters for a change of ``.rs`` files.

    * a changed file under a crate's ``tests/``: that integration test (``--test=name``);
    * a changed module with ``#[test]`` functions: the library's (or the binaries')
      unit tests, filtered by the module's path (``price`` for ``src/price.rs``);
    * ``tests/<module>.rs`` and integration tests that name the module (``cart::price``;
      the crate, for ``lib.rs``): those targets. A name filter would apply to them too and hide their tests, so with
      one of them the library's unit tests run unfiltered.

    Each crate of a workspace is selected by ``--package``.
    """
    targets: list[str] = []
    names: list[str] = []
    texts: dict[str, str] = {}  # each integration test read once, whatever changed

    def read(rel: str) -> str:
        if rel not in texts:
            texts[rel] = _read(root, rel)
        return texts[rel]

    for path in (p for p in changed if p.endswith(".rs")):
        crate, package = _crate_of(root, path)
        rel = PurePosixPath(path).relative_to(crate) if crate else PurePosixPath(path)
        base = root / crate if crate else root
        selected: list[str] = []
        if rel.parts[:1] == ("tests",):
            selected.append(f"--test={rel.stem}" if len(rel.parts) == 2 else "--tests")
        else:
            if "#[test]" in _read(root, path):
                lib = (base / "src" / "lib.rs").is_file() and rel.parts[:2] != ("src", "bin") \
                    and rel != PurePosixPath("src/main.rs")
                selected.append("--lib" if lib else "--bins")
                parts = list(rel.with_suffix("").parts)
                parts = parts[1:] if parts[:1] == ["src"] else parts
                parts = parts[:-1] if parts[-1:] == ["mod"] else parts
                module = "::".join(x for x in parts if x not in {"lib", "main"})
                if module and rel.parts[:2] != ("src", "bin"):
                    names.append(module)
            # The name a test uses it by: its module's, the crate's for lib.rs/main.rs.
            used_as = package.replace("-", "_") if rel.stem in {"lib", "main"} else \
                rel.parent.name if rel.stem == "mod" else rel.stem
            word = re.compile(_RUST_WORD.format(re.escape(used_as))) if used_as else None
            tests_dir = base / "tests"
            for test in sorted(tests_dir.glob("*.rs")) if tests_dir.is_dir() else []:
                if test.stem == used_as or (word is not None and word.search(
                        read(str(test.relative_to(root))))):
                    selected.append(f"--test={test.stem}")
        if selected and package and crate:
            selected.insert(0, f"--package={package}")
        targets += selected[:MAX_TEST_FILES]
    targets = list(dict.fromkeys(targets))
    if any(t.startswith("--test") for t in targets):
        names = []  # a filter would hide an integration test's own names
    return Found("rust", filters=[*targets, *dict.fromkeys(names)],
                 reason="the changed modules' tests" if targets else "")


def nearest_tests(root: Path, changed: Sequence[str], *, task: str = "",
                  hint: str = "") -> Found:
    """The tests to run for a change of ``changed`` (paths in the copy at ``root``);
    ``hint`` (the changed lines) and the task tell which of a file's tests are nearest."""
    suffixes = {PurePosixPath(p).suffix for p in changed}
    named = named_tests(task, root) if task else []
    if named and named[0].split("::")[0].endswith(".rs"):
        found = _rust(root, [t.split("::")[0] for t in named])
        names = [t.rsplit("::", 1)[-1] for t in named if "::" in t]
        return Found("rust", filters=[f for f in found.filters if f.startswith("-")] + names,
                     reason="named in the request")
    if named:
        first = named[0].split("::")[0]
        language = "python" if first.endswith(".py") else \
            "go" if first.endswith(".go") else "javascript"
        return Found(language, ids=named, reason="named in the request")
    tests = _scan(root)
    if ".py" in suffixes:
        return _python(root, changed, tests)
    if suffixes & set(_JS_EXT):
        return _javascript(root, changed, tests, f"{task}\n{hint}")
    if ".go" in suffixes:
        return _go(root, changed, tests)
    if ".rs" in suffixes:
        return _rust(root, changed)
    return Found(None, reason="no test convention for these files")
