"""The page: :func:`render_report` fills the Jinja2 template ``templates/report.html.j2``.

The template autoescapes every value; a section body built by
:mod:`teachgraph.tracing.report.sections` is already escaped HTML and enters as
:class:`markupsafe.Markup`. The styles (``templates/report.css``) are inlined, so the page needs
nothing but itself.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import NamedTuple

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from teachgraph.errors import DataNotFoundError
from teachgraph.redaction import redact
from teachgraph.tracing.report.loading import RunData, load_run
from teachgraph.tracing.report.sections import NAV, SECTIONS, health_banner
from teachgraph.tracing.rundir import RunDir, atomic_write

__all__ = ["render_report", "write_report"]

log = logging.getLogger(__name__)


class _Section(NamedTuple):
    title: str
    anchor: str
    body: Markup


def write_report(run_dir: str | Path) -> Path:
    """Write ``run_dir/report.html`` (atomically) and return its path.

    Works on any run directory, finished or not: parts that are missing or unreadable (no
    ``metrics.json`` yet, no trace, no forest snapshots, a corrupt line) make their section say
    so; the rest of the report is still written.

    Raises:
        DataNotFoundError: ``run_dir`` is not a directory.
    """
    run = RunDir(run_dir)
    if not run.root.is_dir():
        raise DataNotFoundError(f"no run directory at {run.root}; pass the --out folder of a run")
    atomic_write(run.report_path, redact(render_report(run.root)))
    return run.report_path


def render_report(run_dir: str | Path) -> str:
    """The HTML of the report for ``run_dir`` (what :func:`write_report` writes)."""
    data = load_run(run_dir)
    return _template().render(
        title=f"teachgraph report — {data.run_id}",
        nav=NAV,
        health=Markup(health_banner(data)),
        problems=data.problems,
        sections=[_Section(title, anchor, _guard(title, build, data)) for title, anchor, build in SECTIONS],
        generated=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        root=data.root,
    )


def _guard(title: str, build: Callable[[RunData], str], data: RunData) -> Markup:
    """A section's body; a section that fails says why instead of failing the report."""
    try:
        return Markup(build(data))
    except Exception as err:  # untrusted input: one bad part must not cost the whole report
        log.warning("report section %r failed", title, exc_info=True)
        why = html.escape(f"{type(err).__name__}: {err}", quote=True)
        return Markup(f'<p class="error">Could not build this section: {why}</p>')


@cache
def _template() -> Template:
    # keep_trailing_newline: the page (and the inlined CSS) end with a newline, as files should.
    env = Environment(
        loader=PackageLoader("teachgraph.tracing.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.j2")
