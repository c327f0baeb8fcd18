"""Patches keep a file's line endings and encoding byte for byte: CRLF, a UTF-8 BOM,
ISO-8859-1 (real files, git apply, apply and undo)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from greenpair.core.assistant.patch import backup
from greenpair.core.assistant.patch.diffs import validate
from greenpair.core.assistant.patch.editing import apply_edits
from greenpair.core.assistant.patch.edits import Edit
from greenpair.core.errors import PatchError
from greenpair.core.repo.walker import WalkedFile, walk

OLD = 'def greet(name):\n    # café\n    return "hello " + name\n'
NEW_LINE = '    return "bonjour " + name\n'

CASES = {
    "crlf.py": (OLD.replace("\n", "\r\n").encode("utf-8"), "utf-8", "\r\n"),
    "bom.py": (codecs.BOM_UTF8 + OLD.encode("utf-8"), "utf-8", "\n"),
    "latin1.py": (("# -*- coding: latin-1 -*-\n" + OLD).encode("latin-1"), "latin-1", "\n"),
    "crlf_latin1.py": (OLD.replace("\n", "\r\n").encode("latin-1"), "latin-1", "\r\n"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_patch_keeps_line_endings_and_encoding(tmp_repo: Path, name: str) -> None:
    data, encoding, newline = CASES[name]
    (tmp_repo / name).write_bytes(data)
    walked = {e.path: e for e in walk(tmp_repo) if isinstance(e, WalkedFile)}
    assert "café" in walked[name].text  # indexed, not refused as undecodable
    edit = Edit(name, '    return "hello " + name\n', NEW_LINE)
    [change] = apply_edits(tmp_repo, [edit])
    expected = data.replace('"hello "'.encode(encoding), '"bonjour "'.encode(encoding))
    assert change.after == expected  # only the changed bytes differ
    assert change.encoding == encoding
    diff = validate([change])  # git apply reproduces the exact bytes
    assert '+    return "bonjour " + name' in diff
    backup.apply_changes(tmp_repo, [change])
    assert (tmp_repo / name).read_bytes() == expected
    assert newline.encode() in expected
    backup.undo_last(tmp_repo)
    assert (tmp_repo / name).read_bytes() == data


def test_latin1_file_refuses_characters_it_cannot_hold(tmp_repo: Path) -> None:
    (tmp_repo / "old.py").write_bytes(OLD.encode("latin-1"))
    edit = Edit("old.py", '    return "hello " + name\n', '    return "☃ " + name\n')
    with pytest.raises(PatchError, match="latin-1 file and the new code has characters"):
        apply_edits(tmp_repo, [edit])
    assert (tmp_repo / "old.py").read_bytes() == OLD.encode("latin-1")
