"""Language detection and the tree-sitter grammars (``repo.languages``)."""

from __future__ import annotations

import threading

import pytest

from greenpair.core.repo.languages import (
    GRAMMAR_LANGUAGES,
    detect_language,
    get_parser,
    parse_errors,
)


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("src/a.py", None, "python"),
        ("a.pyi", None, "python"),
        ("web/App.jsx", None, "javascript"),
        ("x.mjs", None, "javascript"),
        ("x.ts", None, "typescript"),
        ("x.tsx", None, "tsx"),
        ("main.go", None, "go"),
        ("lib.rs", None, "rust"),
        ("A.java", None, "java"),
        ("a.c", None, "c"),
        ("a.h", None, "c"),
        ("a.hpp", None, "cpp"),
        ("a.cc", None, "cpp"),
        ("A.cs", None, "c_sharp"),
        ("a.rb", None, "ruby"),
        ("Gemfile", None, "ruby"),
        ("a.php", None, "php"),
        ("a.kt", None, "kotlin"),
        ("build.kts", None, "kotlin"),
        ("run.sh", None, "bash"),
        ("README.md", None, "markdown"),
        ("pyproject.toml", None, "toml"),
        (".github/ci.yml", None, "yaml"),
        ("package.json", None, "json"),
        ("notes.txt", None, "text"),
        ("Makefile", None, "make"),
        ("Dockerfile", None, "dockerfile"),
        ("LICENSE", None, "text"),
        ("bin/tool", "#!/usr/bin/env python3\nprint(1)\n", "python"),
        ("bin/deploy", "#!/bin/bash\nset -e\n", "bash"),
        ("bin/serve", "#!/usr/bin/env -S node --experimental\n", "javascript"),
        ("bin/blob", "just words\n", None),
        ("inc/cart.h", "#pragma once\nstruct cart { int n; };\n", "c"),
        ("inc/cart.h", "#pragma once\nnamespace shop {\nclass Cart {\n};\n}\n", "cpp"),
        ("inc/vec.h", "#include <vector>\nusing V = std::vector<int>;\n", "cpp"),
        ("data.unknownext", None, None),
        (".gitignore", None, None),
    ],
)
def test_detect_language(path: str, text: str | None, expected: str | None) -> None:
    assert detect_language(path, text) == expected


def test_parse_errors_counts_error_and_missing_nodes() -> None:
    assert parse_errors("python", "def f(:\n    return 1\n") == 1
    assert parse_errors("python", "def f():\n    return 1\n") == 0
    assert parse_errors("c", "int main() { return 0 }") == 1  # a MISSING ";"
    assert parse_errors("javascript", "function f( { ] ) {") >= 2
    assert parse_errors("markdown", "# title") is None  # no grammar
    assert parse_errors("nope", "x") is None


def test_every_grammar_loads_and_parses() -> None:
    for language in sorted(GRAMMAR_LANGUAGES):
        parser = get_parser(language)
        assert parser is not None, language
        assert parser.parse(b"\n").root_node is not None


def test_parsers_are_per_thread() -> None:
    main = get_parser("python")
    assert get_parser("python") is main
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(get_parser("python")))
    thread.start()
    thread.join()
    assert len(other) == 1
    assert other[0] is not None
    assert other[0] is not main
    assert get_parser("cobol") is None
