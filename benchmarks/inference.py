"""Inference benchmark: Greenpair's runtime beside raw llama-cpp-python, same process.

Same model file, same ``Llama`` object, same threads, greedy decoding, runs interleaved:

1. generation tokens/s through ``LlamaRuntime.stream_completion`` vs a raw
   ``Llama.generate`` loop and ``Llama.create_completion(stream=True)`` (target ratio ≥ 0.95);
2. time to first token of a follow-up question sharing a ~1,000-token prefix (system prompt +
   repository code) vs the same conversation cold (target ≤ 0.1×);
3. patch-like generation (rewrite a function with a small change: the output copies the
   prompt) with and without prompt-lookup decoding, the benchmark that decides whether
   ``prompt_lookup`` is worth enabling.

Run: ``nice .venv/bin/python benchmarks/inference.py [--model ID|PATH] [--threads N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from greenpair.core.config import DEFAULT_MODEL, Settings
from greenpair.core.llm.llama import LlamaRuntime, token_bytes
from greenpair.core.llm.manager import open_runtime
from greenpair.core.llm.runtime import Message

ROOT = Path(__file__).resolve().parents[1]
GEN_PROMPT = (
    "<|im_start|>user\nWrite a Python class LRUCache with get, put, resize and __len__, "
    "with docstrings and type hints, then a few pytest tests for it.<|im_end|>\n"
    "<|im_start|>assistant\n"
)


class _Clock:
    """Wall and CPU seconds from the first token to the end of a run.

    CPU time (all threads of this process) is what the decode loop costs and hardly moves
    when other processes compete for the cores; wall time does.
    """

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def first(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def end(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def _raw_generate(llm: Any, prompt: str, n: int) -> tuple[int, float, float]:
    """Raw decode loop: tokens after the first, their wall and CPU seconds."""
    import llama_cpp

    tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
    count, clock = 0, _Clock()
    for token in llm.generate(tokens, temp=0.0, top_k=40, top_p=0.95, min_p=0.05,
                              repeat_penalty=1.0):
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
            break
        token_bytes(llm._model.vocab, token)
        count += 1
        if count == 1:
            clock.first()
        if count >= n:
            break
    return count - 1, *clock.end()


def _raw_completion(llm: Any, prompt: str, n: int) -> tuple[int, float, float]:
    """llama-cpp-python's own streaming API."""
    count, clock = 0, _Clock()
    for _ in llm.create_completion(prompt, max_tokens=n, temperature=0.0, stream=True):
        count += 1
        if count == 1:
            clock.first()
    return count - 1, *clock.end()


def _greenpair(rt: LlamaRuntime, prompt: str, n: int) -> tuple[int, float, float]:
    clock = _Clock()
    for i, _ in enumerate(rt.stream_completion(prompt, max_tokens=n, temperature=0.0)):
        if i == 0:
            clock.first()
    wall, cpu = clock.end()
    return rt.last_stats.completion_tokens - 1, wall, cpu


def generation_speed(rt: LlamaRuntime, n: int, reps: int) -> dict[str, tuple[float, float]]:
    """Median (tokens per wall second, tokens per CPU second) of each way to decode."""
    llm = rt.load()
    fns = {"raw generate loop": lambda: _raw_generate(llm, GEN_PROMPT, n),
           "create_completion stream": lambda: _raw_completion(llm, GEN_PROMPT, n),
           "greenpair runtime": lambda: _greenpair(rt, GEN_PROMPT, n)}
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in fns}
    _greenpair(rt, GEN_PROMPT, 8)  # warm up
    for _ in range(reps):
        for name, fn in fns.items():
            tokens, wall, cpu = fn()
            runs[name].append((tokens / wall, tokens / cpu))
    return {name: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
            for name, v in runs.items()}


def _context() -> str:
    """~1,000 tokens of real code for the shared prefix."""
    text = (ROOT / "app/greenpair/core/llm/model_store.py").read_text(encoding="utf-8")
    return "\n".join(text.splitlines()[:150])


