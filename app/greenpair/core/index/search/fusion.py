"""One fusion of the evidence into a file ranking, then the request's intent.

Chunk-level signals become file scores by aggregation: a file's best chunk, times a
bonus that saturates with the number of its other matching chunks (more passages that
match make a file likelier, but a long file that mentions everything must not win on
volume). Every signal's file scores are scaled to a best of 1 and summed with the
signal's weight (CombSUM): the scale is per request, so no score needs calibrating
across repositories, and a file far ahead in one signal keeps its margin. Then intent: a
request to change or explain behaviour is about source files, so tests, docs, examples,
changelogs and config are scaled down unless the request mentions them; when its first
sentence is about tests, examples or the changelog, those files come first. A type stub
(``.pyi``, ``.d.ts``) beside its implementation steps back behind it. Files the request
names keep their score whatever their category.

The one setting (``DEFAULT``) was chosen on the mean over the three localization sets
(``benchmarks/retrieval.py`` prints it with an ablation of every signal and stage).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from greenpair.core.index import categories
from greenpair.core.index.search.evidence import Evidence, best_first
from greenpair.core.index.search.query import intents, primary_intents

if TYPE_CHECKING:
    from greenpair.core.index.lexical import LexicalModel

RRF_K = 20
# Score factor of a category the request is not about (source files keep 1.0).
OFF_INTENT = {
    categories.TEST: 0.35,
    categories.DOCS: 0.35,
    categories.EXAMPLE: 0.35,
    categories.CHANGELOG: 0.2,
    categories.CONFIG: 0.5,
    categories.OTHER: 0.6,
}
# Score factor of source files when the request is about another category ("add tests").
SOURCE_WHEN_OTHER_INTENT = 0.6
# Score factor of a type stub (``x.pyi``, ``x.d.ts``) beside its implementation (``x.py``,
# ``x.ts``/``x.js``): it repeats the implementation's names and docs, but a change to
# behaviour is made in the implementation.
STUB_WITH_TWIN = 0.5
_STUB_TWINS = ((".pyi", (".py",)), (".d.ts", (".ts", ".tsx", ".js", ".mjs", ".cjs")))


@dataclass(frozen=True)
class Ranking:
    """The setting of the fusion (one for every repository).

    Attributes:
        weights: Signal → weight of its max-normalised file scores (0 leaves it out).
        bonus: The most a file's other matching chunks add to its best chunk (as a
            share of it); 0 scores a file by its best chunk alone.
        intent: Scale files by category and the request's intent.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: {
        "file": 0.5, "chunk": 1.0, "dense": 1.0, "phrase": 0.3, "symbol": 0.2,
        "qualified": 0.3, "path": 0.3, "exports": 1.0, "reexport": 0.3, "history": 0.5,
    })
    bonus: float = 0.2
    intent: bool = True

    def stages(self) -> dict[str, dict[str, object]]:
        """The stages an ablation can switch off, with the change that does it."""
        return {"chunk bonus": {"bonus": 0.0}, "intent": {"intent": False}}


DEFAULT = Ranking()
CHUNK_SIGNALS = ("chunk", "dense", "phrase")
_SATURATION = 3.0  # other matching chunks at which the bonus reaches 63 % of its most


def per_file(lex: LexicalModel, chunk_scores: dict[int, float], bonus: float) -> dict[int, float]:
    """A file's score from its chunks: the best one times ``1 + bonus * (1 - e^(-n/3))``
    for its ``n`` other matching chunks."""
    per: dict[int, list[float]] = defaultdict(list)
    for pos, score in chunk_scores.items():
        per[int(lex.chunk_file[pos])].append(score)
    out: dict[int, float] = {}
    for f, scores in per.items():
        more = 1 - math.exp(-(len(scores) - 1) / _SATURATION)
        out[f] = max(scores) * (1 + bonus * more)
    return out


def file_evidence(lex: LexicalModel, ev: Evidence, ranking: Ranking) -> dict[str, dict[int, float]]:
    """Every used signal's file scores."""
    out: dict[str, dict[int, float]] = {}
    for name, weight in ranking.weights.items():
        if weight <= 0:
            continue
        if name in CHUNK_SIGNALS:
            out[name] = per_file(lex, ev.chunks.get(name, {}), ranking.bonus)
        else:
            out[name] = ev.files.get(name, {})
    return out


def fuse(lex: LexicalModel, ev: Evidence, ranking: Ranking = DEFAULT) -> dict[int, float]:
    """File position → fused score (intent applied)."""
    fused: dict[int, float] = defaultdict(float)
    for name, scores in sorted(file_evidence(lex, ev, ranking).items()):
        best = max(scores.values(), default=0.0)
        if best > 0:
            weight = ranking.weights[name] / best
            for f in sorted(scores):  # a fixed order: same float sums every run
                fused[f] += weight * scores[f]
    if ranking.intent:
        _apply_intent(lex, ev, fused)
    return dict(fused)


def stubs_with_twins(lex: LexicalModel) -> frozenset[int]:
    """Type stubs whose implementation is in the index beside them (kept on the
    snapshot)."""
    cached = getattr(lex, "_greenpair_stubs", None)
    if isinstance(cached, frozenset):
        return cached
    out = set()
    for f, path in enumerate(lex.paths):
        for stub, impls in _STUB_TWINS:
            if path.endswith(stub):
                base = path[: -len(stub)]
                if any(base + ext in lex.path_index for ext in impls):
                    out.add(f)
    found = frozenset(out)
    lex._greenpair_stubs = found  # type: ignore[attr-defined]
    return found


def _apply_intent(lex: LexicalModel, ev: Evidence, fused: dict[int, float]) -> None:
    wanted = intents(ev.query)
    about_other = bool(primary_intents(ev.query))
    stubs = stubs_with_twins(lex)
    for f in fused:
        if f in ev.named:
            continue
        if f in stubs:
            fused[f] *= STUB_WITH_TWIN
        cat = ev.categories.get(f) or categories.category(lex.paths[f])
        if cat == categories.SOURCE:
            if about_other:
                fused[f] *= SOURCE_WHEN_OTHER_INTENT
        elif cat not in wanted:
            fused[f] *= OFF_INTENT.get(cat, 1.0)


def chunk_evidence(ev: Evidence) -> dict[int, float]:
    """Chunk position → evidence, to pick a top file's supporting chunks."""
    out: dict[int, float] = defaultdict(float)
    for name in CHUNK_SIGNALS:
        for r, pos in enumerate(best_first(ev.chunks.get(name, {}))):
            out[pos] += 1.0 / (RRF_K + r)
    for name in ("symbol", "qualified"):
        for pos, score in ev.chunks.get(name, {}).items():
            out[pos] += score / RRF_K
    return dict(out)
