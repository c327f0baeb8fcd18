"""``greenpair serve`` with the official ``openai`` client: real index, tiny real GGUF.

The server runs in-process (uvicorn on a free loopback port); every request goes over
HTTP through the ``openai`` package, streaming included.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest

from greenpair.core.energy.meter import Meter
from greenpair.core.llm.runtime import Runtime
from greenpair.server.app import create_app
from greenpair.server.services import Limits, Services
from tests.conftest import make_repo
from tests.helpers.serving import running
from tests.helpers.tiny_runtime import repeatable_runtime

pytestmark = pytest.mark.model

TOKEN = "gp-test-token"
QUESTION = "How is the total price of the cart computed?"


@pytest.fixture(scope="module")
def tiny(tiny_model_path: Path) -> Iterator[Runtime]:
    rt = repeatable_runtime(tiny_model_path, n_ctx=4096)
    yield rt
    rt.unload()


@pytest.fixture
def served(tmp_repo: Path, tiny: Runtime, meter: Meter) -> Iterator[tuple[str, Services]]:
    services = Services(repos=[tmp_repo], runtime=tiny, meter=meter)
    with running(create_app(services, TOKEN)) as url:
        yield url, services
    for index in services.retrievers.values():
        index.close()  # type: ignore[attr-defined]


def _client(url: str, key: str = TOKEN) -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=120)


def test_no_token_or_a_wrong_one_is_refused(served: tuple[str, Services]) -> None:
    url, _ = served
    with pytest.raises(openai.AuthenticationError) as err:
        _client(url, key="wrong").models.list()
    assert err.value.status_code == 401
    assert "greenpair serve token" in str(err.value)
    assert httpx.post(f"{url}/search", json={"query": "cart"}).status_code == 401


def test_models_lists_the_served_model(served: tuple[str, Services], tiny: Runtime) -> None:
    url, _ = served
    ids = [m.id for m in _client(url).models.list()]
    assert ids == [tiny.model_id, "all-minilm-l6-v2"]


def test_chat_answers_with_checked_citations(served: tuple[str, Services],
                                             tmp_repo: Path) -> None:
    url, services = served
    raw = _client(url).chat.completions.with_raw_response.create(
        model="any", messages=[{"role": "user", "content": QUESTION}], max_tokens=24)
    resp = raw.parse()
    ext = resp.model_extra["greenpair"]
    assert ext["citations"], ext
    for c in ext["citations"]:
        assert (tmp_repo / c["path"]).is_file()
        assert 1 <= c["start_line"] <= c["end_line"]
    text = resp.choices[0].message.content
    first = ext["citations"][0]
    assert f"Sources: {first['path']}:{first['start_line']}-{first['end_line']}" in text
    assert resp.usage.completion_tokens <= 24
    assert resp.usage.prompt_tokens > 0
    assert float(raw.headers["x-greenpair-energy-j"]) >= 0
    assert ext["energy"]["sensor"]
    assert services.meter.ledger().last("answer") is not None


def test_chat_streams_tokens_then_citations_and_usage(served: tuple[str, Services]) -> None:
    url, _ = served
    stream = _client(url).chat.completions.create(
        model="any", messages=[{"role": "system", "content": "Be brief."},
                               {"role": "user", "content": QUESTION}],
        max_tokens=24, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 3
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finals) == 1
    ext = finals[0].model_extra["greenpair"]
    assert ext["citations"]
    assert ext["energy"]["joules"] is not None
    assert "Sources: " in "".join(pieces)
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_fill_in_the_middle_completion(served: tuple[str, Services]) -> None:
    url, _ = served
    resp = _client(url).completions.create(
        model="any", prompt="def add(a, b):\n    return ", suffix="\n\nprint(add(1, 2))\n",
        max_tokens=16)
    choice = resp.choices[0]
    assert isinstance(choice.text, str)
    assert choice.text.strip()
    assert "print(add(1, 2))" not in choice.text  # stopped before repeating the suffix
    ext = resp.model_extra["greenpair"]
    assert isinstance(ext["fim"], bool)
    assert resp.usage.completion_tokens > 0
    streamed = _client(url).completions.create(
        model="any", prompt="def add(a, b):\n    return ", suffix="\n", max_tokens=8,
        stream=True)
    assert "".join(c.choices[0].text for c in streamed if c.choices)


def test_embeddings_match_the_index_model(served: tuple[str, Services]) -> None:
    url, services = served
    resp = _client(url).embeddings.create(model="all-minilm-l6-v2",
                                          input=["total price", "discount code"])
    vectors = np.array([d.embedding for d in resp.data], dtype=np.float32)
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    direct = services.embedding_model().embed(["total price"])[0]
    assert float(vectors[0] @ direct) > 0.999
    raw = httpx.post(f"{url}/embeddings", headers={"Authorization": f"Bearer {TOKEN}"},
                     json={"input": "x", "encoding_format": "base64"}).json()
    assert len(base64.b64decode(raw["data"][0]["embedding"])) == 384 * 4


def test_search_returns_greenpairs_ranking(served: tuple[str, Services]) -> None:
    url, _ = served
    resp = httpx.post(f"{url}/search", headers={"Authorization": f"Bearer {TOKEN}"},
                      json={"query": "apply a discount code", "k": 5})
    assert resp.status_code == 200
    body = resp.json()
    assert body["files"][0] == "src/shop/discounts.py"
    assert body["chunks"][0]["path"] == "src/shop/discounts.py"
    assert "x-greenpair-energy-j" in resp.headers


def test_unknown_repository_is_a_clear_404(served: tuple[str, Services]) -> None:
    url, _ = served
    with pytest.raises(openai.NotFoundError) as err:
        _client(url).chat.completions.create(
            model="any", messages=[{"role": "user", "content": "hi"}],
            extra_body={"greenpair": {"repo": "/etc"}})
    assert "does not serve the repository" in str(err.value)


def test_one_model_serves_several_repositories(tmp_path: Path, tmp_repo: Path,
                                               tiny: Runtime) -> None:
    other = make_repo(tmp_path / "billing", {"billing/invoice.py": '''
        def invoice_number(year, seq):
            """Invoice numbers look like 2026-000123."""
            return f"{year}-{seq:06d}"
        '''})
    services = Services(repos=[tmp_repo, other], runtime=tiny, meter=Meter())
    with running(create_app(services, TOKEN)) as url:
        resp = _client(url).chat.completions.create(
            model="any", messages=[{"role": "user", "content": "How are invoice numbers made?"}],
            max_tokens=16, extra_body={"greenpair": {"repo": "billing"}})
        ext = resp.model_extra["greenpair"]
        assert ext["repo"] == str(other.resolve())
        assert {c["path"] for c in ext["citations"]} == {"billing/invoice.py"}
        search = httpx.post(f"{url}/search", headers={"Authorization": f"Bearer {TOKEN}"},
                            json={"query": "cart total", "k": 3}).json()
        assert search["files"][0] == "src/shop/cart.py"  # the default repository
    for index in services.retrievers.values():
        index.close()  # type: ignore[attr-defined]


def _wait(condition: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)  # the server thread has no event a test could wait on
    return False


def test_full_queue_answers_429_and_a_gone_client_stops_the_generation(
        tmp_repo: Path, tiny: Runtime) -> None:
    services = Services(repos=[tmp_repo], runtime=tiny, meter=Meter(),
                        limits=Limits(generate_waiting=0, max_tokens=400))
    app = create_app(services, TOKEN)
    state = app.state.greenpair
    with running(app) as url:
        client = _client(url)
        client.completions.create(model="any", prompt="warm up", max_tokens=1)
        outcomes = []
        # A tiny model may end a text on its own (end of text, a loop cut off) before the
        # client leaves; try other texts until one is still running when it does.
        for prompt in ("Once upon a time", "1, 2, 3, 4, 5,", "Dear team, the release"):
            stream = client.completions.create(
                model="any", prompt=prompt, max_tokens=400, stream=True, temperature=0.8)
            first = next(iter(stream))
            assert first.choices[0].text is not None
            with pytest.raises(openai.RateLimitError) as err:
                client.completions.create(model="any", prompt="x", max_tokens=2)
            assert int(err.value.response.headers["retry-after"]) >= 1
            stream.close()  # the client goes away mid-generation
            assert _wait(lambda: state.generate.running == 0)
            outcomes.append((tiny.last_stats.stop_reason, tiny.last_stats.completion_tokens))
            if outcomes[-1][0] == "cancelled":
                break
        assert outcomes[-1][0] == "cancelled", outcomes
        assert outcomes[-1][1] < 400
        ok = client.completions.create(model="any", prompt="x", max_tokens=2)
        assert ok.choices[0].finish_reason in {"stop", "length"}


def test_a_request_that_finds_the_model_unloaded_loads_it_and_says_so(
        served: tuple[str, Services], tiny: Runtime) -> None:
    url, _ = served
    client = _client(url)

    def ask() -> dict[str, object]:
        r = client.chat.completions.create(
            model="greenpair", max_tokens=8,
            messages=[{"role": "user", "content": QUESTION}])
        extension = r.model_extra["greenpair"]  # type: ignore[index]
        assert isinstance(extension, dict)
        return extension

    tiny.unload()  # as the idle rule does
    cold = ask()
    warm = ask()
    assert isinstance(cold["model_load_s"], float)
    assert cold["model_load_s"] > 0
    assert isinstance(cold["ttft_s"], float)
    assert cold["ttft_s"] >= cold["model_load_s"]  # the first token waited for the load
    assert warm["model_load_s"] == 0
