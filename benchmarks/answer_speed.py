"""Answer time: today's default against the new settings, same process, interleaved.

Questions: the first ``--per-set`` commit messages of each shared localization set, asked
as ``answers.py`` asks them ("Which code is responsible for this? <message>"), each in a
fresh conversation, on the set's corpus and index (``.cache/corpora/<set>``, fetched once; see ``bench_paths``).

* default: the settings before issue 13 — physical cores − 1 threads, 1,400 snippet
  tokens;
* threads: the thread policy's choice while the user waits on an otherwise idle machine
  (every physical core; ``--threads``), 1,400 snippet tokens;
* new: today's ``AskOptions()`` (900 snippet tokens, or ``--context N``) on those threads.

The run of 2026-12-02 that chose 900 (then called "lean"): 20 questions, median answer
41.3 s default, 22.6 s threads, 15.3 s new; model-cited 8/20 in each.

Each has its own runtime of the same model, loaded and warmed before timing; the order
alternates question by question. Printed: time until the sources are shown (retrieval:
the first useful text), time to the first answer token, total time, and citation accuracy
split into model-cited (a citation the model wrote, or a definition the answer names, in
a gold file) and with the fallback citations.

    nice .venv/bin/python benchmarks/answer_speed.py [--sets pytest-9.0.2,rxjs-7.8.2]
        [--per-set 10] [--threads 2] [--context 900]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import time
from typing import Any

from bench_paths import BENCH, CORPORA, corpus

TEMPLATE = "Which code is responsible for this? {query}"



@functools.cache
def _meter() -> Any:
    """One energy meter for this benchmark run (as an entry point's Services has)."""
    from greenpair.core.energy.meter import Meter

    return Meter()

def ask(conv: Any, question: str, gold: set[str]) -> dict[str, Any]:
    from greenpair.core.assistant.ask.conversation import Answer, Sources, Token

    t0 = time.perf_counter()
    sources_s = first_s = 0.0
    answer = None
    for event in conv.ask(question):
        if isinstance(event, Sources):
            sources_s = time.perf_counter() - t0
        elif isinstance(event, Token) and not first_s:
            first_s = time.perf_counter() - t0
        elif isinstance(event, Answer):
            answer = event
    assert answer is not None
    cited = {c.path for c in answer.citations}
    return {"sources_s": sources_s, "ttft_s": first_s, "total_s": time.perf_counter() - t0,
            "model_cited": not answer.citations_fallback and bool(cited & gold),
            "with_fallback": bool(cited & gold), "tokens": answer.completion_tokens,
            "prompt": answer.prompt_tokens}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="pytest-9.0.2,rxjs-7.8.2")
    parser.add_argument("--per-set", type=int, default=10)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=0, help="new setting (0: all cores)")
    parser.add_argument("--context", type=int, default=0,
                        help="snippet budget of the new setting (0: AskOptions' default)")
    args = parser.parse_args()

    from greenpair.core.assistant.ask.conversation import AskOptions, Conversation
    from greenpair.core.config import physical_cores
    from greenpair.core.index import open_index
    from greenpair.core.llm.manager import open_runtime
    from greenpair.core.llm.runtime import Message

    cores = physical_cores()
    threads = args.threads or cores
    runtimes = {"default": open_runtime(args.model, n_threads=max(1, cores - 1), seed=0),
                "threads": open_runtime(args.model, n_threads=threads, seed=0),
                "new": open_runtime(args.model, n_threads=threads, seed=0)}
    options = {"default": AskOptions(context_tokens=1400),
               "threads": AskOptions(context_tokens=1400),
               "new": AskOptions(context_tokens=args.context) if args.context else AskOptions()}
    for rt in runtimes.values():
        rt.load()
        list(rt.stream_chat([Message("user", "Say hi.")], max_tokens=4))
    print(f"{args.model}: default {runtimes['default'].n_threads} threads, new "
          f"{runtimes['new'].n_threads}; {args.per_set} questions per set", flush=True)
    rows: dict[str, list[dict[str, Any]]] = {setting: [] for setting in runtimes}
    i = 0
    for name in args.sets.split(","):
        index = open_index(corpus(name))
        for _ in index.update():
            pass
        lines = (BENCH / f"{name}.jsonl").read_text().splitlines()[:args.per_set]
        for line in lines:
            q = json.loads(line)
            settings = list(runtimes)
            order = settings[i % len(settings):] + settings[:i % len(settings)]
            i += 1
            for setting in order:
                conv = Conversation(CORPORA / name, runtime=runtimes[setting], index=index,
                                    options=options[setting], meter=_meter())
                r = ask(conv, TEMPLATE.format(query=q["query"]), set(q["gold"]))
                r["set"] = name
                rows[setting].append(r)
                print(f"  [{setting:7}] {q['id']:22} sources {r['sources_s']:5.2f} s  ttft "
                      f"{r['ttft_s']:6.1f} s  total {r['total_s']:6.1f} s  "
                      f"{r['prompt']:5d}+{r['tokens']:<4d} model-cited={int(r['model_cited'])}"
                      f" +fb={int(r['with_fallback'])}", flush=True)
        index.close()
    print(f"\n{'setting':9}{'n':>4}{'sources s':>11}{'ttft s':>9}{'total s':>9}"
          f"{'model-cited':>13}{'+fallback':>11}")
    for setting, rs in rows.items():
        n = len(rs)
        print(f"{setting:9}{n:4d}{statistics.median(r['sources_s'] for r in rs):11.2f}"
              f"{statistics.median(r['ttft_s'] for r in rs):9.1f}"
              f"{statistics.median(r['total_s'] for r in rs):9.1f}"
              f"{sum(r['model_cited'] for r in rs):>9}/{n:<3}"
              f"{sum(r['with_fallback'] for r in rs):>7}/{n:<3}")
    d = rows["default"]
    for setting in [s for s in rows if s != "default"]:
        n_ = rows[setting]
        ratio = [a["total_s"] / b["total_s"] for a, b in zip(d, n_, strict=True) if b["total_s"]]
        ttft = [a["ttft_s"] / b["ttft_s"] for a, b in zip(d, n_, strict=True) if b["ttft_s"]]
        print(f"\nper-question speed-up (default / {setting}): total median "
              f"{statistics.median(ratio):.2f}×, first token median "
              f"{statistics.median(ttft):.2f}× (target ≥ 2×)")
    for rt in runtimes.values():
        rt.unload()


if __name__ == "__main__":
    main()
