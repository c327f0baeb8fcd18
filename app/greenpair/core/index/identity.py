"""Who a repository is, independent of where it is checked out.

A shared vector collection must be the same for two developers' clones of one project and
different for two projects. The identity is the ``origin`` remote's URL, normalised so
that ``git@host:team/shop.git`` and ``https://user@host/team/shop`` agree; without a remote,
the root commit (the first commit of the history, the same in every clone).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from greenpair.core.errors import RepositoryError

_SCP = re.compile(r"^(?:[\w.\-]+@)?(?P<host>[\w.\-]+):(?P<path>(?!/).+)$")  # git@host:a/b


def normalise_remote(url: str) -> str:
    """``host/path`` of a git remote URL: no scheme, user, password, port or ``.git``."""
    url = url.strip()
    m = _SCP.match(url)
    if m and "://" not in url:
        host, path = m.group("host"), m.group("path")
    else:
        rest = url.split("://", 1)[-1]
        hostpart, _, path = rest.partition("/")
        host = hostpart.rsplit("@", 1)[-1].split(":", 1)[0]
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    return f"{host.lower()}/{path}"


def _git(repo: Path, *args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def repo_identity(repo: Path) -> str:
    """``remote:host/path`` or ``root:<sha>`` for ``repo``.

    Raises:
        RepositoryError: ``repo`` is not a git repository with a commit (a shared index
            needs an identity every clone agrees on).
    """
    remote = _git(repo, "config", "--get", "remote.origin.url")
    if remote:
        return "remote:" + normalise_remote(remote)
    roots = sorted(_git(repo, "rev-list", "--max-parents=0", "HEAD").split())
    if roots:
        return "root:" + roots[0]
    raise RepositoryError(
        f"{repo} has no git remote and no commit, so a shared index cannot name it.",
        hint="Commit once (or add the team's remote), or clear the chroma_url setting.",
    )
