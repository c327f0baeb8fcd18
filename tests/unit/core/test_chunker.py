"""How the chunker cuts, merges and covers files (real tree-sitter)."""

from __future__ import annotations

import itertools
import textwrap

import pytest

from greenpair.core.repo.chunker import chunk_file
from greenpair.core.types import Chunk
from tests.conftest import SAMPLE_FILES
from tests.unit.core.test_chunker_languages import SAMPLES

CART = textwrap.dedent(SAMPLE_FILES["src/shop/cart.py"]).lstrip("\n")


def _rows(chunks: list[Chunk]) -> list[tuple[int, int, str, str | None, str | None]]:
    return [(c.start_line, c.end_line, c.kind, c.symbol, c.parent) for c in chunks]


def _covered(chunks: list[Chunk]) -> set[int]:
    return {n for c in chunks for n in range(c.start_line, c.end_line + 1)}


def _line_count(text: str) -> int:
    return len(text.split("\n")) - (1 if text.endswith("\n") else 0)


def test_python_cart() -> None:
    chunks = chunk_file("src/shop/cart.py", CART, "python")
    assert _rows(chunks) == [
        (1, 5, "module", None, None),  # docstring and TAX_RATE
        (6, 8, "class", "Cart", None),  # the header and docstring, not the methods
        (9, 11, "method", "__init__", "Cart"),
        (12, 17, "method", "add_item", "Cart"),
        (18, 21, "method", "total_price", "Cart"),
    ]
    add = chunks[3]
    assert add.signature == "def add_item(self, name, price, quantity=1):"
    assert add.text.startswith("    def add_item(self, name, price, quantity=1):\n")
    assert add.path == "src/shop/cart.py"
    assert add.language == "python"
    assert "def add_item" not in chunks[2].text  # no body is stored twice


PY_CONTEXT = '''\
import functools

import os


# Caches results.
@functools.cache
@staticmethod
def cached(x):
    return x * 2


class Base:
    """Base."""


class Shop(Base):
    kind = "shop"

    @property
    def name(self):
        return self._name

    def short(self): return 1

    class Meta:
        ordering = ["name"]

        def describe(self):
            return "meta"


def one(): return 1
def two(): return 2
VALUE = one() + two()

if os.environ.get("X"):
    def maybe(a, b):
        total = a + b
        return total
'''


def test_python_decorators_comments_nesting_and_merging() -> None:
    chunks = chunk_file("shop.py", PY_CONTEXT, "python")
    assert _rows(chunks) == [
        (1, 5, "module", None, None),
        (6, 12, "function", "cached", None),  # comment and decorators included
        (13, 16, "class", "Base", None),
        (17, 19, "class", "Shop", None),  # header and fields
        (20, 25, "method", "name", "Shop"),  # the one-liner `short` joins it
        (26, 28, "class", "Meta", "Shop"),
        (29, 30, "method", "describe", "Meta"),
        (31, 37, "module", None, None),  # one-liners merge with the constants
        (38, 40, "function", "maybe", None),  # found inside an if-block
    ]
    by_symbol = {(c.kind, c.symbol): c for c in chunks}
    assert by_symbol["function", "cached"].text.startswith("# Caches results.\n@functools")
    assert by_symbol["method", "describe"].parent == "Meta"
    assert by_symbol["class", "Meta"].parent == "Shop"
    assert by_symbol["method", "name"].text.lstrip().startswith("@property")
    merged = next(c for c in chunks if "def one()" in c.text)
    assert merged.kind == "module"
    assert "def two()" in merged.text
    assert "VALUE" in merged.text
    assert _covered(chunks) == set(range(1, _line_count(PY_CONTEXT) + 1))


LONG_FUNCTION = "class Cart:\n    def total(self, items):\n" + "".join(
    f"        subtotal_{i} = items[{i}] * {i}\n" + ("\n" if i % 7 == 6 else "")
    for i in range(40)
) + "        return subtotal_0\n"


