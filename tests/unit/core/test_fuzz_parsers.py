"""Property tests: whatever a model writes, the reply parsers and the edit applier give a
result or a ``PatchError``, never another exception; whatever bytes a file holds, the
chunker covers every line of it, in every language."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from greenpair.core.assistant.patch.editing import apply_edits
from greenpair.core.assistant.patch.edits import FORMATS, parse_edits
from greenpair.core.errors import PatchError
from greenpair.core.repo.chunker import chunk_file
from greenpair.core.repo.languages import GRAMMAR_LANGUAGES
from greenpair.core.repo.walker import read_text

# Lines that steer the parsers into their branches, mixed with arbitrary text.
REPLY_LINES = [
    "<<<<<<< SEARCH", "<<<<<<<SEARCH", "=======", "=====", ">>>>>>> REPLACE", ">>>>>>>",
    "```", "```python", "```py app.py", "app.py", "src/app.py", "a/app.py", "../x.py",
    "/etc/passwd", ".env", ".git/config", "def greet(name):", "class Greeter:",
    "    return 1", "    def greet(self):", "@decorator", "--- a/app.py", "+++ b/app.py",
    "@@ -1,3 +1,3 @@", "@@", "+    return 2", "-    return 1", " def greet(name):", "",
    "\\ No newline at end of file", "\t", "\r",
]
reply_text = st.lists(
    st.one_of(st.sampled_from(REPLY_LINES), st.text(max_size=30)), max_size=25
).map("\n".join)

APP = 'def greet(name):\n    return 1\n\n\nclass Greeter:\n    def greet(self):\n        return 2\n'

LANGUAGE_SNIPPETS = {
    "python": ["def f(x):", "class A:", "    pass", "@d", "'''", "lambda: 0", "async def g():"],
    "javascript": ["function f() {", "}", "class A {", "=> {", "export default", "/*", "`"],
    "typescript": ["interface I {", "type T = {", "function f(): void {", "}", "enum E {"],
    "tsx": ["const A = () => <div>", "</div>", "function B() {", "}"],
    "go": ["package main", "func f() {", "}", "type T struct {", "func (t *T) M() {"],
    "rust": ["fn f() {", "}", "impl A {", "struct S {", "#[cfg(test)]", "mod tests {"],
    "java": ["class A {", "}", "void f() {", "interface I {", "@Override"],
    "c": ["int f(void) {", "}", "#define X", "struct s {", "};", "/*"],
    "cpp": ["namespace n {", "}", "template <class T>", "class A {", "public:", "};"],
    "c_sharp": ["class A {", "}", "void F() {", "namespace N {", "[Attr]"],
    "ruby": ["def f", "end", "class A", "module M", "do |x|"],
    "php": ["<?php", "function f() {", "}", "class A {", "?>"],
    "kotlin": ["fun f() {", "}", "class A {", "object O {", "data class D("],
    "bash": ["f() {", "}", "function g {", "if [ x ]; then", "fi", "<<EOF", "EOF"],
    "markdown": ["# Title", "## Section", "```", "```python", "- item", "> quote", "---"],
}


@given(fmt=st.sampled_from(FORMATS), reply=reply_text)
def test_any_reply_parses_or_raises_patch_error(fmt: str, reply: str) -> None:
    try:
        edits = parse_edits(fmt, reply, default_path="app.py")
    except PatchError:
        return
    assert edits
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / "app.py").write_text(APP)
        (repo / ".env").write_text("TOKEN=secret\n")
        try:
            changes = apply_edits(repo, edits)
        except PatchError:
            return
        for change in changes:  # an accepted edit stays inside the repository
            assert not change.path.startswith(("/", "../", ".git/"))
            assert change.path != ".env"


def _text_strategy(language: str) -> st.SearchStrategy[str]:
    structured = st.lists(
        st.one_of(
            st.sampled_from(LANGUAGE_SNIPPETS[language]),
            st.text(max_size=20),
            st.sampled_from(["", "\r", "\t", "\f", "\x00", "\u2028", "\ufeff", "\x1b[0m"]),
        ),
        max_size=40,
    ).map("\n".join)
    raw = st.binary(max_size=600).map(lambda b: read_text(b)[0] or b.decode("latin-1"))
    return st.one_of(structured, raw)


@given(data=st.data(), language=st.sampled_from([*sorted(GRAMMAR_LANGUAGES), "markdown", None]))
def test_chunker_covers_every_line_of_any_text(data: st.DataObject, language: str | None) -> None:
    text = data.draw(_text_strategy(language or "python"))
    chunks = chunk_file("x", text, language, max_lines=20)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not any(line.strip() for line in lines):
        assert chunks == []
        return
    covered: set[int] = set()
    for chunk in chunks:
        assert 1 <= chunk.start_line <= chunk.end_line <= len(lines), chunk
        covered.update(range(chunk.start_line, chunk.end_line + 1))
    assert covered == set(range(1, len(lines) + 1))
