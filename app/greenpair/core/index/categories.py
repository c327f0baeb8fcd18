"""What a file is for: source, test, docs, example, changelog, config or other.

Retrieval ranks by intent (a request to change behaviour is about source files), and the
indexer embeds only the chunks that carry meaning for such requests. The rules are the
conventions of each ecosystem's directory and file names (Maven/Gradle source sets, .NET
test projects, JS/TS test and benchmark files, tool configs at a package's top...); a
code file is source only when none of them says otherwise.
"""

from __future__ import annotations

import re


def _names(text: str) -> list[str]:
    return text.split()


SOURCE, TEST, DOCS, EXAMPLE, CHANGELOG, CONFIG, OTHER = (
    "source", "test", "docs", "example", "changelog", "config", "other",
)

CODE_LANGUAGES = frozenset(_names(
    """python javascript typescript tsx go rust java c cpp c_sharp ruby php kotlin bash
    swift scala lua r perl dart elixir erlang haskell ocaml clojure zig julia objc
    """
))
_CODE_EXTENSIONS = frozenset(_names(
    """py pyi js jsx mjs cjs ts tsx go rs java c h cc cpp cxx hpp hh hxx cs rb php kt kts
    sh bash zsh swift scala lua r pl pm dart ex exs erl hs ml mli clj zig jl m mm vue svelte
    """
))
_CONFIG_EXTENSIONS = frozenset(
    _names("toml yaml yml json ini cfg conf lock xml properties gradle editorconfig")
)
_CONFIG_NAMES = frozenset(_names(
    """makefile dockerfile setup.py noxfile.py tox.ini setup.cfg pyproject.toml
    package.json tsconfig.json cargo.toml go.mod go.sum cmakelists.txt build.gradle
    pom.xml gemfile rakefile justfile build.gradle.kts settings.gradle settings.gradle.kts
    package.swift build.zig mix.exs gradlew
    """
))
# Tool configuration written as a script (``eslint.config.js``, ``rollup.dts.config.mjs``,
# ``vite.config.ts``, ``jest.config.cjs``, ``webpack.prod.js``, ``gulpfile.js``): config
# where a package keeps its tooling, not inside its source folders.
_TOOL_CONFIG_NAME = re.compile(
    r"(?i)^(?:[\w-]+\.)+config\.[cm]?[jt]s$|^(?:gulpfile|gruntfile|jakefile)\.[cm]?[jt]s$"
    r"|^karma\.conf\.[cm]?[jt]s$|^(?:webpack|rollup)(?:\.[\w-]+)+\.[cm]?[jt]s$"
)
_SOURCE_FOLDERS = frozenset(_names("src lib app source sources"))
_PROSE_EXTENSIONS = frozenset(_names("md markdown rst txt adoc asciidoc org rdoc"))
# Names of a release history; a changelog only where one is kept (see ``_is_changelog``).
_CHANGELOG_NAME = re.compile(
    r"(?i)^(change[-_ ]?logs?|changes|history|news|release[-_ ]?notes|releases|whatsnew)"
    r"([-_.][\w.-]*)?$"
)
# Folders of changelog entries (towncrier fragments, per-release notes).
_CHANGELOG_DIR = re.compile(
    r"(?i)(^|/)(change[-_]?logs?(\.d)?|changes|newsfragments|news|release[-_]?notes"
    r"|whatsnew)/"
)
_DOC_DIR_NAMES = frozenset(_names("doc docs documentation man site website"))
# Folders of tests wherever they are.
_TEST_DIR = re.compile(
    r"(?i)(^|/)(tests|__tests__|__mocks__|__fixtures__|__snapshots__|spec|specs|test_?data"
    r"|fixtures|e2e|integration[-_]tests?|unit[-_]tests?|unittests|cypress)/"
)
# Maven/Gradle/Kotlin source sets of tests directly under a module's ``src/``:
# ``src/test/java``, ``src/it/``, ``src/integrationTest/``, ``src/testFixtures/``,
# ``src/androidTest/``, ``src/commonTest/`` (case matters: ``src/Contest`` is not one).
_TEST_SOURCE_SET = re.compile(r"^(?:test|tests|it|testFixtures|[a-z][A-Za-z0-9]*Tests?)$")
# .NET test projects: ``Shop.Tests/``, ``Shop.UnitTests/``, ``Shop.IntegrationTests/``.
_DOTNET_TEST_PROJECT = re.compile(
    r"(?i)^[\w-]+(?:\.[\w-]+)*\.(?:unit|integration|functional|acceptance|e2e)?(?:tests?|specs?)"
    r"(?:\.[\w.-]+)?$"
)
# ``test/`` and ``testing/`` hold a project's tests at its top (``test/``, ``src/test/``,
# ``packages/x/test/``) but a test framework inside a package (``django/test/``).
_TOP_TEST_DIR = frozenset(_names("test testing"))
_CONTAINERS = frozenset(_names(
    "packages crates libs apps modules plugins projects components services extensions"
))
_TEST_NAME = re.compile(
    r"(?i)(^test_.*|.*_(?:unit)?tests?\.[a-z]+|.*\.(test|spec|e2e-spec|test-d)\.[a-z]+"
    r"|conftest\.py|.*_spec\.(rb|lua|exs?))$"
)
# JVM, .NET, Swift and PHP test classes, by case: ``CartTest.java``, ``CartTests.cs``,
# ``CartTestCase.php``, Maven failsafe's ``CartIT.java``, Spock's ``CartSpec.groovy``,
# ScalaTest's ``CartSuite.scala``. ``Latest.java``, ``Contest.kt`` and JavaPoet's
# ``TypeSpec.java`` are not tests.
_CLASS_TEST_NAME = re.compile(
    r"^(?:\w*[a-z0-9_])?(?:Tests?|TestCase)\.(?:java|kt|kts|groovy|scala|cs|fs|vb|swift|php)$"
    r"|^\w*[a-z0-9_](?:IT|ITCase)\.(?:java|kt|groovy|scala)$"
    r"|^\w*[a-z0-9_](?:Spec|Suite)\.(?:groovy|scala)$"
)
# Benchmark code: ``__benchmarks__/``, Rust ``benches/``, JMH ``src/jmh/``, .NET
# ``Shop.Benchmarks/``; ``parse.bench.ts``; a benchmark module at the top (``bench.js``).
_BENCH_DIR = re.compile(
    r"(?i)(^|/)(?:bench|benches|benchmarks?|__benchmarks__|jmh|[\w-]+(?:\.[\w-]+)*\.benchmarks?"
    r"|[\w-]+(?:\.[\w-]+)*\.perf(?:ormance)?tests?)/"
)
_BENCH_NAME = re.compile(r"(?i)^[\w.-]+\.(?:bench|benchmark|perf)\.[cm]?[jt]sx?$")
_TOP_BENCH_NAME = re.compile(r"(?i)^(?:bench|benchmarks?)(?:[-_.][\w-]+)?\.[a-z]+$")
# Storybook stories show a component in use: examples.
_STORY_NAME = re.compile(r"(?i)^[\w.-]+\.stories\.[cm]?[jt]sx?$|^[\w.-]+\.stories\.mdx$")
_DOC_DIR = re.compile(r"(?i)(^|/)(docs?|documentation|man|site|website)/")
_DOC_EXTENSIONS = frozenset(_names("md markdown rst txt adoc asciidoc org rdoc tex html htm"))
_EXAMPLE_DIR = re.compile(
    r"(?i)(^|/)(examples?|samples?|demos?|tutorials?|cookbook|stories)/"
)
# Tooling of the repository (CI, scripts, fuzzing) and any hidden folder (``.storybook/``,
# ``.husky/``, ``.devcontainer/``).
_TOOLING_DIR = re.compile(r"(?i)(^|/)(\.[^/]+|ci|scripts?|tools?|fuzz)/")


