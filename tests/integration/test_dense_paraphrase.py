"""The dense (embedding) signal on its own finds a file from a paraphrase that shares no
word with it: the real MiniLM embedder and the real Chroma store of a real index.

Every other retrieval test could pass with the dense path broken (lexical, symbol and path
signals carry them); this one cannot.
"""

from __future__ import annotations

import re
from pathlib import Path

from greenpair.core.index import open_index
from tests.conftest import make_repo

FILES = {
    "src/geo/haversine.py": '''
        import math

        R_KM = 6371.0


        def haversine(lat1, lon1, lat2, lon2):
            p1, p2 = math.radians(lat1), math.radians(lat2)
            dp = p2 - p1
            dl = math.radians(lon2 - lon1)
            a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
            return 2 * R_KM * math.asin(math.sqrt(a))
        ''',
    "src/io/csv_rows.py": '''
        import csv


        def read_rows(path):
            with open(path, newline="") as fh:
                return [dict(row) for row in csv.DictReader(fh)]
        ''',
    "src/auth/passwords.py": '''
        import hashlib
        import os


        def hash_password(password, salt=None):
            salt = salt or os.urandom(16)
            digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 200_000)
            return salt + digest
        ''',
    "src/net/retry.py": '''
        import time


        def with_retries(call, attempts=5, backoff=0.5):
            for n in range(attempts):
                try:
                    return call()
                except ConnectionError:
                    time.sleep(backoff * 2 ** n)
            raise TimeoutError("gave up")
        ''',
    "src/ui/colors.py": '''
        def rgb_to_hex(r, g, b):
            return "#{:02x}{:02x}{:02x}".format(r, g, b)
        ''',
}
QUERY = "how far apart are two places on the globe"


def _words(text: str) -> set[str]:
    """Lower-case words, identifiers split at underscores, case changes and digits."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return {w.lower() for w in re.findall(r"[A-Za-z]+", spaced)}


def test_dense_signal_alone_finds_a_file_by_a_paraphrase_sharing_no_word(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    target = "src/geo/haversine.py"
    shared = _words(QUERY) & (_words((repo / target).read_text()) | _words(target))
    assert not shared, f"the query must share no word with the file: {shared}"

    index = open_index(repo)
    try:
        for _ in index.update():
            pass
        assert index.stats()["embedded_chunks"] > 0
        query_vector = index.embedder().embed([QUERY])[0]
        nearest = index.vectors().query(query_vector, 5)
        paths = list(dict.fromkeys(path for _, path, _, _ in nearest))
        assert paths[0] == target, nearest
        best = nearest[0][3]
        runner_up = next(score for _, path, _, score in nearest if path != target)
        assert best > runner_up + 0.05, nearest  # a clear margin, not a tie broken by luck
    finally:
        index.close()
