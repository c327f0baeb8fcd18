"""Markdown answers to the HTML subset ``QTextBrowser`` shows.

Answers are Markdown (markdown-it-py, CommonMark, raw HTML disabled: a model's output is
never trusted as markup). Fenced code blocks are highlighted with Pygments (inline
styles, as Qt's rich text has no style sheets for classes). Citations such as
``src/app.py:12-40`` become ``greenpair-cite:`` links that open the code viewer.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote

from markdown_it import MarkdownIt
from markdown_it.token import Token
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from greenpair.ui.theme import Colours

CITE_SCHEME = "greenpair-cite"

# path:12 or path:12-40 (also with an en dash, or "L12-L40"); the path has an extension.
CITATION_RE = re.compile(
    r"(?P<path>(?:[\w.@+-]+/)*[\w.@+-]+\.[A-Za-z0-9_]+)"
    r":L?(?P<start>\d+)(?:\s?[-–]\s?L?(?P<end>\d+))?"
)


@dataclass(frozen=True)
class CitationRef:
    """A citation found in an answer (lines are 1-based, inclusive)."""

    path: str
    start_line: int
    end_line: int

    @property
    def label(self) -> str:
        """``path:start-end`` (or ``path:line``)."""
        if self.end_line != self.start_line:
            return f"{self.path}:{self.start_line}-{self.end_line}"
        return f"{self.path}:{self.start_line}"


def citation_url(ref: CitationRef) -> str:
    """The link target of a citation."""
    return f"{CITE_SCHEME}:{quote(ref.path)}?lines={ref.start_line}-{ref.end_line}"


def parse_citation_url(url: str) -> CitationRef | None:
    """The citation behind a link made by ``citation_url`` (None for other links)."""
    prefix = CITE_SCHEME + ":"
    if not url.startswith(prefix):
        return None
    body = url[len(prefix):]
    path, _, query = body.partition("?lines=")
    start, _, end = query.partition("-")
    try:
        a, b = int(start), int(end or start)
    except ValueError:
        return None
    return CitationRef(unquote(path), a, max(a, b))


def find_citations(text: str) -> list[CitationRef]:
    """Citations written in ``text``, in order, without repeats."""
    seen: dict[CitationRef, None] = {}
    for m in CITATION_RE.finditer(text):
        start = int(m["start"])
        end = int(m["end"]) if m["end"] else start
        seen.setdefault(CitationRef(m["path"], start, max(start, end)), None)
    return list(seen)


def _ref_from_match(m: re.Match[str]) -> CitationRef:
    start = int(m["start"])
    end = int(m["end"]) if m["end"] else start
    return CitationRef(m["path"], start, max(start, end))


@lru_cache(maxsize=2)
def _markdown(allow_html: bool = False) -> MarkdownIt:
    """The parser (``allow_html=False``) or the renderer of our own HTML blocks."""
    md = MarkdownIt("commonmark", {"html": allow_html, "linkify": False, "typographer": False})
    md.enable("table")
    md.enable("strikethrough")
    return md


def highlight_code(code: str, language: str, colours: Colours) -> str:
    """``code`` as a highlighted ``<pre>`` block (inline styles)."""
    try:
        lexer = get_lexer_by_name(language or "text", stripnl=False)
    except ClassNotFound:
        lexer = get_lexer_by_name("text", stripnl=False)
    formatter = HtmlFormatter(style=colours.pygments_style, noclasses=True, nowrap=True)
    body = highlight(code, lexer, formatter).rstrip("\n")
    return (
        f'<table width="100%" cellpadding="8" cellspacing="0" '
        f'style="background-color:{colours.code_bg}; margin: 4px 0px;">'
        f'<tr><td><pre style="margin:0px;">{body}</pre></td></tr></table>'
    )


def _linkify(children: list[Token], allowed: set[CitationRef] | None) -> list[Token]:
    """Turn citations in text and code spans into link tokens."""
    out: list[Token] = []
    in_link = 0
    for tok in children:
        if tok.type == "link_open":
            in_link += 1
        elif tok.type == "link_close":
            in_link -= 1
        if in_link or tok.type not in ("text", "code_inline"):
            out.append(tok)
            continue
        content = tok.content
        pos = 0
        pieces: list[Token] = []
        for m in CITATION_RE.finditer(content):
            ref = _ref_from_match(m)
            if allowed is not None and ref not in allowed:
                continue
            if m.start() > pos:
                pieces.append(_text_like(tok, content[pos:m.start()]))
            link = Token("link_open", "a", 1)
            link.attrs = {"href": citation_url(ref)}
            pieces += [link, _text_like(tok, m.group(0)), Token("link_close", "a", -1)]
            pos = m.end()
        if not pieces:
            out.append(tok)
            continue
        if pos < len(content):
            pieces.append(_text_like(tok, content[pos:]))
        out.extend(pieces)
    return out


def _text_like(tok: Token, content: str) -> Token:
    new = Token(tok.type, tok.tag, tok.nesting)
    new.content = content
    new.markup = tok.markup
    return new


def code_blocks(text: str) -> list[str]:
    """The fenced and indented code blocks of ``text``, in order (what Copy copies)."""
    return [tok.content for tok in _markdown().parse(text)
            if tok.type in ("fence", "code_block")]


def markdown_to_html(text: str, colours: Colours,
                     citations: set[CitationRef] | None = None, *,
                     copy_links: str = "") -> str:
    """Render an answer.

    Args:
        text: Markdown (possibly incomplete, while it streams).
        colours: The palette's colours.
        citations: Only these become links (None: every citation-like reference, which is
            what a streaming answer shows until the validated list arrives).
        copy_links: When set, each code block gets a "Copy" link to
            ``{copy_links}/{n}`` (n: the block's 0-based number in ``code_blocks``).

    Returns:
        HTML for ``QTextBrowser``.
    """
    md = _markdown()
    tokens = md.parse(text)
    blocks = 0
    for tok in tokens:
        if tok.type == "inline" and tok.children:
            tok.children = _linkify(tok.children, citations)
        elif tok.type in ("fence", "code_block"):
            lang = tok.info.strip().split()[0] if tok.info.strip() else ""
            tok.type = "html_block"
            tok.content = highlight_code(tok.content, lang, colours)
            if copy_links:
                tok.content = (f'<p align="right" style="margin:0px;"><a href="{copy_links}/'
                               f'{blocks}">Copy code</a></p>') + tok.content
            blocks += 1
    # The html_block tokens are ours: raw HTML from the model was disabled at parse time.
    renderer = _markdown(allow_html=True)
    return renderer.renderer.render(tokens, renderer.options, {})


def escape(text: str) -> str:
    """HTML-escape plain text (keeping line breaks)."""
    return html.escape(text).replace("\n", "<br>")
