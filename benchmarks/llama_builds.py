"""Portable llama.cpp build (all CPU variants, picked at run time) beside the native build.

Both wheels come from ``packaging/install-llama.sh --build-only`` (built once by setup; the
native one with ``GREENPAIR_LLAMA_BUILD=native``). Each is unpacked into its own folder and
measured in a child process (one llama.cpp per process), rounds interleaved A B A B … so a
change in machine load hits both. Same model, threads, prompt and greedy decoding.
Prints prompt and generation tokens/s per build and the portable/native ratio (target ≥ 0.95).

Run: ``nice .venv/bin/python benchmarks/llama_builds.py [--model ID] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROMPT = (
    "<|im_start|>user\nExplain what this function does and suggest a test.\n\n"
    + "def total_price(items, discount=None):\n    total = 0\n"
    + "    for name, price, qty in items:\n        total += price * qty\n" * 12
    + "    return total if discount is None else total * (1 - discount)\n<|im_end|>\n"
    "<|im_start|>assistant\n"
)

# Runs in the child: PYTHONPATH puts one build's llama_cpp first.
_CHILD = r"""
import json, sys, time
from greenpair.core.llm import backends
backends.ensure_loaded()
import llama_cpp
info = backends.build_info()
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=2048, n_threads=int(sys.argv[2]),
                      n_threads_batch=int(sys.argv[2]), verbose=False, seed=1)
prompt, n_gen = sys.argv[3], int(sys.argv[4])
tokens = llm.tokenize(prompt.encode(), add_bos=True, special=True)
results = []
for _ in range(int(sys.argv[5])):
    llm.reset()
    start = time.perf_counter()
    llm.eval(tokens)
    prompt_s = time.perf_counter() - start
    count, start = 0, time.perf_counter()
    for token in llm.generate(tokens, temp=0.0):  # reuses the evaluated prompt
        count += 1
        if count >= n_gen:
            break
    gen_s = time.perf_counter() - start
    results.append([len(tokens) / prompt_s, count / gen_s])
print(json.dumps({"variant": info.cpu_variant, "kind": info.kind, "runs": results}))
"""


def _wheel(kind: str) -> Path:
    pip = Path(sys.executable).parent / "pip"
    env = {**os.environ, "GREENPAIR_LLAMA_BUILD": kind, "GREENPAIR_LLAMA_NO_BUILD": "1"}
    out = subprocess.run(
        ["sh", str(ROOT / "packaging" / "install-llama.sh"), str(pip), "0.3.36", "--build-only"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    return Path(out.strip().splitlines()[-1])


def _unpack(wheel: Path, target: Path) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target, [m for m in zf.namelist() if m.startswith("llama_cpp/")])
    return target


def _measure(site: Path, model: Path, threads: int, n_gen: int, runs: int) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "app")])}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(model), str(threads), PROMPT, str(n_gen), str(runs)],
        env=env, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    from greenpair.core.config import physical_cores
    from greenpair.core.llm.model_store import find_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=physical_cores())
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    for kind in ("portable", "native"):
        parser.add_argument(f"--{kind}-wheel", type=Path, default=None,
                            help=f"the {kind} wheel (default: setup's cached build)")
    args = parser.parse_args()
    model = find_model(args.model)
    if model is None:
        raise SystemExit(f"model {args.model} not pulled")
    with tempfile.TemporaryDirectory() as tmp:
        wheels = {"portable": args.portable_wheel or _wheel("portable"),
                  "native": args.native_wheel or _wheel("native")}
        sites = {kind: _unpack(wheel, Path(tmp) / kind) for kind, wheel in wheels.items()}
        runs: dict[str, list[list[float]]] = {kind: [] for kind in sites}
        variant = {}
        for _ in range(args.rounds):
            for kind, site in sites.items():
                result = _measure(site, model, args.threads, args.tokens, 1)
                runs[kind] += result["runs"]
                variant[kind] = f"{result['kind']}" + (
                    f" ({result['variant']})" if result["variant"] else "")
    print(f"model {args.model}, {args.threads} threads, prompt {len(PROMPT)} chars, "
          f"{args.tokens} generated tokens, {args.rounds} interleaved rounds")
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v))
           for k, v in runs.items()}
    for kind in sites:
        print(f"  {kind:9s} {variant[kind]:22s} prompt {med[kind][0]:7.1f} tok/s   "
              f"generation {med[kind][1]:6.2f} tok/s   runs {runs[kind]}")
    print(f"  portable/native: prompt {med['portable'][0] / med['native'][0]:.3f}x, "
          f"generation {med['portable'][1] / med['native'][1]:.3f}x (target >= 0.95)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
