"""A reporter for Node's built-in test runner (``node --test``), and how its report is read.

Node's own reporters do not say which file a passing test is in (TAP and JUnit name a
file only for a failure), so the check loads this small reporter: one JSON line per test
that ends, with its file, the names of the ``describe`` blocks around it and, for a
failure, the assertion's message and stack. It is written beside the scratch copy at each
run (``SOURCE``), like the pytest trace plugin, so nothing is installed anywhere.

A test's id is ``path > suite > test`` (the shape of vitest's and jest's ids), the path
relative to the copy. A file that fails before any test runs (a syntax error, an import
that throws) is one failing outcome named by its path, with what its process wrote to
stderr as the message.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from greenpair.core.assistant.check.result import TestOutcome

FILE_NAME = "greenpair-node-reporter.mjs"
MAX_MESSAGE_CHARS = 3000

SOURCE = r"""// Greenpair's reporter for node --test: a JSON line per test that ends.
import { inspect } from 'node:util';

function text(error) {
  const cause = error && error.cause !== undefined ? error.cause : error;
  if (cause instanceof Error) return cause.stack || String(cause);
  return typeof cause === 'string' ? cause : inspect(cause, { depth: 4 });
}

export default async function* greenpairReporter(source) {
  const suites = new Map(); // file -> names of the blocks open at each nesting level
  const stderr = new Map(); // file -> what its process wrote to stderr (the tail)
  for await (const event of source) {
    const data = event.data || {};
    const file = data.file || '';
    if (event.type === 'test:stderr') {
      stderr.set(file, ((stderr.get(file) || '') + (data.message || '')).slice(-4000));
      continue;
    }
    if (event.type === 'test:start') {
      const open = suites.get(file) || [];
      open.length = data.nesting;
      open.push(data.name);
      suites.set(file, open);
      continue;
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const details = data.details || {};
    if (details.type === 'suite') continue; // a describe block: its tests are counted
    const open = (suites.get(file) || []).slice(0, data.nesting);
    let message = event.type === 'test:fail' ? text(details.error) : '';
    if (message && data.name === file && stderr.get(file)) message = stderr.get(file);
    yield JSON.stringify({
      file,
      path: [...open, data.name],
      passed: event.type === 'test:pass',
      skipped: Boolean(data.skip || data.todo),
      message,
    }) + '\n';
  }
}
"""


def write_reporter(folder: Path) -> Path:
    """Write the reporter into ``folder`` (beside the scratch copy); returns its path."""
    path = folder / FILE_NAME
    path.write_text(SOURCE, encoding="utf-8")
    return path


def _relative(file: str, root: Path) -> str:
    if file.startswith("file://"):
        file = file[len("file://"):]
    try:
        return str(PurePosixPath(Path(file).resolve().relative_to(root.resolve())))
    except (ValueError, OSError):
        return file


def parse_report(root: Path, report: str) -> list[TestOutcome]:
    """The outcomes in the reporter's JSON lines (skipped and todo tests left out)."""
    out: list[TestOutcome] = []
    for line in report.splitlines():
        try:
            row = json.loads(line)
            names = [str(n) for n in row["path"]]
            passed = bool(row["passed"])
            skipped = bool(row.get("skipped"))
            file = str(row.get("file") or "")
            message = str(row.get("message") or "")
        except (ValueError, KeyError, TypeError):
            continue
        if skipped or not names:
            continue
        rel = _relative(file, root) if file else ""
        if rel and _relative(names[0], root) == rel:  # the file itself failed to load
            ident = rel
        else:
            ident = " > ".join([rel, *names] if rel else names)
        out.append(TestOutcome(ident, passed, "" if passed else message[-MAX_MESSAGE_CHARS:]))
    return out
