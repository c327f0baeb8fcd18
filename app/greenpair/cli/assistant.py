"""``greenpair ask``, ``greenpair chat`` and ``greenpair patch``: thin clients of
``greenpair.core.assistant``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from greenpair.cli.context import services
from greenpair.core.errors import GreenpairError, PatchError

if TYPE_CHECKING:
    from greenpair.core.assistant.ask.conversation import Answer, Conversation
    from greenpair.core.assistant.check import CheckOptions, CheckResult
    from greenpair.core.assistant.patch.drafting import PatchDraft, PatchOptions
    from greenpair.core.assistant.retriever import Retriever
    from greenpair.core.energy import EnergyReport
    from greenpair.core.llm.runtime import Runtime

_repo_option = click.option(
    "--repo", type=click.Path(path_type=Path), default=Path("."), show_default=True,
    help="The repository to work on.",
)
_model_option = click.option("--model", default=None, help="A catalog model id or a GGUF path.")


def _runtime(model: str | None) -> Runtime:
    from greenpair.core.assistant.retriever import open_model

    return open_model(model, services().settings) if model else services().runtime()


def _index(repo: Path) -> Retriever:
    """The repository's index, up to date (``cli.index.fresh_index``)."""
    from greenpair.cli.index import fresh_index

    return fresh_index(repo)


def _energy_line(energy: EnergyReport | None, tokens: int, tokens_per_s: float) -> str:
    parts = [f"{tokens} tokens", f"{tokens_per_s:.1f} tok/s"]
    if energy is not None and energy.joules is not None:
        label = "estimated" if energy.estimated else energy.sensor
        parts.insert(0, f"{energy.joules:.1f} J ({label})")
        if energy.gco2e is not None:
            parts.insert(1, f"{energy.gco2e:.4f} gCO2e")
    return " · ".join(parts)


def _print_answer_footer(answer: Answer) -> None:
    click.echo()
    if answer.citations:
        note = " (the model cited nothing valid; top code used)" if answer.citations_fallback \
            else ""
        click.secho("Citations" + note + ":", bold=True, err=True)
        for c in answer.citations:
            click.echo(f"  {c}", err=True)
    for c in answer.rejected_citations:
        click.secho(f"  dropped: {c} (not in the code shown to the model)", fg="yellow", err=True)
    line = _energy_line(answer.energy, answer.completion_tokens, answer.tokens_per_s)
    if answer.energy_scope:
        line += f" · energy {answer.energy_scope} (the model runs on a server)"
    click.secho(line, dim=True, err=True)


def _ask_one(conv: Conversation, question: str, *, stream: bool) -> Answer:
    from greenpair.core.assistant.ask.conversation import Sources, Token

    answer: Answer | None = None
    for event in conv.ask(question):
        if isinstance(event, Token):
            if stream:
                click.echo(event.text, nl=False)
                sys.stdout.flush()
        elif isinstance(event, Sources):
            if stream:  # what will be read, before the model starts
                click.secho(event.text, dim=True, err=True)
        else:
            answer = event
    assert answer is not None
    return answer


@click.command("ask")
@_repo_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@_model_option
@click.argument("question", nargs=-1, required=True)
def ask_cmd(repo: Path, as_json: bool, model: str | None, question: tuple[str, ...]) -> None:
    """Answer QUESTION about the repository, with checked citations path:start-end."""
    from greenpair.core.assistant.ask.conversation import Conversation

    conv = Conversation(repo, runtime=_runtime(model), index=_index(repo),
                        meter=services().meter)
    answer = _ask_one(conv, " ".join(question), stream=not as_json)
    if as_json:
        click.echo(json.dumps(answer.to_json(), indent=2))
    else:
        _print_answer_footer(answer)


@click.command("chat")
@_repo_option
@_model_option
def chat_cmd(repo: Path, model: str | None) -> None:
    """Ask questions in a row; follow-ups reuse the cached context. /reset, /quit."""
    from greenpair.core.assistant.ask.conversation import Conversation

    conv = Conversation(repo, runtime=_runtime(model), index=_index(repo),
                        meter=services().meter)
    interactive = sys.stdin.isatty()
    if interactive:
        click.secho("Ask about the code (/reset to start over, /quit or Ctrl-D to leave).",
                    dim=True, err=True)
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            break
        question = line.strip()
        if not question:
            continue
        if question in {"/quit", "/exit"}:
            break
        if question == "/reset":
            conv.reset()
            click.secho("Started over.", dim=True, err=True)
            continue
        try:
            answer = _ask_one(conv, question, stream=True)
        except KeyboardInterrupt:
            click.secho("\n(cancelled)", dim=True, err=True)
            continue
        except GreenpairError as exc:
            click.secho(f"Error: {exc.message}", fg="red", err=True)
            continue
        _print_answer_footer(answer)


def _print_diff(diff: str) -> None:
    color = sys.stdout.isatty()
    for line in diff.splitlines():
        fg = None
        if line.startswith(("+++", "---")):
            fg = "white"
        elif line.startswith("+"):
            fg = "green"
        elif line.startswith("-"):
            fg = "red"
        elif line.startswith("@@"):
            fg = "cyan"
        click.secho(line, fg=fg if color else None)


