"""Visual question answering: questions about an image, answered with one word.

Families: ``easy_vqa`` (the easy-vqa package's images and template questions,
:mod:`.easy_vqa`) and ``shape_scenes`` (our rendered scene graphs with question programs,
:mod:`.shape_scenes`). The image travels in the prompt as a reference (:mod:`.images`).
"""

from teachgraph.tasks.vqa.easy_vqa import EASY_VQA_TYPES, EasyVQAParams, EasyVQATask, question_type
from teachgraph.tasks.vqa.images import (
    EasyVQAImage,
    FileImage,
    ImageRef,
    SceneImage,
    attach_image,
    image_of,
    load_image,
    split_image,
)
from teachgraph.tasks.vqa.shape_scenes import SCENE_FAMILIES, ShapeScenesParams, ShapeScenesTask
from teachgraph.tasks.vqa.task import VQATask

__all__ = [
    "EASY_VQA_TYPES",
    "SCENE_FAMILIES",
    "EasyVQAImage",
    "EasyVQAParams",
    "EasyVQATask",
    "FileImage",
    "ImageRef",
    "SceneImage",
    "ShapeScenesParams",
    "ShapeScenesTask",
    "VQATask",
    "attach_image",
    "image_of",
    "load_image",
    "question_type",
    "split_image",
]
