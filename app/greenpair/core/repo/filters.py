"""Path and content rules that decide which files the walker skips, and why.

Secret files are recognised by their path alone, so the walker can refuse them before
opening anything. Binary, generated and vendored files are recognised by name where the
name is enough (fast on big trees), and by a look at the content otherwise.
"""

from __future__ import annotations

import re
from fnmatch import translate


def _globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled regex for many shell globs (matching them one by one is slow)."""
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns))


# Base names (lower-cased) of files that hold credentials or keys.
_SECRET_NAMES = frozenset(
    {
        ".env", ".envrc", ".npmrc", ".yarnrc", ".yarnrc.yml", ".pypirc", ".netrc", "_netrc",
        ".git-credentials", ".gitcredentials", ".htpasswd", "htpasswd", ".pgpass", ".my.cnf",
        ".boto", ".s3cfg", ".dockercfg", ".dockerconfigjson", ".vault-token", ".terraformrc",
        "terraform.rc", "credentials", "kubeconfig", "known_hosts", "authorized_keys",
        "master.key", "secret_key_base", "wp-config.php", "pip.conf", "pip.ini",
    }
)

# Globs on lower-cased base names.
_SECRET_GLOBS = _globs((
    ".env.*", "*.env", "*.pem", "*.key", "*.der", "*.p8", "*.pk8", "*.p12", "*.pkcs12",
    "*.pfx", "*.jks", "*.keystore", "*.kdbx", "*.gpg", "*.asc", "*.ppk", "*.keychain",
    "*.keychain-db", "*.ovpn", "*.mobileprovision", "*.tfvars", "*.tfvars.json", "*.tfstate",
    "*.tfstate.*", "*.kubeconfig", "*.token", "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*",
    "ssh_host_*", "credentials*.json", "*-credentials.json", "*_credentials.json",
    "credentials.yml", "credentials.yaml", "credentials.xml", "credentials.ini",
    "credentials.toml", "credentials.csv", "credentials.yml.enc", "secrets.*", "*.secret",
    "*.secrets", "service-account*.json", "service_account*.json", "serviceaccount*.json",
    "client_secret*.json", ".*_history", "*_history",
))

# Directories (lower-cased) whose every file is private.
_SECRET_DIRS = frozenset({".ssh", ".gnupg", ".aws", ".azure", ".kube"})
# Directories of secrets for deployments: their data files (not code) are private.
_SECRET_DATA_DIRS = frozenset({"secrets", ".secrets", "private_keys"})
_DATA_FILE = _globs((
    "*.yaml", "*.yml", "*.json", "*.txt", "*.ini", "*.toml", "*.xml", "*.properties",
    "*.conf", "*.cfg", "*.csv", "*.env", "*.dat", "*.b64",
))
# Whole paths (lower-cased suffixes) that hold credentials under a harmless name.
_SECRET_SUFFIXES = (
    ".docker/config.json", ".cargo/credentials.toml", ".gem/credentials", ".m2/settings.xml",
    ".gradle/gradle.properties", "gh/hosts.yml",
)


def is_secret_path(path: str) -> bool:
    """Tell whether ``path`` names a file that may hold secrets.

    Decided from the path alone, so the file is never opened.

    Args:
        path: Repository-relative path with ``/`` separators.

    Returns:
        ``True`` for key files, credential stores, ``.env`` files, shell histories and
        the like.
    """
    parts = path.lower().strip("/").split("/")
    name = parts[-1]
    if name in _SECRET_NAMES or _SECRET_GLOBS.match(name) is not None:
        return True
    folders = parts[:-1]
    if any(part in _SECRET_DIRS for part in folders):
        return True
    data = "." not in name or _DATA_FILE.match(name) is not None
    if data and any(part in _SECRET_DATA_DIRS for part in folders):
        return True
    joined = "/".join(parts)
    return any(joined == sfx or joined.endswith("/" + sfx) for sfx in _SECRET_SUFFIXES)


def is_secret_dir(rel_path: str) -> bool:
    """Tell whether a directory holds only private files (``.ssh``, ``.aws``, ``.gnupg``…)."""
    return rel_path.strip("/").rsplit("/", 1)[-1].lower() in _SECRET_DIRS


# Directory names that hold third-party or build output anywhere in the tree.
_VENDORED_DIRS = frozenset(
    {
        "node_modules", "bower_components", "jspm_packages", "vendor", "third_party",
        "third-party", "thirdparty", "site-packages", "dist-packages", ".venv", "venv",
        "__pycache__", ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache",
        ".hypothesis", ".eggs", ".gradle", ".next", ".nuxt", ".svelte-kit", ".angular",
        ".parcel-cache", ".turbo", ".cache", ".terraform", ".dart_tool", ".pub-cache",
        "pods", "carthage", "htmlcov", ".coverage_html", ".idea", ".vs",
    }
)
# Build output names, vendored only at the top of the tree (``src/build/`` may be code).
# ``dist/``, ``build/`` and ``out/`` are walked: what in them is build output is told by
# its structure (``repo.build_output``), and some projects keep their build scripts there.
_TOP_BUILD_DIRS = frozenset({"target", "_build", "coverage"})
# A file whose presence marks a directory as a cache or an environment.
VENDOR_MARKERS = ("pyvenv.cfg", "CACHEDIR.TAG", ".rustc_info.json")


def is_vendored_dir(rel_path: str, names: frozenset[str] | None = None) -> bool:
    """Tell whether a directory holds vendored code, caches or build output.

    Args:
        rel_path: Repository-relative directory path, without a trailing slash.
        names: The directory's entry names, when known, to check marker files
            (``pyvenv.cfg`` of a virtualenv, ``CACHEDIR.TAG``).

    Returns:
        ``True`` when the walker should not descend into the directory.
    """
    parts = rel_path.strip("/").split("/")
    name = parts[-1].lower()
    if name in _VENDORED_DIRS or name.endswith(".egg-info") or name.startswith("bazel-"):
        return True
    if len(parts) == 1 and name in _TOP_BUILD_DIRS:
        return True
    return names is not None and any(marker in names for marker in VENDOR_MARKERS)


_GENERATED_NAMES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",
        "pipfile.lock", "cargo.lock", "gemfile.lock", "composer.lock", "go.sum", "uv.lock",
        "pdm.lock", "mix.lock", "flake.lock", "packages.lock.json", "podfile.lock",
        "pubspec.lock", "bun.lock", "deno.lock", ".terraform.lock.hcl",
    }
)
_GENERATED_GLOBS = _globs((
    "*.min.js", "*.min.mjs", "*.min.cjs", "*.min.css", "*.bundle.js", "*.chunk.js", "*.map",
    "*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py", "*.pb.go", "*.pb.cc", "*.pb.h", "*.pb.swift",
    "*.g.dart", "*.freezed.dart", "*.designer.cs", "*.generated.cs", "*.g.cs", "*.lock",
))


def is_generated_name(path: str) -> bool:
    """Tell whether the file name marks a generated file (lock files, minified assets,
    protobuf output)."""
    name = path.rsplit("/", 1)[-1].lower()
    return name in _GENERATED_NAMES or _GENERATED_GLOBS.match(name) is not None


# A header comment that announces generated code, in the first lines of a file.
_COMMENT_START = r"^\s*(?:#|//|/\*|\*|<!--|--|;|%|\"\"\"|''')"
_GENERATED_HEADER = re.compile(
    r"@generated\b|\bDO NOT EDIT\b|"
    + _COMMENT_START
    + r".*\b(?:auto-?generated|generated (?:by|from|with|using)|code generated|"
    r"this file (?:is|was) generated)",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_LINES = 5


def has_generated_header(text: str) -> bool:
    """Tell whether the first lines of ``text`` say the file is generated."""
    head = "\n".join(text.split("\n", _HEADER_LINES)[:_HEADER_LINES])
    return _GENERATED_HEADER.search(head) is not None


_BINARY_WORDS = (
    "png jpg jpeg gif bmp ico icns webp tif tiff psd xcf heic avif woff woff2 ttf otf eot "
    "zip gz tgz bz2 xz zst 7z rar tar jar war ear whl egg apk aab deb rpm msi dmg iso img "
    "exe dll so dylib a o obj lib pyc pyo pyd class wasm node bin dat "
    "mp3 mp4 m4a wav ogg oga flac aac avi mov mkv webm wmv "
    "pdf doc docx xls xlsx ppt pptx odt ods odp "
    "db sqlite sqlite3 mdb pt pth onnx gguf ggml safetensors h5 hdf5 npy npz pkl pickle "
    "parquet feather arrow orc avro tfrecord ckpt lockb"
)
_BINARY_EXTENSIONS = frozenset(_BINARY_WORDS.split())


def is_binary_name(path: str) -> bool:
    """Tell whether the extension names a binary format (images, archives, objects)."""
    name = path.rsplit("/", 1)[-1].lower()
    return "." in name and name.rsplit(".", 1)[1] in _BINARY_EXTENSIONS


_SNIFF_BYTES = 8192
# Control characters that never appear in text (tab, newlines, form feed and ESC do).
_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 11, 12, 13, 27))


def looks_binary(data: bytes) -> bool:
    """Sniff the start of ``data`` for NUL bytes or too many control characters."""
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head:
        return True
    if not head:
        return False
    controls = len(head) - len(head.translate(None, _CONTROL))
    return controls / len(head) > 0.1


_C1 = bytes(range(0x80, 0xA0))


def is_latin1_text(data: bytes) -> bool:
    """Tell whether non-UTF-8 ``data`` is ISO-8859-1 text (an old European source file).

    Real Latin-1 text never holds the C1 control bytes 0x80–0x9F, while the other 8-bit
    and multi-byte encodings a repository may hold (cp1252 quotes, Shift-JIS, GBK) do;
    those stay undecodable rather than indexed as mojibake.
    """
    return not looks_binary(data) and len(data.translate(None, _C1)) == len(data)


_MINIFIED_MAX_LINE = 5000
_MINIFIED_MEAN_LINE = 300


_PROSE = frozenset({"markdown", "rst", "text"})


def is_minified(text: str, language: str | None = None) -> bool:
    """Tell whether ``text`` is minified or machine-packed (very long lines).

    Prose (Markdown, reStructuredText, plain text) often keeps a paragraph on one line,
    so for it only a line of data length (base64, a packed blob) counts.
    """
    if len(text) < 2048:
        return False
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return False
    longest = max(len(line) for line in lines)
    if longest > _MINIFIED_MAX_LINE:
        return True
    return language not in _PROSE and len(text) / len(lines) > _MINIFIED_MEAN_LINE
