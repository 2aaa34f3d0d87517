"""Reading a rendered scene back off its pixels: what a picture actually shows.

:func:`~.render.render_scene` draws every object in its flat fill colour without anti-aliasing,
so each object is one connected region of exactly its colour. :func:`objects_in_image` finds
those regions and measures each one's shape (how much of its bounding box it fills), size
(its width) and centre. A scene whose read-back objects equal its scene graph shows every
object it claims, so a question answered from the graph is answered from the picture: the
check applied to every scene a teacher's generator draws (and, in the tests, to every scene of
the task's splits).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image
from scipy import ndimage

from teachgraph.tasks.vqa.scene import COLOR_RGB, COLORS, RADIUS, Scene

__all__ = ["objects_in_image", "scene_mismatch"]

# Fill share of a region's bounding box: a square fills it, a circle ~0.79, a triangle ~0.5.
_SQUARE_FILL, _TRIANGLE_FILL = 0.92, 0.65
# Widest small object: a circle, 2 r + 1 = 19 px; narrowest large one: a square, 21 px.
_LARGE_WIDTH = 2 * RADIUS["small"] + 1


def objects_in_image(image: Image.Image) -> list[dict[str, Any]]:
    """The objects visible in a rendered scene: one dict (shape, color, size, x, y) per region of
    a fill colour, in colour order then region order."""
    pixels = np.asarray(image.convert("RGB"))
    found = []
    for color in COLORS:
        mask = np.all(pixels == np.array(COLOR_RGB[color]), axis=-1)
        labels, n = ndimage.label(mask)
        for region in range(1, n + 1):
            ys, xs = np.nonzero(labels == region)
            top, bottom, left, right = int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())
            fill = len(xs) / ((bottom - top + 1) * (right - left + 1))
            shape = "rectangle" if fill > _SQUARE_FILL else "triangle" if fill < _TRIANGLE_FILL else "circle"
            # A triangle's centre is two thirds of the way down from its apex.
            y = round(top + (bottom - top) * 2 / 3) if shape == "triangle" else round((top + bottom) / 2)
            size = "large" if right - left + 1 > _LARGE_WIDTH else "small"
            found.append({"shape": shape, "color": color, "size": size, "x": round((left + right) / 2), "y": y})
    return found


def scene_mismatch(scene: Scene, image: Image.Image) -> str | None:
    """Why ``image`` does not show exactly ``scene``'s objects, or ``None`` when it does."""

    def key(o: dict[str, Any]) -> tuple[Any, ...]:
        return (o["shape"], o["color"], o["size"], o["x"], o["y"])

    seen = sorted(map(key, objects_in_image(image)))
    claimed = sorted(key(o.model_dump()) for o in scene.objects)
    if seen == claimed:
        return None
    missing = [c for c in claimed if c not in seen]
    if missing:
        shape, color, size, x, y = missing[0]
        return (
            f"the image shows {len(seen)} objects for {len(claimed)} in the scene; the {size} {color} {shape} at "
            f"({x}, {y}) is not visible as drawn (hidden by the background colour?)"
        )
    return f"the image shows {len(seen)} objects, the scene has {len(claimed)}"
