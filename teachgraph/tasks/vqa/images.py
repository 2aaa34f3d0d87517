"""How an image travels with a question: a reference in the prompt text, and loading it.

The Student protocol passes prompts as text, so a VQA prompt starts with an image reference,
``<image>{json}</image>``, then the question. The reference is JSON (an :class:`ImageRef`): an
easy-VQA image by split and id, a scene graph rendered on demand, or a file. Instances, training
pairs and traces therefore carry their image wherever text goes; a vision student reads the
reference with :func:`split_image` and gets the picture with :func:`load_image`, a text-only
model just sees the JSON.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from teachgraph.errors import DataNotFoundError
from teachgraph.tasks.vqa.render import render_scene
from teachgraph.tasks.vqa.scene import Scene

__all__ = [
    "EasyVQAImage",
    "FileImage",
    "ImageRef",
    "SceneImage",
    "attach_image",
    "easy_vqa_path",
    "image_of",
    "load_image",
    "split_image",
]


class EasyVQAImage(BaseModel):
    """An image of the ``easy-vqa`` package, by split and image id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["easy_vqa"] = "easy_vqa"
    split: Literal["train", "test"]
    id: int = Field(ge=0)


class SceneImage(BaseModel):
    """A scene graph, rendered when the image is needed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["scene"] = "scene"
    scene: Scene


class FileImage(BaseModel):
    """An image file on disk."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["file"] = "file"
    path: Path


ImageRef = Annotated[EasyVQAImage | SceneImage | FileImage, Field(discriminator="kind")]
_REF_ADAPTER: TypeAdapter[EasyVQAImage | SceneImage | FileImage] = TypeAdapter(ImageRef)
_MARKER_RE = re.compile(r"\A\s*<image>(.*?)</image>\s*", re.DOTALL)


def attach_image(question: str, image: EasyVQAImage | SceneImage | FileImage) -> str:
    """``question`` preceded by the reference to its image (the prompt of a VQA instance)."""
    return f"<image>{image.model_dump_json(exclude_defaults=False)}</image>\n{question.strip()}"


def split_image(prompt: str) -> tuple[EasyVQAImage | SceneImage | FileImage | None, str]:
    """The image reference at the start of ``prompt`` (``None`` if it has none) and the rest.

    Raises:
        ValueError: the prompt starts with an ``<image>`` marker whose JSON is not a valid reference.
    """
    match = _MARKER_RE.match(prompt)
    if match is None:
        return None, prompt
    try:
        ref = _REF_ADAPTER.validate_json(match.group(1))
    except ValidationError as err:
        raise ValueError(f"malformed image reference in prompt: {err.errors()[0]['msg']}") from None
    return ref, prompt[match.end() :]


def image_of(prompt: str) -> EasyVQAImage | SceneImage | FileImage:
    """The image reference of a VQA prompt.

    Raises:
        ValueError: the prompt has no (valid) image reference.
    """
    ref, _ = split_image(prompt)
    if ref is None:
        raise ValueError("prompt has no <image>...</image> reference")
    return ref


@lru_cache(maxsize=4)
def _easy_vqa_paths(split: str) -> dict[int, str]:
    try:
        import easy_vqa
    except ImportError as err:  # pragma: no cover - a declared dependency
        raise DataNotFoundError(f"the easy-vqa package is not installed ({err}); pip install easy-vqa==1.0") from None
    paths = easy_vqa.get_train_image_paths() if split == "train" else easy_vqa.get_test_image_paths()
    return {int(k): str(v) for k, v in paths.items()}


def easy_vqa_path(image: EasyVQAImage) -> Path:
    """Where the package keeps an easy-VQA image.

    Raises:
        DataNotFoundError: the package has no image of that id.
    """
    path = _easy_vqa_paths(image.split).get(image.id)
    if path is None:
        raise DataNotFoundError(f"easy-vqa has no {image.split} image {image.id}")
    return Path(path)


def load_image(image: EasyVQAImage | SceneImage | FileImage) -> Image.Image:
    """The referenced picture as an RGB image (a scene is rendered, deterministically).

    Raises:
        DataNotFoundError: the file or easy-VQA image does not exist.
    """
    if isinstance(image, SceneImage):
        return render_scene(image.scene)
    path = easy_vqa_path(image) if isinstance(image, EasyVQAImage) else image.path
    if not path.is_file():
        raise DataNotFoundError(f"image file not found: {path}")
    with Image.open(path) as opened:
        return opened.convert("RGB")
