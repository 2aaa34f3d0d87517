"""Questions about images in the report: the picture itself beside the question, not its JSON.

A VQA example's input starts with an image reference (``<image>{json}</image>``,
:mod:`teachgraph.tasks.vqa.images`). The report's example sample shows such an input as the
rendered image (a PNG embedded as a ``data:`` URI, so the page stays self-contained) with the
question under it; any other input is shown as text. A reference that cannot be read or drawn
(a run directory is untrusted input) falls back to the text.
"""

from __future__ import annotations

import base64
import html
import io
import logging

from markupsafe import Markup

from teachgraph.tasks.vqa.images import load_image, split_image

__all__ = ["THUMBNAIL_PX", "question_cell"]

log = logging.getLogger(__name__)

#: Side of the shown image (the scenes are drawn at 128 px; easy-VQA's are 64 px, shown larger).
THUMBNAIL_PX = 128


def _png(text: str) -> tuple[bytes, str] | None:
    """The input's image as PNG bytes and its question, or ``None`` when it has no readable image."""
    try:
        ref, question = split_image(text)
        if ref is None:
            return None
        image = load_image(ref).resize((THUMBNAIL_PX, THUMBNAIL_PX))
    except Exception:  # untrusted input: a bad reference shows as text
        log.debug("report: could not draw an image reference", exc_info=True)
        return None
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue(), question.strip()


def question_cell(text: str, clip: int) -> Markup:
    """An example's input as HTML: its image and question, or its text (``clip`` characters at most)."""
    drawn = _png(text)
    if drawn is None:
        shown = text if len(text) <= clip else text[:clip] + f"… [{len(text) - clip} more characters]"
        return Markup(f'<div class="text">{html.escape(shown, quote=True)}</div>')
    png, question = drawn
    source = base64.b64encode(png).decode("ascii")
    alt = html.escape(f"image of: {question}", quote=True)
    return Markup(
        f'<img class="vqa" alt="{alt}" src="data:image/png;base64,{source}">'
        f'<div class="text">{html.escape(question[:clip], quote=True)}</div>'
    )
