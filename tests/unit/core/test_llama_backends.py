"""Backend discovery and the doctor's wording, on fake build folders and build facts."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenpair.core.energy import doctor_runtime
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
