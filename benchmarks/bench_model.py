"""Throughput and peak memory of WinCLIP inference next to a plain CLIP forward and the FLOP floor.

Usage:
    python benchmarks/bench_model.py                       # ViT-B-16-plus-240, batches 1 8 32, CPU fp32
    python benchmarks/bench_model.py --device cuda --precision bf16
    python benchmarks/bench_model.py --smoke               # tiny backbone, seconds (CI)
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from flops import matmul_rate, winclip_image_flops

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.model.options import PRECISIONS
from winclip_lit.model.winclip import autocast_dtype


def timed(fn, device: str, repeats: int) -> float:
    """Best wall time of ``fn`` over ``repeats`` runs (warm-up happens once, before the table)."""
    best = float("inf")
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def peak_memory_mb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="ViT-B-16-plus-240")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--precision", default=None, choices=sorted(PRECISIONS))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="tiny backbone, batch 2, one repeat")
    args = parser.parse_args()
    if args.smoke:
        args.model, args.batch_sizes, args.repeats = TINY_MODEL_NAME, [2], 1
    precision = args.precision or ("bf16" if args.device == "cuda" else "fp32")
    torch.manual_seed(0)
    model = WinCLIP.from_pretrained(
        args.model, None, device=args.device, precision=precision, compile=args.compile
    )
    model.set_class_name("metal_nut")
    flops = winclip_image_flops(model)
    dtype = autocast_dtype(precision) or torch.float32
    rate = matmul_rate(args.device, dtype, size=(1024, 64, 256) if args.smoke else None)
    print(f"device={args.device} precision={precision} model={args.model} threads={torch.get_num_threads()}")
    print(
        f"matmul rate: {rate / 1e9:.1f} GFLOP/s; FLOPs/image: plain {flops['plain'] / 1e9:.2f} G, "
        f"WinCLIP {flops['total'] / 1e9:.2f} G ({flops['total'] / flops['plain']:.1f}x plain)"
    )
    print(
        "| batch | mode | images/s | s/image | floor s/image | efficiency | plain CLIP images/s | peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    tower_dtype = autocast_dtype(precision)
    warm = torch.randn(1, 3, model.image_size, model.image_size, device=args.device)
    model(warm)
    model.set_reference_images(warm)
    model(warm)
    for batch in args.batch_sizes:
        images = torch.randn(batch, 3, model.image_size, model.image_size, device=args.device)

        def plain(images=images):
            with (
                torch.no_grad(),
                torch.autocast(args.device, dtype=tower_dtype, enabled=tower_dtype is not None),
            ):
                model.clip.encode_image(images)

        plain_t = timed(plain, args.device, args.repeats)
        for shots in (0, 1):
            model.set_reference_images(images[:1] if shots else None)
            if args.device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            t = timed(lambda images=images: model(images), args.device, args.repeats)
            floor = flops["total"] / rate
            print(
                f"| {batch} | {shots}-shot | {batch / t:.2f} | {t / batch:.3f} | {floor:.3f} | "
                f"{floor / (t / batch):.0%} | {batch / plain_t:.2f} | {peak_memory_mb(args.device):.0f} |"
            )


if __name__ == "__main__":
    main()
