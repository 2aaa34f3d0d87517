"""Scene graphs of coloured shapes on a plain background, and how to sample them.

A :class:`Scene` is the whole truth about a rendered image: every object's shape, colour, size
and centre (pixels, ``y`` grows downwards as in the image). Questions are answered from it, never
from the pixels, and :func:`teachgraph.tasks.vqa.render.render_scene` draws it deterministically.
The vocabulary is easy-VQA's (8 colours, circle/rectangle/triangle), so that a student taught on
these scenes can be measured on easy-VQA.
"""

from __future__ import annotations

import hashlib
import math
import random
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "CANVAS",
    "COLORS",
    "COLOR_RGB",
    "OBJECT_GAP",
    "RADIUS",
    "SHAPES",
    "SIZES",
    "Color",
    "Scene",
    "SceneObject",
    "Shape",
    "Size",
    "sample_scene",
]

Shape = Literal["circle", "rectangle", "triangle"]
Color = Literal["red", "green", "blue", "yellow", "teal", "brown", "black", "gray"]
Size = Literal["small", "large"]
SHAPES: tuple[Shape, ...] = get_args(Shape)
COLORS: tuple[Color, ...] = get_args(Color)
SIZES: tuple[Size, ...] = get_args(Size)

#: Fill colours, far apart from each other and from the pale backgrounds.
COLOR_RGB: dict[Color, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (30, 180, 40),
    "blue": (30, 60, 220),
    "yellow": (235, 210, 0),
    "teal": (0, 140, 140),
    "brown": (140, 75, 25),
    "black": (20, 20, 20),
    "gray": (128, 128, 128),
}
#: Radius of the circle each shape is inscribed in, per size (pixels).
RADIUS: dict[Size, int] = {"small": 9, "large": 15}
#: Side of the square canvas (pixels).
CANVAS = 128
#: Free pixels between the enclosing circles of any two objects: objects never touch.
OBJECT_GAP = 4

_RGB = tuple[int, int, int]


class SceneObject(BaseModel):
    """One shape in a scene.

    Attributes:
        shape: ``circle``, ``rectangle`` (drawn as a square) or ``triangle`` (pointing up).
        color: One of :data:`COLORS`.
        size: ``small`` or ``large`` (:data:`RADIUS`).
        x: Centre column in pixels.
        y: Centre row in pixels (grows downwards).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    shape: Shape
    color: Color
    size: Size
    x: int = Field(ge=0, lt=CANVAS)
    y: int = Field(ge=0, lt=CANVAS)

    @property
    def radius(self) -> int:
        """Radius of the circle the shape is inscribed in."""
        return RADIUS[self.size]


class Scene(BaseModel):
    """A scene graph: the objects of one image and its background colour.

    Objects lie wholly inside the canvas and never overlap (a validation error otherwise), so
    every object is visible and countable in the rendered image.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    objects: tuple[SceneObject, ...] = Field(min_length=1, max_length=12)
    background: _RGB = (240, 240, 240)

    @model_validator(mode="after")
    def _visible(self) -> Scene:
        for k, obj in enumerate(self.objects):
            r = obj.radius
            if not (r <= obj.x < CANVAS - r and r <= obj.y < CANVAS - r):
                raise ValueError(f"object {k} ({obj.shape} at {obj.x},{obj.y}) leaves the {CANVAS}px canvas")
            for j in range(k):
                other = self.objects[j]
                if math.dist((obj.x, obj.y), (other.x, other.y)) < r + other.radius + OBJECT_GAP:
                    raise ValueError(f"objects {j} and {k} overlap")
        return self

    def digest(self) -> str:
        """A stable 16-hex-digit id of the scene (sha256 of its canonical JSON)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


def sample_scene(rng: random.Random, n_objects: int, *, attempts: int = 200) -> Scene:
    """A random scene of ``n_objects`` non-overlapping objects on a pale background.

    Raises:
        ValueError: ``n_objects`` do not fit (after ``attempts`` tries per object).
    """
    objects: list[SceneObject] = []
    for _ in range(n_objects):
        for _ in range(attempts):
            size = rng.choice(SIZES)
            r = RADIUS[size]
            x, y = rng.randrange(r, CANVAS - r), rng.randrange(r, CANVAS - r)
            if all(math.dist((x, y), (o.x, o.y)) >= r + o.radius + OBJECT_GAP for o in objects):
                objects.append(SceneObject(shape=rng.choice(SHAPES), color=rng.choice(COLORS), size=size, x=x, y=y))
                break
        else:
            raise ValueError(f"cannot place {n_objects} objects on a {CANVAS}px canvas")
    background = (rng.randrange(228, 252), rng.randrange(228, 252), rng.randrange(228, 252))
    return Scene(objects=tuple(objects), background=background)
