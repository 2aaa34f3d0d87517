"""Drawing a scene graph with Pillow: the same scene always gives the same pixels.

Shapes are drawn without anti-aliasing, in flat colours, so every pixel of an object has exactly
its colour (the tests recover the scene graph from the image by that).
"""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from teachgraph.tasks.vqa.scene import CANVAS, COLOR_RGB, Scene, SceneObject

__all__ = ["render_scene", "shape_outline"]

# Every shape lies inside its radius-r circle, which the scene keeps clear of every other object's:
# so the square is inscribed, half-side floor(r / sqrt 2). (A half-side of 0.85 r, used before,
# put its corners 1.2 r from the centre: diagonal neighbours touched or merged, 10 of the 2,080
# default items showed two objects touching.)
_SQUARE_HALF = 1 / math.sqrt(2)


def shape_outline(obj: SceneObject) -> list[tuple[float, float]]:
    """The polygon of a rectangle or triangle (a circle has none: it is drawn as an ellipse)."""
    r = obj.radius
    if obj.shape == "rectangle":
        h = math.floor(r * _SQUARE_HALF)
        return [(obj.x - h, obj.y - h), (obj.x + h, obj.y - h), (obj.x + h, obj.y + h), (obj.x - h, obj.y + h)]
    if obj.shape == "triangle":  # equilateral, pointing up
        dx = r * math.sqrt(3) / 2
        return [
            (obj.x, obj.y - r),
            (round(obj.x + dx), round(obj.y + r / 2)),
            (round(obj.x - dx), round(obj.y + r / 2)),
        ]
    raise ValueError(f"a {obj.shape} has no polygon")


def render_scene(scene: Scene) -> Image.Image:
    """The scene as a ``CANVAS``×``CANVAS`` RGB image."""
    image = Image.new("RGB", (CANVAS, CANVAS), scene.background)
    draw = ImageDraw.Draw(image)
    for obj in scene.objects:
        fill = COLOR_RGB[obj.color]
        if obj.shape == "circle":
            r = obj.radius
            draw.ellipse((obj.x - r, obj.y - r, obj.x + r, obj.y + r), fill=fill)
        else:
            draw.polygon(shape_outline(obj), fill=fill)
    return image
