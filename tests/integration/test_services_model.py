"""A test builds its own Services with the tiny model, as an entry point does."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.assistant.ask.conversation import Answer, Conversation
from greenpair.core.config import Settings
from greenpair.core.services import Services

pytestmark = pytest.mark.model


def test_an_answer_from_the_services_is_metered_and_the_model_leaves_at_close(
        tmp_repo: Path, tiny_model_path: Path) -> None:
    services = Services(Settings(model=str(tiny_model_path), threads=1), persist=False)
    try:
        index = services.index(tmp_repo)
        for _ in index.update():
            pass
        runtime = services.runtime()
        conv = Conversation(tmp_repo, runtime=runtime, index=index, meter=services.meter)
        events = list(conv.ask("What does apply_discount do?"))
        answer = events[-1]
        assert isinstance(answer, Answer)
        assert answer.energy is not None
        assert answer.energy.joules is not None
        assert services.meter.ledger().last("answer") is not None
        assert runtime.loaded  # type: ignore[attr-defined]
    finally:
        services.close()
    assert not runtime.loaded  # type: ignore[attr-defined]
