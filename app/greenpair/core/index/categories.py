"""What a file is for: source, test, docs, example, changelog, config or other.

Retrieval ranks by intent (a request to change behaviour is about source files), and the
indexer embeds only the chunks that carry meaning for such requests. The rules are
language-neutral conventions of directory and file names.
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
    pom.xml gemfile rakefile justfile
    """
))
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
    r"(?i)(^|/)(tests|__tests__|__mocks__|spec|specs|test_?data|fixtures|e2e|"
    r"integration[-_]tests?)/"
)
# ``test/`` and ``testing/`` hold a project's tests at its top (``test/``, ``src/test/``,
# ``packages/x/test/``) but a test framework inside a package (``django/test/``).
_TOP_TEST_DIR = frozenset(_names("test testing"))
_CONTAINERS = frozenset(_names(
    "packages crates libs apps modules plugins projects components services extensions"
))
_TEST_NAME = re.compile(
    r"(?i)(^test_.*|.*_test\.[a-z]+|.*_tests\.[a-z]+|.*\.(test|spec)\.[a-z]+|conftest\.py"
    r"|.*Tests?\.(java|kt|cs|swift|scala|php)|.*_spec\.rb)$"
)
_DOC_DIR = re.compile(r"(?i)(^|/)(docs?|documentation|man|site|website)/")
_DOC_EXTENSIONS = frozenset(_names("md markdown rst txt adoc asciidoc org rdoc tex html htm"))
_EXAMPLE_DIR = re.compile(r"(?i)(^|/)(examples?|samples?|demos?|tutorials?|cookbook)/")
_TOOLING_DIR = re.compile(
    r"(?i)(^|/)(\.github|\.circleci|ci|scripts?|tools?|bench|benchmarks?|fuzz)/"
)


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
    if _TEST_NAME.match(name) or _in_test_dir(folders):
        return TEST
    if _EXAMPLE_DIR.search(path):
        return EXAMPLE
    if (_DOC_DIR.search(path) or ext in _DOC_EXTENSIONS
            or lower.startswith(("readme", "license", "contributing", "authors"))):
        return DOCS
    if lower in _CONFIG_NAMES or ext in _CONFIG_EXTENSIONS or name.startswith("."):
        return CONFIG
    if _TOOLING_DIR.search(path):
        return OTHER
    if ext in _CODE_EXTENSIONS:
        return SOURCE
    return OTHER


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
