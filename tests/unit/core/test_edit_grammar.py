"""Edit grammars: literals, SEARCH chains of shown lines, heads of shown definitions, and
the complete prefix of a reply cut off mid-block."""

from __future__ import annotations

from greenpair.core.assistant.ask.context import Snippet
from greenpair.core.assistant.patch.edit_grammar import (
    MAX_SEARCH_LINES,
    complete_prefix,
    decorator_lines,
    definition_heads,
    edit_grammar,
    literal,
)

CODE = 'def shout(text):\n    """Upper-case \\"text\\"."""\n\treturn text.upper()\n'
SNIP = Snippet("util/strings.py", 3, 5, CODE, language="python")


def test_literal_escapes_quotes_backslashes_and_controls() -> None:
    assert literal('a"b\\c\n\t\r\x01é') == '"a\\"b\\\\c\\n\\t\\r\\x01é"'


def test_search_part_is_a_chain_of_the_snippets_lines() -> None:
    g = edit_grammar("search_replace", [SNIP])
    assert g is not None
    assert 'block0 ::= "util/strings.py\\n" "<<<<<<< SEARCH\\n" search0' in g
    assert 't0-0-0 ::= "def shout(text):\\n"\n' in g
    assert "c0-0-0-3 ::= t0-0-0 c0-0-1-2?\n" in g
    assert "c0-0-2-1 ::= t0-0-2\n" in g  # the last line ends the chain
    assert "search0 ::= c0-0-0-3 | c0-0-1-2 | c0-0-2-1" in g


def test_a_search_part_copies_at_most_max_search_lines() -> None:
    lines = [f"x{i} = {i}\n" for i in range(MAX_SEARCH_LINES + 6)]
    g = edit_grammar("search_replace", [Snippet("big.py", 1, len(lines), "".join(lines))])
    assert g is not None
    n = MAX_SEARCH_LINES
    assert f"c0-0-0-{n} ::= t0-0-0 c0-0-1-{n - 1}?" in g
    assert f"c0-0-0-{n + 1} " not in g
    assert f"c0-0-{len(lines) - 1}-1 ::=" in g


def test_shown_decorators_and_one_new_python_one_may_precede_a_head() -> None:
    code = "class A:\n    @property\n    @cached\n    def size(self):\n        return 1\n"
    snip = Snippet("a.py", 1, 5, code, language="python")
    assert decorator_lines([snip]) == {"a.py": ["    @cached", "    @property"]}
    g = edit_grammar("function", [snip])
    assert g is not None
    assert 'deco0 ::= "    @cached\\n" | "    @property\\n"' in g
    assert '"\\n" newdeco? deco0? deco0? deco0? deco0? head0 ' in g  # one new one in Python
    plain = edit_grammar("function", [SNIP])
    assert plain is not None
    assert '"\\n" newdeco? head0 ' in plain
    ts = edit_grammar("function", [Snippet("a.ts", 1, 1, "export function f() {}\n")])
    assert ts is not None
    assert '"\\n" head0 ' in ts  # no decorator shown, not Python: none allowed


def test_a_new_decorator_closes_on_its_line() -> None:
    g = edit_grammar("function", [SNIP])
    assert g is not None
    # ``@name``, ``@a.b``, ``@a.b(x, y="z")``; never an open ``@a.b(`` before the head.
    assert ('newdeco ::= [ \\t]* "@" dname ("." dname)* ("(" [^()\\n]* ")")? [ \\t]* "\\n"'
            in g.splitlines())
    assert "dname ::= [A-Za-z_] [A-Za-z0-9_]*" in g.splitlines()


def test_a_head_is_not_continued_into_another_name() -> None:
    g = edit_grammar("function", [SNIP])
    assert g is not None
    # ``def shout`` then ``(``, never ``def shouted(``: a name the file does not define.
    assert 'head0 headrest cline* "```\\n"' in g
    assert 'headrest ::= "\\n" | [^A-Za-z0-9_\\n] [^\\n]* "\\n"' in g.splitlines()


def test_function_blocks_start_with_a_shown_definition_head() -> None:
    other = Snippet("a.js", 1, 3, "export function total(xs) {\n  return 1;\n}\n", "javascript")
    heads = definition_heads([SNIP, other])
    assert heads == {"util/strings.py": ["def shout"], "a.js": ["export function total"]}
    g = edit_grammar("function", [SNIP, other])
    assert g is not None
    assert 'head0 ::= "def shout"' in g
    assert 'head1 ::= "export function total"' in g


def test_no_grammar_without_code_or_definitions() -> None:
    assert edit_grammar("search_replace", []) is None
    assert edit_grammar("function", [Snippet("a.txt", 1, 1, "just text\n")]) is None
    assert edit_grammar("udiff", [SNIP]) is None


def test_complete_prefix_keeps_finished_blocks() -> None:
    block = "a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n"
    assert complete_prefix("search_replace", block + "a.py\n<<<<<<< SEARCH\nx =") == block
    assert complete_prefix("search_replace", "a.py\n<<<<<<< SEARCH\nx = 1\n") == ""
    fn = "a.py\n```python\ndef f():\n    return 1\n```\n"
    assert complete_prefix("function", fn + "a.py\n```python\ndef f():\n") == fn
    assert complete_prefix("function", "a.py\n```python\ndef f():\n") == ""


def test_reply_budget_fits_a_whole_function_rewrite() -> None:
    from greenpair.core.assistant.ask.context import PackedContext
    from greenpair.core.assistant.patch.drafting import reply_budget

    long = Snippet("a.py", 1, 400, "x = 1\n" * 400)
    packed = PackedContext([SNIP, long])

    def count(text: str) -> int:
        return len(text.split())

    assert reply_budget("function", packed, count, 768) == int(1200 * 1.3) + 96
    assert reply_budget("search_replace", PackedContext([SNIP]), count, 768) == 768
    # SEARCH/REPLACE: the widest run of MAX_SEARCH_LINES lines, twice, with room to add
    wide = Snippet("b.py", 1, 40, "one two three four five six seven eight nine ten\n" * 40)
    assert reply_budget("search_replace", PackedContext([SNIP, wide]), count, 200) == \
        int(10 * MAX_SEARCH_LINES * 2.3) + 96
    assert reply_budget("function", PackedContext([SNIP]), count, 768) == 768
