"""What a user of evaluate.py waits for: start-up, then time per image, next to the model alone.

For each backbone (random weights, zero-shot, a synthetic ``dataset=folder`` of 256x256 images, half
anomalous with masks), in one run:

- the model alone: ``WinCLIP.forward`` per image on preprocessed batches of the same size (after one
  warm-up batch), timed in a fresh process (``startup_probe.py``);
- evaluate.py's marginal time per image: the CLI run as a subprocess on N1 and N2 images,
  ``(t2 - t1) / (N2 - N1)``, and its ratio to the model alone (target <= 1.10);
- start-up as the CLI shows it, ``t1 - N1 x marginal`` (everything but the per-image work: start-up
  before the first batch plus writing results and exit), and its ratio to the model's time for one image
  (target <= 3 on the paper backbone);
- start-up split into the steps the run takes, timed in that fresh process: imports, model build, text
  encoding (242 prompt sentences), data set-up (datamodule, workers, first batch); what the CLI spends
  beyond them (Hydra, the Lightning trainer and test loop, results, exit) is the rest;
- the 242 sentences encoded up to the longest one (what the run does) and at CLIP's full 77 tokens;
- ``python evaluate.py --help`` wall time (target < 3 s).

Usage:
    python benchmarks/bench_evaluate.py                                  # tiny and ViT-B-16-plus-240
    python benchmarks/bench_evaluate.py --backbones tiny --images 8,40
    python benchmarks/bench_evaluate.py --smoke                          # seconds (CI), tiny only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import BACKBONES, MODEL_NAMES, ROOT, folder_overrides, make_folder_dataset, run_cli

LABELS = {"tiny": "tiny (winclip-tiny-vit)", "full": "ViT-B-16-plus-240"}


def probe(model_name: str, dataset: dict, images: int, batch_size: int, workers: int) -> dict:
    """Seconds of each start-up step and of the model alone, measured by ``startup_probe.py``."""
    job = {
        "model_name": model_name,
        "dataset": dataset,
        "images": images,
        "batch_size": batch_size,
        "workers": workers,
        "text_repeats": 2,
    }
    env = {**os.environ, "WANDB_MODE": "disabled", "HF_HUB_OFFLINE": "1"}
    spawned = time.time()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).parent / "startup_probe.py"), repr(spawned), json.dumps(job)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"startup_probe.py failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(backbone: str, tmp: Path, sizes: tuple[int, int], batch_size: int, workers: int) -> dict:
    """Every figure of one backbone (see the module docstring)."""
    n1, n2 = sizes
    datasets = {n: make_folder_dataset(tmp / f"{backbone}-{n}", n) for n in sizes}
    parts = probe(MODEL_NAMES[backbone], datasets[n2], n2, batch_size, workers)
    loader = [f"loader.batch_size={batch_size}", f"loader.num_workers={workers}", "logger=none"]
    walls = {
        n: run_cli(
            "evaluate.py",
            *folder_overrides(datasets[n], BACKBONES[backbone], tmp / f"out-{backbone}-{n}"),
            *loader,
        )
        for n in sizes
    }
    marginal = (walls[n2] - walls[n1]) / (n2 - n1)
    startup = walls[n1] - n1 * marginal
    steps = parts["imports"] + parts["build"] + parts["text"] + parts["data"]
    return {**parts, "walls": walls, "marginal": marginal, "startup": startup, "steps": steps}


def table(results: dict[str, dict], sizes: tuple[int, int], batch_size: int) -> list[str]:
    """Markdown rows: one column per backbone."""
    n1, n2 = sizes
    names = list(results)
    rows = [
        "| | " + " | ".join(LABELS[n] for n in names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def row(label: str, fmt, key=None) -> None:
        cells = [fmt(results[n]) if key is None else fmt(results[n][key]) for n in names]
        rows.append(f"| {label} | " + " | ".join(cells) + " |")

    seconds = "{:.2f} s".format
    row(f"model alone, s/image (`WinCLIP.forward`, batch {batch_size})", seconds, "model_per_image")
    row(f"evaluate.py wall, {n1} images", lambda r: seconds(r["walls"][n1]))
    row(f"evaluate.py wall, {n2} images", lambda r: seconds(r["walls"][n2]))
    row(f"evaluate.py marginal s/image, (t{n2} - t{n1}) / {n2 - n1}", seconds, "marginal")
    row(
        "**marginal / model alone** (target <= 1.10)",
        lambda r: f"**{r['marginal'] / r['model_per_image']:.2f}x**",
    )
    row(f"evaluate.py start-up, t{n1} - {n1} x marginal", seconds, "startup")
    row(
        "**start-up / model s/image** (target <= 3 on ViT-B-16-plus-240)",
        lambda r: f"**{r['startup'] / r['model_per_image']:.1f}x**",
    )
    row("- imports (fresh interpreter: evaluate.py, `winclip_lit.tasks.evaluate`)", seconds, "imports")
    row("- model build (`load_backbone`, `WinCLIP(...)`)", seconds, "build")
    row("- text encoding (`set_class_name`, 242 sentences)", seconds, "text")
    row("- data set-up (datamodule, workers, first batch)", seconds, "data")
    row(
        "- rest (Hydra, Lightning, first-batch warm-up, results, exit)",
        lambda r: seconds(r["startup"] - r["steps"]),
    )
    row(
        "first `WinCLIP.forward` batch (warm-up), extra over a warm one",
        lambda r: seconds(r["first_forward"] - batch_size * r["model_per_image"]),
    )
    row(
        "242 sentences, warm, best of 2: up to the longest / full 77 tokens",
        lambda r: (
            f"{r['text_truncated']:.2f} s / {r['text_full']:.2f} s "
            f"({r['tokens_truncated']} / {r['tokens_full']} tokens)"
        ),
    )
    row(
        "**text encoding speed-up** (full / truncated)",
        lambda r: f"**{r['text_full'] / r['text_truncated']:.1f}x**",
    )
    return rows


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backbones", default="tiny,full", help="comma-separated: tiny, full")
    parser.add_argument("--images", default="4,12", help="N1,N2: test images of the two CLI runs")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="tiny backbone, 4 and 8 images")
    args = parser.parse_args()
    backbones = args.backbones.split(",")
    sizes = tuple(int(n) for n in args.images.split(","))
    if args.smoke:
        backbones, sizes = ["tiny"], (4, 8)
    unknown = sorted(set(backbones) - set(BACKBONES))
    if unknown or len(sizes) != 2 or not 0 < sizes[0] < sizes[1]:
        parser.error(
            f"--backbones takes {sorted(BACKBONES)} (got {unknown}); --images takes N1,N2 with 0 < N1 < N2"
        )
    print(f"machine: {os.cpu_count()} cores, load average {load_average()} at start")
    help_wall = run_cli("evaluate.py", "--help")
    with tempfile.TemporaryDirectory() as tmp:
        results = {b: measure(b, Path(tmp), sizes, args.batch_size, args.workers) for b in backbones}
    threads = {r["threads"] for r in results.values()}
    print(
        f"evaluate.py on a synthetic dataset=folder (256x256, half anomalous with masks), zero-shot, random "
        f"weights, batch {args.batch_size}, {args.workers} workers, torch threads {sorted(threads)}; "
        f"load average {load_average()} at end"
    )
    print("\n".join(table(results, sizes, args.batch_size)))
    print(f"| `python evaluate.py --help` wall (target < 3 s) | {help_wall:.2f} s |")


if __name__ == "__main__":
    main()
