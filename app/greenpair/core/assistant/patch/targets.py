"""What a patch request is about: the definitions it names, found before the model runs.

A request like "In the is_docstring function, also accept byte-string prefixes" names a
function. Instead of whole chunks of its neighbours, the model is shown that definition
whole (read from the file, however the index split it) and, within a small budget, the
retrieved definitions it calls. When the name is defined in several places (black has
``is_docstring`` in ``nodes.py`` and ``lines.py``), the choice is made before generating,
in this order: the file the user has open (``prefer_path``), a file the request mentions,
then either the retrieval rank (``ambiguity="rank"``) or a question back to the user
(``ambiguity="ask"``: ``AmbiguousTarget`` lists the places, within a second of asking).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from greenpair.core.assistant.ask.context import PackedContext, Snippet, pack_context, read_lines
from greenpair.core.errors import PatchError
from greenpair.core.types import Chunk, ScoredChunk

USES_TOKENS = 400  # budget for the definitions the targets call
MAX_TARGET_TOKENS = 1600  # a target larger than this is shown as retrieved (cut)

_IDENT = re.compile(r"`([^`]+)`|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(\s*\()?")
_KEYWORD_BEFORE = re.compile(r"\b(?:function|method|class|def|func|fn|helper)\s+$", re.I)
_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_FILE = re.compile(r"[\w./-]+\.\w{1,5}\b")


class AmbiguousTarget(PatchError):
    """The request names a definition found in several places; ``choices`` lists them."""

    def __init__(self, name: str, choices: list[Target]) -> None:
        places = "; ".join(f"[{i}] {t.label}" for i, t in enumerate(choices, 1))
        super().__init__(f"{name} is defined in {len(choices)} places: {places}.",
                         hint="Say which file (e.g. --file " + choices[0].path + ").")
        self.name = name
        self.choices = choices


@dataclass(frozen=True)
class Target:
    """One definition the request names, with its whole span (1-based, inclusive)."""

    path: str
    symbol: str
    start_line: int
    end_line: int
    language: str
    rank: int  # position of its best chunk in the retrieval

    @property
    def label(self) -> str:
        """``path:start-end symbol``."""
        return f"{self.path}:{self.start_line}-{self.end_line} {self.symbol}"


def named_identifiers(task: str) -> list[str]:
    """Names the request points at: in backticks, followed by ``(``, after "function" and
    the like, or shaped like code (``snake_case``, ``camelCase``, ``a.b``)."""
    out: list[str] = []
    for m in _IDENT.finditer(task):
        quoted, word, call = m.group(1), m.group(2), m.group(3)
        names = [quoted.strip().rstrip("()")] if quoted else [word] if word else []
        for name in names:
            code_like = bool(quoted or call) or "_" in name.strip("_") or "." in name or (
                re.search(r"[a-z][A-Z]", name) is not None)
            if not code_like and not _KEYWORD_BEFORE.search(task[:m.start()]):
                continue
            for part in {name, name.rsplit(".", 1)[-1]}:
                if len(part) >= 3 and part not in out:
                    out.append(part)
    return out


def _mentioned_files(task: str) -> list[str]:
    return [m.group(0) for m in _FILE.finditer(task) if not m.group(0)[0].isdigit()]


def _whole_span(repo: Path, sc: ScoredChunk) -> tuple[int, int] | None:
    """The span of the definition a chunk belongs to (the chunk may be a part of it)."""
    from greenpair.core.assistant.patch.editing import definition_spans

    chunk = sc.chunk
    lines = read_lines(repo, chunk.path)
    if lines is None or chunk.symbol is None:
        return None
    spans = definition_spans(chunk.language, "".join(lines), chunk.symbol)
    inside = [s for s in spans if s[0] + 1 <= chunk.start_line <= s[1]]
    if not inside:
        return (chunk.start_line, chunk.end_line)
    start, end = max(inside, key=lambda s: s[0])  # the innermost definition
    return start + 1, end


def find_targets(repo: Path, task: str, chunks: Sequence[ScoredChunk]) -> dict[str, list[Target]]:
    """Per name the request points at, the definitions retrieved under that name."""
    names = named_identifiers(task)
    found: dict[str, list[Target]] = {}
    for rank, sc in enumerate(chunks):
        sym = sc.chunk.symbol
        qualified = f"{sc.chunk.parent}.{sym}" if sc.chunk.parent else None
        name = sym if sym in names else qualified if qualified in names else None
        if name is None or sym is None:
            continue
        span = _whole_span(repo, sc)
        if span is None:
            continue
        target = Target(sc.chunk.path, sym, span[0], span[1], sc.chunk.language, rank)
        known = found.setdefault(name, [])
        if not any(t.path == target.path and t.start_line == target.start_line for t in known):
            known.append(target)
    return found


def choose(name: str, targets: list[Target], task: str, *, prefer_path: str | None,
           ambiguity: str) -> Target:
    """One definition of ``name`` (see the module docstring for the order)."""
    if len(targets) == 1:
        return targets[0]
    narrowed = targets
    if prefer_path:
        narrowed = [t for t in targets if t.path == prefer_path] or targets
    if len(narrowed) > 1:
        files = _mentioned_files(task)
        by_file = [t for t in narrowed if any(
            t.path.endswith(f) or PurePosixPath(t.path).name == PurePosixPath(f).name
            for f in files)]
        narrowed = by_file or narrowed
    if len(narrowed) > 1 and ambiguity == "ask":
        raise AmbiguousTarget(name, narrowed)
    return min(narrowed, key=lambda t: t.rank)


def _inside(sc: ScoredChunk, snippets: Sequence[Snippet]) -> bool:
    c = sc.chunk
    return any(s.path == c.path and s.start_line <= c.start_line and c.end_line <= s.end_line
               for s in snippets)


def focused_context(repo: Path, task: str, chunks: Sequence[ScoredChunk],
                    count: Callable[[str], int], *, prefer_path: str | None = None,
                    ambiguity: str = "rank") -> PackedContext | None:
    """The named definitions whole, then what they call (None: the request names none).

    Raises:
        AmbiguousTarget: ``ambiguity="ask"`` and a name is defined in several places.
    """
    found = find_targets(repo, task, chunks)
    if not found:
        return None
    picked = [choose(name, targets, task, prefer_path=prefer_path, ambiguity=ambiguity)
              for name, targets in found.items()]
    picked = list({(t.path, t.start_line): t for t in picked}.values())
    snippets: list[Snippet] = []
    for t in sorted(picked, key=lambda t: t.rank):
        lines = read_lines(repo, t.path)
        if lines is None:
            continue
        text = "".join(lines[t.start_line - 1:t.end_line])
        if count(text) > MAX_TARGET_TOKENS:
            return None  # too big to show whole: let retrieval's packing cut it
        snippets.append(Snippet(t.path, t.start_line, t.end_line, text, 1.0, t.language))
    if not snippets:
        return None
    called = {m.group(1) for s in snippets for m in _CALL.finditer(s.text)}
    called -= {t.symbol for t in picked}  # the other definitions of a chosen name stay out
    uses = [sc for sc in chunks if sc.chunk.symbol in called and not _inside(sc, snippets)]
    extra = pack_context(uses, USES_TOKENS, count, repo=repo) if uses else PackedContext()
    tokens = sum(count(s.render()) for s in snippets)
    return PackedContext(snippets + extra.snippets, tokens + extra.tokens,
                         naive_tokens=tokens + extra.naive_tokens)



@dataclass
class _Fused:
    chunk: Chunk
    points: float
    retrieved: bool  # a tie goes to the suspect


def fuse_suspects(suspects: Sequence[tuple[str, int, int, str]],
                  chunks: Sequence[ScoredChunk]) -> list[ScoredChunk]:
    """Retrieved ``chunks`` and the definitions a traced failing test ran through
    (``suspects``: path, first and last line, name; best first), as one ranking.

    Each list gives reciprocal-rank points (1 for its first, 1/2 for its second, …;
    both lists are short, so no smoothing constant); a retrieved chunk that lies inside a suspect adds its points to the
    suspect instead of standing alone, so code both lists agree on comes first.
    """
    rows = [_Fused(Chunk(path, "python", start, end, "", kind="function", symbol=name),
                   1 / (1 + i), retrieved=False)
            for i, (path, start, end, name) in enumerate(suspects)]
    hosts = list(rows)
    for j, sc in enumerate(chunks):
        points = 1 / (1 + j)
        c = sc.chunk
        host = next((h for h in hosts if h.chunk.path == c.path and
                     h.chunk.start_line <= c.start_line and c.end_line <= h.chunk.end_line),
                    None)
        if host is not None:
            host.points += points
        else:
            rows.append(_Fused(c, points, retrieved=True))
    rows.sort(key=lambda r: (-r.points, r.retrieved))
    return [ScoredChunk(r.chunk, r.points) for r in rows]
