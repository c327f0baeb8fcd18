"""Which llama.cpp backends this build has, and loading them before a model is opened.

A *portable* build (``packaging/install-llama.sh``, the default) has ggml's backends as
loadable modules beside ``libllama`` (``libggml-cpu-haswell.so``, ``libggml-cpu-zen4.so``,
…, ``libggml-cuda.so``). ggml itself only looks for them next to the executable (here the
Python interpreter) and in the current directory, so ``ensure_loaded`` asks it to load them
from the package's ``lib`` folder; ggml then keeps, for the CPU, the variant whose
instruction sets this CPU has and that scores best. A *native* build links one CPU backend
built for the build machine (and crashes with SIGILL on an older CPU).
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SUFFIX = ".dll" if sys.platform == "win32" else ".dylib" if sys.platform == "darwin" else ".so"
_PREFIX = "" if sys.platform == "win32" else "lib"
_lock = threading.Lock()
_loaded: dict[str, bool] = {}

# ggml_backend_dev_type: CPU, GPU, IGPU (integrated), ACCEL.
_DEVICE_TYPES = {0: "cpu", 1: "gpu", 2: "igpu", 3: "accel"}


@dataclass
class BuildInfo:
    """What the installed llama.cpp build is and what it runs on.

    Attributes:
        kind: ``portable`` (backend modules, CPU variants) or ``native`` (one linked CPU
            backend), ``missing`` when llama-cpp-python is not installed.
        lib_dir: The folder of ``libllama``.
        cpu_variants: The CPU variants the build has (portable builds).
        cpu_variant: The variant ggml picks on this CPU (portable builds).
        backend_modules: Non-CPU backend modules shipped (``cuda``, ``vulkan``, ``metal``…).
        devices: ``(name, type, description)`` of each device ggml sees.
        gpu_offload: Whether llama.cpp can offload layers to a GPU here.
    """

    kind: str
    lib_dir: Path | None = None
    cpu_variants: list[str] = field(default_factory=list)
    cpu_variant: str | None = None
    backend_modules: list[str] = field(default_factory=list)
    devices: list[tuple[str, str, str]] = field(default_factory=list)
    gpu_offload: bool = False


def lib_dir() -> Path | None:
    """The ``llama_cpp/lib`` folder of the installed llama-cpp-python, without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "lib"


def _modules(folder: Path, name: str) -> list[str]:
    """Tags of ``[lib]ggml-<name>-<tag>`` modules in ``folder`` (what ggml scans for)."""
    start = f"{_PREFIX}ggml-{name}-"
    return sorted(
        p.name[len(start):-len(_SUFFIX)]
        for p in folder.glob(f"{start}*{_SUFFIX}")
    )


def _ggml(folder: Path) -> Any:
    """The libggml that libllama loaded, for its registry API.

    Wheels cannot hold symlinks, so ``libggml.so`` and ``libggml.so.0`` are two copies of
    one library, and a packaged app may keep libllama's ``libggml.so.0`` in another folder
    than ``llama_cpp/lib``: opening a copy by path would load a second instance with a
    registry of its own, and the model would find no backend. So libllama's dependency is
    looked up by its soname among the libraries already loaded (``RTLD_NOLOAD``); the path
    is the fallback (builds that link ggml statically, other systems).
    """
    lib = None
    if sys.platform.startswith("linux"):
        sonames = {p.name for p in folder.glob(f"libggml{_SUFFIX}.*")
                   if p.suffix[1:].isdigit() and p.name.count(".") == 2}
        for soname in sorted(sonames | {f"libggml{_SUFFIX}.0"}):
            try:
                lib = ctypes.CDLL(soname, mode=os.RTLD_NOLOAD)
                break
            except OSError:
                continue
    if lib is None:
        lib = ctypes.CDLL(str(folder / f"{_PREFIX}ggml{_SUFFIX}"))
    lib.ggml_backend_reg_count.restype = ctypes.c_size_t
    lib.ggml_backend_load_all_from_path.argtypes = [ctypes.c_char_p]
    lib.ggml_backend_dev_count.restype = ctypes.c_size_t
    lib.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    lib.ggml_backend_dev_get.restype = ctypes.c_void_p
    for fn in ("ggml_backend_dev_name", "ggml_backend_dev_description"):
        getattr(lib, fn).argtypes = [ctypes.c_void_p]
        getattr(lib, fn).restype = ctypes.c_char_p
    lib.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_type.restype = ctypes.c_int
    return lib