def _is_changelog(folders: list[str], name: str, ext: str) -> bool:
    """A release history: prose named like one (``CHANGELOG.md``, ``HISTORY.rst``,
    ``NEWS``) at the top or in a docs folder, or an entry in a changelog folder.
    ``src/app/history.py`` and ``lib/changes.py`` are code, not changelogs."""
    if ext in _CODE_EXTENSIONS:
        return False
    if _CHANGELOG_DIR.search("/".join(folders) + "/"):  # fragments: 123.bugfix.rst
        return True
    if ext and ext not in _PROSE_EXTENSIONS:
        return False
    in_docs = 0 < len(folders) <= 2 and folders[0].lower() in _DOC_DIR_NAMES
    return (not folders or in_docs) and _CHANGELOG_NAME.match(name) is not None


def _in_test_dir(folders: list[str]) -> bool:
    path = "/".join(folders) + "/"
    if _TEST_DIR.search(path):
        return True
    for i, folder in enumerate(folders):
        if i and folders[i - 1] == "src" and _TEST_SOURCE_SET.match(folder):
            return True
        if "." in folder.strip(".") and _DOTNET_TEST_PROJECT.match(folder):
            return True
        if folder.lower() in _TOP_TEST_DIR:
            above = [f.lower() for f in folders[:i]]
            if not above or above == ["src"] or (len(above) == 2 and above[0] in _CONTAINERS):
                return True
    return False


