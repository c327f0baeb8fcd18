"""Every telemetry switch is off as soon as ``greenpair`` is imported, whatever the entry
point, and before any library that reads it is loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from greenpair.core.privacy import _OFFLINE_ENV

ROOT = Path(__file__).resolve().parents[3]
PROBE = """
import json, os, sys
import {module}
print(json.dumps({{"env": {{k: os.environ.get(k) for k in {keys!r}}},
                  "loaded": sorted(m for m in ("onnxruntime", "chromadb", "transformers",
                                               "huggingface_hub", "llama_cpp")
                                   if m in sys.modules)}}))
"""


@pytest.mark.parametrize("module", ["greenpair", "greenpair.cli", "greenpair.core.index",
                                    "greenpair.ui.app"])
def test_importing_any_entry_point_turns_telemetry_off_first(module: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _OFFLINE_ENV}
    env["ORT_DISABLE_TELEMETRY"] = "0"  # even a value set to turn it on is overridden
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "app"), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", PROBE.format(module=module,
                                                              keys=list(_OFFLINE_ENV))],
                          env=env, capture_output=True, text=True, timeout=120, check=True)
    seen = json.loads(done.stdout)
    assert seen["env"] == _OFFLINE_ENV
    assert seen["loaded"] == []  # nothing that phones home was loaded on the way


def test_onnx_runtime_telemetry_is_among_the_switches() -> None:
    assert _OFFLINE_ENV["ORT_DISABLE_TELEMETRY"] == "1"
    assert os.environ["ORT_DISABLE_TELEMETRY"] == "1"  # this test process too