def _draft(repo: Path, task: str, model: str | None, options: PatchOptions,
           as_json: bool, check: CheckOptions | None = None) -> PatchDraft:
    """Draft a patch (checked and repaired when ``check`` is given); a function defined
    in several places is asked about (one line)."""
    from greenpair.core.assistant.check import draft_checked, draft_unchecked
    from greenpair.core.assistant.patch.drafting import PatchDraft, Status
    from greenpair.core.assistant.patch.targets import AmbiguousTarget

    runtime, index = _runtime(model), _index(repo)
    while True:
        try:
            events = draft_unchecked(repo, task, runtime=runtime, index=index,
                                     options=options, meter=services().meter) \
                if check is None else draft_checked(repo, task, runtime=runtime,
                                                    meter=services().meter, index=index,
                                                    options=options, check=check)
            for event in events:
                if isinstance(event, Status) and not as_json:
                    click.secho(event.text, dim=True, err=True)
                elif isinstance(event, PatchDraft):
                    return event
        except AmbiguousTarget as exc:
            click.secho(exc.message, err=True)
            pick = click.prompt("Which one", type=click.IntRange(1, len(exc.choices)),
                                err=True)
            options.prefer_path = exc.choices[pick - 1].path
            options.ambiguity = "rank"
            continue
        raise AssertionError("drafting ended without a draft")


def _check_options(repo: Path, check: bool | None, test_command: str | None,
                   interactive: bool) -> tuple[CheckOptions | None, str]:
    """The check to run, or None and why not: ``--check`` (or a ``--test-command``) is
    a yes and is remembered; otherwise the repository's remembered answer, asked once
    when the terminal allows it."""
    from greenpair.core.assistant.check import CheckOptions
    from greenpair.core.assistant.check.prefs import load_prefs, save_prefs
    from greenpair.core.assistant.retriever import check_repo

    if check is False:
        return None, "--no-check"
    root = check_repo(repo)
    prefs = load_prefs(root)
    if check or test_command:
        if prefs.allowed is not True:
            prefs.allowed = True
            save_prefs(root, prefs)
    elif prefs.allowed is None:
        if not interactive:
            return None, "checks are not allowed yet in this repository (pass --check)"
        prefs.allowed = click.confirm(
            "Check patches by running this repository's tests in a scratch copy (no "
            "network)? It runs the repository's code and the model's change; asked once",
            default=True, err=True)
        save_prefs(root, prefs)
    if not prefs.allowed:
        return None, "checks are off for this repository (greenpair config set --repo " \
                     f"{repo} check yes)"
    settings = services().settings
    return CheckOptions(timeout_s=float(settings.check_timeout_s),
                        tries=max(1, settings.check_tries),
                        test_command=test_command or prefs.test_command), ""


def _print_check(result: CheckResult) -> None:
    colour = {"passed": "green", "failed": "red", "timeout": "red", "error": "red"}
    click.secho(("Checked: " if result.status != "skipped" else "") + result.summary,
                fg=colour.get(result.status, "yellow"), err=True)
    if result.command:
        click.secho(f"  ran: {result.command}" + ("" if result.namespace else
                                                    " (no network namespace here)"),
                    dim=True, err=True)
    if result.status in {"failed", "timeout", "error"} and result.output:
        click.echo(result.output, err=True)


@click.command("patch")
@_repo_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--apply", "do_apply", is_flag=True, help="Write the patch to the working tree.")
@click.option("--undo", is_flag=True, help="Restore the files of the last applied patch.")
@click.option("--format", "fmt", type=click.Choice(["search_replace", "function", "udiff"]),
              default=None, help="Edit format to ask the model for (default: measured best).")
@click.option("--file", "prefer_path", default=None,
              help="The file to change when the task names a function defined in several.")
@click.option("--check/--no-check", "check", default=None,
              help="Run the nearest tests on the draft in a scratch copy and repair it on a "
                   "failure (default: as allowed for this repository; asked once).")
@click.option("--test-command", default=None,
              help="Check with this command (sh -c, in the scratch copy); the tests found "
                   "go where it says {tests}, or at the end of a pytest command.")
@_model_option
@click.argument("task", nargs=-1)
def patch_cmd(repo: Path, as_json: bool, do_apply: bool, undo: bool, fmt: str | None,
              prefer_path: str | None, check: bool | None, test_command: str | None,
              model: str | None, task: tuple[str, ...]) -> None:
    """Draft a patch for TASK and print it as a unified diff (--apply writes it).

    With a check, the draft is applied in a scratch copy and the tests nearest the
    change run there (never on your files); a failure is shown to the model, which drafts
    again (check_tries, within check_timeout_s).
    """
    from greenpair.core.assistant.check.result import skipped
    from greenpair.core.assistant.patch.drafting import PatchOptions, apply_patch, undo_last

    if undo:
        if task or do_apply:
            raise click.UsageError("--undo takes no TASK and no --apply.")
        restored = undo_last(repo)
        if as_json:
            click.echo(json.dumps({"restored": restored}))
        else:
            click.echo("Restored " + ", ".join(restored))
        return
    if not task:
        raise click.UsageError("Say what to change, e.g. greenpair patch 'rename foo to bar'.")
    interactive = sys.stdin.isatty() and not as_json
    check_options, why_not = _check_options(repo, check, test_command, interactive)
    draft = _draft(repo, " ".join(task), model, PatchOptions(
        format=fmt, prefer_path=prefer_path,
        ambiguity="ask" if interactive else "rank"), as_json, check_options)
    if draft.check is None:
        draft.check = skipped(why_not)
    if draft.error is None and do_apply:
        apply_patch(repo, draft)
    if as_json:
        click.echo(json.dumps(draft.to_json(), indent=2))
    elif draft.error is None:
        _print_diff(draft.diff)
        click.secho(_energy_line(draft.energy, draft.completion_tokens, draft.tokens_per_s),
                    dim=True, err=True)
        _print_check(draft.check)
        if draft.applied:
            click.secho(f"Applied to {', '.join(draft.files)}. Undo: greenpair patch "
                        f"--repo {repo} --undo", fg="green", err=True)
    if draft.error is not None:
        raise PatchError(f"No valid patch: {draft.error}",
                         hint="Rephrase the task naming the function or file to change.")