def ensure_loaded() -> None:
    """Load a portable build's backend modules (once; a no-op for native builds).

    Call before the first ``llama_cpp.Llama``: llama.cpp's own initialisation would look
    for the modules in the wrong folders and then find no CPU backend.
    """
    folder = lib_dir()
    if folder is None or not _modules(folder, "cpu"):
        return
    with _lock:
        if _loaded.get(str(folder)):
            return
        import llama_cpp  # noqa: F401 - loads libllama and libggml

        # llama-cpp-python prints llama.cpp's messages to stderr when they reach its
        # logger's level, which starts at NOTSET, so "load_backend: loaded CPU backend ..."
        # would precede every command's output. ERROR is the level ``Llama(verbose=False)``
        # sets anyway (its table is a step off the vendored llama.cpp's levels: info lines
        # map to WARNING and go; warnings map to ERROR and still show).
        lib_log = logging.getLogger("llama-cpp-python")
        if lib_log.level == logging.NOTSET:
            lib_log.setLevel(logging.ERROR)
        ggml = _ggml(folder)
        if ggml.ggml_backend_reg_count() == 0:
            ggml.ggml_backend_load_all_from_path(str(folder).encode())
            log.info("llama.cpp backends loaded from %s", folder)
        _loaded[str(folder)] = True


def _best_cpu_variant(folder: Path, variants: list[str]) -> str | None:
    """The variant ggml picks: the highest ``ggml_backend_score`` (0: unsupported here)."""
    best, best_score = None, 0
    for tag in variants:
        try:
            module = ctypes.CDLL(str(folder / f"{_PREFIX}ggml-cpu-{tag}{_SUFFIX}"))
            module.ggml_backend_score.restype = ctypes.c_int
            score = int(module.ggml_backend_score())
        except (OSError, AttributeError) as exc:
            log.debug("cannot score %s: %s", tag, exc)
            continue
        if score > best_score:
            best, best_score = tag, score
    return best


def build_info() -> BuildInfo:
    """Describe the installed build; loads its backends (cheap: no model is opened)."""
    folder = lib_dir()
    if folder is None:
        return BuildInfo(kind="missing")
    variants = _modules(folder, "cpu")
    info = BuildInfo(kind="portable" if variants else "native", lib_dir=folder)
    # First: the variant modules need libggml-base, which only libllama's loading puts
    # where the dynamic loader finds it (a venv has no search path to llama_cpp/lib).
    ensure_loaded()
    if variants:
        info.cpu_variants = variants
        info.cpu_variant = _best_cpu_variant(folder, variants)
        info.backend_modules = [
            p.name[len(_PREFIX) + 5:-len(_SUFFIX)]
            for p in sorted(folder.glob(f"{_PREFIX}ggml-*{_SUFFIX}"))
            if p.name[len(_PREFIX) + 5:-len(_SUFFIX)] not in {"base", "cpu"}
            and not p.name.startswith(f"{_PREFIX}ggml-cpu-")
        ]
    import llama_cpp

    llama_cpp.llama_backend_init()
    ggml = _ggml(folder)
    for i in range(ggml.ggml_backend_dev_count()):
        dev = ggml.ggml_backend_dev_get(i)
        info.devices.append((
            (ggml.ggml_backend_dev_name(dev) or b"").decode(errors="replace"),
            _DEVICE_TYPES.get(ggml.ggml_backend_dev_type(dev), "other"),
            (ggml.ggml_backend_dev_description(dev) or b"").decode(errors="replace"),
        ))
    info.gpu_offload = bool(llama_cpp.llama_supports_gpu_offload())
    return info
