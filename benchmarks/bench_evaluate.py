"""End-to-end time of evaluate.py on a synthetic category, split into data, model, metrics and logging.

The parts are measured separately in this process with the same objects evaluate.py builds (datamodule
with its workers, the model, AnomalyMetrics), then evaluate.py itself runs in a subprocess with logging
off and with W&B in offline mode; start-up is what the subprocess costs beyond the parts.

Usage:
    python benchmarks/bench_evaluate.py --backbone tiny --images 100
    python benchmarks/bench_evaluate.py --backbone full --images 100    # ~7-12 s per image on 2 CPU cores
    python benchmarks/bench_evaluate.py --smoke                          # seconds (CI)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import BACKBONES, dataset_overrides, make_category, run_cli  # noqa: E402

from winclip_lit import TINY_MODEL_NAME, WinCLIP  # noqa: E402
from winclip_lit.data import MVTecDataModule  # noqa: E402
from winclip_lit.metrics import AnomalyMetrics  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backbone", choices=sorted(BACKBONES), default="tiny")
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="tiny backbone, 8 images")
    args = parser.parse_args()
    if args.smoke:
        args.backbone, args.images = "tiny", 8
    with tempfile.TemporaryDirectory() as tmp:
        root = make_category(Path(tmp) / "mvtec", args.images)
        torch.manual_seed(0)
        name = TINY_MODEL_NAME if args.backbone == "tiny" else "ViT-B-16-plus-240"
        model = WinCLIP.from_pretrained(name, None)
        model.set_class_name("bottle")
        dm = MVTecDataModule(
            root,
            "bottle",
            transform=model.transform,
            image_size=model.image_size,
            batch_size=args.batch_size,
            num_workers=args.workers,
        )
        dm.setup("test")
        start = time.perf_counter()
        batches = list(dm.test_dataloader())
        t_data = time.perf_counter() - start
        start = time.perf_counter()
        outputs = [model(b["image"]) for b in batches]
        t_model = time.perf_counter() - start
        metrics = AnomalyMetrics()
        start = time.perf_counter()
        for b, out in zip(batches, outputs, strict=True):
            metrics.update(out.image_scores, b["label"], out.anomaly_maps, b["mask"], b["index"])
        metrics.compute()
        t_metrics = time.perf_counter() - start
        common = [
            *dataset_overrides(root, BACKBONES[args.backbone], Path(tmp) / "out"),
            f"loader.batch_size={args.batch_size}",
            f"loader.num_workers={args.workers}",
        ]
        t_none = run_cli("evaluate.py", *common, "logger=none")
        t_wandb = run_cli(
            "evaluate.py", *common, "logger=wandb", env={"WANDB_MODE": "offline", "WANDB_DIR": tmp}
        )
    n = args.images
    parts = t_data + t_model + t_metrics
    print(
        f"evaluate.py, {n} images of 256x256, backbone {args.backbone}, batch {args.batch_size}, "
        f"{args.workers} workers, {torch.get_num_threads()} threads"
    )
    print("| part | seconds | share of evaluate.py (logger=none) |")
    print("|---|---|---|")
    for label, t in (
        ("data loading (decode, resize, masks)", t_data),
        ("model (encode + score)", t_model),
        ("metrics (update + exact compute)", t_metrics),
        ("start-up and the rest (imports, model build, text)", max(t_none - parts, 0.0)),
    ):
        print(f"| {label} | {t:.2f} | {t / t_none:.0%} |")
    print(f"| evaluate.py logger=none (total) | {t_none:.2f} | 100% |")
    print(f"| W&B logging (offline), extra | {t_wandb - t_none:.2f} | {(t_wandb - t_none) / t_none:.0%} |")
    print(f"model throughput {n / t_model:.2f} images/s; end to end {n / t_none:.2f} images/s")


if __name__ == "__main__":
    main()
