"""The report's "Generators" section: every generator program on the latest skill forest.

One row per generator (skill, hash, status and verdict, author, iteration, draws, accepted
draws, the student's probe accuracy, validation measurements), its source folded under the row,
and the accuracy on generated data per (sub)skill. Empty for runs of the direct writer.
"""

from __future__ import annotations

import html
from typing import Any

from teachgraph.skills import SkillForest


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def generators_html(forests: dict[int, dict[str, Any]]) -> str:
    """The section body for the forest snapshots of a run (iteration -> node-link data)."""
    if not forests:
        return '<p class="missing">No skill forest snapshots yet.</p>'
    iteration = max(forests)
    forest = SkillForest.from_state(forests[iteration])
    rows = []
    for path in forest:
        node = forest.node(path)
        for g in node.generators:
            st = g.stats
            check = f"{st.agreed}/{st.checked}" if st.checked else "—"
            verdict = g.reason + (f": {g.detail}" if g.detail else "") + (" (repaired)" if st.repaired else "")
            cells = [
                path,
                g.hash,
                g.status,
                verdict,
                g.author_model,
                g.iteration,
                g.draws,
                g.accepted,
                _pct(g.probe_accuracy),
                f"{st.distinct_share:.0%}" if st.seeds else "—",
                check,
            ]
            row = "".join(f"<td>{_e(c)}</td>" for c in cells)
            source = f'<tr><td colspan="{len(cells)}"><details><summary>source</summary><pre>{_e(g.source)}</pre></details></td></tr>'
            rows.append(f"<tr>{row}</tr>{source}")
    if not rows:
        return '<p class="missing">No generator programs in this run (teacher.engine: examples).</p>'
    headers = [
        "skill",
        "generator",
        "status",
        "verdict",
        "author",
        "written at",
        "draws",
        "accepted",
        "student on its data",
        "distinct",
        "check agreed",
    ]
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    accuracy = [
        f"<tr><td>{_e(p)}</td><td>{_pct(forest.latest_accuracy(p, 'generated'))}</td></tr>"
        for p in forest
        if forest.latest_accuracy(p, "generated") is not None
    ]
    acc_table = (
        '<p class="note">Student accuracy on generated data (difficulty probe, latest):</p>'
        f'<div class="scroll"><table><thead><tr><th>skill</th><th>accuracy</th></tr></thead><tbody>{"".join(accuracy)}</tbody></table></div>'
        if accuracy
        else ""
    )
    return (
        f'<p class="note">Generator programs on the forest after iteration {iteration}: exploit steps '
        "re-draw from the active ones without an LLM call.</p>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
        + acc_table
    )
