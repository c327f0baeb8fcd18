"""Small model files, wheels and servers for the model-store tests (no PyPI, no internet)."""

from __future__ import annotations

import hashlib
import http.server
import struct
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


def fake_gguf_bytes(size: int = 300_000, seed: int = 7) -> bytes:
    """A GGUF-looking file: a valid v3 header, then deterministic filler."""
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 0)
    filler = hashlib.shake_256(str(seed).encode()).digest(size - len(header))
    return header + filler


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_wheel(folder: Path, project: str, version: str, files: dict[str, bytes]) -> Path:
    """Write a minimal, pip-acceptable wheel holding ``files`` (paths inside the wheel)."""
    dist = project.replace("-", "_")
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    info = f"{dist}-{version}.dist-info"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{dist}/__init__.py", "")
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(f"{info}/METADATA",
                    f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n")
        zf.writestr(f"{info}/WHEEL",
                    "Wheel-Version: 1.0\nGenerator: greenpair-tests\nRoot-Is-Purelib: true\n"
                    "Tag: py3-none-any\n")
        zf.writestr(f"{info}/RECORD", "")
    return path


def split_into_wheels(folder: Path, data: bytes, prefix: str, parts: int,
                      version: str = "0.1.0") -> list[str]:
    """Cut ``data`` into ``parts`` wheels ``{prefix}1`` … holding ``data/partNN.bin``."""
    folder.mkdir(parents=True, exist_ok=True)
    step = -(-len(data) // parts)
    names = []
    for i in range(parts):
        name = f"{prefix}{i + 1}"
        dist = name.replace("-", "_")
        chunk = data[i * step:(i + 1) * step]
        build_wheel(folder, name, version, {f"{dist}/data/part{i + 1:02d}.bin": chunk})
        names.append(name)
    return names


def write_user_catalog(home: Path, entries: list[dict[str, object]]) -> Path:
    """Write ``<home>/catalog.toml`` with ``entries`` (simple TOML writer for tests)."""
    lines: list[str] = []
    for entry in entries:
        lines.append("[[model]]")
        for key, value in entry.items():
            if isinstance(value, dict):
                continue
            lines.append(f"{key} = {_toml(value)}")
        for key, value in entry.items():
            if isinstance(value, dict):
                lines.append(f"[model.{key}]")
                lines.extend(f"{k} = {_toml(v)}" for k, v in value.items())
    path = home / "catalog.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass
class RangeServerState:
    data: bytes
    cut_after: int | None = None  # close the connection after this many body bytes (once)
    requests: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def range_server(state: RangeServerState) -> Iterator[str]:
    """A loopback HTTP server for one file with HTTP Range support; yields its URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            state.requests.append({"path": self.path, "range": self.headers.get("Range", "")})
            start = 0
            rng = self.headers.get("Range", "")
            if rng.startswith("bytes="):
                start = int(rng[6:].split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range",
                                 f"bytes {start}-{len(state.data) - 1}/{len(state.data)}")
            else:
                self.send_response(200)
            body = state.data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if state.cut_after is not None:
                cut, state.cut_after = state.cut_after, None
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/model.gguf"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

