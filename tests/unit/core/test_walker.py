"""The repository walker on real files: secrets, binaries, sizes, links, encodings, rights."""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenpair.core.errors import RepositoryError
from greenpair.core.repo.walker import (
    REASONS,
    SkippedFile,
    WalkedFile,
    is_secret_path,
    walk,
    walk_summary,
)
from tests.conftest import git, make_repo

SECRET_MARK = "TOPSECRET-7c1f"
SECRET_FILES = [
    ".env", ".env.production", "config/.env.local", "deploy/server.pem", "tls/private.key",
    "keys/id_rsa", "keys/id_rsa.pub", "keys/id_ed25519", "keys/id_ecdsa", "certs/store.p12",
    "certs/store.pfx", "android/release.jks", "android/debug.keystore",
    "gcp/credentials.json", "gcp/credentials-prod.json", ".npmrc", ".pypirc", ".netrc",
    ".git-credentials", "secrets.yaml", "app/secrets.py", "api.secret", "db.secrets",
    ".htpasswd", "vault.kdbx", "backup.gpg", "signing.asc", "service-account.json",
    ".aws/credentials", ".ssh/config", "home/.ssh/known_hosts", "infra/prod.tfvars",
    "infra/terraform.tfstate", "k8s/secrets/db-password.txt", "k8s/secrets/token",
    ".bash_history", "deploy/ssh_host_rsa_key", "x/.docker/config.json", "keys/signing.der",
]
NOT_SECRET = [
    "src/env.py", "src/environment.ts", "docs/keys.md", "src/credentials_manager.py",
    "src/secret_sharing.rs", "keyboard.key.txt", "src/tokens.py", "config/settings.toml",
    "env/README.md", "src/keystore.go", "src/secrets/manager.py", "src/history.py",
]

_WATCHED = {"open": "opened", "os.scandir": "listed", "os.listdir": "listed"}
_seen: dict[str, list[str]] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    kind = _WATCHED.get(event)
    if _seen is not None and kind and args and isinstance(args[0], (str, Path)):
        _seen[kind].append(os.fspath(args[0]))


sys.addaudithook(_audit)  # sees every open(), io.open(), os.open(), scandir() and listdir()


@pytest.fixture
def seen() -> Iterator[dict[str, list[str]]]:
    """The paths the process opens (``opened``) and lists (``listed``) during the test."""
    global _seen
    _seen = {"opened": [], "listed": []}
    try:
        yield _seen
    finally:
        _seen = None