@pytest.mark.parametrize("max_lines", [5, 10, 17, 30])
def test_long_definitions_are_cut_with_context(max_lines: int) -> None:
    chunks = chunk_file("cart.py", LONG_FUNCTION, "python", max_lines=max_lines)
    pieces = [c for c in chunks if c.symbol == "total"]
    assert len(pieces) >= 2
    assert {(c.kind, c.parent, c.signature) for c in pieces} == {
        ("method", "Cart", "def total(self, items):")
    }
    lines = LONG_FUNCTION.split("\n")
    for index, piece in enumerate(pieces):
        assert piece.end_line - piece.start_line + 1 <= max_lines
        body = "\n".join(lines[piece.start_line - 1 : piece.end_line])
        if index == 0:
            assert piece.text == body
        else:  # later pieces name what they belong to, and keep real line numbers
            assert piece.text == f"# in Cart.total: def total(self, items):\n{body}"
    assert pieces[-1].end_line == _line_count(LONG_FUNCTION)
    assert _covered(chunks) == set(range(1, _line_count(LONG_FUNCTION) + 1))
    starts = [p.start_line for p in pieces]
    assert starts == sorted(set(starts))


def test_cuts_prefer_statement_boundaries() -> None:
    # Blank lines separate groups of 7 statements: with room for 8 lines, pieces end there.
    chunks = chunk_file("cart.py", LONG_FUNCTION, "python", max_lines=9)
    lines = LONG_FUNCTION.split("\n")
    for piece in [c for c in chunks if c.symbol == "total"][1:]:
        assert lines[piece.start_line - 2].strip() == ""  # a cut right after a blank line


def test_long_class_without_methods_is_cut_with_its_header() -> None:
    source = "enum Color {\n" + "".join(f"    C{i},\n" for i in range(50)) + "}\n"
    chunks = chunk_file("Color.java", source, "java", max_lines=20)
    assert [c.symbol for c in chunks] == ["Color"] * 3
    assert chunks[1].text.startswith("// in Color: enum Color\n")
    assert _covered(chunks) == set(range(1, 53))


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("max_lines", [3, 4, 7])
def test_small_limits_keep_every_line_once(name: str, max_lines: int) -> None:
    from greenpair.core.repo.languages import detect_language

    source = SAMPLES[name][1:]
    chunks = chunk_file(name, source, detect_language(name), max_lines=max_lines)
    seen: list[int] = []
    for chunk in chunks:
        assert chunk.end_line - chunk.start_line + 1 <= max_lines
        seen.extend(range(chunk.start_line, chunk.end_line + 1))
    assert seen == list(range(1, _line_count(source) + 1))


def test_wrapped_signatures_are_joined() -> None:
    source = (
        "class Patch:\n    @overload\n    def setattr(\n        self,\n        target: str,\n"
        "        value: object = None,\n    ) -> None:\n        pass\n"
    )
    chunks = chunk_file("p.py", source, "python")
    assert chunks[-1].symbol == "setattr"
    assert chunks[-1].signature == "def setattr(self, target: str, value: object = None) -> None:"


def test_crlf_and_missing_final_newline() -> None:
    source = "import os\r\n\r\ndef f():\r\n    return os.sep\r\n\r\n\r\nclass A:\r\n    x = 1"
    chunks = chunk_file("a.py", source, "python")
    assert _rows(chunks) == [
        (1, 2, "module", None, None),
        (3, 6, "function", "f", None),
        (7, 8, "class", "A", None),
    ]
    assert chunks[1].signature == "def f():"


def test_broken_code_still_covers_every_line() -> None:
    source = "def ok():\n    return 1\n\ndef broken(:\n    pass\n\nclass C:\n    def m(self):\n        return (\n"
    chunks = chunk_file("b.py", source, "python")
    assert ("function", "ok") in {(c.kind, c.symbol) for c in chunks}
    assert _covered(chunks) == set(range(1, _line_count(source) + 1))


def test_blank_files_have_no_chunks() -> None:
    assert chunk_file("a.py", "", "python") == []
    assert chunk_file("a.md", "\n\n  \n", "markdown") == []
    assert chunk_file("a.txt", "", None) == []


README = """\
# Shop

A tiny shop.

## Install

```bash
# not a heading: inside a fence
pip install shop
```

## Usage
### Carts

Create a cart.

### Discounts

Codes: HALF, TENOFF.
"""


def test_markdown_sections() -> None:
    chunks = chunk_file("README.md", README, "markdown", max_lines=12)
    assert _rows(chunks) == [
        (1, 4, "section", "Shop", None),
        (5, 11, "section", "Install", "Shop"),
        (12, 16, "section", "Carts", "Usage"),  # a bare heading joins its first subsection
        (17, 19, "section", "Discounts", "Usage"),
    ]
    assert "# not a heading" in chunks[1].text


