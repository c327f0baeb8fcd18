"""Fine-tune the embedder itself on how people ask about code (GPU: minutes; CPU: small runs).

Where ``train_embedder.py`` fits an adapter on frozen vectors (CPU, no re-embedding), this
trains every weight of the packaged all-MiniLM-L6-v2 (22.7 M parameters: the same size,
so the same embedding speed, and the same int8 export of about 23 MB) contrastively on the
same pairs, with in-batch negatives (InfoNCE, both directions, cosine × ``--scale``):

* docstring → definition, from the installed packages of ``--site`` folders;
* commit message → the definitions the commit changed, from ``--repo`` git repositories
  (fetched with their history).

The dev sets' projects and the projects evaluations of code search commonly use are left
out (``train_embedder.EXCLUDED``). Queries are split 90/10 (all pairs of one query on
one side); the validation MRR (each held-out query against all held-out code) is measured
before training and every ``--eval-every`` steps, and the best step is kept.

Writes to ``--out``: ``model/`` (a sentence-transformers folder: point the
``embedder_model`` setting at it, and Greenpair exports, verifies and uses it; the
packaged model stays the default), ``pairs.jsonl`` (every pair with its source, to train
again with ``--pairs``) with ``sources.json``, ``manifest.json`` (sources with versions/commits and licences,
steps, seconds, energy, validation MRR, parameter count, the weights' sha256) and
``MODEL_CARD.md``.

    python benchmarks/finetune_embedder.py --out .cache/code-embedder \\
        --site .venv/lib/python3.11/site-packages --repo <git repo> ... \\
        [--pairs PAIRS.jsonl] [--steps 2000] [--batch 64] [--lr 3e-5] [--device auto]

Energy: on a GPU, the board's power from ``nvidia-smi`` sampled once a second (summed
over the run); on the CPU, the process CPU time × 4 W per busy core (an estimate).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCES = "sources.json"  # the packages and repositories pairs.jsonl came from
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "app"))
sys.path.insert(0, str(HERE))


def collect(sites: list[Path], repos: list[Path], per_package: int, commits: int,
            seed: int) -> tuple[list[dict[str, str]], list[dict], list[dict]]:
    """Pairs (query, code, kind, source) from the packages and the repositories."""
    from train_embedder import EXCLUDED, commit_pairs, site_pairs

    pairs: list[dict[str, str]] = []
    packages: list[dict] = []
    repositories: list[dict] = []
    for site in sites:
        got, manifest = site_pairs(site, per_package, seed)
        pairs += [{"query": q, "code": c, "kind": "docstring", "source": s} for q, c, s in got]
        packages += manifest
    for repo in repos:
        if repo.name.split("+")[-1].lower() in EXCLUDED:
            print(f"skipping {repo}: an excluded project", file=sys.stderr)
            continue
        got, manifest = commit_pairs(repo, commits)
        pairs += [{"query": q, "code": c, "kind": "commit", "source": s} for q, c, s in got]
        repositories.append(manifest)
    return pairs, packages, repositories


def split(pairs: list[dict[str, str]], seed: int) -> tuple[list[int], list[int]]:
    """Train and validation indices, by query (every pair of a query on one side)."""
    queries = sorted({p["query"] for p in pairs})
    rng = random.Random(seed)
    held = set(rng.sample(queries, max(1, len(queries) // 10)))
    val = [i for i, p in enumerate(pairs) if p["query"] in held]
    train = [i for i, p in enumerate(pairs) if p["query"] not in held]
    return train, val


class PowerSampler:
    """The GPU board's power (``nvidia-smi``), sampled once a second in a thread."""

    def __init__(self) -> None:
        self.joules = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(1.0):
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=power.draw",
                                      "--format=csv,noheader,nounits"], capture_output=True,
                                     text=True, timeout=5, check=True).stdout
                watts = sum(float(x) for x in out.split())
            except (OSError, subprocess.SubprocessError, ValueError):
                continue
            now = time.monotonic()
            self.joules += watts * (now - last)
            last = now

    def __enter__(self) -> PowerSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def train(pairs: list[dict[str, str]], out: Path, *, steps: int, batch: int, lr: float,
          scale: float, max_len: int, eval_every: int, device: str, seed: int) -> dict[str, Any]:
    """Fine-tune the packaged model on ``pairs``; the best step's model goes to out/model."""
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from greenpair.core.index import onnx_export

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = SentenceTransformer(str(onnx_export.source_dir()), device=device)
    model.max_seq_length = max_len
    train_idx, val_idx = split(pairs, seed)
    queries = [p["query"] for p in pairs]
    codes = [p["code"] for p in pairs]

    def encode(texts: list[str]) -> torch.Tensor:
        prepare = getattr(model, "preprocess", None) or model.tokenize
        features = {k: v.to(device) for k, v in prepare(texts).items()
                    if isinstance(v, torch.Tensor)}
        return torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=1)

    def val_mrr() -> float:
        model.eval()
        with torch.no_grad():
            vq = model.encode([queries[i] for i in val_idx], batch_size=128,
                              convert_to_tensor=True, normalize_embeddings=True)
            vc = model.encode([codes[i] for i in val_idx], batch_size=128,
                              convert_to_tensor=True, normalize_embeddings=True)
        model.train()
        sims = (vq @ vc.T).cpu().numpy()
        ids = [queries[i] for i in val_idx]
        rr = []
        for row, query in enumerate(ids):
            order = np.argsort(-sims[row])
            rank = next(r for r, j in enumerate(order) if ids[j] == query)
            rr.append(1.0 / (rank + 1))
        return float(np.mean(rr))

    before = val_mrr()
    best = (before, 0)
    (out / "model").mkdir(parents=True, exist_ok=True)
    model.save(str(out / "model"))  # step 0: the base model, replaced by a better step
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    use_amp = device.startswith("cuda")
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    order: list[int] = []
    losses: list[float] = []
    model.train()
    for step in range(1, steps + 1):
        picked: list[int] = []
        seen: set[str] = set()
        while len(picked) < batch:  # one pair per query: no false negatives in a batch
            if not order:
                order = train_idx[:]
                rng.shuffle(order)
            i = order.pop()
            if queries[i] not in seen:
                seen.add(queries[i])
                picked.append(i)
        with torch.autocast("cuda", enabled=use_amp):
            q = encode([queries[i] for i in picked])
            c = encode([codes[i] for i in picked])
            logits = (q @ c.T).float() * scale
            labels = torch.arange(len(picked), device=logits.device)
            loss = (torch.nn.functional.cross_entropy(logits, labels)
                    + torch.nn.functional.cross_entropy(logits.T, labels)) / 2
        optimiser.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimiser)
        scaler.update()
        schedule.step()
        losses.append(loss.item())
        if step % eval_every == 0 or step == steps:
            score = val_mrr()
            print(json.dumps({"step": step, "loss": round(float(np.mean(losses[-eval_every:])), 4),
                              "val_mrr": round(score, 4)}), flush=True)
            if score > best[0]:
                best = (score, step)
                model.save(str(out / "model"))
    return {"val_mrr_before": round(before, 4), "val_mrr_after": round(best[0], 4),
            "best_step": best[1], "train_pairs": len(train_idx), "val_pairs": len(val_idx),
            "parameters": sum(p.numel() for p in model.parameters())}


