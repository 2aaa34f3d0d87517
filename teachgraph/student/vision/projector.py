"""The trained bridge from image features to the language model: a small MLP per image token.

Saved next to the LoRA adapter as ``projector.safetensors`` plus ``projector.json`` (its shape),
so an adapter directory holds everything the vision student trained.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from teachgraph.errors import StudentError

__all__ = [
    "PROJECTOR_CONFIG",
    "PROJECTOR_WEIGHTS",
    "ProjectorShape",
    "build_projector",
    "load_projector",
    "save_projector",
]

PROJECTOR_WEIGHTS = "projector.safetensors"
PROJECTOR_CONFIG = "projector.json"


class ProjectorShape(BaseModel):
    """What a projector maps: ``tokens`` feature vectors of ``feature_dim`` to ``hidden_size``.

    ``encoder``, ``image_size`` and ``grid`` name the features it was trained on, so a projector
    is never loaded onto features of another kind.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    encoder: str
    image_size: int
    grid: int
    feature_dim: int
    hidden_size: int

    @property
    def tokens(self) -> int:
        """Image tokens per image."""
        return self.grid * self.grid


def build_projector(shape: ProjectorShape, seed: int) -> Any:
    """A fresh projector: LayerNorm, Linear, GELU, Linear, plus a learned embedding per token
    position (so the language model can tell the image's cells apart)."""
    import torch
    from torch import nn

    class Projector(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(
                nn.LayerNorm(shape.feature_dim),
                nn.Linear(shape.feature_dim, shape.hidden_size),
                nn.GELU(),
                nn.Linear(shape.hidden_size, shape.hidden_size),
            )
            self.position = nn.Parameter(torch.zeros(shape.tokens, shape.hidden_size))

        def forward(self, features: torch.Tensor) -> torch.Tensor:
            return self.net(features) + self.position

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Projector()


def save_projector(projector: Any, shape: ProjectorShape, directory: Path) -> None:
    """Write the projector's weights and shape into ``directory``."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in projector.state_dict().items()}
    save_file(state, str(directory / PROJECTOR_WEIGHTS))
    (directory / PROJECTOR_CONFIG).write_text(shape.model_dump_json(indent=2) + "\n", encoding="utf-8")


def load_projector(directory: Path, expected: ProjectorShape) -> Any:
    """The projector saved in ``directory``.

    Raises:
        StudentError: it is missing, or was trained for other features or another language model.
    """
    from safetensors.torch import load_file

    config, weights = directory / PROJECTOR_CONFIG, directory / PROJECTOR_WEIGHTS
    if not (config.is_file() and weights.is_file()):
        raise StudentError(f"{directory} has no vision projector ({PROJECTOR_CONFIG}, {PROJECTOR_WEIGHTS})")
    try:
        shape = ProjectorShape.model_validate(json.loads(config.read_text(encoding="utf-8")))
    except (ValueError, OSError) as err:
        raise StudentError(f"unreadable {config}: {err}") from None
    if shape != expected:
        raise StudentError(f"the projector in {directory} was trained for {shape}, not {expected}")
    projector = build_projector(shape, seed=0)
    projector.load_state_dict(load_file(str(weights)))
    return projector