def category(path: str) -> str:
    """The category of a repository-relative path (POSIX separators)."""
    *folders, name = path.split("/")
    lower = name.lower()
    ext = lower.rsplit(".", 1)[-1] if "." in lower else ""
    if _is_changelog(folders, name, ext):
        return CHANGELOG
    if _TEST_NAME.match(name) or _CLASS_TEST_NAME.match(name) or _in_test_dir(folders):
        return TEST
    if _EXAMPLE_DIR.search(path) or _STORY_NAME.match(name):
        return EXAMPLE
    if (_DOC_DIR.search(path) or ext in _DOC_EXTENSIONS
            or lower.startswith(("readme", "license", "contributing", "authors"))):
        return DOCS
    if lower in _CONFIG_NAMES or ext in _CONFIG_EXTENSIONS or name.startswith("."):
        return CONFIG
    if _TOOL_CONFIG_NAME.match(name) and not _SOURCE_FOLDERS.intersection(
            f.lower() for f in folders):
        return CONFIG
    if _is_benchmark(folders, name) or _TOOLING_DIR.search(path):
        return OTHER
    if ext in _CODE_EXTENSIONS:
        return SOURCE
    return OTHER


def _is_benchmark(folders: list[str], name: str) -> bool:
    """Benchmark code: in a benchmark folder, named ``*.bench.ts``, or a benchmark module
    at the top of the repository (``bench.py``, ``benchmark.js``)."""
    if _BENCH_NAME.match(name) or (not folders and _TOP_BENCH_NAME.match(name)):
        return True
    return _BENCH_DIR.search("/".join(folders) + "/") is not None


# A heading that names a release: markdown ``## 1.2.3`` / ``# [v2.0.0] (2024-01-31)``, an
# rst title ``pytest 8.0.0 (2024-01-27)`` over a ``====`` line, or a line that starts
# with a full version and a date or bracket (``v1.9.0 - 2023-10-01``, ``[1.4.0] - ...``).
_VERSION = r"\[?(?:version[ \t]+|v)?\d+\.\d+(?:\.\d+)?(?:[-.]?(?:a|b|rc|alpha|beta|dev|post)\d*)?\]?"
_VERSION_HEADING = re.compile(
    rf"(?im)^#{{1,4}}[ \t]+(?:[\w.-]+[ \t]+)?{_VERSION}(?:[ \t]|$)"
    rf"|^(?:[\w.-]+[ \t]+)?{_VERSION}[^\n]{{0,40}}\n[=~^*-]{{3,}}[ \t]*$"
    r"|^\[?v?\d+\.\d+\.\d+\]?[ \t]+(?:[-(\u2013\u2014]|\d{4}-\d\d)"
)
CHANGELOG_HEADINGS = 2  # release headings that make prose a release history


def looks_like_changelog(text: str) -> bool:
    """Whether prose is a release history by its content: at least
    ``CHANGELOG_HEADINGS`` headings that name a version (``## 1.2.3``, ``v2.0.0
    (2024-01-31)``), in the first part of the file where the latest releases are."""
    head = text[:20_000]
    return len(_VERSION_HEADING.findall(head)) >= CHANGELOG_HEADINGS


def category_of(path: str, text: str | None) -> str:
    """The category of ``path`` given its content: prose at the top of the repository or
    in a docs folder is a changelog when it is one (``RELEASES-2.md``, ``docs/past.rst``
    with version headings), whatever its name; the rest as ``category``."""
    found = category(path)
    if text is None or found not in (DOCS, OTHER):
        return found
    *folders, name = path.split("/")
    ext = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if ext and ext not in _PROSE_EXTENSIONS:
        return found
    in_docs = 0 < len(folders) <= 2 and folders[0].lower() in _DOC_DIR_NAMES
    if (not folders or in_docs) and looks_like_changelog(text):
        return CHANGELOG
    return found


def is_code(language: str | None) -> bool:
    """Whether a chunk's language is a programming language."""
    return language in CODE_LANGUAGES