def model_card(report: dict[str, Any]) -> str:
    """The model card: what it is, what it learned from, how it was measured."""
    licences = sorted({p.get("licence", "?") for p in report["packages"]})
    repos = ", ".join(f"{r['repository']} ({r.get('licence', '?')})"
                      for r in report["repositories"])
    lines = [
        "# Greenpair code embedder (all-MiniLM-L6-v2 fine-tuned on code)", "",
        f"- base: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), "
        f"{report['parameters']:,} parameters; 384-dim, mean pooling, max "
        f"{report['max_len']} tokens",
        f"- training: {report['steps']} steps × batch {report['batch']}, lr {report['lr']}, "
        f"InfoNCE both ways, scale {report['scale']}, device {report['device']}, "
        f"{report['seconds']['train']} s, {report['energy_j']} J ({report['energy_method']})",
        f"- pairs: {report['pairs']} ({report['pairs_by_kind']}); validation MRR on held-out "
        f"queries {report['val_mrr_before']} → {report['val_mrr_after']} (step "
        f"{report['best_step']})",
        f"- data: {len(report['packages'])} packages (licences: {', '.join(licences)}) and "
        f"{len(report['repositories'])} repositories ({repos}); every one, with its version "
        "or commit, is listed in manifest.json",
        "- left out: the three dev sets' projects and the projects code-search evaluations "
        "use (train_embedder.EXCLUDED)",
        f"- weights sha256: {report['sha256']}",
        "", "Use: `greenpair config set embedder_model <this folder>/model` (the index "
        "re-embeds); `greenpair config set embedder_model \"\"` goes back to the packaged "
        "model. Kept as the default only if benchmarks/retrieval.py shows it raises the mean "
        "over the three dev sets.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".cache" / "code-embedder")
    parser.add_argument("--site", type=Path, action="append", default=[])
    parser.add_argument("--repo", type=Path, action="append", default=[])
    parser.add_argument("--pairs", type=Path, help="pairs.jsonl of an earlier run (no collecting)")
    parser.add_argument("--per-package", type=int, default=400)
    parser.add_argument("--commits", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--scale", type=float, default=20.0)
    parser.add_argument("--max-len", type=int, default=256)
    parser.add_argument("--eval-every", type=int, default=200)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" \
        else args.device
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if args.pairs:
        rows = [json.loads(line) for line in args.pairs.read_text().splitlines() if line]
        pairs, meta = rows, json.loads((args.pairs.parent / SOURCES).read_text())
        packages, repositories = meta.get("packages", []), meta.get("repositories", [])
        if args.pairs.resolve() != (args.out / "pairs.jsonl").resolve():
            shutil.copyfile(args.pairs, args.out / "pairs.jsonl")
            shutil.copyfile(args.pairs.parent / SOURCES, args.out / SOURCES)
    else:
        pairs, packages, repositories = collect(args.site, args.repo, args.per_package,
                                                args.commits, args.seed)
        with (args.out / "pairs.jsonl").open("w") as fh:
            for p in pairs:
                fh.write(json.dumps(p) + "\n")
        (args.out / SOURCES).write_text(json.dumps(
            {"packages": packages, "repositories": repositories}, indent=2))
    if len({p["query"] for p in pairs}) < 20 or len(pairs) < args.batch:
        raise SystemExit(f"{len(pairs)} pairs are too few to train on; give --site folders "
                         "with installed packages or --repo repositories with history.")
    collected = time.perf_counter() - started
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    power = PowerSampler() if device.startswith("cuda") else None
    with power or contextlib.nullcontext():
        stats = train(pairs, args.out, steps=args.steps, batch=args.batch, lr=args.lr,
                      scale=args.scale, max_len=args.max_len, eval_every=args.eval_every,
                      device=device, seed=args.seed)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = usage.ru_utime + usage.ru_stime - usage0.ru_utime - usage0.ru_stime
    if power is not None:
        energy, method = power.joules, "GPU board power (nvidia-smi, 1 Hz), GPU only"
    else:
        energy, method = cpu_s * 4.0, "process CPU time x 4 W per busy core (estimate)"
    weights = args.out / "model" / "model.safetensors"
    kinds: dict[str, int] = {}
    for p in pairs:
        kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
    report = {
        "base": "sentence-transformers/all-MiniLM-L6-v2", "device": device,
        "steps": args.steps, "batch": args.batch, "lr": args.lr, "scale": args.scale,
        "max_len": args.max_len, "seed": args.seed, "pairs": len(pairs),
        "pairs_by_kind": kinds, "packages": packages, "repositories": repositories,
        "seconds": {"collect": round(collected, 1),
                    "train": round(time.perf_counter() - started - collected, 1)},
        "cpu_s": round(cpu_s, 1), "energy_j": round(energy, 1), "energy_method": method,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(), **stats,
    }
    (args.out / "manifest.json").write_text(json.dumps(report, indent=2))
    (args.out / "MODEL_CARD.md").write_text(model_card(report))
    print(json.dumps({k: v for k, v in report.items()
                      if k not in ("packages", "repositories")}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
