"""Context packing: retrieved chunks → numbered snippets that fit the model's token budget.

Snippets are taken most relevant first, overlapping or adjacent chunks of one file are
merged, and a snippet that does not fit whole is cut at a line boundary (never mid-line).
Each snippet is shown to the model under a ``path:start-end`` header; the headers are what
citations are later checked against.

Lines are re-read from the working tree (the index may be a little behind the editor);
secret files and paths that escape the repository are never read into a prompt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from greenpair.core.types import ScoredChunk

TokenCounter = Callable[[str], int]

MERGE_GAP_LINES = 2  # chunks of one file this close together become one snippet
MIN_CUT_TOKENS = 48  # do not bother showing a cut snippet smaller than this


@dataclass(frozen=True)
class Snippet:
    """Lines ``start_line``..``end_line`` (1-based, inclusive) of ``path`` shown to the model."""

    path: str
    start_line: int
    end_line: int
    text: str
    score: float = 0.0
    language: str = ""

    @property
    def header(self) -> str:
        """The ``path:start-end`` header the model sees (and cites)."""
        return f"{self.path}:{self.start_line}-{self.end_line}"

    def render(self) -> str:
        """The snippet as it appears in the prompt."""
        body = self.text if self.text.endswith("\n") else self.text + "\n"
        return f"### {self.header}\n```{self.language}\n{body}```\n"


@dataclass
class PackedContext:
    """The snippets chosen for a prompt and what packing saved.

    Attributes:
        snippets: In prompt order (most relevant first).
        tokens: Tokens of the rendered snippets.
        naive_tokens: Tokens of the top-k retrieved chunks rendered whole (the baseline).
        dropped: Chunks left out (over budget or duplicates).
    """

    snippets: list[Snippet] = field(default_factory=list)
    tokens: int = 0
    naive_tokens: int = 0
    dropped: int = 0

    @property
    def tokens_saved(self) -> int:
        """Prompt tokens saved against sending the top-k chunks whole."""
        return max(0, self.naive_tokens - self.tokens)

    def render(self) -> str:
        """All snippets, ready to put in a prompt."""
        return "\n".join(s.render() for s in self.snippets)

    def paths(self) -> list[str]:
        """Distinct paths in prompt order."""
        return list(dict.fromkeys(s.path for s in self.snippets))


def read_lines(repo: Path, rel_path: str) -> list[str] | None:
    """The lines of a repository file (with line ends), or None if it may not be shown.

    Returns None for paths outside the repository, secret files and unreadable or
    undecodable files.
    """
    from greenpair.core.assistant.patch.guard import is_readable_repo_file

    path = is_readable_repo_file(repo, rel_path)
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8").splitlines(keepends=True)
    except (OSError, UnicodeDecodeError):
        return None


@dataclass
class _Span:
    path: str
    start: int
    end: int
    score: float
    language: str


def _merge(chunks: Sequence[ScoredChunk], repo: Path | None) -> list[Snippet]:
    """Turn ranked chunks into ranked snippets, merging overlaps within a file."""
    spans: list[_Span] = []
    for sc in chunks:
        c = sc.chunk
        for span in spans:
            if (
                span.path == c.path
                and c.start_line <= span.end + MERGE_GAP_LINES
                and c.end_line >= span.start - MERGE_GAP_LINES
            ):
                span.start = min(span.start, c.start_line)
                span.end = max(span.end, c.end_line)
                break
        else:
            spans.append(_Span(c.path, c.start_line, c.end_line, sc.score, c.language or ""))
    snippets = (_snippet(repo, chunks, span) for span in spans)
    return [s for s in snippets if s is not None]


def _snippet(repo: Path | None, chunks: Sequence[ScoredChunk], span: _Span) -> Snippet | None:
    """The span's current lines; None when the file may not be shown or is gone."""
    if repo is None:  # no working tree: show the indexed text
        best = next(sc.chunk for sc in chunks if sc.chunk.path == span.path)
        return Snippet(span.path, best.start_line, best.end_line, best.text, span.score,
                       span.language)
    lines = read_lines(repo, span.path)
    if lines is None or span.start > len(lines):
        return None
    end = min(span.end, len(lines))
    text = "".join(lines[span.start - 1 : end])
    return Snippet(span.path, span.start, end, text, span.score, span.language)


def whole_chunk_snippets(chunks: Sequence[ScoredChunk]) -> list[Snippet]:
    """The naive baseline: every retrieved chunk whole, as indexed, in rank order."""
    return [
        Snippet(sc.chunk.path, sc.chunk.start_line, sc.chunk.end_line, sc.chunk.text, sc.score,
                sc.chunk.language or "")
        for sc in chunks
    ]


def _cut(snippet: Snippet, budget: int, count: TokenCounter) -> Snippet | None:
    """The longest head of ``snippet`` (whole lines) whose rendering fits ``budget``."""
    lines = snippet.text.splitlines(keepends=True)
    overhead = count(Snippet(snippet.path, snippet.start_line, snippet.end_line, "").render())
    used, keep = overhead, 0
    for line in lines:
        cost = count(line)
        if used + cost > budget:
            break
        used, keep = used + cost, keep + 1
    if keep == 0 or used < MIN_CUT_TOKENS:
        return None
    return Snippet(snippet.path, snippet.start_line, snippet.start_line + keep - 1,
                   "".join(lines[:keep]), snippet.score, snippet.language)


def pack_context(
    chunks: Sequence[ScoredChunk],
    budget_tokens: int,
    count_tokens: TokenCounter,
    *,
    repo: Path | None = None,
    pack: bool = True,
    max_snippet_tokens: int = 0,
) -> PackedContext:
    """Choose the snippets to show the model.

    Args:
        chunks: Retrieved chunks, best first (the top-k).
        budget_tokens: Tokens the rendered snippets may use at most.
        count_tokens: The model's tokenizer (``runtime.count_tokens``).
        repo: The repository, to read current lines from (None: use indexed text).
        pack: False gives the naive baseline: the top-k chunks whole, in rank order, only
            cut when the model's context would overflow.
        max_snippet_tokens: When > 0, cut any one snippet to this many tokens so one long
            definition does not crowd out the rest.

    Returns:
        The packed context, with the naive baseline's token count for comparison.
    """
    naive = whole_chunk_snippets(chunks)
    naive_tokens = sum(count_tokens(s.render()) for s in naive)
    candidates = _merge(chunks, repo) if pack else naive
    out = PackedContext(naive_tokens=naive_tokens)
    for snippet in candidates:
        left = budget_tokens - out.tokens
        limit = min(left, max_snippet_tokens) if pack and max_snippet_tokens > 0 else left
        cost = count_tokens(snippet.render())
        chosen: Snippet | None = snippet
        if cost > limit:
            chosen = _cut(snippet, limit, count_tokens)
            cost = count_tokens(chosen.render()) if chosen else 0
        if chosen is None:
            out.dropped += 1
            continue
        out.snippets.append(chosen)
        out.tokens += cost
    if pack:
        out.dropped += len(chunks) - len(candidates)  # merged or unreadable chunks
    return out
