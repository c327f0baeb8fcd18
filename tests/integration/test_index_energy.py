"""Index runs are measured: a ledger record per run, and reused embeddings are counted."""

from __future__ import annotations

from pathlib import Path

from greenpair.core.energy.meter import Meter
from greenpair.core.index import open_index


def test_index_run_is_metered_and_reused_embeddings_are_counted(tmp_repo: Path,
                                                                meter: Meter) -> None:
    index = open_index(tmp_repo, meter=meter)
    try:
        for _ in index.update():
            pass
        ledger = meter.ledger()
        assert ledger.last("index") is not None
        assert ledger.last("index").joules is not None
        # A renamed file keeps its content: its embeddings are reused, not recomputed.
        (tmp_repo / "src/shop/discounts.py").rename(tmp_repo / "src/shop/codes.py")
        for _ in index.update():
            pass
        totals = ledger.totals()
        assert totals.by_kind["index"].count == 2
        assert "embeddings_reused" in totals.savings
    finally:
        index.close()
