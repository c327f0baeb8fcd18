"""GBNF grammars that make a model's edit well-formed by construction.

llama.cpp masks every token that would take the reply out of the grammar, so the reply
*is* a SEARCH/REPLACE block or a whole-function code block; a malformed reply cannot be
sampled, and nothing is retried for its format. Beyond the shape:

* ``search_replace``: the path is one of the shown files, and the SEARCH part is a run of
  at most ``MAX_SEARCH_LINES`` consecutive lines copied from one shown snippet of that file
  (line ``i`` with ``d`` lines left is ``c_i_d ::= t_i c_(i+1)_(d-1)?``, ``t_i`` its text),
  so it always matches the file exactly. The bound keeps a block within the reply's
  budget: the 1.5B model otherwise chose a 40-line doc comment as SEARCH and ran out of
  tokens copying it into REPLACE. The REPLACE part is free text that cannot start a line
  with a marker (``<<``, ``==``, ``>>``) or a code fence (small models close a block with a
  fence, then ramble).
* ``function``: the path is one of the shown files and the code block starts with the
  head of a definition shown (``def is_docstring``, ``    def visit``, ``export function
  f``; the name ends there), after at most ``MAX_DECORATORS`` of the decorator lines shown
  above definitions of that file and, in Python, one new decorator (``@property`` for "make it a property";
  a dotted name with at most one line of arguments, closed).
  Any number of free ``@`` lines let the model write ``@example`` lines until the loop
  guard stopped it. The rest is free text that cannot start a line with a fence.

A reply may still stop before the grammar completes (the token budget, a loop cut off by
the repetition guard, a cancel). The grammar accepts after each complete block, so
``complete_prefix`` keeps the blocks finished before the cut; with none, ``draft_patch``
says the reply was cut off.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from greenpair.core.assistant.ask.context import Snippet

MAX_BLOCKS = 3  # SEARCH/REPLACE blocks or functions in one reply
MAX_SEARCH_LINES = 24  # lines one SEARCH part may copy
MAX_DECORATORS = 4  # decorator lines before a rewritten definition's head

_DEF_HEAD = re.compile(
    r"^[ \t]*(?:export\s+)?(?:default\s+)?(?:pub\s+)?(?:async\s+)?"
    r"(?:def|class|function|fn|func)\s+\*?\s*[A-Za-z_]\w*",
    re.MULTILINE,
)

# A line of free text that does not start with two marker characters (``<<``, ``==``,
# ``>>``) nor with a code fence.
_FREE_LINES = r"""
rline ::= "\n" | [^<=>`\n] [^\n]* "\n" | [<=>] "\n" | [<=>] [^<=>\n] [^\n]* "\n" | tick
"""
_CODE_LINES = r"""
cline ::= "\n" | [^`\n] [^\n]* "\n" | tick
"""
_TICK_LINES = r"""tick ::= "`" "\n" | "`" [^`\n] [^\n]* "\n" | "``" "\n" | "``" [^`\n] [^\n]* "\n"
"""


def literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _alternatives(items: Sequence[str]) -> str:
    return " | ".join(items)


def _paths(snippets: Sequence[Snippet]) -> list[str]:
    return list(dict.fromkeys(s.path for s in snippets))


def search_replace_grammar(snippets: Sequence[Snippet]) -> str:
    """SEARCH/REPLACE blocks whose SEARCH part copies consecutive lines of a snippet."""
    rules: list[str] = []
    blocks: list[str] = []
    for p, path in enumerate(_paths(snippets)):
        starts: list[str] = []
        for s, snip in enumerate(x for x in snippets if x.path == path):
            lines = snippet_lines(snip)
            for i, line in enumerate(lines):
                rules.append(f"t{p}-{s}-{i} ::= {literal(line + chr(10))}")
                for d in range(1, min(MAX_SEARCH_LINES, len(lines) - i) + 1):
                    nxt = f" c{p}-{s}-{i + 1}-{d - 1}?" if d > 1 else ""
                    rules.append(f"c{p}-{s}-{i}-{d} ::= t{p}-{s}-{i}{nxt}")
                if line.strip():  # a SEARCH part starts on a line with text
                    starts.append(f"c{p}-{s}-{i}-{min(MAX_SEARCH_LINES, len(lines) - i)}")
        if not starts:
            continue
        rules.append(f"search{p} ::= {_alternatives(starts)}")
        rules.append(
            f'block{p} ::= {literal(path + chr(10))} "<<<<<<< SEARCH\\n" search{p} '
            f'"=======\\n" rline* ">>>>>>> REPLACE\\n"'
        )
        blocks.append(f"block{p}")
    block = f"block ::= {_alternatives(blocks)}"
    root = "root ::= block" + " block?" * (MAX_BLOCKS - 1)
    return "\n".join([root, block, *rules]) + _FREE_LINES + _TICK_LINES


def snippet_lines(snip: Snippet) -> list[str]:
    """The snippet's lines without their line ends."""
    return [ln.removesuffix("\r") for ln in snip.text.rstrip("\r\n").split("\n")]


