"""Doctor checks of the inference build (backend, CPU variant, GPU offload) and embedder."""

from __future__ import annotations

from collections.abc import Iterator

from greenpair.core.doctor.check import Check


def inference_checks(gpu_layers: int) -> Iterator[Check]:
    """Which llama.cpp build runs here, on which CPU variant, and whether layers offload.

    Args:
        gpu_layers: The configured number of layers to offload (settings ``gpu_layers``).
    """
    from greenpair.core.llm import backends

    try:
        info = backends.build_info()
    except (OSError, RuntimeError, AttributeError) as exc:
        yield Check("inference", "llama.cpp", "fail", f"cannot inspect the build: {exc}",
                    "Reinstall llama-cpp-python (`make setup`).")
        return
    if info.kind == "missing":
        yield Check("inference", "llama.cpp", "fail", "llama-cpp-python is not installed",
                    "Run `make setup` (or reinstall Greenpair).")
        return
    if info.kind == "portable":
        extra = f", GPU modules: {', '.join(info.backend_modules)}" if info.backend_modules else ""
        yield Check("inference", "build", "ok",
                    f"portable: {len(info.cpu_variants)} CPU variants "
                    f"({', '.join(info.cpu_variants)}){extra}")
        if info.cpu_variant:
            yield Check("inference", "CPU variant", "ok",
                        f"{info.cpu_variant} (the best this CPU supports)")
        else:
            yield Check("inference", "CPU variant", "fail", "no CPU variant runs on this CPU",
                        "Build llama.cpp here: GREENPAIR_LLAMA_BUILD=native make setup.")
    else:
        yield Check("inference", "build", "info",
                    "native: one CPU backend built for the build machine's instruction sets")
    names = [f"{name} ({kind}: {desc})" for name, kind, desc in info.devices]
    yield Check("inference", "backend", "ok" if info.devices else "fail",
                "devices: " + ("; ".join(names) if names else "none"),
                None if info.devices else "No llama.cpp backend loaded; reinstall Greenpair.")
    if gpu_layers and info.gpu_offload:
        detail = f"on: up to {gpu_layers} layers on the GPU"
        status = "ok"
    elif gpu_layers:
        detail = f"off: {gpu_layers} layers asked, but this build has no GPU backend"
        status = "warn"
    else:
        detail = "off: all layers on the CPU" + (
            " (a GPU is available: set gpu_layers)" if info.gpu_offload else "")
        status = "info"
    yield Check("inference", "GPU offload", status, detail,
                "Build with GREENPAIR_GPU=cuda|vulkan|metal make setup." if status == "warn"
                else None)


def embedder_checks() -> Iterator[Check]:
    """Where the embedding model comes from: the built-in bundle or a local export."""
    from greenpair.core.errors import GreenpairError
    from greenpair.core.index import embedder_bundle

    bundle = embedder_bundle.bundled()
    if bundle is not None:
        yield Check("runtime", "embedder", "ok",
                    f"built-in ONNX export ({', '.join(sorted(bundle.files))}), "
                    "verified against torch at build time")
        return
    try:
        export = embedder_bundle.local()
    except GreenpairError as exc:
        yield Check("runtime", "embedder", "fail", exc.message, exc.hint)
        return
    yield Check("runtime", "embedder", "ok",
                f"local ONNX export ({', '.join(sorted(export.files))}) in {export.folder}")
