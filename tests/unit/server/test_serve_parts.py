"""Parts of ``greenpair serve`` that are our own logic: token, bind check, queue, filter."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from greenpair.cli import cli
from greenpair.core.errors import PrivacyError
from greenpair.server.admission import Admission, Busy
from greenpair.server.auth import bearer_matches, load_or_create_token, token_path
from greenpair.server.chat import HISTORY_CHARS, SourcesLineFilter, _question
from greenpair.server.schemas import ChatRequest


def test_token_is_created_once_private_and_printed() -> None:
    first = load_or_create_token()
    assert first.startswith("gp-")
    assert len(first) > 30
    assert load_or_create_token() == first
    assert stat.S_IMODE(token_path().stat().st_mode) == 0o600
    result = CliRunner().invoke(cli, ["serve", "token"])
    assert result.exit_code == 0
    assert result.output.strip() == first
    assert bearer_matches(f"Bearer {first}", first)
    assert not bearer_matches(f"Basic {first}", first)
    assert not bearer_matches(None, first)
    assert not bearer_matches("Bearer nope", first)


def test_non_loopback_host_needs_allow_remote() -> None:
    from greenpair.cli.serve import check_bind_host

    check_bind_host("127.0.0.1", False)
    check_bind_host("::1", False)
    with pytest.raises(PrivacyError, match=r"Refusing to listen on 0\.0\.0\.0"):
        check_bind_host("0.0.0.0", False)
    check_bind_host("0.0.0.0", True)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--no-index"])
    assert result.exit_code != 0
    assert "Refusing to listen" in str(result.exception)


def test_a_taken_port_is_a_clear_error() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--no-index"])
    assert result.exit_code != 0
    assert f"Cannot listen on 127.0.0.1:{port}" in str(result.exception)


def test_admission_refuses_past_the_queue_and_serves_in_order() -> None:
    async def scenario() -> list[str]:
        gate = Admission("generate", slots=1, max_waiting=2, typical_s=3.0)
        order: list[str] = []
        await gate.acquire()  # running

        async def waiter(name: str) -> None:
            await gate.acquire()
            order.append(name)
            gate.release(1.0)

        tasks = [asyncio.create_task(waiter(n)) for n in ("a", "b")]
        await asyncio.sleep(0)
        assert gate.waiting == 2
        with pytest.raises(Busy) as busy:
            await gate.acquire()
        assert busy.value.retry_after_s == 9  # 3 s x (2 waiting + 1 running)
        gate.release(1.0)
        await asyncio.gather(*tasks)
        assert gate.running == 0
        assert gate.refused == 1
        return order

    assert asyncio.run(scenario()) == ["a", "b"]


@pytest.mark.parametrize("pieces", [
    ["The total ", "is summed.\n", "Sources: cart.py:1-9", "\n"],
    ["The total is summed.\nSou", "rces: wrong.py:3-4"],
    ["The total is summed.", "\n", "Sources", ": x.py:1"],
])
def test_sources_line_is_held_back(pieces: list[str]) -> None:
    f = SourcesLineFilter()
    out = "".join(f.feed(p) for p in pieces) + f.finish()
    assert out.strip() == "The total is summed."


def test_lines_that_only_start_like_sources_pass() -> None:
    f = SourcesLineFilter()
    out = "".join(f.feed(p) for p in ["So", "urce code is read.\nS", "o fast"]) + f.finish()
    assert out == "Source code is read.\nSo fast"


def test_a_follow_up_is_read_with_the_earlier_turns() -> None:
    body = ChatRequest.model_validate({"messages": [
        {"role": "system", "content": "You are a helpful editor assistant."},
        {"role": "user", "content": "What does apply_discount do?"},
        {"role": "assistant", "content": "It halves the total for HALF. " + "x" * 2000},
        {"role": "user", "content": [{"type": "text", "text": "Where is it called?"}]},
    ]})
    question = _question(body)
    assert question.startswith("Earlier in this conversation:\nUser: What does apply_discount do?")
    assert "helpful editor" not in question  # the client's system prompt is not ours
    assistant_line = question.splitlines()[2]
    assert assistant_line.startswith("Assistant: It halves the total for HALF.")
    assert len(assistant_line) == len("Assistant: ") + HISTORY_CHARS
    assert question.endswith("\n\nQuestion: Where is it called?")


def test_a_first_question_is_passed_as_it_is() -> None:
    body = ChatRequest.model_validate({"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "How is tax computed?"},
    ]})
    assert _question(body) == "How is tax computed?"
    only_system = ChatRequest.model_validate({"messages": [{"role": "system", "content": "x"}]})
    assert _question(only_system) == ""


def test_a_stream_that_fails_after_it_started_ends_in_band() -> None:
    from greenpair.core.errors import ModelError
    from greenpair.server.responses import stream_error

    events = stream_error(ModelError("The model file went away.")).split("\n\n")
    assert json.loads(events[0].removeprefix("data: ")) == {"error": {
        "message": "The model file went away.", "type": "server_error", "code": None,
        "param": None}}
    assert events[1] == "data: [DONE]"
    assert events[2] == ""


def test_serve_and_mcp_watch_what_they_can_and_say_what_they_cannot(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    from greenpair.cli.index import kept_fresh
    from greenpair.core.index import watcher

    stopped: list[Path] = []

    class Started:
        def __init__(self, repo: Path) -> None:
            self.repo = repo

        def stop(self) -> None:
            stopped.append(self.repo)

    def watch(repo: Path, on_event: object, *, index: object) -> Started:
        if repo.name == "huge":  # what watchdog raises past the inotify limit
            raise OSError(28, "inotify watch limit reached")
        return Started(repo)

    monkeypatch.setattr(watcher, "watch", watch)
    indexes: Any = [SimpleNamespace(repo=tmp_path / "huge"), SimpleNamespace(repo=tmp_path / "ok")]
    with kept_fresh(indexes) as watched:
        assert watched == 1
        assert stopped == []
    assert stopped == [tmp_path / "ok"]  # stopped when the server ends
    err = capsys.readouterr().err
    assert f"Cannot watch {tmp_path / 'huge'} for changes" in err
    assert "inotify watch limit reached" in err
    assert "restart to refresh it" in err
    assert "--no-watch to turn off" in err
    with kept_fresh(indexes, enabled=False) as watched:
        assert watched == 0
    assert capsys.readouterr().err == ""