def decorator_lines(snippets: Sequence[Snippet]) -> dict[str, list[str]]:
    """Per path, the decorator lines shown directly above definitions (``@property``)."""
    found: dict[str, list[str]] = {}
    for snip in snippets:
        lines = snippet_lines(snip)
        kept = found.setdefault(snip.path, [])
        for h, line in enumerate(lines):
            if not _DEF_HEAD.match(line):
                continue
            above = h - 1
            while above >= 0 and lines[above].lstrip().startswith("@"):
                if lines[above] not in kept:
                    kept.append(lines[above])
                above -= 1
    return found


def definition_heads(snippets: Sequence[Snippet]) -> dict[str, list[str]]:
    """Per path, the heads (indentation, keywords and name) of the definitions shown."""
    heads: dict[str, list[str]] = {}
    for snip in snippets:
        found = heads.setdefault(snip.path, [])
        for m in _DEF_HEAD.finditer(snip.text):
            head = m.group(0)
            if head not in found:
                found.append(head)
    return heads


def function_grammar(snippets: Sequence[Snippet]) -> str:
    """Code blocks under a shown path that rewrite a definition shown there."""
    rules: list[str] = []
    blocks: list[str] = []
    decorators = decorator_lines(snippets)
    for p, (path, heads) in enumerate(definition_heads(snippets).items()):
        if not heads:
            continue
        rules.append(f"head{p} ::= {_alternatives([literal(h) for h in heads])}")
        decos = " newdeco?" if path.endswith((".py", ".pyi")) else ""
        if decorators.get(path):
            rules.append(f"deco{p} ::= "
                         + _alternatives([literal(d + chr(10)) for d in decorators[path]]))
            decos += f" deco{p}?" * MAX_DECORATORS
        rules.append(
            f'fblock{p} ::= {literal(path + chr(10))} "```" [a-z]* "\\n"{decos} head{p} '
            f'headrest cline* "```\\n"'
        )
        blocks.append(f"fblock{p}")
    # A new decorator is a name with at most one line of arguments: a free line let the
    # model open one (``@pytest.mark.parametrize(``) and go on with the ``def``.
    rules.append('newdeco ::= [ \\t]* "@" dname ("." dname)* ("(" [^()\\n]* ")")? [ \\t]* "\\n"')
    rules.append("dname ::= [A-Za-z_] [A-Za-z0-9_]*")
    # The name ends where the head does: ``def __init__`` may not go on as ``__init__rel``,
    # a definition that is not in the file.
    rules.append('headrest ::= "\\n" | [^A-Za-z0-9_\\n] [^\\n]* "\\n"')
    block = f"fblock ::= {_alternatives(blocks)}"
    root = "root ::= fblock" + " fblock?" * (MAX_BLOCKS - 1)
    return "\n".join([root, block, *rules]) + _CODE_LINES + _TICK_LINES


_BLOCK_END = {"search_replace": ">>>>>>> REPLACE\n", "function": "```\n"}


def complete_prefix(fmt: str, reply: str) -> str:
    """The reply up to the end of its last complete block ("" when none is complete).

    Only meaningful for a reply sampled under ``edit_grammar(fmt, ...)``, where a block's
    end marker can only stand at the end of a block.
    """
    end = _BLOCK_END.get(fmt)
    if end is None:
        return ""
    if fmt == "function":  # a block opens and closes with a fence: count them
        fences = [i for i, line in enumerate(reply.splitlines(keepends=True))
                  if line.startswith("```")]
        lines = reply.splitlines(keepends=True)
        closing = [i for n, i in enumerate(fences) if n % 2 == 1 and lines[i] == end]
        return "".join(lines[:closing[-1] + 1]) if closing else ""
    cut = reply.rfind("\n" + end)
    return reply[:cut + 1 + len(end)] if cut >= 0 else ""


def edit_grammar(fmt: str, snippets: Sequence[Snippet]) -> str | None:
    """The grammar for edit format ``fmt`` and the code shown (None: unconstrained)."""
    if not snippets:
        return None
    if fmt == "search_replace":
        return search_replace_grammar(snippets)
    if fmt == "function" and any(definition_heads(snippets).values()):
        return function_grammar(snippets)
    return None
