"""``greenpair index``, ``greenpair search`` and ``greenpair watch``.

The JSON shapes are a contract (benchmarks and tools parse them):

* ``index --json``: ``RepoIndex.stats()`` plus ``duration_s`` and ``changed_files``;
* ``search --json``: ``SearchResult.to_json()``;
* ``search --json --batch FILE``: one line ``{"id", "files", "chunks"}`` per input line.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from greenpair.cli.context import services
from greenpair.core.errors import GreenpairError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from greenpair.core.index.repo_index import RepoIndex
    from greenpair.core.index.watcher import WatchEvent
    from greenpair.core.types import IndexProgress

_repo_option = click.option(
    "--repo",
    type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
    default=Path("."),
    show_default="current directory",
    help="The repository to work on.",
)


def _fmt_eta(eta: float | None) -> str:
    if eta is None:
        return "ETA --"
    eta = max(0.0, eta)
    return f"ETA {int(eta // 60)}:{int(eta % 60):02d}"


class _ProgressLine:
    """One self-rewriting status line on stderr (plain lines when not a terminal)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self._last_phase = ""
        self._last_draw = 0.0

    def show(self, event: IndexProgress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if event.phase == self._last_phase and now - self._last_draw < (0.1 if self.tty else 5):
            return
        self._last_phase, self._last_draw = event.phase, now
        if event.phase in {"lexical", "embed"} and event.files_total:
            width = 24
            if event.phase == "embed" and event.chunks_total:
                frac = event.chunks_done / event.chunks_total
            else:
                frac = event.files_done / event.files_total
            bar = "#" * int(frac * width)
            text = (
                f"{event.phase:>7} [{bar:<{width}}] files {event.files_done}/{event.files_total}"
                f"  chunks {event.chunks_done}/{event.chunks_total}  {_fmt_eta(event.eta_s)}"
            )
        else:
            text = f"{event.phase:>7} {event.message}"
        if self.tty:
            click.echo("\r\033[K" + text[:150], err=True, nl=False)
        else:
            click.echo(text, err=True)

    def finish(self) -> None:
        if self.enabled and self.tty:
            click.echo("", err=True)


def _print_messages() -> None:
    from greenpair.core import messages

    messages.connect(lambda level, text: click.echo(f"{level}: {text}", err=True))


def run_index(index: RepoIndex, *, progress: bool = True, embed: bool = True) -> dict[str, Any]:
    """Update ``index`` showing progress on stderr; returns the run's summary."""
    line = _ProgressLine(progress)
    started = time.monotonic()
    changed = 0
    try:
        for event in index.update(embed=embed):
            line.show(event)
            if event.phase == "done":
                changed = event.files_total
    finally:
        line.finish()
    return {"duration_s": round(time.monotonic() - started, 3), "changed_files": changed}


def fresh_index(repo: Path) -> RepoIndex:
    """The repository's index brought up to date before a search, an answer or a patch.

    The first build shows its progress; later runs redo only the files that changed since
    the last update (a walk that hashes only files whose size or time changed: ~0.16 s
    for 2,000 unchanged files, ``benchmarks/watch_refresh.py``), and say so when any did.
    """
    index = services().index(repo)
    if not index.is_built():
        click.secho(f"Indexing {repo} (first time; later runs only redo changed files)…",
                    dim=True, err=True)
        run_index(index, progress=True)
        return index
    summary = run_index(index, progress=False)
    if summary["changed_files"]:
        click.secho(f"Updated the index: {summary['changed_files']} changed file(s), "
                    f"{summary['duration_s']:.1f} s.", dim=True, err=True)
    return index


def report_refresh(event: WatchEvent) -> None:
    """One stderr line per refresh of a watched index (stdout may carry a protocol)."""
    stamp = time.strftime("%H:%M:%S")
    if event.error:
        click.echo(f"{stamp} re-indexing failed: {event.error}", err=True)
    else:
        shown = ", ".join(event.paths[:3]) + (" …" if len(event.paths) > 3 else "")
        click.echo(f"{stamp} {event.files_changed} file(s) re-indexed in "
                   f"{event.duration_s:.2f} s ({shown})", err=True)


@contextlib.contextmanager
def kept_fresh(indexes: list[RepoIndex], enabled: bool = True) -> Iterator[int]:
    """Watch each index's repository while a server runs, so its answers follow edits.

    ``serve`` and ``mcp`` run for hours beside an editor; without this their searches
    would see the code as it was at start. A repository that cannot be watched (the
    system's inotify limit, a vanished folder) is said so on stderr and served as is.
    Yields how many are watched; the watchers stop on exit.
    """
    from greenpair.core.index.watcher import watch

    watchers = []
    try:
        for index in indexes if enabled else []:
            try:
                watchers.append(watch(index.repo, report_refresh, index=index))
            except (OSError, GreenpairError) as exc:
                click.secho(f"Cannot watch {index.repo} for changes ({exc}): its index "
                            "stays as it was at start; restart to refresh it.",
                            fg="yellow", err=True)
        if watchers:
            click.secho("Watching for edits: changed files are re-indexed as they are "
                        "saved (--no-watch to turn off).", dim=True, err=True)
        yield len(watchers)
    finally:
        for watcher in watchers:
            watcher.stop()


@click.command("index")
@_repo_option
@click.option("--json", "as_json", is_flag=True, help="Print statistics as JSON on stdout.")
@click.option("--rebuild", is_flag=True, help="Delete the stored index and build it again.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--chroma-url", default=None, metavar="URL",
              help="Keep the vectors on a team's Chroma server (default: the chroma_url "
                   "setting; empty: in the local index).")
def index_cmd(repo: Path, as_json: bool, rebuild: bool, quiet: bool,
              chroma_url: str | None) -> None:
    """Index a repository (incremental: only changed files are redone)."""
    _print_messages()
    found = services()
    if chroma_url is not None:
        found.settings.chroma_url = chroma_url  # this run only; not saved
    index = found.index(repo, rebuild=rebuild)
    try:
        summary = run_index(index, progress=not quiet)
        stats = {**index.stats(), **summary}
        store = index.vectors()
        stats["vector_store"] = {"where": store.where, "shared": store.shared,
                                 "vectors": store.count(), **store.counters}
    finally:
        index.close()
    if as_json:
        click.echo(json.dumps(stats, indent=2, sort_keys=True))
        return
    skipped = ", ".join(f"{n} {r}" for r, n in stats["skipped"].items()) or "none"
    click.echo(
        f"Indexed {stats['files']} files ({stats['chunks']} chunks, "
        f"{stats['embedded_chunks']} embedded) in {stats['duration_s']:.1f} s; "
        f"{stats['changed_files']} changed. Skipped: {skipped}."
    )


def _read_batch(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise GreenpairError(
            f"Cannot read the batch file {path}: {exc.strerror or exc}.",
            hint="Pass a file of JSON lines, each with an id and a query.",
        ) from exc
    items = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            item = None
        if not isinstance(item, dict) or not isinstance(item.get("query"), str):
            raise GreenpairError(
                f"Line {n} of {path} is not a JSON object with a \"query\" string.",
                hint='Each line must look like {"id": "q1", "query": "where is X handled?"}.',
            )
        items.append(item)
    return items


@click.command("search")
@_repo_option
@click.option("-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True,
              help="How many files to return.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--batch", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON lines with id and query; one JSON line out per query.")
@click.argument("query", nargs=-1)
def search_cmd(repo: Path, k: int, as_json: bool, batch: Path | None, query: tuple[str, ...]) -> None:
    """Find the files and code most relevant to QUERY (the index is brought up to date
    first: built the first time, then only changed files)."""
    text = " ".join(query).strip()
    if batch is None and not text:
        raise click.UsageError("Give a QUERY, or --batch FILE.")
    if batch is not None and text:
        raise click.UsageError("Give either a QUERY or --batch FILE, not both.")
    items = _read_batch(batch) if batch is not None else []
    _print_messages()
    index = fresh_index(repo)
    try:
        if batch is not None:
            for item in items:  # models are loaded once, by the first query
                found = index.search(item["query"], k=k).to_json()
                out = {"id": item.get("id"), "files": found["files"], "chunks": found["chunks"]}
                click.echo(json.dumps(out))
            return
        result = index.search(text, k=k)
    finally:
        index.close()
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    if not result.files:
        click.echo("No matches.")
        return
    for rank, path in enumerate(result.files, 1):
        click.echo(f"{rank:3d}. {path}")
    if result.chunks:
        click.echo("\nBest passages:")
        for sc in result.chunks[: max(k, 5)]:
            c = sc.chunk
            name = f"  {c.kind} {c.symbol}" if c.symbol else ""
            click.echo(f"  {c.path}:{c.start_line}-{c.end_line}{name}  ({sc.score:.4f})")


def _sleep_until_interrupted(ready: Callable[[], None]) -> None:
    """Call ``ready``, then block, using no CPU, until Ctrl+C; raises KeyboardInterrupt.

    ``Event.wait()`` can sleep through Ctrl+C for good. The kernel may run the C signal
    handler on any thread, and when it is not the main one, CPython 3.11 can clear the
    main thread's reminder to run the Python handler (a CI run hung so). Here the signal's
    number also lands in a pipe (the wakeup fd), and reading it alone decides:
    the Python handler does nothing, and is left in place, so a handler call still pending
    cannot raise a second time during the caller's cleanup.
    """
    with contextlib.ExitStack() as ends:
        if sys.platform == "win32":  # there the wakeup fd must be a socket
            reader, writer = (ends.enter_context(end) for end in socket.socketpair())
            writer.setblocking(False)
            wakeup, receive = writer.fileno(), functools.partial(reader.recv, 64)
        else:  # a pipe: no socket of any kind for the privacy audit to weigh
            read_end, wakeup = os.pipe()
            ends.callback(os.close, read_end)
            ends.callback(os.close, wakeup)
            os.set_blocking(wakeup, False)
            receive = functools.partial(os.read, read_end, 64)
        previous = signal.set_wakeup_fd(wakeup)  # first: a SIGINT from here on is kept
        ends.callback(signal.set_wakeup_fd, previous)
        signal.signal(signal.SIGINT, lambda signum, frame: None)
        ready()
        while signal.SIGINT not in receive():
            pass
    raise KeyboardInterrupt


@click.command("watch")
@_repo_option
@click.option("--no-embed", is_flag=True, help="Keep only the lexical index fresh.")
def watch_cmd(repo: Path, no_embed: bool) -> None:
    """Keep the index fresh while you edit (Ctrl+C to stop)."""
    from greenpair.core.index.watcher import watch

    # A shell that starts a job in the background hands it SIGINT ignored, and Python then
    # leaves it ignored; watch runs until Ctrl+C (the privacy audit stops it with SIGINT),
    # so it takes Ctrl+C back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _print_messages()
    index = services().index(repo)
    run_index(index, progress=True, embed=not no_embed)

    watcher = watch(index.repo, report_refresh, index=index, embed=not no_embed)
    try:
        _sleep_until_interrupted(
            lambda: click.echo(f"Watching {index.repo} (Ctrl+C to stop)", err=True))
    except KeyboardInterrupt:
        click.echo("Stopping.", err=True)
    finally:
        watcher.stop()
        index.close()
