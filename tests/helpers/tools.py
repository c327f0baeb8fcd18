"""A test that needs a tool on PATH: it fails in CI, where setup must have installed the
tool, and is skipped elsewhere with what to install."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import IN_CI


def require_tool(name: str, where: str) -> str:
    """The path of ``name`` on PATH; otherwise fail (CI) or skip, saying ``where`` it
    comes from."""
    found = shutil.which(name)
    if found is None:
        msg = f"{name} is needed ({where})"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return found
