"""One fusion of the evidence into a file ranking, then the request's intent.

Chunk-level signals become file scores by aggregation; every signal's file scores are
fused by weighted reciprocal rank fusion (Cormack et al., 2009), which needs no score
calibration, plus a weighted sum of max-normalised scores, which keeps margins. Then
intent: a request to change or explain behaviour is about source files, so tests, docs,
examples, changelogs and config are scaled down unless the request mentions them; when
its first sentence is about tests, examples or the changelog, those files come first.
Files the request names keep their score whatever their category.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from greenpair.core.index import categories
from greenpair.core.index.search.evidence import DEPTH, Evidence, best_first
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


@dataclass(frozen=True)
class Ranking:
    """The setting of the fusion (one for every repository).

    Attributes:
        weights: Signal → weight (a signal left out or at 0 is not used).
        extra: Chunk signal → how many more chunks of a file add half their score.
        rank_fusion: Add reciprocal rank fusion.
        score_fusion: Add the sum of max-normalised scores.
        intent: Scale files by category and the request's intent.
    """

    weights: Mapping[str, float] = field(default_factory=lambda: {
        "file": 1.0, "chunk": 1.0, "dense": 1.0, "phrase": 1.0, "symbol": 0.2, "path": 0.2,
        "qualified": 1.0, "history": 0.5,
    })
    extra: Mapping[str, int] = field(
        default_factory=lambda: {"chunk": 2, "dense": 1, "phrase": 1}
    )
    rank_fusion: bool = True
    score_fusion: bool = True
    intent: bool = True

    def stages(self) -> tuple[str, ...]:
        """The stages that can be switched off (for an ablation)."""
        return ("rank_fusion", "score_fusion", "intent")


DEFAULT = Ranking()


def per_file(lex: LexicalModel, chunk_scores: dict[int, float], extra: int) -> dict[int, float]:
    """A file's score from its chunks: the best one, plus half of the next ``extra``."""
    per: dict[int, list[float]] = defaultdict(list)
    for pos, score in chunk_scores.items():
        per[int(lex.chunk_file[pos])].append(score)
    out: dict[int, float] = {}
    for f, scores in per.items():
        scores.sort(reverse=True)
        out[f] = scores[0] + 0.5 * sum(scores[1 : 1 + extra])
    return out


def _top(scores: dict[int, float]) -> dict[int, float]:
    ranked = [f for f in best_first(scores) if scores[f] > 0][:DEPTH]
    return {f: scores[f] for f in ranked}


def file_evidence(lex: LexicalModel, ev: Evidence, ranking: Ranking) -> dict[str, dict[int, float]]:
    """Every used signal's file scores, best first, at most ``DEPTH`` files each."""
    out: dict[str, dict[int, float]] = {}
    for name, weight in ranking.weights.items():
        if weight <= 0:
            continue
        if name in ("file", "symbol", "qualified", "path", "history"):
            out[name] = _top(ev.files.get(name, {}))
        else:
            out[name] = _top(per_file(lex, ev.chunks.get(name, {}), ranking.extra.get(name, 0)))
    return out


def _rank_fusion(evidence: dict[str, dict[int, float]], ranking: Ranking) -> dict[int, float]:
    fused: dict[int, float] = defaultdict(float)
    for name, scores in evidence.items():
        for r, f in enumerate(scores):
            fused[f] += ranking.weights[name] / (RRF_K + r + 1)
    return fused


def _score_fusion(evidence: dict[str, dict[int, float]], ranking: Ranking) -> dict[int, float]:
    fused: dict[int, float] = defaultdict(float)
    for name, scores in evidence.items():
        best = max(scores.values(), default=0.0)
        if best > 0:
            for f, score in scores.items():
                fused[f] += ranking.weights[name] * score / best
    return fused


def _scaled(scores: dict[int, float]) -> dict[int, float]:
    best = max(scores.values(), default=0.0) or 1.0
    return {f: s / best for f, s in scores.items()}


def fuse(lex: LexicalModel, ev: Evidence, ranking: Ranking = DEFAULT) -> dict[int, float]:
    """File position → fused score (intent applied)."""
    evidence = file_evidence(lex, ev, ranking)
    fused: dict[int, float] = defaultdict(float)
    if ranking.rank_fusion:
        for f, s in _scaled(_rank_fusion(evidence, ranking)).items():
            fused[f] += s
    if ranking.score_fusion:
        for f, s in _scaled(_score_fusion(evidence, ranking)).items():
            fused[f] += s
    if ranking.intent:
        _apply_intent(lex, ev, fused)
    return dict(fused)


def _apply_intent(lex: LexicalModel, ev: Evidence, fused: dict[int, float]) -> None:
    wanted = intents(ev.query)
    about_other = bool(primary_intents(ev.query))
    for f in fused:
        if f in ev.named:
            continue
        cat = categories.category(lex.paths[f])
        if cat == categories.SOURCE:
            if about_other:
                fused[f] *= SOURCE_WHEN_OTHER_INTENT
        elif cat not in wanted:
            fused[f] *= OFF_INTENT.get(cat, 1.0)


def chunk_evidence(ev: Evidence) -> dict[int, float]:
    """Chunk position → evidence, to pick a top file's supporting chunks."""
    out: dict[int, float] = defaultdict(float)
    for name in ("chunk", "dense", "phrase"):
        for r, pos in enumerate(best_first(ev.chunks.get(name, {}))):
            out[pos] += 1.0 / (RRF_K + r)
    for name in ("symbol", "qualified"):
        for pos, score in ev.chunks.get(name, {}).items():
            out[pos] += score / RRF_K
    return dict(out)
