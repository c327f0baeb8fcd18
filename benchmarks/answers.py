"""How often does ``ask`` cite a file that really holds the answer?

Dev set: ``../shared/bench/localization/pytest-9.0.2.jsonl`` (150 real pytest commit
messages, ``gold`` = the source files the commit changed), corpus = the pytest 9.0.2 sdist;
``--dev-set`` takes another set, whose corpus is ``.cache/corpora/<set name>`` (fetched once).
Each query is asked in a fresh conversation as "Which code is responsible for this? <query>"
through the full product path (index → retrieval → packing → the model → citation checks).

Reported, against the same answers:

* cites gold (written): a citation the model wrote (and that passed validation) is in a
  gold file;
* cites gold: also counting the snippets cited because the answer names a function or
  class they define (what ``ask`` shows by default);
* cites gold (with fallback): also counting the top snippets cited when the model cited
  nothing valid;
* gold in context: a gold file was among the snippets shown (the ceiling retrieval sets).

Usage::

    nice .venv/bin/python benchmarks/answers.py [--limit N] [--model ID] [--json OUT]
        [--start N]
    .venv/bin/python benchmarks/answers.py --rescore OUT   # re-check saved answers' citations
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from pathlib import Path
from typing import Any

from bench_paths import BENCH
from bench_paths import corpus as bench_corpus

DEV_SET = BENCH / "pytest-9.0.2.jsonl"
TEMPLATE = "Which code is responsible for this? {query}"



@functools.cache
def _meter() -> Any:
    """One energy meter for this benchmark run (as an entry point's Services has)."""
    from greenpair.core.energy.meter import Meter

    return Meter()

def score(row: dict, corpus: Path) -> dict[str, object]:
    """Check the citations of a saved answer against the snippets it was shown."""
    from greenpair.core.assistant.ask.citations import check_answer
    from greenpair.core.assistant.ask.context import Snippet

    shown = []
    for header in row["context"]:
        path, span = header.rsplit(":", 1)
        lo, hi = (int(x) for x in span.split("-"))
        lines = (corpus / path).read_text(encoding="utf-8").splitlines(keepends=True)
        shown.append(Snippet(path, lo, hi, "".join(lines[lo - 1 : hi])))
    gold = set(row["gold"])
    check = check_answer(row["answer"], shown)
    written = check.citations[: len(check.citations) - check.mentioned]
    return {
        "cites_gold_written": not check.fallback and bool(gold & {c.path for c in written}),
        "cites_gold": not check.fallback and bool(gold & {c.path for c in check.citations}),
        "cites_gold_with_fallback": bool(gold & {c.path for c in check.citations}),
        "gold_in_context": any(s.path in gold for s in shown),
        "fallback": check.fallback,
        "mentioned": check.mentioned,
        "rejected": len(check.rejected),
        "citations": [str(c) for c in check.citations],
    }


def report(rows: list[dict], label: str) -> None:
    """Print the shares."""
    n = len(rows)

    def share(key: str) -> str:
        k = sum(1 for r in rows if r[key])
        return f"{k}/{n} = {k / n:.3f}"

    joules = [r["joules"] for r in rows if r["joules"] is not None]
    print(f"\n{n} queries, {label}")
    print(f"cites gold (citations the model wrote):      {share('cites_gold_written')}")
    print(f"cites gold (+ definitions the answer names): {share('cites_gold')}")
    print(f"cites gold (+ fallback citations):           {share('cites_gold_with_fallback')}")
    print(f"gold in packed context (ceiling):            {share('gold_in_context')}")
    print(f"answers with fallback citations:             {share('fallback')}")
    print(f"citations per answer {sum(len(r['citations']) for r in rows) / n:.2f} "
          f"({sum(r['mentioned'] for r in rows) / n:.2f} from named definitions); "
          f"rejected (invented) citations: {sum(r['rejected'] for r in rows)} in total")
    print(f"mean prompt tokens {sum(r['prompt_tokens'] for r in rows) / n:.0f}, "
          f"completion {sum(r['completion_tokens'] for r in rows) / n:.0f}, "
          f"saved by packing {sum(r['prompt_tokens_saved'] for r in rows) / n:.0f}, "
          f"{sum(r['seconds'] for r in rows) / n:.1f} s/answer"
          + (f", {sum(joules) / len(joules):.0f} J/answer" if joules else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="N queries only (0: all 150).")
    parser.add_argument("--start", type=int, default=0, help="Skip the first N queries.")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--dev-set", type=Path, default=DEV_SET)
    parser.add_argument("--json", type=Path, default=None, help="Write every answer here.")
    parser.add_argument("--rescore", type=Path, default=None,
                        help="Re-check the citations of answers saved with --json (no model).")
    args = parser.parse_args()
    from greenpair.core.assistant.ask.conversation import Answer, AskOptions, Conversation
    from greenpair.core.index import open_index
    from greenpair.core.llm.manager import open_runtime

    corpus = bench_corpus(args.dev_set.stem)  # the set's corpus, fetched once
    index = open_index(corpus)
    t0 = time.perf_counter()
    for _ in index.update():
        pass
    print(f"index ready in {time.perf_counter() - t0:.1f} s: {index.stats().get('chunks')} chunks")
    runtime = open_runtime(args.model, seed=0)
    queries = [json.loads(line) for line in args.dev_set.read_text().splitlines() if line.strip()]
    if args.rescore:
        rows = json.loads(args.rescore.read_text())
        by_id = {q["id"]: q for q in queries}
        for r in rows:
            if "context" not in r:  # saved before contexts were kept: rebuild (no generation)
                conv = Conversation(corpus, runtime=runtime, index=index)
                question = TEMPLATE.format(query=by_id[r["id"]]["query"])
                r["context"] = [s.header for s in conv.context_for(question).snippets]
            r.update(score(r, corpus))
        report(rows, f"re-scored from {args.rescore}")
        return
    queries = queries[args.start:]
    queries = queries[: args.limit] if args.limit else queries
    rows = []
    for q in queries:
        conv = Conversation(corpus, runtime=runtime, index=index, options=AskOptions(),
                            meter=_meter())
        t = time.perf_counter()
        answer = None
        for event in conv.ask(TEMPLATE.format(query=q["query"])):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        row = {
            "id": q["id"], "gold": sorted(q["gold"]), "answer": answer.answer,
            "context": answer.context,
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "prompt_tokens_saved": answer.prompt_tokens_saved,
            "seconds": time.perf_counter() - t,
            "joules": answer.energy.joules if answer.energy else None,
        }
        row.update(score(row, corpus))
        rows.append(row)
        print(f"{q['id']}: gold={int(row['cites_gold'])} fb={int(row['fallback'])} "
              f"ctx={int(row['gold_in_context'])} {row['seconds']:.1f}s {row['citations'][:3]}",
              flush=True)
    report(rows, f"{args.dev_set.name}, model {args.model}, default AskOptions")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
