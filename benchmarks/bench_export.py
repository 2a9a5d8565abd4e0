"""CPU throughput of the exported graphs next to PyTorch eager, with file sizes and the int8 trade-off.

One WinCLIP+ model (random weights, ``--shots`` references) scores the test images of a synthetic MVTec-AD
category with every path in turn, in this process: PyTorch eager (fp32), ONNX Runtime (fp32), OpenVINO
(fp32, and at the CPU plugin's default precision: bf16 on CPUs with bf16 instructions), ONNX Runtime int8
(dynamic quantisation) and OpenVINO int8 (int8 weights). The graph is traced once; the OpenVINO IR and
the int8 variants are derived from that ONNX file (as ``export_openvino``/``int8=True`` do). Each path
is warmed up on one batch, then timed over all images in batches; its scores and maps are compared with
PyTorch's, and image/pixel AUROC are computed with the project's exact metrics. PyTorch runs first and
again last; speed-ups are relative to the mean of its two runs.

Usage:
    python benchmarks/bench_export.py                      # ViT-B-16-plus-240, 6 test images, batch 3, CPU
    python benchmarks/bench_export.py --images 16 --shots 0
    python benchmarks/bench_export.py --smoke              # tiny backbone, seconds (CI)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import aurocs, cpu_name, make_category

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.data import MVTecDataModule
from winclip_lit.deploy.convert import onnx_to_openvino
from winclip_lit.deploy.export import DEFAULT_OPSET, ENCODER_SCOPE, export_info, trace_onnx
from winclip_lit.deploy.quantize import (
    ONNXRUNTIME_DYNAMIC,
    OPENVINO_WEIGHTS,
    compress_weights,
    quantize_onnxruntime,
)
from winclip_lit.deploy.runtime import ExportedModel
from winclip_lit.deploy.sidecar import write_sidecar

EAGER_AGAIN = "PyTorch eager, fp32 (again, last)"
"""PyTorch runs first and last: on a shared machine the two bracket the load drift; speed-ups are relative
to their mean."""


def file_mb(path: Path) -> float:
    """Size of an exported file in MiB (with the OpenVINO ``.bin`` beside an ``.xml``)."""
    size = path.stat().st_size
    if path.suffix == ".xml":
        size += path.with_suffix(".bin").stat().st_size
    return size / 2**20


SIDECARS = {
    "onnx": ("onnx", None),
    "openvino": ("openvino", None),
    "onnx-int8": ("onnx", ONNXRUNTIME_DYNAMIC),
    "openvino-int8": ("openvino", OPENVINO_WEIGHTS),
}


def build_files(model: WinCLIP, folder: Path) -> tuple[dict[str, Path], dict[str, float]]:
    """Trace the ONNX graph once and derive the other files; returns the files and their build seconds."""
    files: dict[str, Path] = {}
    seconds: dict[str, float] = {}

    def timed(key: str, label: str, build) -> None:
        start = time.perf_counter()
        files[key] = build()
        seconds[label] = time.perf_counter() - start

    def openvino_int8() -> Path:
        compress_weights(files["onnx"], folder / "weights-int8.onnx", ENCODER_SCOPE)
        return onnx_to_openvino(folder / "weights-int8.onnx", folder / "int8.xml")

    def onnxruntime_int8() -> Path:
        quantize_onnxruntime(files["onnx"], folder / "int8.onnx", ENCODER_SCOPE)
        return folder / "int8.onnx"

    timed("onnx", "ONNX trace", lambda: trace_onnx(model, folder / "fp32.onnx"))
    timed("openvino", "OpenVINO IR", lambda: onnx_to_openvino(files["onnx"], folder / "fp32.xml"))
    timed("onnx-int8", "ONNX Runtime int8", onnxruntime_int8)
    timed("openvino-int8", "OpenVINO int8", openvino_int8)
    for key, (file_format, int8) in SIDECARS.items():
        write_sidecar(files[key], export_info(model, file_format, int8, DEFAULT_OPSET))
    return files, seconds


def exported_runner(path: Path, backend: str, precision: str = "f32"):
    """``images -> (scores, maps)`` of an exported file."""
    runner = ExportedModel(path, backend, openvino_precision=precision)

    def score(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = runner(images)
        return out.image_scores, out.anomaly_maps

    return score


def run_path(score, batches: list[dict], warm: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Warm up on one batch (shape-specific kernels), then time every batch; returns (seconds, scores, maps)."""
    score(warm)
    scores, maps, elapsed = [], [], 0.0
    for batch in batches:
        start = time.perf_counter()
        image_scores, anomaly_maps = score(batch["image"].numpy())
        elapsed += time.perf_counter() - start
        scores.append(np.asarray(image_scores))
        maps.append(np.asarray(anomaly_maps))
    return elapsed, np.concatenate(scores), np.concatenate(maps)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="ViT-B-16-plus-240")
    parser.add_argument(
        "--images", type=int, default=4, help="synthetic category size (common.make_category)"
    )
    parser.add_argument("--batch-size", type=int, default=3)
    parser.add_argument("--shots", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="tiny backbone, 4 images, batch 2")
    args = parser.parse_args()
    if args.smoke:
        args.model, args.images, args.batch_size = TINY_MODEL_NAME, 4, 2
    torch.manual_seed(0)
    model = WinCLIP.from_pretrained(args.model, None)
    model.set_class_name("bottle")
    with tempfile.TemporaryDirectory() as tmp:
        root = make_category(Path(tmp) / "mvtec", args.images)
        data = MVTecDataModule(
            root,
            "bottle",
            transform=model.transform,
            image_size=model.image_size,
            batch_size=args.batch_size,
            num_workers=0,
            k_shot=args.shots,
        )
        data.setup("test")
        model.set_reference_images(data.reference_images("bottle"))
        batches = list(data.test_dataloader())
        warm = batches[0]["image"].numpy()
        files, build_seconds = build_files(model, Path(tmp))

        def eager(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            out = model(torch.from_numpy(images))
            return out.image_scores.numpy(), out.anomaly_maps.numpy()

        paths = [
            ("PyTorch eager, fp32", None, lambda: eager),
            ("ONNX Runtime, fp32", files["onnx"], lambda: exported_runner(files["onnx"], "onnxruntime")),
            ("OpenVINO, fp32", files["openvino"], lambda: exported_runner(files["openvino"], "openvino")),
            (
                "OpenVINO, CPU default precision",
                files["openvino"],
                lambda: exported_runner(files["openvino"], "openvino", "auto"),
            ),
            (
                "ONNX Runtime, int8",
                files["onnx-int8"],
                lambda: exported_runner(files["onnx-int8"], "onnxruntime"),
            ),
            (
                "OpenVINO, int8 weights",
                files["openvino-int8"],
                lambda: exported_runner(files["openvino-int8"], "openvino"),
            ),
            (EAGER_AGAIN, None, lambda: eager),
        ]
        rows = []
        for label, path, make in paths:
            seconds, scores, maps = run_path(make(), batches, warm)
            rows.append((label, path, seconds, scores, maps, *aurocs(batches, scores, maps)))
        sizes = {label: (file_mb(path) if path else None) for label, path, *_ in rows}
    n = sum(len(b["label"]) for b in batches)
    print(
        f"model={args.model} (random weights) shots={args.shots} images={n} batch={args.batch_size} "
        f"image_size={model.image_size}; CPU: {cpu_name()}, {os.cpu_count()} logical cores, "
        f"torch threads {torch.get_num_threads()}"
    )
    print("build: " + ", ".join(f"{k} {v:.1f} s" for k, v in build_seconds.items()))
    print(
        "| path | file MiB | images/s | vs PyTorch eager | max score diff | max map diff | image AUROC | pixel AUROC |"
    )
    print("|---|---|---|---|---|---|---|---|")
    _, _, _, eager_scores, eager_maps, *_ = rows[0]
    eager_seconds = (rows[0][2] + rows[-1][2]) / 2  # the mean of the first and the last run (drift)
    for label, _path, seconds, scores, maps, image_auroc, pixel_auroc in rows:
        size = "-" if sizes[label] is None else f"{sizes[label]:.1f}"
        score_diff = np.abs(scores - eager_scores).max()
        map_diff = np.abs(maps - eager_maps).max()
        print(
            f"| {label} | {size} | {n / seconds:.3f} | {eager_seconds / seconds:.2f}x | {score_diff:.1e} | "
            f"{map_diff:.1e} | {image_auroc:.4f} | {pixel_auroc:.4f} |"
        )


if __name__ == "__main__":
    main()
