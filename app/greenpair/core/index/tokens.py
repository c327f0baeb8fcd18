"""Identifier-aware tokens for the lexical index and the query.

``parseConfigFile`` and ``parse_config_file`` both give ``parse``, ``config``, ``file``
and the whole identifier (``parseconfigfile``/``parse_config_file``), lowercased, so a
prose request ("parse the config file") meets code, and an exact identifier still ranks
highest. A light plural stemmer (``fixtures`` → ``fixture``) joins prose and code; one-
letter tokens and a few English function words are dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise


def _names(text: str) -> list[str]:
    return text.split()


IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
# lower→Upper, ACRONYMWord, letter↔digit boundaries
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_MAX_TOKEN = 40
# owner/attribute separators of qualified names: a.b, A::b, a->b
_SEPARATOR = re.compile(r"\.|::|->")
_QUALIFIED = re.compile(r"[A-Za-z_]\w*(?:(?:\.|::|->)[A-Za-z_]\w*)+")

STOPWORDS = frozenset(_names(
    """a an the and or but if of to in on at by for with from as is are was were be been
    being this that these those it its into than then so such not no do does did can could
    should would will we you they he she i me my our your their there here which who whom
    what when where why how all any some each also just only very via per
    """
))


def stem(word: str) -> str:
    """Fold common English plural endings (``classes`` → ``class``, ``entries`` →
    ``entry``); code identifiers are mostly singular."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "os")):
        return word[:-1]
    return word


def split_identifier(ident: str) -> list[str]:
    """Parts of a snake_case / camelCase / kebab identifier, lowercased."""
    parts: list[str] = []
    for piece in ident.split("_"):
        if piece:
            parts.extend(m.group(0).lower() for m in _CAMEL.finditer(piece))
    return parts


@lru_cache(maxsize=200_000)
def expand(ident: str) -> tuple[str, ...]:
    """Tokens of one identifier: its (stemmed) parts and, when split, the whole."""
    ident = ident[:_MAX_TOKEN]
    whole = ident.lower()
    parts = split_identifier(ident)
    if len(parts) > 1:
        out = [stem(p) for p in parts if len(p) > 1 and p not in STOPWORDS]
        out.append(whole.strip("_"))
        return tuple(out)
    if len(whole) > 1 and whole not in STOPWORDS:
        return (stem(whole.strip("_")) or whole,)
    return ()


def tokenize(text: str) -> list[str]:
    """Lexical tokens of ``text`` (code or prose), in order, with repeats."""
    out: list[str] = []
    for ident in IDENT.findall(text):
        out.extend(expand(ident))
    return out


def bag(text: str) -> Counter[str]:
    """Term frequencies of ``text``: like ``Counter(tokenize(text))``, but each distinct
    identifier is expanded once (indexing speed)."""
    out: Counter[str] = Counter()
    for ident, n in Counter(IDENT.findall(text)).items():
        for token in expand(ident):
            out[token] += n
    return out


def path_tokens(path: str) -> list[str]:
    """Tokens of a repository path: directories, file stem and extension."""
    return tokenize(path.replace("/", " ").replace(".", " ").replace("-", " "))


def count(tokens: Iterable[str]) -> Counter[str]:
    """Term frequencies."""
    return Counter(tokens)


def identifiers(text: str) -> list[str]:
    """Code-like identifiers in a request: names with ``_``, inner capitals or a call/
    attribute shape (``foo()``, ``a.b``), and backticked words; lowercased, unique."""
    found: dict[str, None] = {}
    for match in re.finditer(r"`([^`\s]{2,80})`", text):
        for ident in IDENT.findall(match.group(1)):
            if len(ident) > 2 and not ident.isdigit():
                found[ident.lower()] = None
    for match in re.finditer(r"[A-Za-z_]\w*(?:(?:\.|::|->)[A-Za-z_]\w*)*(\(\))?", text):
        token = match.group(0).removesuffix("()")
        names = _SEPARATOR.split(token)
        for ident in names:
            code_like = (
                "_" in ident.strip("_")
                or ident.startswith("__")
                or re.search(r"[a-z][A-Z]", ident) is not None
                or match.group(1) is not None
                or len(names) > 1
            )
            if code_like and len(ident) > 2:
                found[ident.lower()] = None
    return list(found)


def words(text: str) -> list[str]:
    """Lowercased plain words of a request (for path and intent matching)."""
    return [w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9]+", text)]


def dotted_keys(text: str) -> list[tuple[str, ...]]:
    """Each ``owner.attribute`` step of a qualified reference (``Config.inifile``,
    ``Cart::total``, ``cart->total``) as the word parts of both names joined: the key of
    a definition named by its qualified name (method ``inifile`` of class ``Config``) or
    by a joined name (``Config_inifile``)."""
    found: dict[tuple[str, ...], None] = {}
    for match in _QUALIFIED.finditer(text):
        names = _SEPARATOR.split(match.group(0))
        for owner, attr in pairwise(names):
            key = tuple(split_identifier(owner) + split_identifier(attr))
            if len(key) > 1:
                found[key] = None
    return list(found)
