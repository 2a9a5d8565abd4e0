"""Share of data loading and metrics in an evaluation, at native resolution (issue: the field's suite).

DAGM, KolektorSDD2 and VisA (~1.5k px images) must not make data loading or exact pixel metrics the
bottleneck. With the objects evaluate.py builds (datamodule with its workers, the model, AnomalyMetrics
with evaluation at each image's original size), one category of large synthetic images is timed in three
parts: loading (decode, resize, masks), the model (encode + score), the metrics (maps upsampled to the
original size, update and exact compute). Target: loading + metrics under 5% on the paper backbone.

Usage:
    python benchmarks/bench_pipeline.py --backbone full --images 8 --size 1224   # VisA-like, ~1.5 MP
    python benchmarks/bench_pipeline.py --backbone full --images 8 --size 1024   # Real-IAD-like, 1 MP
    python benchmarks/bench_pipeline.py --smoke                                   # seconds (CI)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).parent))
from common import make_category

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.data import MVTecDataModule
from winclip_lit.metrics import AnomalyMetrics


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backbone", choices=("tiny", "full"), default="full")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--size", type=int, default=1224, help="side of the square test images (px)")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="tiny backbone, 4 images of 256 px")
    args = parser.parse_args()
    if args.smoke:
        args.backbone, args.images, args.size = "tiny", 4, 256
    with tempfile.TemporaryDirectory() as tmp:
        root = make_category(Path(tmp) / "mvtec", args.images, size=args.size)
        torch.manual_seed(0)
        model = WinCLIP.from_pretrained(
            TINY_MODEL_NAME if args.backbone == "tiny" else "ViT-B-16-plus-240", None
        )
        model.set_class_name("bottle")
        dm = MVTecDataModule(
            root,
            "bottle",
            transform=model.transform,
            image_size=model.image_size,
            eval_size="original",
            batch_size=args.batch_size,
            num_workers=args.workers,
        )
        dm.setup("test")
        start = time.perf_counter()
        batches = list(dm.test_dataloader())
        t_data = time.perf_counter() - start
        model(batches[0]["image"][:1])  # warm-up, not timed
        start = time.perf_counter()
        outputs = [model(b["image"]) for b in batches]
        t_model = time.perf_counter() - start
        metrics = AnomalyMetrics()
        start = time.perf_counter()
        for b, out in zip(batches, outputs, strict=True):
            size = b["mask"].shape[-2:]
            maps = F.interpolate(out.anomaly_maps[:, None], size=size, mode="bilinear", align_corners=False)[
                :, 0
            ]
            metrics.update(out.image_scores, b["label"], maps, b["mask"], b["index"])
        metrics.compute()
        t_metrics = time.perf_counter() - start
    n, total = sum(len(b["image"]) for b in batches), t_data + t_model + t_metrics
    print(
        f"{n} images of {args.size}x{args.size} px evaluated at their original size, backbone {args.backbone}, "
        f"batch {args.batch_size}, {args.workers} worker(s), {torch.get_num_threads()} threads"
    )
    print("| part | seconds | s/image | share |")
    print("|---|---|---|---|")
    for label, t in (
        ("data loading (decode, resize, masks)", t_data),
        ("model (encode + score)", t_model),
        ("metrics (upsample, update, exact compute)", t_metrics),
    ):
        print(f"| {label} | {t:.2f} | {t / n:.3f} | {t / total:.1%} |")
    print(
        f"loading + metrics: {(t_data + t_metrics) / total:.1%} of the evaluation (target < 5% on the paper backbone)"
    )


if __name__ == "__main__":
    main()
