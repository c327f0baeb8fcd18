"""Repository index: lexical (BM25) + dense (Chroma) with a content-hash manifest.

``open_index(repo)`` returns a :class:`RepoIndex`; ``RepoIndex.update()`` is an
incremental generator of progress events; ``RepoIndex.search()`` is hybrid retrieval
(``greenpair.core.index.search``). ``watcher.watch(repo)`` keeps an index fresh.
"""

from greenpair.core.index.repo_index import RepoIndex, open_index

__all__ = ["RepoIndex", "open_index"]
