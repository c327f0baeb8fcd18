"""Backend discovery and the doctor's wording, on fake build folders and build facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.doctor import inference as doctor_runtime
from greenpair.core.llm import backends
from greenpair.core.llm.backends import BuildInfo


def test_modules_lists_the_variant_tags_ggml_would_scan(tmp_path: Path) -> None:
    for name in ("libggml-cpu-haswell.so", "libggml-cpu-x64.so", "libggml-cpu-zen4.so.0",
                 "libggml-base.so", "libggml-cuda.so", "libllama.so"):
        (tmp_path / name).touch()
    assert backends._modules(tmp_path, "cpu") == ["haswell", "x64"]
    assert backends._modules(tmp_path, "cuda") == []


def _checks(info: BuildInfo, monkeypatch: pytest.MonkeyPatch, gpu_layers: int) -> dict[str, tuple]:
    monkeypatch.setattr(backends, "build_info", lambda: info)
    return {c.name: (c.status, c.detail) for c in doctor_runtime.inference_checks(gpu_layers)}


def test_doctor_names_the_portable_build_variant_and_offload(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    info = BuildInfo(kind="portable", cpu_variants=["haswell", "x64"], cpu_variant="haswell",
                     backend_modules=["cuda"], devices=[("CPU", "cpu", "EPYC"),
                                                        ("CUDA0", "gpu", "RTX")],
                     gpu_offload=True)
    checks = _checks(info, monkeypatch, gpu_layers=99)
    assert checks["build"][1].startswith("portable: 2 CPU variants (haswell, x64), GPU modules: cuda")
    assert checks["CPU variant"] == ("ok", "haswell (the best this CPU supports)")
    assert "CUDA0 (gpu: RTX)" in checks["backend"][1]
    assert checks["GPU offload"] == ("ok", "on: up to 99 layers on the GPU")


def test_doctor_warns_when_layers_are_asked_without_a_gpu_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    info = BuildInfo(kind="native", devices=[("CPU", "cpu", "EPYC")])
    checks = _checks(info, monkeypatch, gpu_layers=20)
    assert checks["build"][0] == "info"
    assert checks["GPU offload"][0] == "warn"
    assert "CPU variant" not in checks


def test_doctor_fails_when_no_variant_fits_this_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    info = BuildInfo(kind="portable", cpu_variants=["zen4"], cpu_variant=None, devices=[])
    checks = _checks(info, monkeypatch, gpu_layers=0)
    assert checks["CPU variant"][0] == "fail"
    assert checks["backend"][0] == "fail"


def _portable_lib() -> Path:
    folder = backends.lib_dir()
    assert folder is not None, "llama-cpp-python is not installed"
    if not backends._modules(folder, "cpu"):
        pytest.fail("make setup installs the portable llama.cpp build; this one is native")
    return folder


def test_build_info_in_a_fresh_process_finds_this_cpus_variant() -> None:
    # The variant modules need libggml-base, which only loading libllama makes findable:
    # scored before that, every variant failed and doctor said none runs on this CPU.
    import json
    import subprocess
    import sys

    _portable_lib()
    code = ("import json; from greenpair.core.llm import backends; i = backends.build_info(); "
            "print(json.dumps([i.cpu_variant, len(i.devices)]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    variant, devices = json.loads(out.strip().splitlines()[-1])
    assert variant is not None
    assert devices >= 1


def test_ggml_registry_is_libllamas_even_when_a_copy_sits_elsewhere(tmp_path: Path) -> None:
    # A packaged app keeps libllama's libggml.so.0 outside llama_cpp/lib, where only a
    # libggml.so copy is left: opening that copy by path made a second ggml with an empty
    # registry, and every model failed to load ("Failed to load model from file").
    import shutil

    folder = _portable_lib()
    backends.ensure_loaded()
    shutil.copy(folder / "libggml.so", tmp_path / "libggml.so")
    ggml = backends._ggml(tmp_path)
    assert ggml.ggml_backend_reg_count() >= 1
    assert ggml.ggml_backend_dev_count() >= 1
