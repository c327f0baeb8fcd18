"""Speculative decoding with a small draft model (llama-cpp-python's ``LlamaDraftModel``).

Qwen2.5-Coder 0.5B and 1.5B share a tokenizer, so the 0.5B can guess the next few tokens
and the 1.5B checks them all in one batch: on a memory-bound CPU, a batch of five costs
little more than one token, and every guess it accepts is a token it did not decode alone.
The draft model keeps its own KV cache in step with the text (it only evaluates what it
has not seen: the prompt once, then the accepted tokens), and drafts greedily.

Whether it pays depends on the machine and the task (``benchmarks/speculative.py``): the
draft model must also read the prompt, and each guess costs a 0.5B decode step. Measured
on the 2-core development VM (2026-12-02, 2 threads, a quiet machine, two answers and
two patches, settings interleaved), generation tok/s against plain decoding: answers
0.32× (draft) and 0.30× (prompt lookup), patches 0.79× and 0.93×. Both stay off by
default; the batched check of drafted tokens also changed greedy answers' wording (batch
and single-token kernels round differently), while patches came out the same.

Two llama-cpp-python details are handled by ``LlamaRuntime``:

* ``Llama`` evaluates *every* position with logits (``logits_all``) when it has a draft
  model, including the prompt, which costs the output layer for each prompt token; the
  runtime turns that off while the prompt is evaluated and on once drafting starts;
* the drafted tokens are checked by the same sampler chain (grammar included), so a
  constrained reply stays constrained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from llama_cpp.llama_speculative import LlamaDraftModel


class DraftModel(LlamaDraftModel):
    """Greedy drafts from a small model of the same tokenizer.

    Args:
        model_path: The draft GGUF.
        num_pred_tokens: Tokens drafted per step.
        n_ctx: Its context (as large as the main model's).
        n_threads: Its CPU threads.
    """

    def __init__(self, model_path: str | Path, *, num_pred_tokens: int = 4, n_ctx: int = 4096,
                 n_threads: int = 1) -> None:
        import llama_cpp

        self.num_pred_tokens = num_pred_tokens
        self.llm = llama_cpp.Llama(model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads,
                                   n_threads_batch=n_threads, verbose=False)
        self._vocab = self.llm._model.vocab
        self._n_vocab = self.llm.n_vocab()
        self.drafted = 0  # tokens proposed, over the model's life

    def set_threads(self, n: int) -> None:
        """Follow the main model's thread count."""
        import llama_cpp

        llama_cpp.llama_set_n_threads(self.llm._ctx.ctx, n, n)

    def close(self) -> None:
        """Free the draft model."""
        self.llm.close()

    def _sync(self, ids: list[int]) -> None:
        """Evaluate what the draft context has not seen of ``ids`` (keeping the common
        prefix); the last position is always evaluated so its logits are fresh."""
        llm = self.llm
        have = llm.input_ids[: llm.n_tokens].tolist()
        common = 0
        for a, b in zip(have, ids, strict=False):
            if a != b:
                break
            common += 1
        common = min(common, len(ids) - 1)
        if common < llm.n_tokens:
            llm._ctx.kv_cache_seq_rm(-1, common, -1)
            llm.n_tokens = common
        llm.eval(ids[common:])

    def _next(self) -> int:
        import llama_cpp

        ptr = llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1)
        logits = np.ctypeslib.as_array(ptr, shape=(self._n_vocab,))
        return int(logits.argmax())

    def __call__(self, input_ids: np.ndarray[Any, Any], /, **kwargs: Any) -> np.ndarray[Any, Any]:
        """Up to ``num_pred_tokens`` guesses after ``input_ids``."""
        import llama_cpp

        ids = input_ids.tolist()
        if not ids:
            return np.array([], dtype=np.intc)
        room = self.llm.n_ctx() - len(ids) - 1
        if room <= 0:
            return np.array([], dtype=np.intc)
        self._sync(ids)
        out: list[int] = []
        for _ in range(min(self.num_pred_tokens, room)):
            token = self._next()
            if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                break
            out.append(token)
            if len(out) < self.num_pred_tokens:
                self.llm.eval([token])
        self.drafted += len(out)
        return np.array(out, dtype=np.intc)
