"""Eager fp32 against bf16 autocast (``model.precision=bf16``) in one run: per-image time of
``WinCLIP.forward`` and how far bf16 moves image scores, maps and AUROC from fp32.

Both models share the same random weights (speed and the size of the deviations do not depend on
them) and score the same preprocessed images of a synthetic MVTec-AD category (common.make_category).
The pair is timed ``--rounds`` times, interleaved and in alternating order, and the median per-image
time is reported: on a shared machine drift and other jobs hit both precisions alike. bf16 pays off on
CPUs with native bf16 (AVX512-BF16 or AMX, listed in the first line); elsewhere it is emulated.

Usage:
    python benchmarks/bench_precision.py                                 # ViT-B-16-plus-240, 4 images, CPU
    python benchmarks/bench_precision.py --model winclip-tiny-vit --images 40
    python benchmarks/bench_precision.py --device cuda --images 32 --batch-size 16
    python benchmarks/bench_precision.py --smoke                         # tiny backbone, seconds (CI)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import aurocs, cpu_name, make_category

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.data import MVTecDataModule

BF16_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile")


def cpu_bf16_flags() -> list[str]:
    """The native-bf16 flags among the CPU's (/proc/cpuinfo; empty when none or unreadable)."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        return []
    return [flag for flag in BF16_FLAGS if flag in flags]


def build(model_name: str, precision: str, device: str, state: dict | None) -> WinCLIP:
    """WinCLIP with random weights (``state``: the other model's, to share them) in ``precision``."""
    torch.manual_seed(0)
    model = WinCLIP.from_pretrained(model_name, None, device=device, precision=precision)
    if state is not None:
        model.clip.load_state_dict(state)
    model.set_class_name("bottle")
    return model


def run(model: WinCLIP, batches: list[dict], device: str) -> tuple[float, torch.Tensor, torch.Tensor]:
    """Seconds per image over every batch, with the image scores and maps (on the CPU)."""
    scores, maps, elapsed, count = [], [], 0.0, 0
    for batch in batches:
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = model(batch["image"].to(device))
        if device == "cuda":
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - start
        count += len(batch["image"])
        scores.append(out.image_scores.float().cpu())
        maps.append(out.anomaly_maps.float().cpu())
    return elapsed / count, torch.cat(scores), torch.cat(maps)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="ViT-B-16-plus-240")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--images", type=int, default=4, help="synthetic category size (common.make_category)"
    )
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--shots", type=int, default=0, help="0: zero-shot WinCLIP; k: WinCLIP+ k-shot")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved fp32/bf16 timings; median")
    parser.add_argument("--smoke", action="store_true", help="tiny backbone, 4 images, 1 round")
    args = parser.parse_args()
    if args.smoke:
        args.model, args.images, args.batch_size, args.rounds = TINY_MODEL_NAME, 4, 2, 1
    fp32 = build(args.model, "fp32", args.device, None)
    bf16 = build(args.model, "bf16", args.device, fp32.clip.state_dict())
    models = {"fp32": fp32, "bf16": bf16}
    with tempfile.TemporaryDirectory() as tmp:
        data = MVTecDataModule(
            make_category(Path(tmp) / "mvtec", args.images),
            "bottle",
            transform=fp32.transform,
            image_size=fp32.image_size,
            batch_size=args.batch_size,
            num_workers=0,
            k_shot=args.shots,
        )
        data.setup("test")
        references = data.reference_images("bottle") if args.shots else None
        batches = list(data.test_dataloader())
    times: dict[str, list[float]] = {"fp32": [], "bf16": []}
    outputs = {}
    shapes = {tuple(b["image"].shape): b["image"] for b in reversed(batches)}  # one batch per shape
    for model in models.values():
        model.set_reference_images(references.to(args.device) if references is not None else None)
        for images in shapes.values():  # warm-up: one-off kernel and allocator set-up per batch shape
            model(images.to(args.device))
    for round_ in range(args.rounds):
        for name in ("fp32", "bf16") if round_ % 2 == 0 else ("bf16", "fp32"):
            seconds, scores, maps = run(models[name], batches, args.device)
            times[name].append(seconds)
            outputs.setdefault(name, (scores, maps))
    flags = cpu_bf16_flags()
    native = ", ".join(flags) if flags else "none (bf16 is emulated on this CPU)"
    device = cpu_name() if args.device == "cpu" else torch.cuda.get_device_name()
    n = sum(len(b["label"]) for b in batches)
    print(f"device={args.device} ({device}) native bf16 CPU flags: {native}")
    print(
        f"model={args.model} (random weights) shots={args.shots} images={n} batch={args.batch_size} "
        f"rounds={args.rounds} threads={torch.get_num_threads()} torch={torch.__version__}"
    )
    print("| precision | s/image (median) | all rounds | image AUROC | pixel AUROC |")
    print("|---|---|---|---|---|")
    medians, metrics = {}, {}
    for name in ("fp32", "bf16"):
        medians[name] = statistics.median(times[name])
        metrics[name] = aurocs(batches, *outputs[name])
        rounds = ", ".join(f"{t:.3f}" for t in times[name])
        print(
            f"| {name} | {medians[name]:.3f} | {rounds} | {metrics[name][0]:.4f} | {metrics[name][1]:.4f} |"
        )
    (s32, m32), (s16, m16) = outputs["fp32"], outputs["bf16"]
    print(f"bf16 speed-up (fp32 / bf16 median s/image): {medians['fp32'] / medians['bf16']:.2f}x")
    print(
        f"bf16 - fp32: max |score diff| {(s16 - s32).abs().max():.1e}, max |map diff| "
        f"{(m16 - m32).abs().max():.1e}, mean |map diff| {(m16 - m32).abs().mean():.1e}, "
        f"image AUROC {metrics['bf16'][0] - metrics['fp32'][0]:+.4f}, "
        f"pixel AUROC {metrics['bf16'][1] - metrics['fp32'][1]:+.4f}"
    )


if __name__ == "__main__":
    main()
