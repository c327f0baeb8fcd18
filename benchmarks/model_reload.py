"""What unloading an idle model costs the next question: reload time vs a warm first token.

One process per run, for each model in turn: load it, warm it up, then ``--rounds`` times
(1) a question on the loaded model with its KV cache dropped (the warm first token: the
prompt is evaluated from its first token, as for a new question), (2) unload, (3) the same
question, which loads the model first (its first-token time includes the load). Greedy,
fixed threads, the same ~700-token prompt (a real source file of this repository and a
question). Printed per model: load seconds, warm and reload first-token seconds, their
ratio, and this process's resident memory loaded vs unloaded.

The model file stays in the page cache after an unload unless memory runs short, so this
is the usual reload on a machine with memory to spare; a reload from disk is slower.

    nice .venv/bin/python benchmarks/model_reload.py [--models smollm2-135m qwen2.5-coder-1.5b]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

SOURCE = Path(__file__).resolve().parent.parent / "app/greenpair/core/llm/lifecycle.py"
QUESTION = "When is the model freed, and what does memory_line show?"


def _messages() -> list[Any]:
    from greenpair.core.llm.runtime import Message

    code = SOURCE.read_text(encoding="utf-8")
    return [Message("system", "You answer questions about code. Be brief."),
            Message("user", f"{SOURCE.name}:\n```python\n{code}\n```\n\n{QUESTION}")]


def _ask(rt: Any, messages: list[Any]) -> Any:
    for _ in rt.stream_chat(messages, max_tokens=8, temperature=0.0):
        pass
    return rt.last_stats


def measure(model: str, rounds: int, threads: int) -> dict[str, Any]:
    """Load, warm, then ``rounds`` × (warm question, unload, reloading question)."""
    from greenpair.core.llm.lifecycle import rss_bytes
    from greenpair.core.llm.llama import LlamaRuntime

    messages = _messages()
    before = rss_bytes() or 0
    rt = LlamaRuntime(model, n_threads=threads)
    began = time.perf_counter()
    rt.load()
    first_load = time.perf_counter() - began
    stats = _ask(rt, messages)  # warm-up (page cache, allocator, first evaluation)
    prompt_tokens = stats.prompt_tokens
    warm, reload, load = [], [], []
    loaded_rss = unloaded_rss = 0
    for _ in range(rounds):
        rt.forget_cache()
        warm.append(_ask(rt, messages).ttft_s)
        loaded_rss = rss_bytes() or 0
        rt.unload()
        unloaded_rss = rss_bytes() or 0
        stats = _ask(rt, messages)
        reload.append(stats.ttft_s)
        load.append(stats.load_s)
    rt.unload()
    w, r = statistics.median(warm), statistics.median(reload)
    return {"model": model, "threads": threads, "prompt_tokens": prompt_tokens,
            "first_load_s": round(first_load, 3), "load_s": [round(x, 3) for x in load],
            "warm_ttft_s": [round(x, 3) for x in warm],
            "reload_ttft_s": [round(x, 3) for x in reload],
            "reload_over_warm": round(r / w, 2) if w else None,
            "rss_before_mb": round(before / 1e6), "rss_loaded_mb": round(loaded_rss / 1e6),
            "rss_unloaded_mb": round(unloaded_rss / 1e6),
            "model_resident_mb": round((rt.resident_bytes or 0) / 1e6)}


def main() -> None:
    """Run and print one JSON line per model."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["smollm2-135m", "qwen2.5-coder-1.5b"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    for model in args.models:
        print(json.dumps(measure(model, args.rounds, args.threads)), flush=True)


if __name__ == "__main__":
    main()
