"""Energy per answer: Greenpair's green defaults against a naive configuration.

Both run in the same process, on the same model, index and questions. The repository is a
copy of Greenpair's own ``app/greenpair`` source (a real, ~100-file Python project) in a
temporary folder; each question has one file that a correct answer must cite.

* naive: ``AskOptions.naive()`` — the KV cache dropped before every question, the top-k
  chunks sent whole, no early stop, a fresh conversation per question;
* green: ``AskOptions()`` — packed context within a token budget, early stop after the
  ``Sources:`` line, one conversation whose cached prefix later questions reuse.

Fair by construction: both settings have the same output budget (``max_tokens``); each has
its own runtime of the same model file (weights shared through mmap; its own KV cache, so
green's cached prefix survives the naive turn between its questions), both loaded and
warmed before anything is timed; the settings alternate question by question (which one
goes first alternates too). Citation accuracy is split: *model* counts a citation the
model wrote or an answer that names a shown definition; *+fallback* also counts the top
snippets cited when the model cited nothing valid.

Energy comes from the meter's windows (``EnergyReport.joules``: the whole system's energy
× Greenpair's CPU share); the sensor is printed. Where no sensor works (this development
machine: no RAPL, no battery, no GPU) the estimate *is* the sensor and every figure is
estimated. Target: ≥ 40 % less energy per answer at equal or better citation accuracy.

    nice .venv/bin/python benchmarks/green.py [--model qwen2.5-coder-1.5b] [--threads 2]
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS: list[tuple[str, str]] = [
    ("Where is the wrap-around of the RAPL energy_uj counters handled?",
     "core/energy/sensors/rapl.py"),
    ("How are old energy ledger rows rolled up into daily totals?", "core/energy/ledger.py"),
    ("Which function decides whether Greenpair may connect to a network host?",
     "core/privacy.py"),
    ("How are settings read from the JSON file and their types checked?", "core/config.py"),
    ("How does the answer stream stop early once the Sources line is written?",
     "core/assistant/ask/streaming.py"),
    ("Where is a model file's sha256 compared with the catalog?", "core/llm/model_store.py"),
    ("How is the grid carbon intensity chosen from the country setting?",
     "core/energy/carbon.py"),
    ("How does the repository walker recognise secret files that must never be indexed?",
     "core/repo/walker.py"),
]


@dataclass
class Result:
    question: str
    expected: str
    joules: float
    estimated: bool
    sensor: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cited: list[str]
    fallback: bool = False

    @property
    def correct(self) -> bool:
        """Cites the expected file, fallback citations included."""
        return any(path.endswith(self.expected) for path in self.cited)

    @property
    def model_correct(self) -> bool:
        """Cites the expected file through a citation the model made."""
        return self.correct and not self.fallback



@functools.cache
def _meter() -> Any:
    """One energy meter for this benchmark run (as an entry point's Services has)."""
    from greenpair.core.energy.meter import Meter

    return Meter()

def make_repo(dest: Path) -> Path:
    """Greenpair's own package source, copied (Python files only)."""
    src = ROOT / "app" / "greenpair"
    for path in sorted(src.rglob("*.py")):
        target = dest / "greenpair" / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return dest


def ask(conv: Any, question: str, expected: str) -> Result:
    from greenpair.core.assistant.ask.conversation import Answer

    t0 = time.perf_counter()
    answer = None
    for event in conv.ask(question):
        if isinstance(event, Answer):
            answer = event
    assert answer is not None
    energy = answer.energy
    assert energy is not None
    assert energy.joules is not None
    return Result(
        question=question, expected=expected, joules=energy.joules,
        estimated=energy.estimated, sensor=energy.sensor,
        prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens,
        seconds=time.perf_counter() - t0, cited=[c.path for c in answer.citations],
        fallback=answer.citations_fallback,
    )


def _show(name: str, r: Result) -> None:
    verdict = "ok " if r.model_correct else ("fb " if r.correct else "MISS")
    print(f"  [{name}] {r.joules:7.1f} J  {r.prompt_tokens:5d}+{r.completion_tokens:<4d} tok "
          f"{r.seconds:5.1f} s  {verdict} {r.expected}  "
          f"cited: {', '.join(dict.fromkeys(r.cited)) or '-'}", flush=True)


def run_interleaved(repo: Path, runtimes: dict[str, Any], index: Any,
                    questions: list[tuple[str, str]]) -> dict[str, list[Result]]:
    """Both settings, question by question, alternating which goes first."""
    from greenpair.core.assistant.ask.conversation import AskOptions, Conversation

    results: dict[str, list[Result]] = {"naive": [], "green": []}
    green = Conversation(repo, runtime=runtimes["green"], index=index, options=AskOptions(),
                         meter=_meter())
    for i, (question, expected) in enumerate(questions):
        for name in (("naive", "green") if i % 2 == 0 else ("green", "naive")):
            conv = green if name == "green" else Conversation(
                repo, runtime=runtimes["naive"], index=index, options=AskOptions.naive(),
                meter=_meter())
            r = ask(conv, question, expected)
            results[name].append(r)
            _show(name, r)
    return results


def warm(runtime: Any) -> None:
    """Load the model and run one short generation (page in the weights) untimed."""
    from greenpair.core.assistant.retriever import reset_cache
    from greenpair.core.llm.runtime import Message

    runtime.load()
    for _ in runtime.stream_chat([Message("user", "Say hi.")], max_tokens=4):
        pass
    reset_cache(runtime)


def summary(results: list[Result]) -> dict[str, float]:
    joules = statistics.mean(r.joules for r in results)
    accuracy = sum(r.model_correct for r in results) / len(results)
    with_fallback = sum(r.correct for r in results) / len(results)
    tokens = sum(r.completion_tokens for r in results)
    return {
        "joules": joules,
        "accuracy": accuracy,
        "with_fallback": with_fallback,
        "prompt": statistics.mean(r.prompt_tokens for r in results),
        "completion": statistics.mean(r.completion_tokens for r in results),
        "seconds": statistics.mean(r.seconds for r in results),
        "j_per_token": sum(r.joules for r in results) / tokens if tokens else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--questions", type=int, default=len(QUESTIONS))
    args = parser.parse_args()

    from greenpair.core.config import models_dir

    real_models = models_dir()
    home = Path(tempfile.mkdtemp(prefix="gp-green-bench-"))
    (home / "models").symlink_to(real_models, target_is_directory=True)
    os.environ["GREENPAIR_HOME"] = str(home)

    from greenpair.core.index import open_index
    from greenpair.core.llm.manager import open_runtime

    meter = _meter()
    print(f"sensor: {meter.sensor_name} — {meter.sensor.description}"
          + ("\n  (no RAPL, battery or GPU sensor here: the estimate is the sensor; "
             "all figures are ESTIMATED)" if meter.estimated else ""))
    repo = make_repo(home / "repo")
    questions = QUESTIONS[: args.questions]
    files = sum(1 for _ in repo.rglob("*.py"))
    with meter.window("index", record=False) as w_index:
        index = open_index(repo)
        for _ in index.update():
            pass
    assert w_index.report is not None
    print(f"repository: {files} Python files of Greenpair's own source; index built in "
          f"{w_index.report.duration_s:.1f} s, {w_index.report.joules:.1f} J")
    runtimes = {name: open_runtime(args.model, n_threads=args.threads)
                for name in ("naive", "green")}
    for rt in runtimes.values():
        warm(rt)
    first = runtimes["green"]
    print(f"model: {first.model_id}, {args.threads} threads, n_ctx {first.n_ctx}; "
          f"{len(questions)} questions, settings interleaved, both warmed", flush=True)

    results = run_interleaved(repo, runtimes, index, questions)
    naive, green = results["naive"], results["green"]
    for rt in runtimes.values():
        rt.unload()
    index.close()

    n, g = summary(naive), summary(green)
    print()
    print(f"{'':8}{'J/answer':>10}{'cite model':>11}{'+fallback':>10}{'prompt tok':>12}"
          f"{'gen tok':>9}{'s/answer':>10}{'J/gen tok':>11}")
    for label, s in (("naive", n), ("green", g)):
        print(f"{label:8}{s['joules']:10.1f}{s['accuracy']:11.2f}{s['with_fallback']:10.2f}"
              f"{s['prompt']:12.0f}{s['completion']:9.0f}{s['seconds']:10.1f}"
              f"{s['j_per_token']:11.2f}")
    saving = 1 - g["joules"] / n["joules"]
    est = " (estimated)" if any(r.estimated for r in naive + green) else ""
    print(f"\nenergy per answer: green uses {saving * 100:.1f} % less than naive{est}; "
          f"model-cited accuracy {g['accuracy']:.2f} vs {n['accuracy']:.2f} "
          f"(with fallback {g['with_fallback']:.2f} vs {n['with_fallback']:.2f})")
    ok = saving >= 0.40 and g["accuracy"] >= n["accuracy"]
    print(f"target (>= 40 % less at equal or better model-cited accuracy): "
          f"{'PASS' if ok else 'FAIL'}")
    print(f"sensor used: {naive[0].sensor}{est}")
    meter.close()
    shutil.rmtree(home, ignore_errors=True)  # the models link is removed, not followed


if __name__ == "__main__":
    main()
