"""The vision student: frozen EfficientNet-Lite0 features, a trained projector to a few image
tokens, and a LoRA on the chat language model (:class:`VisionStudent`)."""

from teachgraph.student.vision.encoder import FEATURE_DIM, ImageEncoder
from teachgraph.student.vision.projector import ProjectorShape
from teachgraph.student.vision.student import VisionOptions, VisionStudent

__all__ = ["FEATURE_DIM", "ImageEncoder", "ProjectorShape", "VisionOptions", "VisionStudent"]