def test_short_sections_join_up_to_half_a_window() -> None:
    assert _rows(chunk_file("README.md", README, "markdown")) == [(1, 19, "section", "Shop", None)]
    chapters = "".join(
        f"# Chapter {c}\n\n" + "".join(f"## Part {c}.{p}\n\nText.\n\n" for p in range(4))
        for c in range(2)
    )
    chunks = chunk_file("book.md", chapters, "markdown", max_lines=24)  # joins up to 12 lines
    assert _rows(chunks) == [
        (1, 10, "section", "Part 0.0", "Chapter 0"),  # a bare heading joins what follows
        (11, 18, "section", "Part 0.2", "Chapter 0"),
        (19, 28, "section", "Part 1.0", "Chapter 1"),  # a higher heading starts afresh
        (29, 36, "section", "Part 1.2", "Chapter 1"),
    ]


SETEXT = "Title\n=====\n\nIntro.\n\nInstall\n-------\n\nRun it.\n"
RST = """\
=======
 Guide
=======

Intro text.

Fixtures
========

How fixtures work.

Scopes
------

Session and module.
"""
TOML = '[project]\nname = "x"\n\n[tool.pytest.ini_options]\naddopts = "-ra"\n'
YAML = "name: ci\non:\n  push: {}\njobs:\n  test:\n    runs-on: ubuntu\n"


@pytest.mark.parametrize(
    ("name", "text", "language", "expected"),
    [
        ("a.md", SETEXT, "markdown", [(1, 5, "section", "Title", None),
                                      (6, 9, "section", "Install", "Title")]),
        ("guide.rst", RST, "rst", [(1, 6, "section", "Guide", None),
                                   (7, 11, "section", "Fixtures", "Guide"),
                                   (12, 15, "section", "Scopes", "Fixtures")]),
        ("pyproject.toml", TOML, "toml", [(1, 3, "section", "project", None),
                                          (4, 5, "section", "tool.pytest.ini_options", None)]),
        ("ci.yml", YAML, "yaml", [(1, 3, "section", "name", None),  # name + on: 3 lines
                                  (4, 6, "section", "jobs", None)]),
    ],
)
def test_document_headings(
    name: str, text: str, language: str, expected: list[tuple[object, ...]]
) -> None:
    # With max_lines=6, sections join only up to 3 lines.
    assert _rows(chunk_file(name, text, language, max_lines=6)) == expected


def test_long_markdown_section_is_cut_and_keeps_its_heading() -> None:
    text = "# Intro\n\n" + "\n".join(f"Line {i} of the intro." for i in range(100)) + "\n"
    chunks = chunk_file("doc.md", text, "markdown", max_lines=30)
    assert len(chunks) == 4
    assert all(c.symbol == "Intro" for c in chunks)
    assert chunks[1].text.startswith("(in Intro)\nLine ")
    assert _covered(chunks) == set(range(1, 103))


def test_text_without_grammar_gets_line_windows() -> None:
    paragraphs = ["\n".join(f"para {p} line {i}" for i in range(9)) for p in range(15)]
    text = "\n\n".join(paragraphs) + "\n"  # 149 lines, a blank line every 10
    chunks = chunk_file("notes.txt", text, "text")
    assert all(c.kind == "text" and c.symbol is None for c in chunks)
    assert all(c.end_line - c.start_line + 1 <= 60 for c in chunks)
    assert _covered(chunks) == set(range(1, 150))
    for before, after in itertools.pairwise(chunks):
        assert after.start_line == before.end_line + 1  # cut at blank lines: no overlap
        assert text.split("\n")[after.start_line - 2] == ""


def test_windows_overlap_when_no_blank_line_helps() -> None:
    text = "".join(f"key_{i} = {i}\n" for i in range(130))
    chunks = chunk_file("settings.ini", text, "ini", max_lines=50)
    assert chunks[0].start_line == 1
    assert chunks[-1].end_line == 130
    for before, after in itertools.pairwise(chunks):
        assert before.end_line - after.start_line + 1 == 4  # a few lines of overlap
    assert _covered(chunks) == set(range(1, 131))


def test_unknown_language_is_windowed() -> None:
    chunks = chunk_file("script.lua", "print('a')\nprint('b')\n", None)
    assert _rows(chunks) == [(1, 2, "text", None, None)]
    assert chunks[0].language == "text"
