"""Patch drafting: retrieve the code, ask the model for an edit, check it, show the diff.

``draft_patch`` yields ``Status`` and ``Token`` events and ends with a ``PatchDraft``.
The model's reply is parsed in the chosen edit format, matched tolerantly against the
files, turned into a unified diff and checked (``git apply`` on a scratch copy, no new
tree-sitter errors). The reply is constrained by a grammar of the format
(``edit_grammar``) when the runtime supports it, so it is well-formed by construction; a
reply that still fails to apply (or an unconstrained one that is malformed) is shown to
the model once more. Refused paths (outside the repository, secrets, binaries) and replies
cut off by the token budget or the repetition guard are never retried; a cut-off block
whose REPLACE part had gone on copying the following lines is closed where the copy began,
and a cut-off rewrite of a Python class keeps the methods it finished (``run_on``).

``apply_patch`` writes a draft to the working tree (never commits) and ``undo_last``
restores the files byte for byte.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from greenpair.core.assistant.ask.context import PackedContext, pack_context, read_lines
from greenpair.core.assistant.patch import backup
from greenpair.core.assistant.patch.closers import MENDED, mend_closers
from greenpair.core.assistant.patch.diffs import new_syntax_errors, validate
from greenpair.core.assistant.patch.edit_grammar import (
    MAX_SEARCH_LINES,
    complete_prefix,
    edit_grammar,
    snippet_lines,
)
from greenpair.core.assistant.patch.editing import FileChange, apply_edits
from greenpair.core.assistant.patch.edits import FORMATS, parse_edits
from greenpair.core.assistant.patch.formats import choose_format
from greenpair.core.assistant.patch.guard import RefusedPath, normalise_rel_path
from greenpair.core.assistant.patch.prompts import patch_messages, retry_message
from greenpair.core.assistant.patch.run_on import close_class_rewrite, close_run_on
from greenpair.core.assistant.patch.targets import focused_context, fuse_suspects
from greenpair.core.assistant.retriever import (
    Retriever,
    check_repo,
)
from greenpair.core.energy import EnergyReport
from greenpair.core.energy.meter_protocol import EnergyMeter, meter_or_unmetered
from greenpair.core.errors import PatchError
from greenpair.core.index.categories import TEST, category
from greenpair.core.llm.runtime import Message

if TYPE_CHECKING:
    from greenpair.core.assistant.check.result import CheckResult
    from greenpair.core.llm.runtime import Runtime
    from greenpair.core.types import ScoredChunk


@dataclass
class PatchOptions:
    """How a patch is drafted.

    Attributes:
        format: Edit format (None: the one measured best for the model).
        top_k: Chunks retrieved.
        context_tokens: Token budget of the code shown.
        max_snippet_tokens: Cap per snippet (large, so functions are shown whole).
        max_tokens: Longest reply.
        retries: Extra attempts after a failed edit.
        few_shot: Show the worked example.
        grammar: Constrain the reply to the format (runtimes with ``supports_grammar``).
        focus: Show the definitions the task names whole (and what they call) instead of
            the packed retrieval (``targets.focused_context``).
        prefer_path: The file the user has open (settles a name defined in several places).
        ambiguity: "rank" (take the best-ranked definition) or "ask" (raise
            ``AmbiguousTarget`` so the caller can ask the user).
        followup: Turns added after the request (the repair loop's earlier edit and the
            failure its check found), so the model drafts again knowing why.
        evidence: Text shown with the task and added to the search (the output of a
            failing test the request names, run before drafting).
        exclude_paths: Files kept out of the code shown, so the edit cannot touch them
            (the tests a request names: the change must make them pass as they are).
        show_tests: False keeps test files out of the code shown, unless the search finds
            nothing else (a request that names a failing test: the change belongs in the
            code under test, and a small model shown other tests edits them instead).
        focus_names: Definitions to show whole as if the task named them (where a failing
            test's traceback went through the code under test).
        suspects: Definitions a traced run of the failing tests went through (path, first
            and last line, name; best first): shown fused with the retrieval
            (``targets.fuse_suspects``); a definition the request itself names is
            still shown whole instead.
    """

    format: str | None = None
    top_k: int = 6
    context_tokens: int = 1800
    max_snippet_tokens: int = 1200
    max_tokens: int = 768
    temperature: float = 0.0
    retries: int = 1
    few_shot: bool = True
    grammar: bool = True
    focus: bool = True
    prefer_path: str | None = None
    ambiguity: str = "rank"
    followup: list[Message] = field(default_factory=list)  # earlier tries and their checks
    evidence: str = ""  # what the tests say now (a failing test the request names)
    exclude_paths: list[str] = field(default_factory=list)  # never shown, never edited
    show_tests: bool = True
    focus_names: list[str] = field(default_factory=list)  # where a failing test failed
    suspects: list[tuple[str, int, int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Token:
    """A piece of the model's reply as it streams."""

    text: str


@dataclass(frozen=True)
class Status:
    """A step of drafting, for the user."""

    text: str


@dataclass
class PatchDraft:
    """The outcome of drafting (``error`` set when no valid patch came out)."""

    diff: str
    files: list[str]
    format: str
    applied: bool
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_per_s: float = 0.0
    energy: EnergyReport | None = None
    error: str | None = None
    changes: list[FileChange] = field(default_factory=list, repr=False)
    attempts: int = 0
    reply: str = ""
    match_methods: list[str] = field(default_factory=list)
    task: str = ""
    constrained: bool = False  # the reply was sampled under the format's grammar
    stop_reason: str = ""  # of the last reply: "stop", "length", "repetition", "cancelled"
    closed_cut_off: bool = False  # a cut-off block was closed where the model's text ends it
    check: CheckResult | None = None  # what the check ran (``assistant.check``), when it ran

    def to_json(self) -> dict[str, object]:
        """The ``greenpair patch --json`` contract (plus extra keys)."""
        e = self.energy
        return {
            "diff": self.diff,
            "files": self.files,
            "format": self.format,
            "applied": self.applied,
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens_per_s": round(self.tokens_per_s, 2),
            "energy_j": None if e is None or e.joules is None else round(e.joules, 3),
            "energy_sensor": None if e is None else e.sensor,
            "energy_estimated": None if e is None else e.estimated,
            "error": self.error,
            "attempts": self.attempts,
            "match_methods": self.match_methods,
            "constrained": self.constrained,
            "stop_reason": self.stop_reason,
            "closed_cut_off": self.closed_cut_off,
            "reply": self.reply,  # the model's text as it wrote it (this draft's)
            **({} if self.check is None else {"check": self.check.to_json()}),
        }


PatchEvent = Token | Status | PatchDraft


@dataclass
class _Tally:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    gen_s: float = 0.0

    def add(self, runtime: Runtime) -> None:
        s = runtime.last_stats
        self.prompt_tokens += s.prompt_tokens
        self.completion_tokens += s.completion_tokens
        self.gen_s += max(0.0, s.duration_s - s.ttft_s)

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.gen_s if self.gen_s > 0 else 0.0


# A request about layout, where an edit that only moves whitespace is the change asked for.
_LAYOUT = re.compile(r"(?i)\b(indent\w*|dedent\w*|white ?space|spac(e|es|ing)|tabs?|"
                     r"format\w*|reformat\w*|blank lines?|trailing|newlines?|style|lint\w*|"
                     r"prettier|black|ruff|pep ?8)\b")
_WHITESPACE = re.compile(rb"\s+")


def whitespace_only(changes: Sequence[FileChange]) -> bool:
    """Whether every change only adds, removes or moves whitespace."""
    return all(c.before is not None
               and _WHITESPACE.sub(b"", c.before) == _WHITESPACE.sub(b"", c.after)
               for c in changes)


def changes_from_reply(repo: Path, fmt: str, reply: str, task: str, *,
                       default_path: str | None = None,
                       hints: dict[str, int] | None = None) -> tuple[list[FileChange], str]:
    """Parse, match and validate one reply: its changes and their diff.

    An edit that only changes whitespace is refused unless the task is about layout: the
    small model often copies the code back with a space more, which applies but does
    nothing the user asked for. An edit that breaks the syntax by dropping closing lines
    of its SEARCH (or writing one twice) is mended when that makes it parse
    (``closers``); the mended files' changes say so in their methods.

    Raises:
        PatchError: The reason the reply gives no usable change.
    """
    edits = parse_edits(fmt, reply, default_path=default_path)
    changes = _meaningful(apply_edits(repo, edits, hints), task)
    try:
        return changes, validate(changes)
    except PatchError:
        if not new_syntax_errors(changes):
            raise  # not a syntax break: nothing for closing lines to mend
        mended = mend_closers(edits, lambda trial: new_syntax_errors(
            apply_edits(repo, trial, hints)))
        if mended is None:
            raise
    changes = _meaningful(apply_edits(repo, mended, hints), task)
    paths = {normalise_rel_path(e.path) for e in mended if e not in edits}
    for c in changes:
        if c.path in paths:
            c.methods.append(MENDED)
    return changes, validate(changes)


def _meaningful(changes: list[FileChange], task: str) -> list[FileChange]:
    """``changes``, unless they only move whitespace and the task is not about layout."""
    if whitespace_only(changes) and not _LAYOUT.search(task):
        raise PatchError("The edit changes only whitespace, not what the task asks for.")
    return changes


def _attempt(repo: Path, fmt: str, reply: str, packed: PackedContext, task: str) -> tuple[
    list[FileChange], str
]:
    """``changes_from_reply`` for a reply to the code ``packed`` showed."""
    hints: dict[str, int] = {}
    for s in packed.snippets:
        hints.setdefault(s.path, s.start_line - 1)
    return changes_from_reply(repo, fmt, reply, task, default_path=packed.snippets[0].path,
                              hints=hints)


def reply_budget(fmt: str, packed: PackedContext, count: Callable[[str], int],
                 floor: int) -> int:
    """Tokens a reply may take: ``floor``, or enough for the largest edit the grammar
    allows with room to add to it — a whole-function rewrite copies the longest snippet; a
    SEARCH/REPLACE block copies up to ``MAX_SEARCH_LINES`` lines twice."""
    if not packed.snippets:
        return floor
    if fmt == "function":
        longest = max(count(s.text) for s in packed.snippets)
        return max(floor, int(longest * 1.3) + 96)
    if fmt == "search_replace":
        widest = 0
        for snip in packed.snippets:
            sizes = [count(line + "\n") for line in snippet_lines(snip)]
            run = sum(sizes[:MAX_SEARCH_LINES])
            widest = max(widest, run)
            for i in range(MAX_SEARCH_LINES, len(sizes)):
                run += sizes[i] - sizes[i - MAX_SEARCH_LINES]
                widest = max(widest, run)
        return max(floor, int(widest * 2.3) + 96)
    return floor


def _cut_off_message(reason: str, budget: int) -> str:
    if reason == "repetition":
        return ("The model started repeating itself before the edit was complete; "
                "describe the change more precisely (which function, what to do).")
    return (f"The edit did not fit in {budget:,} tokens; ask for a smaller change "
            "(one function at a time).")


def candidate_chunks(index: Retriever, task: str, opts: PatchOptions) -> list[ScoredChunk]:
    """The code a draft may be shown, best first: the search for the task (with the focus
    names and the evidence), without the excluded paths and, unless ``opts.show_tests``,
    without tests (when anything else is found), fused with ``opts.suspects``."""
    focus = " ".join([task, *(f"`{n}`" for n in opts.focus_names)])
    query = f"{focus}\n{opts.evidence}" if opts.evidence else focus
    result = index.search(query, k=opts.top_k)
    chunks = [sc for sc in result.chunks if sc.chunk.path not in opts.exclude_paths]
    if not opts.show_tests:
        chunks = [sc for sc in chunks if category(sc.chunk.path) != TEST] or chunks
    suspects = [s for s in opts.suspects if s[0] not in opts.exclude_paths]
    return fuse_suspects(suspects, chunks) if suspects else chunks


def draft_patch(
    repo: Path,
    task: str,
    *,
    runtime: Runtime,
    index: Retriever,
    cancel: threading.Event | None = None,
    options: PatchOptions | None = None,
    meter: EnergyMeter | None = None,
) -> Iterator[PatchEvent]:
    """Draft a patch for ``task``: ``Status``/``Token`` events, then one ``PatchDraft``.

    ``runtime`` drafts, ``index`` finds the code, ``meter`` measures the draft (the
    entry point's ``Services.meter``; unmeasured when None).
    """
    root = check_repo(repo)
    opts = options or PatchOptions()
    rt = runtime
    if opts.format is not None and opts.format not in FORMATS:
        raise PatchError(f"Unknown edit format {opts.format!r}.",
                         hint="Use one of: " + ", ".join(FORMATS))
    draft = PatchDraft("", [], opts.format or "", False, rt.model_id, task=task)
    tally = _Tally()
    with meter_or_unmetered(meter).window("patch", repo=str(root), model=rt.model_id) as window:
        yield Status("Finding the code to change…")
        focus = " ".join([task, *(f"`{n}`" for n in opts.focus_names)])
        chunks = candidate_chunks(index, task, opts)
        suspects = any(s[0] not in opts.exclude_paths for s in opts.suspects)
        # With suspects, only definitions the user's own words name are shown whole; the
        # names a traceback gave are already among the suspects, ranked.
        packed = focused_context(root, task if suspects else focus, chunks, rt.count_tokens,
                                 prefer_path=opts.prefer_path,
                                 ambiguity=opts.ambiguity) if opts.focus else None
        if packed is None:
            packed = pack_context(chunks, opts.context_tokens, rt.count_tokens,
                                  repo=root, max_snippet_tokens=opts.max_snippet_tokens)
        fmt = draft.format = opts.format or choose_format(
            rt.model_id, packed.snippets, evidence=bool(opts.evidence))
        if not packed.snippets:
            draft.error = "No code in the repository matched the task; describe it with names."
        else:
            yield Status(f"Drafting a {fmt} edit of {', '.join(packed.paths())}…")
            shown_task = f"{task}\n\n{opts.evidence}" if opts.evidence else task
            messages = [*patch_messages(fmt, packed.render(), shown_task,
                                        few_shot=opts.few_shot), *opts.followup]
            extra = {}
            if opts.grammar and getattr(rt, "supports_grammar", False):
                grammar = edit_grammar(fmt, packed.snippets)
                if grammar:
                    extra["grammar"] = grammar
                    draft.constrained = True
            max_tokens = reply_budget(fmt, packed, rt.count_tokens, opts.max_tokens)
            for attempt in range(1 + max(0, opts.retries)):
                draft.attempts = attempt + 1
                pieces: list[str] = []
                for piece in rt.stream_chat(messages, max_tokens=max_tokens,
                                            temperature=opts.temperature, cancel=cancel,
                                            **extra):
                    pieces.append(piece)
                    yield Token(piece)
                tally.add(rt)
                draft.reply = "".join(pieces)
                draft.stop_reason = rt.last_stats.stop_reason
                if cancel is not None and cancel.is_set():
                    draft.error = "Cancelled."
                    break
                if draft.constrained and draft.stop_reason in {"length", "repetition"}:
                    if fmt == "search_replace":
                        closed = close_run_on(draft.reply, lambda path: read_lines(root, path))
                    else:  # "function": the other format with a grammar
                        closed = close_class_rewrite(draft.reply)
                    if closed is not None:
                        draft.reply, draft.closed_cut_off = closed, True
                        yield Status("The edit was cut off; it keeps what the model "
                                     "finished (up to where it began copying unchanged code, "
                                     "or the methods it completed).")
                    else:
                        draft.reply = complete_prefix(fmt, draft.reply)  # the finished blocks
                    if not draft.reply:
                        draft.error = _cut_off_message(draft.stop_reason, max_tokens)
                        break
                try:
                    changes, diff = _attempt(root, fmt, draft.reply, packed, task)
                    kept_out = sorted({c.path for c in changes} & set(opts.exclude_paths))
                    if kept_out:  # an edit may name a file it was not shown
                        raise PatchError(
                            f"The edit changes {', '.join(kept_out)}, which must stay as it "
                            "is (the test the request names has to pass unchanged); change "
                            "the code it tests instead.")
                    draft.changes, draft.diff = changes, diff
                    draft.error = None
                    if any(MENDED in c.methods for c in changes):
                        yield Status("The edit dropped or repeated closing lines; the "
                                     "file's own were put back so that it parses.")
                    break
                except RefusedPath as exc:
                    draft.error = exc.message
                    break
                except PatchError as exc:
                    draft.error = exc.message
                    if attempt < opts.retries:
                        yield Status(f"The edit could not be applied ({exc.message}); retrying…")
                        messages = [*messages, Message("assistant", draft.reply),
                                    Message("user", retry_message(fmt, exc.message, task))]
        window.tokens = tally.completion_tokens
    draft.files = [c.path for c in draft.changes]
    draft.match_methods = [m for c in draft.changes for m in c.methods]
    draft.prompt_tokens = tally.prompt_tokens
    draft.completion_tokens = tally.completion_tokens
    draft.tokens_per_s = tally.tokens_per_s
    draft.energy = window.report
    yield draft


def apply_patch(repo: Path, draft: PatchDraft) -> None:
    """Write ``draft`` to the working tree (a backup of the originals goes to the data dir).

    Raises:
        PatchError: The draft has no valid patch, a path is refused, or a file changed
            since the draft was made.
    """
    if draft.error or not draft.changes:
        raise PatchError("There is no valid patch to apply." + (f" {draft.error}" if draft.error
                                                                 else ""))
    backup.apply_changes(check_repo(repo), draft.changes, label=draft.task)
    draft.applied = True


def undo_last(repo: Path) -> list[str]:
    """Restore the files of the last applied patch byte for byte; returns their paths."""
    return backup.undo_last(check_repo(repo))
