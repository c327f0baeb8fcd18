"""The installed llama.cpp build: its backends load and the CPU variant fits this CPU."""

from __future__ import annotations

import os
import platform

from greenpair.core.llm import backends


def test_the_installed_build_has_a_cpu_backend_that_runs_here() -> None:
    info = backends.build_info()
    assert info.kind in {"portable", "native"}
    if os.environ.get("CI") and os.environ.get("GREENPAIR_LLAMA_BUILD", "portable") == "portable":
        assert info.kind == "portable"  # what `make setup` builds by default
    assert any(kind == "cpu" for _, kind, _ in info.devices)
    if info.kind == "portable" and platform.machine() in {"x86_64", "AMD64"}:
        assert "x64" in info.cpu_variants  # the baseline every x86-64 CPU runs
        assert "sapphirerapids" not in info.cpu_variants  # AMX left out on purpose
        assert info.cpu_variant in info.cpu_variants
