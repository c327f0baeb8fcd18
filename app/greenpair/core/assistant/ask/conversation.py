"""Answers about a repository, with checked citations.

``Conversation.ask`` retrieves code, packs it into the model's token budget, says which
code it will read (a ``Sources`` event, before the model starts: the first useful thing the
user sees), streams the answer as ``Token`` events and ends with an ``Answer``. Follow-up questions keep the
system prompt, the first context and earlier turns as an unchanged prefix, so the
runtime's KV cache does not re-process them; snippets new to a follow-up go after it.

``AskOptions`` switches every green default off for the naive baseline that
``benchmarks/green.py`` compares against (``AskOptions.naive()``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenpair.core.assistant.ask import prompts
from greenpair.core.assistant.ask.citations import Citation, check_answer
from greenpair.core.assistant.ask.context import PackedContext, Snippet, pack_context
from greenpair.core.assistant.ask.streaming import stream_with_stop
from greenpair.core.assistant.retriever import (
    Retriever,
    check_repo,
    reset_cache,
)
from greenpair.core.energy import EnergyReport
from greenpair.core.energy.meter_protocol import EnergyMeter, meter_or_unmetered
from greenpair.core.errors import Cancelled
from greenpair.core.llm.runtime import GenerationStats, Message
from greenpair.core.types import Chunk, ScoredChunk

if TYPE_CHECKING:
    from greenpair.core.llm.runtime import Runtime

PROMPT_MARGIN_TOKENS = 64  # chat-template tokens the plain count does not see
REMOTE_ENERGY_SCOPE = "measured on this machine only"


@dataclass
class AskOptions:
    """How an answer is produced (the defaults are the green ones).

    Attributes:
        top_k: Chunks retrieved per question.
        context_tokens: Token budget for the snippets of the first question.
        followup_context_tokens: Token budget for new snippets of a follow-up.
        max_snippet_tokens: Cut any one snippet to this (0: no cap).
        max_tokens: Longest answer.
        temperature: Sampling temperature.
        reuse_cache: Keep the KV prefix cache between questions.
        pack_context: Merge, cap and budget snippets (False: top-k chunks whole).
        early_stop: Stop once the ``Sources:`` line is written.
        few_shot: Show the worked example in the prefix.
        fallback_citations: Snippets cited when the model cites nothing valid.
        cite_mentions: Also cite shown snippets that define a function the answer names.
    """

    top_k: int = 8
    # 900, not 1,400: on 20 questions of two corpora (benchmarks/answer_speed.py,
    # 2026-12-02) the median answer took 15.3 s instead of 22.6 s on the same threads, with
    # the same model-cited accuracy (8/20 both): prompt processing is most of an answer's
    # time on a laptop CPU.
    context_tokens: int = 900
    followup_context_tokens: int = 600
    max_snippet_tokens: int = 400
    max_tokens: int = 256
    temperature: float = 0.1
    reuse_cache: bool = True
    pack_context: bool = True
    early_stop: bool = True
    few_shot: bool = True
    fallback_citations: int = 2
    cite_mentions: bool = True

    @classmethod
    def naive(cls) -> AskOptions:
        """No cache reuse, top-k chunks whole, no early stop: the baseline of green.py
        (the same output budget as the green defaults, so only the levers differ)."""
        return cls(reuse_cache=False, pack_context=False, early_stop=False,
                   max_snippet_tokens=0)


@dataclass(frozen=True)
class Token:
    """A piece of the answer as it streams."""

    text: str


@dataclass(frozen=True)
class Sources:
    """The snippets the model is about to read (``path:start-end``), known at once."""

    headers: tuple[str, ...]

    @property
    def text(self) -> str:
        """One line for the user."""
        if not self.headers:
            return "No matching code found; answering without it…"
        return "Reading " + ", ".join(self.headers) + "…"


@dataclass
class Answer:
    """The finished answer.

    ``citations`` holds valid ones (clamped to shown lines); ``rejected_citations`` the
    ones that named a file or lines the model was not shown. ``mention_citations`` of the
    citations were added because the answer names a definition in that snippet.
    ``citations_fallback`` says the citations are the top snippets used because the model
    cited nothing valid.
    """

    answer: str
    citations: list[Citation]
    model: str
    prompt_tokens: int
    completion_tokens: int
    ttft_s: float
    tokens_per_s: float
    energy: EnergyReport | None = None
    rejected_citations: list[Citation] = field(default_factory=list)
    citations_fallback: bool = False
    mention_citations: int = 0  # of ``citations``, those added for a named definition
    cached_prompt_tokens: int = 0
    context_tokens: int = 0
    prompt_tokens_saved: int = 0
    context: list[str] = field(default_factory=list)  # snippet headers shown this turn
    stop_reason: str = ""
    energy_scope: str = ""  # "this machine only" when the model runs on a server
    load_s: float = 0.0  # the model was unloaded: loading it took this (inside ttft_s)

    def to_json(self) -> dict[str, object]:
        """The ``greenpair ask --json`` contract (plus extra keys)."""
        e = self.energy
        return {
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "ttft_s": round(self.ttft_s, 3),
            "tokens_per_s": round(self.tokens_per_s, 2),
            "energy_j": None if e is None or e.joules is None else round(e.joules, 3),
            "energy_sensor": None if e is None else e.sensor,
            "energy_estimated": None if e is None else e.estimated,
            "gco2e": None if e is None or e.gco2e is None else round(e.gco2e, 6),
            "citations_fallback": self.citations_fallback,
            "mention_citations": self.mention_citations,
            "rejected_citations": [c.to_json() for c in self.rejected_citations],
            "cached_prompt_tokens": self.cached_prompt_tokens,
            "context_tokens": self.context_tokens,
            "prompt_tokens_saved": self.prompt_tokens_saved,
            "context": self.context,
            "stop_reason": self.stop_reason,
            "energy_scope": self.energy_scope or None,
            "model_load_s": round(self.load_s, 3),
        }


AskEvent = Token | Sources | Answer


class Conversation:
    """Questions and answers about one repository, sharing one cached prompt prefix.

    Args:
        repo: The repository root.
        runtime: The model.
        index: What ranks code for a question.
        options: Green defaults unless given.
        meter: Measures each answer (the entry point's ``Services.meter``; unmeasured
            when None).
    """

    def __init__(
        self,
        repo: Path,
        *,
        runtime: Runtime,
        index: Retriever,
        options: AskOptions | None = None,
        meter: EnergyMeter | None = None,
    ) -> None:
        self.repo = check_repo(repo)
        self.meter = meter_or_unmetered(meter)
        self.options = options or AskOptions()
        self._runtime = runtime
        self._index = index
        self.messages: list[Message] = []
        self.shown: list[Snippet] = []

    @property
    def runtime(self) -> Runtime:
        """The model (it loads on its first generation)."""
        return self._runtime

    @property
    def index(self) -> Retriever:
        """The retriever."""
        return self._index

    def reset(self) -> None:
        """Forget earlier turns (the next question starts a fresh prefix)."""
        self.messages = []
        self.shown = []

    def state(self) -> dict[str, Any]:
        """The history as JSON-ready data (kept with a conversation; see ``restore``)."""
        return {
            "messages": [{"role": m.role, "content": m.content} for m in self.messages],
            "shown": [{"path": s.path, "start_line": s.start_line, "end_line": s.end_line,
                       "text": s.text, "language": s.language} for s in self.shown],
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a kept ``state()``: the next question is a follow-up.

        The prompt prefix is rebuilt exactly as it was, so the runtime's KV cache is reused
        when it still holds it (a conversation reopened in the same session); after a
        restart the prefix is processed once, then reused for the next follow-ups.
        """
        try:
            self.messages = [Message(str(m["role"]), str(m["content"]))
                             for m in state.get("messages", [])]
            self.shown = [Snippet(path=str(s["path"]), start_line=int(s["start_line"]),
                                  end_line=int(s["end_line"]), text=str(s["text"]),
                                  language=str(s.get("language", "")))
                          for s in state.get("shown", [])]
        except (KeyError, TypeError, ValueError):
            self.reset()  # a damaged state: the next question starts afresh

    def ask(self, question: str, *, cancel: threading.Event | None = None) -> Iterator[AskEvent]:
        """Answer ``question``: a ``Sources`` event, ``Token`` events while streaming, then
        one ``Answer``.

        Raises:
            Cancelled: ``cancel`` was set before the answer started.
        """
        opts = self.options
        with self.meter.window("answer", repo=str(self.repo)) as window:
            start = time.perf_counter()
            runtime = self.runtime
            result = self.index.search(question, k=opts.top_k)
            if cancel is not None and cancel.is_set():
                raise Cancelled("The question was cancelled.")
            packed, messages = self._build_prompt(runtime, question, result.chunks)
            yield Sources(tuple(s.header for s in packed.snippets))
            shown = [*self.shown, *packed.snippets]
            if not opts.reuse_cache:
                reset_cache(runtime)
            pieces: list[str] = []
            ttft = 0.0
            stream = runtime.stream_chat(messages, max_tokens=opts.max_tokens,
                                         temperature=opts.temperature, cancel=cancel)
            for piece in stream_with_stop(stream, early_stop=opts.early_stop):
                if not pieces:
                    ttft = time.perf_counter() - start
                pieces.append(piece)
                yield Token(piece)
            stats = runtime.last_stats
            window.tokens = stats.completion_tokens
            window.meta["model"] = runtime.model_id
            window.meta["tokens_per_s"] = round(stats.tokens_per_s, 3)  # the model switch shows it
            _record_savings(self.meter, packed, stats)
        text = "".join(pieces).strip()
        # Only a finished turn joins the history (an abandoned one leaves no trace).
        self.messages = [*messages, Message("assistant", text)]
        self.shown = shown
        yield self._answer(text, packed, stats, ttft, window.report)

    def context_for(self, question: str) -> PackedContext:
        """The snippets the next ``ask(question)`` would show the model (nothing generated)."""
        result = self.index.search(question, k=self.options.top_k)
        history = (self.messages, self.shown)
        try:
            return self._build_prompt(self.runtime, question, result.chunks)[0]
        finally:
            self.messages, self.shown = history  # _build_prompt may reset a full history

    def _build_prompt(
        self, runtime: Runtime, question: str, chunks: list[ScoredChunk]
    ) -> tuple[PackedContext, list[Message]]:
        opts = self.options
        count = runtime.count_tokens
        reserve = opts.max_tokens + count(question) + PROMPT_MARGIN_TOKENS
        history = sum(count(m.content) for m in self.messages) + 8 * len(self.messages)
        room = runtime.n_ctx - reserve - history
        if self.messages and room < opts.followup_context_tokens // 2:
            self.reset()  # the history no longer fits: start a fresh prefix
        if not self.messages:
            prefix = prompts.ask_prefix(few_shot=opts.few_shot)
            fixed = sum(count(m.content) for m in prefix) + 8 * len(prefix)
            room = runtime.n_ctx - reserve - fixed
            budget = min(opts.context_tokens, room) if opts.pack_context else room
            packed = pack_context(chunks, max(0, budget), count, repo=self.repo,
                                  pack=opts.pack_context,
                                  max_snippet_tokens=opts.max_snippet_tokens)
            user = prompts.context_message(packed.render(), question)
            return packed, [*prefix, Message("user", user)]
        fresh = [sc for sc in chunks if not self._was_shown(sc.chunk)]
        budget = min(opts.followup_context_tokens, room)
        packed = pack_context(fresh, max(0, budget), count, repo=self.repo,
                              pack=opts.pack_context, max_snippet_tokens=opts.max_snippet_tokens)
        user = prompts.followup_message(packed.render(), question)
        return packed, [*self.messages, Message("user", user)]

    def _was_shown(self, chunk: Chunk) -> bool:
        return any(
            s.path == chunk.path and s.start_line <= chunk.start_line and chunk.end_line <= s.end_line
            for s in self.shown
        )

    def _answer(self, text: str, packed: PackedContext, stats: GenerationStats, ttft: float,
                energy: EnergyReport | None) -> Answer:
        opts = self.options
        check = check_answer(text, self.shown, mentions=opts.cite_mentions,
                             fallback=opts.fallback_citations, pool=packed.snippets)
        return Answer(
            answer=text,
            citations=check.citations,
            model=self.runtime.model_id,
            prompt_tokens=stats.prompt_tokens,
            completion_tokens=stats.completion_tokens,
            ttft_s=ttft,
            tokens_per_s=stats.tokens_per_s,
            energy=energy,
            rejected_citations=check.rejected,
            citations_fallback=check.fallback,
            mention_citations=check.mentioned,
            cached_prompt_tokens=stats.cached_prompt_tokens,
            context_tokens=packed.tokens,
            prompt_tokens_saved=packed.tokens_saved,
            context=[s.header for s in packed.snippets],
            stop_reason=stats.stop_reason,
            load_s=stats.load_s,
            energy_scope=REMOTE_ENERGY_SCOPE if getattr(self.runtime, "runs_remotely", False)
            else "",
        )


def ask_once(
    repo: Path,
    question: str,
    *,
    runtime: Runtime,
    index: Retriever,
    options: AskOptions | None = None,
    cancel: threading.Event | None = None,
    meter: EnergyMeter | None = None,
) -> Iterator[AskEvent]:
    """One question in a fresh conversation (``greenpair ask``)."""
    conv = Conversation(repo, runtime=runtime, index=index, options=options, meter=meter)
    yield from conv.ask(question, cancel=cancel)


def _record_savings(meter: EnergyMeter, packed: PackedContext, stats: GenerationStats) -> None:
    """Tell the energy ledger what packing and the KV cache spared this answer."""
    if packed.tokens_saved > 0:
        meter.record_saving("prompt_tokens_saved", tokens=packed.tokens_saved)
    if stats.cached_prompt_tokens > 0:
        meter.record_saving("kv_cache_tokens_reused", tokens=stats.cached_prompt_tokens)
