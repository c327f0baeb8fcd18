"""Train a query adapter for the embedder on how people ask about code (CPU, minutes).

The chunk vectors stay all-MiniLM-L6-v2's (frozen: no index is re-embedded, chunk
embedding speed is unchanged); a request's vector is mapped by ``q + (q U) V`` (rank
``--rank``) and normalised before the nearest chunks are looked up. The map is trained
contrastively with in-batch negatives (InfoNCE) on pairs:

* **docstring → definition**: the first paragraph of a Python function's, method's or
  class's docstring, against the definition chunked as the indexer chunks it
  (``chunk_file``, ``embed_text``) with the docstring taken out;
* **commit message → changed definitions**: for the non-merge commits of repositories with
  history that change 1-3 code files, the message (headline counted twice, as search
  does) against the chunks of the new files that the commit's hunks touch.

Sources: the installed packages of this venv (``--site``) and git repositories
(``--repo``, fetched with their history). The projects of the three dev sets and those
that evaluations of code search commonly use are left out (``EXCLUDED``). Writes
``adapter.npz``, ``manifest.json`` (every package with its version, every repository
with its commit, pair counts) and prints the validation MRR before/after, the time and
the process CPU time (energy is estimated from it).

    python benchmarks/train_embedder.py --out .cache/adapter [--site DIR] \
        [--repo PATH ...] [--per-package 150] [--rank 64] [--epochs 30] \
        [--only all|docstrings|commits] [--reuse --name NAME]
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "app"))

_EXCLUDED_NAMES = (
    """pytest _pytest pluggy pydantic pydantic_core pydantic-core rxjs django flask requests
    black httpx react vue express typescript gin cobra ripgrep tokio gson guava spring-boot
    greenpair"""
)
EXCLUDED = frozenset(_EXCLUDED_NAMES.split())
_WORDS = re.compile(r"[A-Za-z]{2,}")


def _summary(doc: str) -> str | None:
    first = doc.strip().split("\n\n", 1)[0]
    first = " ".join(first.split())
    if len(_WORDS.findall(first)) < 4 or first.startswith((":", ">>>", "..")):
        return None
    return first[:300]


def _strip_docstring(text: str, doc: str) -> str:
    """The definition's text without its docstring literal (so a pair is not a copy)."""
    head = doc.strip().splitlines()[0] if doc.strip() else ""
    if not head:
        return text
    out, skipping, quote = [], False, ""
    for line in text.splitlines():
        s = line.strip()
        if not skipping and not quote and head[:30] in line and s[:3] in ('"""', "'''", 'r""'):
            quote = '"""' if '"""' in s else "'''"
            if s.count(quote) >= 2:
                quote = ""
                continue
            skipping = True
            continue
        if skipping:
            if quote in s:
                skipping, quote = False, ""
            continue
        out.append(line)
    return "\n".join(out)


def _python_pairs(path: Path, rel: str, cap: int) -> list[tuple[str, str]]:
    from greenpair.core.index.updater import embed_text
    from greenpair.core.repo.chunker import chunk_file

    try:
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    docs: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            doc = ast.get_docstring(node)
            if doc:
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                docs[first] = docs[node.lineno] = doc
    pairs = []
    for chunk in chunk_file(rel, text, "python"):
        doc = docs.get(chunk.start_line)
        if chunk.kind not in ("function", "method", "class") or not doc:
            continue
        query = _summary(doc)
        code = _strip_docstring(embed_text(chunk), doc)
        if query and len(code.splitlines()) >= 3:
            pairs.append((query, code))
        if len(pairs) >= cap:
            break
    return pairs


def site_pairs(site: Path, per_package: int, seed: int) -> tuple[list, list]:
    """Docstring pairs from the installed packages (at most ``per_package`` each)."""
    rng = random.Random(seed)
    pairs, manifest = [], []
    for dist in sorted(site.glob("*.dist-info")):
        meta = (dist / "METADATA").read_text(errors="replace") if (dist / "METADATA").exists() else ""
        name = re.search(r"(?m)^Name: (.+)$", meta)
        version = re.search(r"(?m)^Version: (.+)$", meta)
        licence = re.search(r"(?m)^License(?:-Expression)?: (.+)$", meta)
        tops = (dist / "top_level.txt").read_text().split() if (dist / "top_level.txt").exists() \
            else [name.group(1).strip().replace("-", "_").lower()] if name else []
        if not name or name.group(1).strip().lower() in EXCLUDED or any(t in EXCLUDED for t in tops):
            continue
        files = [f for t in tops if (site / t).is_dir() for f in sorted((site / t).rglob("*.py"))
                 if "test" not in f.relative_to(site).as_posix().lower()]
        rng.shuffle(files)
        got: list[tuple[str, str]] = []
        for f in files:
            got += _python_pairs(f, f.relative_to(site).as_posix(), per_package - len(got))
            if len(got) >= per_package:
                break
        if got:
            pairs += [(q, c, name.group(1).strip()) for q, c in got]
            manifest.append({"package": name.group(1).strip(),
                             "version": version.group(1).strip() if version else "?",
                             "licence": licence.group(1).strip()[:80] if licence else "?",
                             "pairs": len(got)})
    return pairs, manifest