def _write(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return root


def _by_path(root: Path, **kwargs: int) -> dict[str, WalkedFile | SkippedFile]:
    return {e.path: e for e in walk(root, **kwargs)}


def _reason(entries: dict[str, WalkedFile | SkippedFile], path: str) -> str:
    entry = entries[path]
    return "walked" if isinstance(entry, WalkedFile) else entry.reason


@pytest.mark.parametrize("path", SECRET_FILES)
def test_secret_paths(path: str) -> None:
    assert is_secret_path(path)


@pytest.mark.parametrize("path", NOT_SECRET)
def test_ordinary_paths_are_not_secret(path: str) -> None:
    assert not is_secret_path(path)


def test_secret_files_are_never_opened(tmp_path: Path, seen: dict[str, list[str]]) -> None:
    root = _write(tmp_path / "repo", {rel: f"{SECRET_MARK} {rel}\n" for rel in SECRET_FILES})
    _write(root, {"src/app.py": "print('hi')\n", "src/link_target.txt": "plain\n"})
    os.symlink(".env", root / "innocent.txt")  # a harmless name pointing at a secret
    seen["opened"].clear()
    seen["listed"].clear()
    entries = list(walk(root))
    opened = seen["opened"]
    secret_abs = {str(root / rel) for rel in [*SECRET_FILES, "innocent.txt"]}
    assert not secret_abs & set(opened), "the walker opened a secret file"
    assert any(p.endswith("src/app.py") for p in opened)  # the hook does see reads
    found = {e.path: e for e in entries}
    for rel in SECRET_FILES:
        folder = next((f for f in [".aws/", ".ssh/", "home/.ssh/"] if rel.startswith(f)), None)
        if folder is None:
            assert found[rel] == SkippedFile(rel, "secret")
        else:  # a private folder is refused as a whole, without listing it
            assert found[folder] == SkippedFile(folder, "secret")
            assert not any(p.startswith(str(root / folder)) for p in seen["listed"])
    assert found["innocent.txt"].reason == "secret"  # type: ignore[union-attr]
    assert not any(SECRET_MARK in e.text for e in entries if isinstance(e, WalkedFile))


def test_walked_file_fields(tmp_repo: Path) -> None:
    entries = _by_path(tmp_repo)
    cart = entries["src/shop/cart.py"]
    assert isinstance(cart, WalkedFile)
    raw = (tmp_repo / "src/shop/cart.py").read_bytes()
    assert cart.text == raw.decode()
    assert cart.sha256 == hashlib.sha256(raw).hexdigest()
    assert cart.size == len(raw)
    assert cart.abs_path == tmp_repo / "src/shop/cart.py"
    assert cart.mtime_ns == (tmp_repo / "src/shop/cart.py").stat().st_mtime_ns
    assert cart.language == "python"
    assert entries["web/checkout.js"].language == "javascript"  # type: ignore[union-attr]
    assert entries["README.md"].language == "markdown"  # type: ignore[union-attr]
    assert not any(p.startswith(".git/") or p == ".git" for p in entries)


def test_order_is_sorted_and_stable(tmp_repo: Path) -> None:
    _write(tmp_repo, {"b/z.py": "", "b/a.py": "", "a/x.py": "", "B.py": "", "a.py": ""})
    first = [e.path for e in walk(tmp_repo)]
    assert first == [e.path for e in walk(tmp_repo)]
    assert first == sorted(first, key=lambda p: p.split("/"))


def test_ignored_directories_are_not_listed(tmp_path: Path, seen: dict[str, list[str]]) -> None:
    files = {f"out/gen_{i}.py": "x = 1\n" for i in range(50)}
    root = make_repo(tmp_path / "repo", {**files, ".gitignore": "out/\n", "a.py": "y = 2\n"})
    seen["listed"].clear()
    seen["opened"].clear()
    entries = _by_path(root)
    assert entries["out/"] == SkippedFile("out/", "ignored")
    assert str(root) in seen["listed"]
    assert str(root / "out") not in seen["listed"]
    assert not any(p.endswith(".py") and "/out/" in p for p in seen["opened"])


def test_binaries(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", {
        "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "blob.txt": b"text\x00with a NUL",
        "noise.txt": bytes([1, 2, 3, 4, 5, 6, 7, 8, 65]) * 50,
        "ok.txt": "fine\n",
    })
    entries = _by_path(root)
    assert entries["logo.png"] == SkippedFile("logo.png", "binary", "file extension")
    assert _reason(entries, "blob.txt") == "binary"
    assert _reason(entries, "noise.txt") == "binary"
    assert _reason(entries, "ok.txt") == "walked"


def test_size_limit(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", {
        "big.py": "x = 1\n" * ((1 << 20) // 6 + 1),  # just over 1 MiB
        "small.py": "x = 1\n" * 100,
    })
    entries = _by_path(root)
    assert _reason(entries, "big.py") == "too_large"
    assert _reason(entries, "small.py") == "walked"
    assert _reason(_by_path(root, max_bytes=100), "small.py") == "too_large"


def test_generated_and_minified(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", {
        "package-lock.json": "{}\n", "web/yarn.lock": "x\n", "Cargo.lock": "x\n",
        "poetry.lock": "x\n", "web/app.min.js": "var a=1;\n", "api/user_pb2.py": "x = 1\n",
        "api/user.pb.go": "package api\n",
        "gen/client.go": "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage gen\n",
        "gen/schema.py": "# This file was generated by a tool.\nX = 1\n",
        "web/bundle.js": "var a=" + "1+" * 4000 + "1;\n",
        "src/real.py": '"""Docs."""\n\n\n\n\n\n# the help text is generated by argparse\n',
        "src/long_lines.md": ("word " * 100 + "\n") * 10,
    })
    entries = _by_path(root)
    for rel in ["package-lock.json", "web/yarn.lock", "Cargo.lock", "poetry.lock",
                "web/app.min.js", "api/user_pb2.py", "api/user.pb.go", "gen/client.go",
                "gen/schema.py"]:
        assert _reason(entries, rel) == "generated", rel
    assert _reason(entries, "web/bundle.js") == "minified"
    assert _reason(entries, "src/real.py") == "walked"  # the marker is past the header
    assert _reason(entries, "src/long_lines.md") == "walked"  # 500-char prose lines


