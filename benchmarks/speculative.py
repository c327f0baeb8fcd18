"""Speculative decoding on this machine: plain vs prompt lookup vs the 0.5B drafting.

One process, one model file, three runtimes (plain; ``prompt_lookup``; ``draft_model`` =
Qwen2.5-Coder-0.5B drafting for the 1.5B), each loaded and warmed before anything is timed;
every task runs on the three in turn (the order rotates task by task), greedy, with the
same thread count. Two kinds of task on real code (the pytest 9.0.2 corpus):

* answer: a question about a ~900-token function context, up to 160 tokens of prose;
* patch: a whole-function rewrite with a small change, under the edit grammar (the reply
  copies most of its input: where prompt lookup should shine).

Printed per setting and kind: generation tok/s after the first token, time to first
token, total seconds, and the output matches plain's (it must: greedy drafts are checked).

    nice .venv/bin/python benchmarks/speculative.py [--threads 2] [--corpus DIR]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from bench_paths import corpus

# (file, first line, last line, question or change)
ANSWERS = [
    ("src/_pytest/compat.py", 160, 260, "What does get_real_func do with wrapped functions, "
     "and where is ascii_escaped used for?"),
    ("src/_pytest/nodes.py", 540, 620, "How does _check_initialpaths_for_relpath find the "
     "relative path of a node?"),
]
PATCHES = [
    ("src/_pytest/compat.py", 74, 86, "getlocation",
     "Make getlocation return the location as path:line:function with the function name."),
    ("src/_pytest/compat.py", 218, 226, "get_real_func",
     "In get_real_func, also unwrap a functools.partialmethod (its .func)."),
]


def _snippet(corpus: Path, path: str, lo: int, hi: int) -> Any:
    from greenpair.core.assistant.ask.context import Snippet

    lines = (corpus / path).read_text(encoding="utf-8").splitlines(keepends=True)
    return Snippet(path, lo, min(hi, len(lines)), "".join(lines[lo - 1:hi]), language="python")


def tasks(corpus: Path) -> list[tuple[str, list[Any], str | None, int]]:
    """(kind, messages, grammar, max tokens) of each task."""
    from greenpair.core.assistant.ask import prompts
    from greenpair.core.assistant.patch.edit_grammar import edit_grammar
    from greenpair.core.assistant.patch.prompts import patch_messages
    from greenpair.core.llm.runtime import Message

    out: list[tuple[str, list[Any], str | None, int]] = []
    for path, lo, hi, question in ANSWERS:
        snip = _snippet(corpus, path, lo, hi)
        msgs = [*prompts.ask_prefix(few_shot=True),
                Message("user", prompts.context_message(snip.render(), question))]
        out.append(("answer", msgs, None, 160))
    for path, lo, hi, _name, change in PATCHES:
        snip = _snippet(corpus, path, lo, hi)
        msgs = patch_messages("function", snip.render(), change)
        out.append(("patch", msgs, edit_grammar("function", [snip]), 400))
    return out


def run(rt: Any, messages: list[Any], grammar: str | None, max_tokens: int) -> dict[str, Any]:
    from greenpair.core.assistant.retriever import reset_cache

    reset_cache(rt)  # every setting starts cold: the same prompt work for each
    t0 = time.perf_counter()
    text = "".join(rt.stream_chat(messages, max_tokens=max_tokens, temperature=0.0,
                                  grammar=grammar))
    s = rt.last_stats
    return {"text": text, "tokens": s.completion_tokens, "ttft": s.ttft_s,
            "tok_s": s.tokens_per_s, "seconds": time.perf_counter() - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--draft", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lookup", type=int, default=10, help="prompt-lookup tokens")
    parser.add_argument("--draft-tokens", type=int, default=4)
    parser.add_argument("--corpus", type=Path, default=None,
                        help="default: the pytest 9.0.2 corpus (fetched once)")
    parser.add_argument("--kinds", default="answer,patch")
    parser.add_argument("--per-kind", type=int, default=2, help="tasks of each kind")
    args = parser.parse_args()
    args.corpus = args.corpus or corpus("pytest-9.0.2")

    from greenpair.core.llm.manager import open_runtime
    from greenpair.core.llm.runtime import Message

    common = {"n_threads": args.threads, "n_ctx": 4096, "seed": 0}
    settings = {
        "plain": open_runtime(args.model, **common),
        "lookup": open_runtime(args.model, prompt_lookup=args.lookup, **common),
        "draft": open_runtime(args.model, draft_model=args.draft,
                              draft_tokens=args.draft_tokens, **common),
    }
    for rt in settings.values():  # load and page in the weights, untimed
        rt.load()
        list(rt.stream_chat([Message("user", "Say hi.")], max_tokens=4))
    kinds = set(args.kinds.split(","))
    work = [t for k in ("answer", "patch") if k in kinds
            for t in [t for t in tasks(args.corpus) if t[0] == k][:args.per_kind]]
    print(f"{args.model}, {args.threads} threads; lookup {args.lookup} tokens; draft "
          f"{args.draft} × {args.draft_tokens}; {len(work)} tasks, settings interleaved",
          flush=True)
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    names = list(settings)
    for i, (kind, messages, grammar, max_tokens) in enumerate(work):
        order = names[i % 3:] + names[:i % 3]
        got = {name: run(settings[name], messages, grammar, max_tokens) for name in order}
        for name in names:
            r = got[name]
            r["same"] = r["text"] == got["plain"]["text"]
            rows.setdefault((kind, name), []).append(r)
            print(f"  {kind:6} {name:6} {r['tokens']:4d} tok  {r['tok_s']:5.1f} tok/s  "
                  f"ttft {r['ttft']:5.1f} s  total {r['seconds']:5.1f} s  "
                  f"{'same' if r['same'] else 'DIFFERENT'}", flush=True)
    print(f"\n{'kind':8}{'setting':8}{'tok/s':>8}{'× plain':>9}{'ttft s':>8}{'total s':>9}"
          f"{'n':>4}")
    for kind in ("answer", "patch"):
        base = None
        for name in names:
            rs = rows.get((kind, name))
            if not rs:
                continue
            tok_s = statistics.mean(r["tok_s"] for r in rs)
            base = base or tok_s
            print(f"{kind:8}{name:8}{tok_s:8.1f}{tok_s / base:9.2f}"
                  f"{statistics.mean(r['ttft'] for r in rs):8.1f}"
                  f"{statistics.mean(r['seconds'] for r in rs):9.1f}{len(rs):4d}")
    for rt in settings.values():
        rt.unload()


if __name__ == "__main__":
    main()
