"""What a request says besides its words: references to drop, its headline, and the
kinds of files it is about (tests, docs, examples, the changelog, config)."""

from __future__ import annotations

import re

from greenpair.core.index import categories

_AFTER = r"(?=\s*(?:$|[.,;:!?)\]]|\s(?:for|of|to|that|which|in|on|and|so|with|when)\b))"
INTENT_PATTERNS = {
    categories.TEST: re.compile(
        r"(?i)\b(?:unit|integration|regression|e2e|end-to-end|failing|flaky|broken|missing)"
        r"[\s-]+tests?\b|\btests?[\s-]+(?:suite|file|case|coverage)s?\b|\btest_\w+"
        r"|\b(?:add|adds|added|adding|write|update|fix|extend|improve|more|new|the|a)"
        r"\s+(?:unit\s+|regression\s+)?tests?" + _AFTER + r"|\btesting/|\btests/"
    ),
    categories.DOCS: re.compile(
        r"(?i)\b(?:docs|documentation|readme|tutorial|how-?to|guide|manual)\b|\bdoc/"
    ),
    categories.EXAMPLE: re.compile(r"(?i)\b(?:examples?|samples?|demos?)\b"),
    categories.CHANGELOG: re.compile(
        r"(?i)\b(?:change\s*log|changelog|release\s+notes?|news\s+(?:entry|fragment))"
    ),
    categories.CONFIG: re.compile(
        r"(?i)\b(?:ci|workflows?|pyproject|setup\.cfg|tox\.ini|dockerfile|makefile|"
        r"package\.json|yaml|toml|pre-commit|dependenc(?:y|ies)|configuration\s+files?)\b"
    ),
}

_EXPORTS = re.compile(
    r"(?i)\b(?:re-?exports?(?:ed|ing)?|exports?(?:ed|ing)?|expose[sd]?|exposing"
    r"|public\s+api)\b"
)

_REFERENCES = re.compile(
    r"(?i)\bhttps?://\S+|\(\s*(?:gh-|#)\d+\s*\)|(?<![\w&])(?:gh-|#)\d+\b"
)


def intents(query: str) -> set[str]:
    """The non-source categories a request mentions (their files are not scaled down)."""
    return {cat for cat, pattern in INTENT_PATTERNS.items() if pattern.search(query)}


def about_exports(query: str) -> bool:
    """Whether a request is about what a module exports (``export X from rxjs``,
    ``re-export``, ``expose``): that is decided in the module's entry file."""
    return _EXPORTS.search(query) is not None


def clean_query(query: str) -> str:
    """The request without issue/PR references (``#123``, ``(#123)``, ``GH-123``) and
    URLs: numbers and hosts that say nothing about which code is meant."""
    return _REFERENCES.sub(" ", query)


def headline(query: str) -> str:
    """The first sentence of a request: where people state what they want."""
    first = query.strip().split("\n", 1)[0]
    return re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]


def primary_intents(query: str) -> set[str]:
    """Categories the request is *about* (named in its first sentence) and that live only
    in their own files: then those files come first. Docs are not among them (they also
    live in docstrings and comments of source files), nor config (a request naming a
    config file is often about the code that reads it)."""
    return intents(headline(query)) & {
        categories.TEST, categories.EXAMPLE, categories.CHANGELOG
    }