def test_vendored_directories(tmp_path: Path, seen: dict[str, list[str]]) -> None:
    root = _write(tmp_path / "r", {
        "node_modules/lib/index.js": "x\n", "web/node_modules/a.js": "x\n",
        "vendor/github.com/x/y.go": "x\n", "third_party/z.c": "x\n",
        "env/pyvenv.cfg": "home = /usr\n", "env/lib/site.py": "x\n",
        ".venv/lib/x.py": "x\n", "build/lib/x.py": "x\n", "dist/x.js": "x\n",
        "target/debug/x.d": "x\n",
        "src/build/steps.py": "x = 1\n", "src/__pycache__/x.cpython-311.pyc": b"\x00",
        "pkg.egg-info/PKG-INFO": "x\n", "src/app.py": "x = 1\n",
    })
    seen["listed"].clear()
    entries = _by_path(root)
    for rel in ["node_modules/", "web/node_modules/", "vendor/", "third_party/", ".venv/",
                "target/", "src/__pycache__/", "pkg.egg-info/"]:
        assert entries[rel] == SkippedFile(rel, "vendored"), rel
        assert str(root / rel.rstrip("/")) not in seen["listed"], f"{rel} was listed"
    assert entries["env/"] == SkippedFile("env/", "vendored", "marker file")  # pyvenv.cfg
    assert not any(p.startswith(str(root / "env") + os.sep) for p in seen["listed"])
    assert _reason(entries, "src/build/steps.py") == "walked"  # only top-level target/
    # build/ and dist/ are walked: the index tells build output by its structure
    assert _reason(entries, "build/lib/x.py") == _reason(entries, "dist/x.js") == "walked"
    assert _reason(entries, "src/app.py") == "walked"


def test_encodings(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", {
        "latin1.txt": "café crème\n".encode("latin-1"),
        "sjis.txt": "日本語のテキスト\n".encode("shift_jis"),
        "cp1252.txt": "“quoted”\n".encode("cp1252"),
        "bom8.py": codecs.BOM_UTF8 + b"x = 1\n",
        "utf16.txt": "hello wörld\n".encode("utf-16"),  # with a BOM
        "utf16be.txt": codecs.BOM_UTF16_BE + "héllo\n".encode("utf-16-be"),
        "utf8.md": "naïve ☃\n",
        "empty.py": b"",
    })
    entries = _by_path(root)
    assert entries["latin1.txt"].text == "café crème\n"  # type: ignore[union-attr]
    assert _reason(entries, "sjis.txt") == _reason(entries, "cp1252.txt") == "undecodable"
    assert entries["bom8.py"].text == "x = 1\n"  # type: ignore[union-attr]
    assert entries["utf16.txt"].text == "hello wörld\n"  # type: ignore[union-attr]
    assert entries["utf16be.txt"].text == "héllo\n"  # type: ignore[union-attr]
    assert entries["utf8.md"].text == "naïve ☃\n"  # type: ignore[union-attr]
    assert entries["empty.py"].text == ""  # type: ignore[union-attr]