_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          errors="replace", check=True).stdout


def commit_pairs(repo: Path, limit: int) -> tuple[list, dict]:
    """Commit message → the definitions its hunks touch, for commits changing 1-3 code files."""
    from greenpair.core.index import categories
    from greenpair.core.index.updater import embed_text
    from greenpair.core.repo.chunker import chunk_file
    from greenpair.core.repo.languages import detect_language

    pairs, used = [], 0
    for sha in _git(repo, "rev-list", "--no-merges", "HEAD").split()[:limit]:
        files = _git(repo, "show", "--format=", "--name-only", "--diff-filter=M", sha).split()
        code = [f for f in files if categories.category(f) == categories.SOURCE]
        if not 1 <= len(code) <= 3:
            continue
        message = _git(repo, "log", "-1", "--format=%B", sha).strip()[:600]
        head = message.split("\n", 1)[0]
        if len(_WORDS.findall(head)) < 3:
            continue
        query = head + "\n" + message
        found = 0
        for f in code:
            diff = _git(repo, "show", "--format=", "-U0", sha, "--", f)
            rows = set()
            for m in _HUNK.finditer(diff):
                start, count = int(m.group(1)), int(m.group(2) or 1)
                rows.update(range(start, start + max(count, 1)))
            try:
                text = _git(repo, "show", f"{sha}:{f}")
            except subprocess.CalledProcessError:
                continue
            lang = detect_language(f, text)
            if not lang or not categories.is_code(lang):
                continue
            for chunk in chunk_file(f, text, lang):
                if rows & set(range(chunk.start_line, chunk.end_line + 1)) and found < 3:
                    pairs.append((query, embed_text(chunk), repo.name))
                    found += 1
        used += bool(found)
    return pairs, {"repository": repo.name, "commit": _git(repo, "rev-parse", "HEAD").strip(),
                   "licence": repo_licence(repo), "commits_used": used, "pairs": len(pairs)}


# The first words that name each common licence in a LICENSE file.
_LICENCES = (("Apache-2.0", re.compile(r"Apache License,?\s+Version 2\.0", re.I)),
             ("MIT", re.compile(r"\bMIT License\b|Permission is hereby granted, free of charge",
                                re.I)),
             ("BSD-3-Clause", re.compile(r"Neither the name of", re.I)),
             ("BSD-2-Clause", re.compile(r"Redistributions in binary form must reproduce", re.I)),
             ("ISC", re.compile(r"\bISC License\b", re.I)),
             ("MPL-2.0", re.compile(r"Mozilla Public License,?\s+(?:Version|v\.) ?2\.0", re.I)))


def repo_licence(repo: Path) -> str:
    """The licences of the repository's LICENSE/COPYING files at HEAD ("?" when none is known)."""
    names = [n for n in _git(repo, "ls-tree", "--name-only", "HEAD").split()
             if re.match(r"(?i)(licen[cs]e|copying)", n)]
    found: list[str] = []
    for name in names:
        text = _git(repo, "show", f"HEAD:{name}")[:4000]
        found += [spdx for spdx, pattern in _LICENCES if pattern.search(text)][:1]
    return " OR ".join(sorted(set(found))) or "?"


