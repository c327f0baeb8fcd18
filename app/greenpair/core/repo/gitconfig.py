"""Find git's global excludes file (``core.excludesFile``) without running git.

Git reads its configuration from the system file (``/etc/gitconfig`` unless
``GIT_CONFIG_NOSYSTEM`` is set), the user's files (``$XDG_CONFIG_HOME/git/config`` then
``~/.gitconfig``, or only ``$GIT_CONFIG_GLOBAL``) and the repository's ``.git/config``; the
last value wins. When ``core.excludesFile`` is not set anywhere, git uses
``$XDG_CONFIG_HOME/git/ignore`` (``~/.config/git/ignore`` without the variable).

The parser here reads the subset of the config syntax that matters for one key:
sections and subsections, case-insensitive names, quoted values with escapes, comments,
line continuations and ``[include] path``. Conditional includes (``[includeIf]``) are not
evaluated.
"""

from __future__ import annotations

import os
from pathlib import Path

_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", '"': '"', "\\": "\\"}
_MAX_INCLUDE_DEPTH = 10  # git's own limit


class _BadConfig(ValueError):
    """A syntax error: git refuses the whole file, so do we from that point on."""


def _header(text: str, pos: int) -> tuple[str, int]:
    """Parse ``[section]`` / ``[section "sub"]`` at ``pos`` (on the ``[``)."""
    end = pos + 1
    while end < len(text) and (text[end].isalnum() or text[end] in "-."):
        end += 1
    name = text[pos + 1 : end].lower()
    if not name:
        raise _BadConfig("empty section name")
    if text.startswith("]", end):
        return name, end + 1
    while end < len(text) and text[end] in " \t":
        end += 1
    if not text.startswith('"', end):
        raise _BadConfig("bad section header")
    sub: list[str] = []
    end += 1
    while end < len(text) and text[end] != '"':
        if text[end] == "\n":
            raise _BadConfig("section header spans lines")
        if text[end] == "\\" and end + 1 < len(text):
            end += 1  # a backslash keeps the next character as it is
        sub.append(text[end])
        end += 1
    if not text.startswith('"]', end):
        raise _BadConfig("unterminated subsection")
    return f"{name}.{''.join(sub)}", end + 2


def _value(text: str, pos: int) -> tuple[str, int]:
    """Parse a value from ``pos`` (just after ``=``) to the end of its (logical) line."""
    out: list[str] = []
    spaces = 0  # unquoted blanks seen since the last character kept
    started = False  # blanks before the first character are dropped
    quoted = False
    while pos < len(text):
        char = text[pos]
        pos += 1
        if char == "\n":
            if quoted:
                raise _BadConfig("unterminated quote")
            break
        if not quoted and char in "#;":
            while pos < len(text) and text[pos] != "\n":
                pos += 1
            continue
        if not quoted and char in " \t":
            spaces += 1 if started else 0
            continue
        out.append(" " * spaces)
        spaces = 0
        if char == '"':
            quoted = not quoted
        elif char == "\\":
            following = text[pos] if pos < len(text) else ""
            pos += 1
            if following == "\n":
                continue  # line continuation
            if following not in _ESCAPES:
                raise _BadConfig(f"bad escape \\{following}")
            out.append(_ESCAPES[following])
            started = True
        else:
            out.append(char)
            started = True
    return "".join(out), pos


def parse_config(text: str) -> list[tuple[str, str | None]]:
    """The ``(name, value)`` pairs of a git config file, in order.

    Names are ``section.key`` or ``section.subsection.key`` with the section and key
    lower-cased; a key without ``=`` has the value ``None`` (a boolean true). Parsing stops
    at a syntax error (git refuses such a file).

    Args:
        text: The file's content.
    """
    text = text.replace("\r\n", "\n")
    pairs: list[tuple[str, str | None]] = []
    section: str | None = None
    pos = 0
    try:
        while pos < len(text):
            char = text[pos]
            if char in " \t\r\n":
                pos += 1
            elif char in "#;":
                newline = text.find("\n", pos)
                pos = len(text) if newline < 0 else newline + 1
            elif char == "[":
                section, pos = _header(text, pos)
            elif char.isalpha() and section is not None:
                end = pos
                while end < len(text) and (text[end].isalnum() or text[end] == "-"):
                    end += 1
                name = f"{section}.{text[pos:end].lower()}"
                while end < len(text) and text[end] in " \t":
                    end += 1
                if text.startswith("=", end):
                    value, pos = _value(text, end + 1)
                    pairs.append((name, value))
                elif end >= len(text) or text[end] in "\r\n#;":
                    pairs.append((name, None))
                    pos = end
                else:
                    raise _BadConfig("bad variable line")
            else:
                raise _BadConfig("unexpected character")
    except _BadConfig:
        pass
    return pairs


def _expand(value: str, base: Path) -> Path:
    """A config path value: ``~`` and ``~user`` expanded, relative to ``base``."""
    return base / os.path.expanduser(value)


def _read(path: Path, found: dict[str, str | None], depth: int = 0) -> None:
    """Apply one config file (and its includes) to ``found``."""
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError:
        return
    for name, value in parse_config(text):
        if name == "core.excludesfile":
            found["excludesfile"] = value
        elif name == "include.path" and value and depth < _MAX_INCLUDE_DEPTH:
            _read(_expand(value, path.parent), found, depth + 1)


def _user_config_files() -> list[Path]:
    """System and user config files in the order git reads them."""
    env = os.environ
    files: list[Path] = []
    if env.get("GIT_CONFIG_NOSYSTEM", "").lower() not in {"1", "true", "yes", "on"}:
        files.append(Path(env.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig"))
    if env.get("GIT_CONFIG_GLOBAL"):
        files.append(Path(os.path.expanduser(env["GIT_CONFIG_GLOBAL"])))
        return files
    xdg = env.get("XDG_CONFIG_HOME")
    home = Path(os.path.expanduser("~"))
    files.append(Path(xdg) / "git" / "config" if xdg else home / ".config" / "git" / "config")
    files.append(home / ".gitconfig")
    return files


def excludes_file(git_dir: Path, top: Path) -> Path | None:
    """The global excludes file git would read for this repository.

    Args:
        git_dir: The repository's git directory (its ``config`` is read last).
        top: The work tree's top (a relative ``core.excludesFile`` is taken from there).

    Returns:
        The file's path (it may not exist), or ``None`` when the setting is empty or has
        no value.
    """
    found: dict[str, str | None] = {}
    for path in [*_user_config_files(), git_dir / "config"]:
        _read(path, found)
    if "excludesfile" in found:
        value = found["excludesfile"]
        return _expand(value, top) if value else None
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg:
        return Path(xdg) / "git" / "ignore"
    home = os.environ.get("HOME")
    return Path(home) / ".config" / "git" / "ignore" if home else None