def follow_up_ttft(rt: LlamaRuntime) -> dict[str, float | str]:
    system = Message("system", "You answer questions about this code, citing lines.\n\n"
                     "```python\n" + _context() + "\n```")
    q1 = [system, Message("user", "What does verify() do when the sidecar matches?")]
    rt.forget_cache()
    answer = "".join(rt.stream_chat(q1, max_tokens=48, temperature=0.0))
    cold = rt.last_stats
    q2 = [*q1, Message("assistant", answer),
          Message("user", "And what happens to a truncated file during pull?")]
    list(rt.stream_chat(q2, max_tokens=16, temperature=0.0))
    follow = rt.last_stats
    q3 = [system, Message("user", "Which function renames the .part file?")]
    list(rt.stream_chat(q3, max_tokens=16, temperature=0.0))
    other = rt.last_stats
    rt.forget_cache()
    list(rt.stream_chat(q2, max_tokens=16, temperature=0.0))
    follow_cold = rt.last_stats
    return {
        "prompt tokens (first question)": cold.prompt_tokens,
        "cold first question ttft s": cold.ttft_s,
        "follow-up prompt tokens / cached": f"{follow.prompt_tokens} / {follow.cached_prompt_tokens}",
        "follow-up ttft s (cache)": follow.ttft_s,
        "same follow-up cold ttft s": follow_cold.ttft_s,
        "new question, same prefix, ttft s": other.ttft_s,
        "ratio follow-up/cold (target <= 0.1)": follow.ttft_s / follow_cold.ttft_s,
    }


def _patch_prompt(rt: LlamaRuntime) -> str:
    code = "\n".join((ROOT / "app/greenpair/core/llm/textstream.py").read_text().splitlines()[14:60])
    return rt.format_chat([
        Message("system", "You edit code. Reply with the full edited code only."),
        Message("user", "Rename the attribute `_pending` to `_buffer` everywhere in this "
                "code and return all of it:\n```python\n" + code + "\n```"),
    ])


def prompt_lookup(model: str, threads: int, n: int, drafts: list[int]) -> dict[str, float]:
    out: dict[str, float] = {}
    for draft in [0, *drafts]:
        # n_ctx 2048: prompt lookup keeps n_ctx × n_vocab logits (1.2 GB for Qwen at 2048).
        rt = open_runtime(model, n_threads=threads, prompt_lookup=draft, seed=0, n_ctx=2048)
        prompt = _patch_prompt(rt)
        _greenpair(rt, prompt, 4)
        speeds = []
        for _ in range(2):
            rt.forget_cache()
            tokens, seconds, _ = _greenpair(rt, prompt, n)
            speeds.append(tokens / seconds)
        out[f"prompt lookup {draft or 'off'} tok/s"] = statistics.median(speeds)
        rt.unload()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=Settings().effective_threads())
    parser.add_argument("--tokens", type=int, default=96)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--drafts", default="2,10", help="prompt-lookup draft sizes to try")
    parser.add_argument("--skip", default="", help="comma list: speed,ttft,lookup")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    print(f"model {args.model}, {args.threads} threads, greedy, {args.tokens} tokens")
    rt = open_runtime(args.model, n_threads=args.threads, seed=0)
    t0 = time.perf_counter()
    rt.load()
    print(f"load {time.perf_counter() - t0:.2f} s, n_ctx {rt.n_ctx}")
    if "speed" not in skip:
        speeds = generation_speed(rt, args.tokens, args.reps)
        base_wall, base_cpu = speeds["raw generate loop"]
        print(f"\n== generation (median of {args.reps} interleaved runs)")
        print(f"  {'':<28} {'tok/s':>8} {'ratio':>6}   {'tok/CPU-s':>9} {'ratio':>6}")
        for name, (wall, cpu) in speeds.items():
            print(f"  {name:<28} {wall:8.2f} {wall / base_wall:6.3f}   {cpu:9.2f} "
                  f"{cpu / base_cpu:6.3f}")
    if "ttft" not in skip:
        print("\n== time to first token, shared prefix")
        for label, figure in follow_up_ttft(rt).items():
            shown = f"{figure:.3f}" if isinstance(figure, float) else str(figure)
            print(f"  {label:<40} {shown}")
    rt.unload()
    if "lookup" not in skip:
        drafts = [int(d) for d in args.drafts.split(",") if d]
        print("\n== patch-like generation (output copies the prompt)")
        lookups = prompt_lookup(args.model, args.threads, args.tokens * 2, drafts)
        for label, speed in lookups.items():
            print(f"  {label:<28} {speed:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
