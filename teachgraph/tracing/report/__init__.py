"""``report.html``: one self-contained page that explains a run.

:func:`write_report` reads a run directory (see :mod:`teachgraph.tracing.rundir`) and writes
``report.html`` next to it: the run's facts, accuracy per iteration, data per skill, per-skill
accuracy as a heat map, the skill forest at every iteration with what changed, the decisions and
LLM usage from the trace, and a sample of the written examples.

The page needs nothing but itself: plots are PNGs embedded as base64 ``data:`` URIs, styles are
inline, there is no JavaScript and no web font, so it opens offline and can be mailed around.
Everything that came from a model, a task or a user is HTML-escaped; a run directory is
untrusted input. Missing or unreadable parts (a run still going, killed, or only just started)
leave their section saying so instead of failing the whole report.

One module per job: :mod:`~teachgraph.tracing.report.loading` reads the run directory and counts,
:mod:`~teachgraph.tracing.report.plots` draws the PNGs, :mod:`~teachgraph.tracing.report.images`
draws the pictures of image questions (VQA), :mod:`~teachgraph.tracing.report.sections`
builds each section's HTML and :mod:`~teachgraph.tracing.report.page` fills the Jinja2 template.
"""

from teachgraph.tracing.report.loading import DataCounts, RunData, data_counts, data_counts_from_rounds, load_run
from teachgraph.tracing.report.page import render_report, write_report
from teachgraph.tracing.report.plots import accuracy_plot, data_plot, skill_heatmap

__all__ = [
    "DataCounts",
    "RunData",
    "accuracy_plot",
    "data_counts",
    "data_counts_from_rounds",
    "data_plot",
    "load_run",
    "render_report",
    "skill_heatmap",
    "write_report",
]
