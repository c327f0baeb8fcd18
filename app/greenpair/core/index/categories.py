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
CHANGELOG_RE = re.compile(r"(?i)(^|/)(changelogs?/|changelog[^/]*$|changes[^/]*$|news[^/]*$|history\.[a-z]+$|release[-_ ]?notes[^/]*$)")
_TEST_DIR = re.compile(r"(?i)(^|/)(tests?|testing|__tests__|spec|specs|test_?data|fixtures|e2e)/")
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


def category(path: str) -> str:
    """The category of a repository-relative path (POSIX separators)."""
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    ext = lower.rsplit(".", 1)[-1] if "." in lower else ""
    if CHANGELOG_RE.search(path):
        return CHANGELOG
    if _TEST_NAME.match(name) or _TEST_DIR.search(path):
        return TEST
    if _EXAMPLE_DIR.search(path):
        return EXAMPLE
    if _DOC_DIR.search(path) or ext in _DOC_EXTENSIONS or lower.startswith(("readme", "license", "contributing", "authors")):
        return DOCS
    if lower in _CONFIG_NAMES or ext in _CONFIG_EXTENSIONS or name.startswith("."):
        return CONFIG
    if _TOOLING_DIR.search(path):
        return OTHER
    if ext in _CODE_EXTENSIONS:
        return SOURCE
    return OTHER


def is_code(language: str | None) -> bool:
    """Whether a chunk's language is a programming language."""
    return language in CODE_LANGUAGES