def train(q: np.ndarray, c: np.ndarray, groups: list[int], *, rank: int, epochs: int,
          seed: int, temperature: float = 0.05) -> tuple[np.ndarray, np.ndarray, dict]:
    """Fit ``q + (q U) V`` (chunk vectors fixed) with InfoNCE; validation on held-out
    queries (by group: all pairs of one query on the same side)."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    uniq = np.unique(groups)
    val_groups = set(rng.choice(uniq, size=max(1, len(uniq) // 10), replace=False).tolist())
    val = np.array([g in val_groups for g in groups])
    qt, ct = torch.tensor(q), torch.tensor(c)
    gt = torch.tensor(groups)
    u = torch.nn.Parameter(torch.randn(q.shape[1], rank) * 0.01)
    v = torch.nn.Parameter(torch.zeros(rank, q.shape[1]))
    opt = torch.optim.AdamW([u, v], lr=2e-3, weight_decay=0.01)

    def adapt(x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.normalize(x + (x @ u) @ v, dim=1)

    def val_mrr() -> float:
        with torch.no_grad():
            idx = np.flatnonzero(val)
            sims = adapt(qt[idx]) @ ct[idx].T
            rr = []
            for row, i in enumerate(idx):
                order = torch.argsort(sims[row], descending=True)
                hits = (gt[idx][order] == gt[i]).nonzero()
                rr.append(1.0 / (int(hits[0]) + 1))
            return float(np.mean(rr))

    before = val_mrr()
    train_idx = np.flatnonzero(~val)
    best = (before, u.detach().clone(), v.detach().clone(), 0)
    for epoch in range(1, epochs + 1):
        rng.shuffle(train_idx)
        for start in range(0, len(train_idx), 256):
            b = torch.tensor(train_idx[start:start + 256])
            logits = adapt(qt[b]) @ ct[b].T / temperature
            same = gt[b][:, None] == gt[b][None, :]
            logits = logits.masked_fill(same & ~torch.eye(len(b), dtype=torch.bool), -1e4)
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(b)))
            opt.zero_grad()
            loss.backward()
            opt.step()
        score = val_mrr()
        if score > best[0]:
            best = (score, u.detach().clone(), v.detach().clone(), epoch)
    return best[1].numpy(), best[2].numpy(), {"val_mrr_before": before, "val_mrr_after": best[0],
                                              "best_epoch": best[3], "val_pairs": int(val.sum()),
                                              "train_pairs": int((~val).sum())}


def main() -> int:
    import resource

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / ".cache" / "adapter")
    parser.add_argument("--site", type=Path, action="append", default=[])
    parser.add_argument("--repo", type=Path, action="append", default=[])
    parser.add_argument("--per-package", type=int, default=150)
    parser.add_argument("--commits", type=int, default=1500)
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("all", "docstrings", "commits"), default="all")
    parser.add_argument("--reuse", action="store_true",
                        help="train on the pairs' vectors kept by an earlier run in --out")
    parser.add_argument("--name", default="adapter", help="file name of the adapter")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    from greenpair.core.index.embedder import load_embedder

    cache = args.out / "pairs.npz"
    if args.reuse and cache.exists():  # the pairs' vectors of an earlier run
        data = np.load(cache, allow_pickle=False)
        q_all, c_all, groups, kinds = data["q"], data["c"], data["groups"], data["kinds"]
        earlier = json.loads((args.out / "manifest.json").read_text())
        packages, repos, base = earlier["packages"], earlier["repositories"], earlier["base"]
        collected = embedded = 0.0
    else:
        pairs, packages, repos = [], [], []
        for site in args.site:
            got, manifest = site_pairs(site, args.per_package, args.seed)
            pairs += [(q, c, 0) for q, c, _ in got]
            packages += manifest
        for repo in args.repo:
            if repo.name.split("+")[-1].lower() in EXCLUDED:
                continue
            got, manifest = commit_pairs(repo, args.commits)
            pairs += [(q, c, 1) for q, c, _ in got]
            repos.append(manifest)
        collected = time.perf_counter() - started
        queries = sorted({p[0] for p in pairs})
        qid = {t: i for i, t in enumerate(queries)}
        embedder = load_embedder("int8")
        base = embedder.name
        q_vec = embedder.embed(queries).astype(np.float32)
        groups = np.array([qid[p[0]] for p in pairs])
        q_all, c_all = q_vec[groups], embedder.embed([p[1] for p in pairs]).astype(np.float32)
        kinds = np.array([p[2] for p in pairs])
        np.savez(cache, q=q_all, c=c_all, groups=groups, kinds=kinds)
        embedded = time.perf_counter() - started - collected
    keep = {"all": kinds >= 0, "docstrings": kinds == 0, "commits": kinds == 1}[args.only]
    u, v, stats = train(q_all[keep], c_all[keep], groups[keep].tolist(),
                        rank=args.rank, epochs=args.epochs, seed=args.seed)
    path = args.out / f"{args.name}.npz"
    np.savez(path, u=u.astype(np.float32), v=v.astype(np.float32))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = usage.ru_utime + usage.ru_stime
    report = {
        "base": base, "rank": args.rank, "epochs": args.epochs, "seed": args.seed,
        "only": args.only, "pairs": int(keep.sum()), "queries": len(set(groups[keep].tolist())),
        "pairs_by_kind": {"docstring": int((kinds == 0).sum()), "commit": int((kinds == 1).sum())},
        "sha256": digest,
        "parameters": int(u.size + v.size), "packages": packages, "repositories": repos,
        "seconds": {"collect": round(collected, 1), "embed": round(embedded, 1),
                    "total": round(time.perf_counter() - started, 1)},
        "cpu_s": round(cpu_s, 1), "energy_j_estimated": round(cpu_s * 4.0, 1),
        "energy_method": "process CPU time x 4 W per busy core (CodeCarbon's fallback)",
        **stats,
    }
    (args.out / f"{args.name}.json" if args.reuse else args.out / "manifest.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k not in ("packages",)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
