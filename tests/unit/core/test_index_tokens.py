"""Identifier-aware tokens, file categories and request intents (pure logic)."""

from __future__ import annotations

from collections import Counter

import pytest

from greenpair.core.index import categories, tokens
from greenpair.core.index.search.query import intents


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("parse_config_file", ["parse", "config", "file", "parse_config_file"]),
        ("parseConfigFile", ["parse", "config", "file", "parseconfigfile"]),
        ("HTTPServer", ["http", "server", "httpserver"]),
        ("Fixtures of the classes", ["fixture", "class"]),
        ("x = 1", []),
        ("__init__", ["init"]),
    ],
)
def test_tokenize_splits_identifiers_and_keeps_the_whole(text: str, expected: list[str]) -> None:
    assert tokens.tokenize(text) == expected


def test_bag_equals_counted_tokens() -> None:
    text = "def getUserId(user_id):\n    return getUserId(user_id) + user_id  # users"
    assert tokens.bag(text) == Counter(tokens.tokenize(text))


def test_identifiers_finds_code_like_names_only() -> None:
    found = tokens.identifiers(
        "Fix `tmp_path_retention_policy` crash in pytest.approx() and FixtureRequest; plain words"
    )
    assert {"tmp_path_retention_policy", "approx", "fixturerequest"} <= set(found)
    assert "plain" not in found
    assert "words" not in found
    assert {"cart", "total", "items"} <= set(tokens.identifiers("Cart::total and cart->items"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Fix crash when the cart total is negative", set()),
        ("Fix test collection when a class has __init__", set()),
        ("Add tests for the discount codes", {categories.TEST}),
        ("the regression test fails on Windows", {categories.TEST}),
        ("Update the docs about fixtures", {categories.DOCS}),
        ("Add a changelog entry", {categories.CHANGELOG}),
        ("Show an example of the plugin API", {categories.EXAMPLE}),
    ],
)
def test_intents(query: str, expected: set[str]) -> None:
    assert intents(query) == expected