def test_symlinks(tmp_path: Path) -> None:
    outside = _write(tmp_path / "outside", {"data.txt": "outside\n"})
    root = _write(tmp_path / "repo", {"src/a.py": "x = 1\n", "docs/guide.md": "# Guide\n"})
    os.symlink("..", root / "src" / "up")  # a loop back to the root
    os.symlink(".", root / "docs" / "self")  # a loop onto itself
    os.symlink("loop_b", root / "loop_a")
    os.symlink("loop_a", root / "loop_b")  # a cycle of links (ELOOP)
    os.symlink(outside / "data.txt", root / "out_file.txt")
    os.symlink(outside, root / "out_dir")
    os.symlink(tmp_path, root / "parent_dir")  # above the root: also a loop
    os.symlink("missing.txt", root / "dangling.txt")
    os.symlink("src/a.py", root / "alias.py")  # inside: walked at its own path already
    os.symlink("docs", root / "docs_link")
    _write(root, {".gitignore": "hidden/\n", "hidden/conf.py": "y = 2\n"})
    os.symlink("hidden/conf.py", root / "conf.py")  # the only way to reach an ignored file
    os.symlink("hidden", root / "shown")
    entries = _by_path(root)
    assert _reason(entries, "src/up") == "symlink_loop"
    assert _reason(entries, "docs/self") == "symlink_loop"
    assert _reason(entries, "loop_a") == "symlink_loop"
    assert _reason(entries, "loop_b") == "symlink_loop"
    assert _reason(entries, "parent_dir") == "symlink_loop"
    assert _reason(entries, "out_file.txt") == "symlink_outside"
    assert _reason(entries, "out_dir") == "symlink_outside"
    assert _reason(entries, "dangling.txt") == "unreadable"
    assert entries["alias.py"] == SkippedFile("alias.py", "duplicate", "links to src/a.py")
    assert entries["docs_link"] == SkippedFile("docs_link", "duplicate", "links to docs")
    assert entries["conf.py"].text == "y = 2\n"  # type: ignore[union-attr]
    assert _reason(entries, "shown/conf.py") == "walked"
    assert _reason(entries, "hidden/") == "ignored"


@pytest.mark.timeout(30)
def test_special_files_are_not_opened(tmp_path: Path) -> None:
    root = _write(tmp_path / "r", {"a.py": "x = 1\n"})
    os.mkfifo(root / "pipe.txt")  # opening it would block the walk forever
    entries = _by_path(root)
    assert entries["pipe.txt"] == SkippedFile("pipe.txt", "unreadable", "not a regular file")
    assert _reason(entries, "a.py") == "walked"


def test_permission_denied_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _write(tmp_path / "r", {"locked.py": "x = 1\n", "open.py": "y = 2\n"})
    real_open = os.open
    locked = str(root / "locked.py")

    def guarded_open(file: object, *args: object, **kwargs: object) -> int:
        if os.fspath(file) == locked:  # type: ignore[arg-type]
            raise PermissionError(13, "Permission denied", locked)
        return real_open(file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", guarded_open)
    entries = _by_path(root)
    assert entries["locked.py"] == SkippedFile("locked.py", "unreadable", "Permission denied")
    assert _reason(entries, "open.py") == "walked"


def _walk_as_nobody(root: Path) -> dict[str, str]:
    """Walk ``root`` in a child process that dropped root rights (uid/gid 65534)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            result = {e.path: getattr(e, "reason", "walked") for e in walk(root)}
            os.write(write_end, json.dumps(result).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return json.loads(data)


def test_permission_denied_for_real() -> None:
    # A real unreadable file and directory. Root reads everything, so as root the walk
    # runs in a forked child that drops to the unprivileged "nobody" user.
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        _write(root, {"locked.py": "x = 1\n", "open.py": "y = 2\n", "closed/inner.py": "z\n"})
        for path in [Path(tmp), root, root / "closed"]:
            path.chmod(0o755)
        for path in [root / "open.py", root / "locked.py", root / "closed/inner.py"]:
            path.chmod(0o644)
        (root / "locked.py").chmod(0)
        (root / "closed").chmod(0)
        try:
            if os.geteuid() == 0:
                result = _walk_as_nobody(root)
            else:
                result = {e.path: getattr(e, "reason", "walked") for e in walk(root)}
        finally:
            (root / "closed").chmod(stat.S_IRWXU)
    assert result == {"closed/": "unreadable", "locked.py": "unreadable", "open.py": "walked"}


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(RepositoryError, match="not a directory"):
        list(walk(tmp_path / "missing"))
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    with pytest.raises(RepositoryError):
        list(walk(tmp_path / "file.txt"))


def test_walk_summary_counts_by_reason(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "repo", {
        "a.py": "x = 1\n", "b.py": "y = 2\n", ".env": "K=v\n", "img.png": "x",
        "node_modules/x.js": "x\n", ".gitignore": "*.log\n", "debug.log": "x\n",
    })
    git(root, "status")  # a real repository
    summary = walk_summary(walk(root))
    assert summary == {
        "files": 3,
        "bytes": 6 + 6 + 6,
        "skipped": {"binary": 1, "ignored": 1, "secret": 1, "vendored": 1},
    }
    assert set(summary["skipped"]) <= set(REASONS)  # type: ignore[arg-type]
