"""Does the vision student use the picture? Trained on shape scenes, measured on easy-VQA.

One run: the vision student (frozen EfficientNet-Lite0, 2×2 = 4 image tokens through a trained
projector, SmolLM2-135M-Instruct with LoRA r 8 all-linear) is trained on the ``shape_scenes``
train split (``--train-size`` items, ``--epochs``), then evaluated on a deterministic subset of
easy-VQA's test questions twice: with each question's own image, and with the images shuffled
among the questions (a seeded derangement: every question sees another item's image). Same
student, same questions, same order, so the two runs are paired: ``teachgraph.stats.compare_paired``
gives the difference in accuracy with its paired-bootstrap 95% interval and the exact McNemar p.
The same comparison on the ``shape_scenes`` test split shows the in-domain effect; with
``--untrained`` the untrained student (base LM, fresh projector) is scored on easy-VQA too.

easy-VQA is out of domain for this training data: one shape per 64px image, and question
templates the scenes never use (``"is there not a red shape?"``: negations are absent from
shape_scenes), so per-type accuracies are reported too.

    nice -n 19 .venv/bin/python benchmarks/vision_student.py                 # ~30 min on 2 busy cores
    nice -n 19 .venv/bin/python benchmarks/vision_student.py --train-size 64 --test-size 64   # smoke

Writes ``benchmarks/results/vision_student.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from teachgraph.domain import TaskInstance
from teachgraph.stats import compare_paired
from teachgraph.student import StudentConfig, TrainingPair
from teachgraph.student.vision import VisionOptions, VisionStudent
from teachgraph.tasks.vqa import (
    SCENE_FAMILIES,
    EasyVQATask,
    ShapeScenesTask,
    VQATask,
    attach_image,
    image_of,
    split_image,
)

RESULTS = Path(__file__).parent / "results"


def shuffled_images(instances: list[TaskInstance], seed: int) -> list[TaskInstance]:
    """The same questions, each with another instance's image (a derangement of the images)."""
    n = len(instances)
    rng = random.Random(seed)
    while True:
        order = list(range(n))
        rng.shuffle(order)
        if n < 2 or all(order[k] != k for k in range(n)):
            break
    out = []
    for inst, donor in zip(instances, (instances[k] for k in order), strict=True):
        _, question = split_image(inst.prompt)
        out.append(inst.model_copy(update={"prompt": attach_image(question, image_of(donor.prompt))}))
    return out


def evaluate(student: VisionStudent, task: VQATask, instances: list[TaskInstance]) -> dict[str, Any]:
    """Accuracy overall and per gold skill, with the per-item outcomes (for pairing)."""
    start = time.monotonic()
    replies = student.predict([task.student_prompt(i.prompt) for i in instances])
    seconds = time.monotonic() - start
    correct = [task.score(i, r).correct for i, r in zip(instances, replies, strict=True)]
    by_skill: dict[str, list[bool]] = defaultdict(list)
    for inst, ok in zip(instances, correct, strict=True):
        by_skill[str(inst.gold_skill).rsplit("/", 1)[-1]].append(ok)
    return {
        "n": len(correct),
        "accuracy": sum(correct) / len(correct),
        "by_skill": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(by_skill.items())},
        "seconds": round(seconds, 1),
        "correct": correct,
        "replies_sample": replies[:8],
    }


