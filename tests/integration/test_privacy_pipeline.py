"""The whole pipeline — index, ask, patch, suggest — with every non-loopback connection made
to fail: nothing may even try to leave the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.assistant.ask.conversation import Answer, AskOptions, Conversation
from greenpair.core.assistant.patch.drafting import PatchDraft, PatchOptions, draft_patch
from greenpair.core.assistant.suggest import suggestion as sg
from greenpair.core.index import open_index
from tests.helpers.tiny_runtime import repeatable_runtime

pytestmark = pytest.mark.model


def test_index_ask_patch_suggest_make_no_egress_attempt(
    tmp_repo: Path, tiny_model_path: Path, no_network: list[object]
) -> None:
    (tmp_repo / ".env").write_text("SECRET_TOKEN=do-not-send\n")
    index = open_index(tmp_repo)
    progress = list(index.update())  # lexical and dense (the embedding model runs locally)
    assert progress
    assert index.stats()["embedded_chunks"] > 0
    runtime = repeatable_runtime(tiny_model_path, n_ctx=4096)
    try:
        conv = Conversation(tmp_repo, runtime=runtime, index=index,
                            options=AskOptions(max_tokens=16))
        answer = list(conv.ask("How is the total price of the cart computed?"))[-1]
        assert isinstance(answer, Answer)
        assert answer.context
        draft = list(draft_patch(tmp_repo, "Make HALF give 60% off", runtime=runtime,
                                 index=index, options=PatchOptions(max_tokens=48)))[-1]
        assert isinstance(draft, PatchDraft)
        assert draft.completion_tokens > 0
        list(sg.suggest("def area(r):\n    return 3.14 * r", "complete", runtime=runtime,
                        max_tokens=8))
        assert runtime.last_stats.prompt_tokens > 0
    finally:
        runtime.unload()
        index.close()
    assert no_network == []  # not a single attempt to reach another host
    assert not any(h.startswith(".env") for h in answer.context)  # secrets never shown
