"""The llama.cpp backend (llama-cpp-python), on the CPU or a GPU when the build has one.

One live context per runtime: each generation starts from the tokens already in the KV
cache and only evaluates the part of the prompt that differs (``Llama.generate`` reuses the
longest common prefix), so a follow-up question that shares the system prompt and the
repository context does not re-process them. No ``save_state`` snapshots (each copies the
whole state into a Python buffer).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenpair.core import messages as user_messages
from greenpair.core.errors import ModelError
from greenpair.core.llm import catalog, chat_format
from greenpair.core.llm import model_store as store
from greenpair.core.llm.lifecycle import UnloadRule, rss_bytes
from greenpair.core.llm.repetition import RepetitionGuard
from greenpair.core.llm.runtime import GenerationStats, Message
from greenpair.core.llm.textstream import StopFilter
from greenpair.core.llm.threads import RECHECK_S, ThreadPolicy, default_policy

if TYPE_CHECKING:
    from greenpair.core.energy.meter_protocol import EnergyMeter

log = logging.getLogger(__name__)
_FALLBACK_CTX = 4096


class LlamaRuntime:
    """A GGUF model run by llama.cpp; loaded lazily, one generation at a time.

    Args:
        model: A catalog id or the path of a GGUF file.
        n_ctx: Context size (default: the catalog's ``default_context``, else 4096).
        n_threads: CPU threads, always (default: chosen per generation by ``thread_policy``).
        thread_policy: Chooses the threads of each generation (default: every physical
            core while the machine is otherwise idle and on mains power, else cores − 1).
        n_gpu_layers: Layers to offload to a GPU/Metal when the build supports it.
        prompt_lookup: Draft this many tokens by prompt lookup (0: off; see
            ``benchmarks/speculative.py``).
        draft_model: A smaller model of the same tokenizer (catalog id or GGUF path) that
            drafts ``draft_tokens`` tokens for speculative decoding (None: off).
        draft_tokens: Tokens the draft model guesses per step.
        unload_after_idle_s: Free the model after this long without a generation (0: never).
        unload_on_battery: Free the idle model as soon as the machine runs on battery.
        seed: Sampling seed (None: random).
        meter: Records the tokens repetition stopping saved (None: not recorded).
    """

    def __init__(
        self,
        model: str | Path,
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        thread_policy: ThreadPolicy | None = None,
        n_gpu_layers: int = 0,
        prompt_lookup: int = 0,
        draft_model: str | Path | None = None,
        draft_tokens: int = 4,
        unload_after_idle_s: float = 0.0,
        unload_on_battery: bool = False,
        seed: int | None = None,
        meter: EnergyMeter | None = None,
    ) -> None:
        self.model = model
        self.meter = meter
        self.info = None if store.is_path_like(model) else catalog.get(str(model))
        self.model_id = self.info.id if self.info else Path(model).name
        self._n_ctx = n_ctx or (self.info.default_context if self.info else _FALLBACK_CTX)
        if thread_policy is None:
            thread_policy = default_policy(n_threads or 0)
        elif n_threads:
            thread_policy.fixed = n_threads
        self.threads = thread_policy
        self.n_threads = thread_policy.fixed or thread_policy.background
        self.n_gpu_layers = n_gpu_layers
        self.prompt_lookup = prompt_lookup
        self.draft_model = draft_model
        self.draft_tokens = draft_tokens
        self.unload_rule = UnloadRule(unload_after_idle_s, unload_on_battery)
        self.seed = seed
        self.last_stats = GenerationStats()
        self._llm: Any = None
        self._chat: chat_format.ChatFormatter | None = None
        self._lock = threading.Lock()  # one generation at a time
        self._load_lock = threading.RLock()  # loading/freeing vs. tokenizing in other threads
        self._owner: int | None = None
        self._active: weakref.ref[Any] | None = None
        self._idle_timer: threading.Timer | None = None
        self._idle_since = 0.0
        self.unloaded_because: str | None = None  # why the model left memory, if it did
        self.resident_bytes: int | None = None  # memory the model took (measured at load)
        self._rss_before_load: int | None = None
        self._pending_load_s = 0.0  # load time not yet reported in a generation's stats

    # -- loading ---------------------------------------------------------------------------

    @property
    def n_ctx(self) -> int:
        """The context size (tokens) of the loaded or configured model."""
        return int(self._llm.n_ctx()) if self._llm is not None else self._n_ctx

    @property
    def unload_after_idle_s(self) -> float:
        """Seconds idle before the model is freed (0: kept)."""
        return self.unload_rule.idle_s

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._llm is not None

    def load(self) -> Any:
        """Load the model now (otherwise the first call does). Returns the ``Llama``."""
        with self._load_lock:
            if self._llm is None:
                if self.unloaded_because:  # a request found it unloaded: say why it waits
                    user_messages.info(f"Loading {self.model_id} again (it was unloaded "
                                       f"{self.unloaded_because})…")
                began = time.perf_counter()
                self._rss_before_load = rss_bytes()
                self._llm = self._load()
                self._pending_load_s += time.perf_counter() - began
                self.unloaded_because = None
                self.resident_bytes = None  # measured after the first generation
            return self._llm

    def _load(self) -> Any:
        path, info = store.resolve(self.model)
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelError(
                "llama-cpp-python is not installed.", hint="Run `make setup` (or pip install "
                "llama-cpp-python) in Greenpair's environment."
            ) from exc
        from greenpair.core.llm import backends

        backends.ensure_loaded()  # a portable build's CPU variant (and GPU modules)
        gpu_layers = self.n_gpu_layers
        if gpu_layers and not llama_cpp.llama_supports_gpu_offload():
            user_messages.warning("This llama.cpp build has no GPU support; running on the CPU.")
            gpu_layers = 0
        kwargs: dict[str, Any] = {}
        self.n_threads = self.threads.fixed or self.threads.background
        if self.draft_model is not None:
            from greenpair.core.llm.speculative import DraftModel

            draft_path, _ = store.resolve(self.draft_model)
            kwargs["draft_model"] = DraftModel(draft_path, num_pred_tokens=self.draft_tokens,
                                               n_ctx=self._n_ctx, n_threads=self.n_threads)
            kwargs["logits_all"] = True  # sizes the score buffer; see _decode
        elif self.prompt_lookup:
            from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

            kwargs["draft_model"] = LlamaPromptLookupDecoding(num_pred_tokens=self.prompt_lookup)
            # Drafting needs the logits of every position. Llama sizes its score buffer
            # from the logits_all argument, not from the draft model: without it, prompts
            # past n_batch tokens overflow it. Costs n_ctx × n_vocab floats of RAM.
            kwargs["logits_all"] = True
        if self.seed is not None:
            kwargs["seed"] = self.seed
        try:
            llm = llama_cpp.Llama(
                model_path=str(path), n_ctx=self._n_ctx, n_threads=self.n_threads,
                n_threads_batch=self.n_threads, n_gpu_layers=gpu_layers, verbose=False, **kwargs,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            fix = (f"`greenpair models verify {info.id}` then `greenpair models pull {info.id}`"
                   if info else "check the file, or `greenpair models use` another model")
            raise ModelError(f"llama.cpp could not load {path}: {exc}.", hint=f"Try {fix}.") from exc
        model = llm._model
        meta = llm.metadata
        self._chat = chat_format.ChatFormatter(
            meta.get("tokenizer.chat_template"),
            bos_token=_token_text(model, model.token_bos()),
            eos_token=_token_text(model, model.token_eos()),
        )
        log.info("loaded %s (ctx %d, %d threads)", path, llm.n_ctx(), self.n_threads)
        return llm

    def unload(self) -> None:
        """Free the model's memory (waits for a running generation); the next call reloads."""
        self._cancel_idle_timer()
        self._acquire(None)
        try:
            self._free()
        finally:
            self._release(schedule_idle=False)

    def forget_cache(self) -> None:
        """Drop the KV cache: the next prompt is evaluated from its first token."""
        self._acquire(None)
        try:
            if self._llm is not None:
                self._llm.reset()
        finally:
            self._release(schedule_idle=False)

    def _free(self) -> None:
        with self._load_lock:
            if self._llm is not None:
                draft = getattr(self._llm, "draft_model", None)
                if draft is not None and hasattr(draft, "close"):
                    draft.close()
                self._llm.close()
                self._llm = None
                self._chat = None

    # -- tokens and prompts ----------------------------------------------------------------

    def tokenize(self, text: str, *, special: bool = True, add_bos: bool = False) -> list[int]:
        """Token ids of ``text`` (special-token texts parsed as such when ``special``)."""
        with self._load_lock:  # safe beside a generation; not beside an unload
            llm = self.load()
            return list(llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special))

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with this model's tokenizer (plain text, no BOS)."""
        return len(self.tokenize(text, special=False))

    def format_chat(self, messages: Sequence[Message]) -> str:
        """The prompt text the model sees for ``messages``."""
        with self._load_lock:
            self.load()
            assert self._chat is not None
            return self._chat.render(messages)

    def fim_tokens(self) -> tuple[str, str, str] | None:
        """Texts of the FIM prefix/suffix/middle tokens, or None when the vocab has none."""
        with self._load_lock:
            model = self.load()._model
            ids = (model.token_prefix(), model.token_suffix(), model.token_middle())
            if any(i is None or i < 0 for i in ids):
                return None
            pre, suf, mid = (_token_text(model, i) for i in ids)
            return pre, suf, mid

    @property
    def supports_fim(self) -> bool:
        """Whether the model has fill-in-the-middle tokens."""
        return self.fim_tokens() is not None

    def fim_prompt(self, prefix: str, suffix: str) -> str:
        """A fill-in-the-middle prompt (feed it to ``stream_completion``).

        Raises:
            ModelError: The model has no FIM tokens.
        """
        tokens = self.fim_tokens()
        if tokens is None:
            raise ModelError(
                f"{self.model_id} does not support fill-in-the-middle (its vocabulary has no "
                "FIM tokens).",
                hint="Use a Qwen2.5-Coder model: `greenpair models use qwen2.5-coder-1.5b`.",
            )
        return chat_format.fim_prompt(prefix, suffix, tokens)

    # -- generation ------------------------------------------------------------------------

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 512,
        temperature: float = 0.2,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
        grammar: str | None = None,
    ) -> Iterator[str]:
        """Stream the assistant's reply to ``messages`` in the model's chat format.

        ``grammar`` (GBNF) constrains the reply: tokens that would leave it are never sampled.
        """
        return self._start(
            lambda: self.tokenize(self.format_chat(messages), special=True),
            max_tokens, temperature, stop, cancel, grammar,
        )

    def stream_completion(
        self,
        prompt: str,
        *,
        max_tokens: int = 128,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Stream a raw completion of ``prompt`` (special-token texts such as FIM tokens count)."""
        return self._start(
            lambda: self.tokenize(prompt, special=True, add_bos=True),
            max_tokens, temperature, stop, cancel,
        )

    supports_grammar = True

    def _start(self, build: Callable[[], list[int]], max_tokens: int, temperature: float,
               stop: Sequence[str], cancel: threading.Event | None,
               grammar: str | None = None) -> Iterator[str]:
        holder: list[weakref.ref[Any]] = []
        gen = self._generate(holder, build, max_tokens, temperature, stop, cancel, grammar)
        holder.append(weakref.ref(gen))
        return gen

    def _generate(self, holder: list[weakref.ref[Any]], build: Callable[[], list[int]],
                  max_tokens: int, temperature: float, stop: Sequence[str],
                  cancel: threading.Event | None, grammar: str | None = None) -> Iterator[str]:
        self._acquire(cancel)
        self._active = holder[0] if holder else None
        start = time.perf_counter()
        stats = GenerationStats()
        self.last_stats = stats
        try:
            llm = self.load()
            tokens = build()
            stats.load_s, self._pending_load_s = self._pending_load_s, 0.0
            budget = llm.n_ctx() - len(tokens)
            if budget <= 0:
                raise ModelError(
                    f"The prompt has {len(tokens):,} tokens; {self.model_id}'s context holds "
                    f"{llm.n_ctx():,}.", hint="Ask about less code, or raise `context_size`.",
                )
            stats.prompt_tokens = len(tokens)
            stats.cached_prompt_tokens = _reused_prefix(llm, tokens)
            self._retune(llm)
            stats.threads = self.n_threads
            yield from _decode(llm, tokens, min(max_tokens, budget), temperature, stop,
                               cancel, stats, start, self._retune, _grammar(llm, grammar))
        finally:
            stats.duration_s = time.perf_counter() - start
            if stats.repetition_saved_tokens and self.meter is not None:
                self.meter.record_saving("repetition_tokens_saved",
                                         tokens=stats.repetition_saved_tokens)
            self._active = None
            self._measure_memory()
            self._release(schedule_idle=True)

    def _measure_memory(self) -> None:
        """What the model took: resident memory after its first generation vs before load."""
        if self._llm is None or self.resident_bytes is not None or self._rss_before_load is None:
            return
        now = rss_bytes()
        if now is not None:
            self.resident_bytes = max(0, now - self._rss_before_load)

    def _retune(self, llm: Any) -> None:
        """Give the context the thread count the policy chooses now (if it changed)."""
        if not self.threads.adaptive:
            return
        choice = self.threads.choose()
        if choice.threads != self.n_threads:
            import llama_cpp

            llama_cpp.llama_set_n_threads(llm._ctx.ctx, choice.threads, choice.threads)
            draft = getattr(llm, "draft_model", None)
            if draft is not None and hasattr(draft, "set_threads"):
                draft.set_threads(choice.threads)
            log.debug("%d threads (%s)", choice.threads, choice.reason)
            self.n_threads = choice.threads

    # -- one generation at a time ------------------------------------------------------------

    def _acquire(self, cancel: threading.Event | None) -> None:
        self._cancel_idle_timer()
        if self._owner == threading.get_ident():
            # This thread left a generation suspended: it is abandoned, close it.
            gen = self._active() if self._active else None
            if gen is not None:
                gen.close()
        while not self._lock.acquire(timeout=0.25):  # another thread is generating
            if cancel is not None and cancel.is_set():
                from greenpair.core.errors import Cancelled

                raise Cancelled("Cancelled while waiting for the model.")
        self._owner = threading.get_ident()

    def _release(self, *, schedule_idle: bool) -> None:
        self._owner = None
        self._lock.release()
        if schedule_idle and self._llm is not None:
            self._idle_since = time.monotonic()
            self._schedule_check(0.0)

    def _schedule_check(self, idle_for: float) -> None:
        delay = self.unload_rule.next_check(idle_for)
        if delay is None:
            return
        timer = threading.Timer(delay, self._on_idle)
        timer.daemon = True
        self._idle_timer = timer
        timer.start()

    def _cancel_idle_timer(self) -> None:
        timer, self._idle_timer = self._idle_timer, None
        if timer is not None:
            timer.cancel()

    def _on_idle(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # a generation runs; its end schedules the next look
        try:
            if self._llm is None:
                return
            idle_for = time.monotonic() - self._idle_since
            reason = self.unload_rule.reason(idle_for)
            if reason is None:
                self._schedule_check(idle_for)
                return
            self._free()
            self.unloaded_because = reason
            log.info("unloaded %s %s", self.model_id, reason)
        finally:
            self._lock.release()


def _token_text(model: Any, token: int) -> str:
    if token is None or token < 0:
        return ""
    return str(model.token_get_text(token))


def token_bytes(vocab: Any, token: int) -> bytes:
    """The bytes of one token's text (special tokens give b"").

    ``LlamaModel.token_to_piece`` in 0.3.36 returns its whole 32-byte buffer, NUL padding
    included, so call llama.cpp directly and keep only the written length.
    """
    import ctypes

    import llama_cpp

    buf = ctypes.create_string_buffer(64)
    n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, False)
    if n < 0:  # the piece is longer than the buffer: -n is the size needed
        buf = ctypes.create_string_buffer(-n)
        n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, False)
    return buf.raw[:n]


def _grammar(llm: Any, text: str | None) -> Any:
    """A ``LlamaGrammar`` for GBNF ``text`` (None: unconstrained).

    llama-cpp-python parses the grammar only when it builds the sampler and adds a NULL
    sampler to the chain when parsing fails (a crash later), so parse it once here.

    Raises:
        ModelError: llama.cpp rejects the grammar (a bug of ours, not the user's).
    """
    if not text:
        return None
    import llama_cpp
    from llama_cpp import LlamaGrammar

    check = llama_cpp.llama_sampler_init_grammar(llm._model.vocab, text.encode("utf-8"),
                                                 b"root")
    if not check:
        raise ModelError("llama.cpp rejected the output grammar (see the log).",
                         hint="Report this: it is a bug in Greenpair.")
    llama_cpp.llama_sampler_free(check)
    return LlamaGrammar.from_string(text, verbose=False)


def _reused_prefix(llm: Any, tokens: list[int]) -> int:
    """Prompt tokens ``Llama.generate`` will take from the KV cache instead of evaluating."""
    if llm.n_tokens == 0:
        return 0
    common = llm.longest_token_prefix(llm._input_ids.tolist(), tokens)
    if common == len(tokens):  # generate replays the last token to refresh the logits
        return common if llm.n_tokens == len(tokens) and not llm._requires_eval else common - 1
    return common


def _decode(llm: Any, tokens: list[int], max_new: int, temperature: float, stop: Sequence[str],
            cancel: threading.Event | None, stats: GenerationStats, start: float,
            retune: Callable[[Any], None] | None = None, grammar: Any = None) -> Iterator[str]:
    """The token loop: sample, check, detokenize, yield; stop at a loop (``RepetitionGuard``)
    and look at the machine's load every ``RECHECK_S`` (``retune``)."""
    import llama_cpp

    vocab = llm._model.vocab
    text = StopFilter(stop)
    guard = RepetitionGuard()
    next_check = time.perf_counter() + RECHECK_S
    drafting = llm.draft_model is not None
    if drafting:
        # Llama computes logits for every position when it drafts; the prompt needs only
        # the last one (the output layer for each prompt token is a large extra cost).
        llm._logits_all = False
    stats.stop_reason = "length"
    tokens_iter = llm.generate(tokens, temp=temperature, top_k=40, top_p=0.95, min_p=0.05,
                               repeat_penalty=1.0, grammar=grammar)
    try:
        for token in tokens_iter:
            if cancel is not None and cancel.is_set():
                stats.stop_reason = "cancelled"
                break
            if stats.completion_tokens == 0:
                stats.ttft_s = time.perf_counter() - start
                if drafting:
                    llm._logits_all = True  # drafted tokens are checked in one batch
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                stats.stop_reason = "stop"
                break
            stats.completion_tokens += 1
            piece = text.feed_bytes(token_bytes(vocab, token))
            if piece:
                yield piece
            if text.stopped:
                stats.stop_reason = "stop"
                break
            if stats.completion_tokens >= max_new:
                break
            if guard.feed(token):
                stats.stop_reason = "repetition"
                stats.repetition_saved_tokens = max_new - stats.completion_tokens
                break
            if retune is not None and time.perf_counter() >= next_check:
                retune(llm)
                next_check = time.perf_counter() + RECHECK_S
        tail = text.flush()
        if tail:
            yield tail
    except GeneratorExit:
        stats.stop_reason = "cancelled"
        raise
    finally:
        tokens_iter.close()