def paired(real: dict[str, Any], shuffled: dict[str, Any]) -> dict[str, Any]:
    """Real images (treatment) against shuffled images (baseline) on the same items."""
    return compare_paired(shuffled["correct"], real["correct"]).model_dump(mode="json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=1600, help="train items")
    parser.add_argument(
        "--train-family",
        choices=("shape_scenes", "easy_vqa"),
        default="shape_scenes",
        help="whose train split to train on (easy_vqa: the in-domain check of the issue's probe)",
    )
    parser.add_argument("--test-size", type=int, default=500, help="easy-VQA test questions")
    parser.add_argument("--scene-test-size", type=int, default=320, help="shape_scenes test items")
    parser.add_argument("--min-objects", type=int, default=3, help="shape_scenes difficulty")
    parser.add_argument("--max-objects", type=int, default=6, help="shape_scenes difficulty")
    parser.add_argument("--max-relation-depth", type=int, default=1, help="shape_scenes difficulty (0: no spatial)")
    parser.add_argument("--families", nargs="+", help="shape_scenes question families (default: all that fit)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=3e-4, help="LoRA peak learning rate")
    parser.add_argument("--projector-learning-rate", type=float, default=1e-3)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--grid", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--untrained", action="store_true", help="also score the untrained student on easy-VQA")
    parser.add_argument("--out", type=Path, default=RESULTS / "vision_student.json")
    args = parser.parse_args(argv)

    import logging

    import torch

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("teachgraph.student.vision").setLevel(logging.INFO)  # training progress
    torch.set_num_threads(args.threads)
    scenes = ShapeScenesTask(
        {
            "train_size": args.train_size if args.train_family == "shape_scenes" else 0,
            "validation_size": 0,
            "test_size": args.scene_test_size,
            "seed": args.seed,
            "min_objects": args.min_objects,
            "max_objects": args.max_objects,
            "max_relation_depth": args.max_relation_depth,
            "families": args.families
            or [f for f in SCENE_FAMILIES if f != "spatial" or (args.max_relation_depth and args.max_objects > 1)],
        }
    )
    easy = EasyVQATask(
        {
            "test_size": args.test_size,
            "validation_size": 0,
            "train_size": args.train_size if args.train_family == "easy_vqa" else 0,
            "seed": args.seed,
        }
    )
    train_task: VQATask = scenes if args.train_family == "shape_scenes" else easy
    config = StudentConfig(
        learning_rate=args.learning_rate,
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_new_tokens=8,
        generation_batch_size=32,
        seed=args.seed,
        mode="retrain",
    )
    options = VisionOptions(
        image_size=args.image_size, grid=args.grid, projector_learning_rate=args.projector_learning_rate
    )
    student = VisionStudent(config, options)
    easy_test = easy.instances("test")
    record: dict[str, Any] = {
        "setup": {
            **{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "encoder": "efficientnet-lite0 (frozen)",
            "language_model": config.model,
            "lora": {"r": config.lora_r, "alpha": config.lora_alpha, "targets": config.lora_target_modules},
            "machine": platform.platform(),
            "load_before": os.getloadavg(),
        }
    }
    if args.untrained:
        print(f"untrained on easy-VQA ({len(easy_test)} questions) ...", flush=True)
        record["untrained_easy_vqa"] = evaluate(student, easy, easy_test)
        print(f"  accuracy {record['untrained_easy_vqa']['accuracy']:.3f}", flush=True)

    pairs = [
        TrainingPair(prompt=train_task.student_prompt(i.prompt), target=train_task.format_target(i.answer))
        for i in train_task.instances("train")
    ]
    print(f"training on {len(pairs)} {args.train_family} pairs ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="vision-student-") as tmp:
        result = student.train(pairs, Path(tmp) / "adapter")
        record["training"] = result.model_dump(mode="json", exclude={"adapter_dir"})
        print(f"  {result.steps} steps in {result.seconds:.0f} s, final loss {result.final_loss:.3f}", flush=True)
        student.load_adapter(result.adapter_dir)
        for name, task, items in (
            ("easy_vqa", easy, easy_test),
            ("shape_scenes", scenes, scenes.instances("test")),
        ):
            real = evaluate(student, task, items)
            shuffled = evaluate(student, task, shuffled_images(items, args.seed))
            comparison = paired(real, shuffled)
            record[name] = {"real_images": real, "shuffled_images": shuffled, "real_vs_shuffled": comparison}
            print(
                f"{name}: real {real['accuracy']:.3f} vs shuffled {shuffled['accuracy']:.3f}: "
                f"difference {comparison['difference']:+.3f} "
                f"[{comparison['interval'][0]:+.3f}, {comparison['interval'][1]:+.3f}], "
                f"McNemar p {comparison['p_value']:.2g}",
                flush=True,
            )
            print(f"  per type, real:     {real['by_skill']}\n  per type, shuffled: {shuffled['by_skill']}", flush=True)
    record["setup"]["load_after"] = os.getloadavg()
    if "untrained_easy_vqa" in record:
        untrained = record["untrained_easy_vqa"]
        untrained["correct"] = "".join("1" if c else "0" for c in untrained["correct"])
    for name in ("easy_vqa", "shape_scenes"):
        for key in ("real_images", "shuffled_images"):
            record[name][key]["correct"] = "".join("1" if c else "0" for c in record[name][key]["correct"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
