"""A prompt x shot x seed sweep with and without the feature cache, next to one run.

Sweeps `shot=0,1,2,4 seed=0,1,2 prompt=paper,single_template` (24 jobs, Hydra's basic launcher) on
one synthetic category. Target: with the cache, the sweep costs <= 1.2x one run plus the scoring.

Usage:
    python benchmarks/bench_sweep.py --backbone tiny --images 100
    python benchmarks/bench_sweep.py --backbone full --images 8 --shots 0,1 --seeds 0,1 --prompts paper
    python benchmarks/bench_sweep.py --smoke                         # seconds (CI)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import BACKBONES, dataset_overrides, make_category, run_cli


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backbone", choices=sorted(BACKBONES), default="tiny")
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--shots", default="0,1,2,4")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--prompts", default="paper,single_template")
    parser.add_argument("--smoke", action="store_true", help="tiny backbone, 6 images, shot=0,1 x 1 seed")
    args = parser.parse_args()
    shots, seeds, prompts = args.shots, args.seeds, args.prompts
    if args.smoke:
        args.backbone, args.images, shots, seeds, prompts = "tiny", 6, "0,1", "0", "paper"
    jobs = len(shots.split(",")) * len(seeds.split(",")) * len(prompts.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        root = make_category(Path(tmp) / "mvtec", args.images)
        common = ["logger=none", "metrics.mode=exact"]
        one = run_cli(
            "evaluate.py",
            "-m",
            *dataset_overrides(root, BACKBONES[args.backbone], Path(tmp) / "one"),
            *common,
            "shot=1",
        )
        sweep = [f"shot={shots}", f"seed={seeds}", f"prompt={prompts}", *common]
        plain = run_cli(
            "evaluate.py",
            "-m",
            *dataset_overrides(root, BACKBONES[args.backbone], Path(tmp) / "a"),
            *sweep,
            "cache.enabled=false",
        )
        cached = run_cli(
            "evaluate.py",
            "-m",
            *dataset_overrides(root, BACKBONES[args.backbone], Path(tmp) / "b"),
            *sweep,
            "cache.enabled=true",
            f"cache.dir={tmp}/cache",
        )
        rerun = run_cli(
            "evaluate.py",
            "-m",
            *dataset_overrides(root, BACKBONES[args.backbone], Path(tmp) / "c"),
            *sweep,
            "cache.enabled=true",
            f"cache.dir={tmp}/cache",
        )
    print(
        f"sweep of {jobs} jobs (shot={shots} x seed={seeds} x prompt={prompts}), {args.images} images, "
        f"backbone {args.backbone}"
    )
    print("| run | seconds | x one run |")
    print("|---|---|---|")
    print(f"| one run (shot=1) | {one:.1f} | 1.00 |")
    print(f"| sweep, no cache | {plain:.1f} | {plain / one:.2f} |")
    print(f"| sweep, feature cache (cold) | {cached:.1f} | {cached / one:.2f} |")
    print(f"| same sweep again (warm cache: scoring only) | {rerun:.1f} | {rerun / one:.2f} |")
    print(f"cold-cache sweep / (one run + warm-cache sweep) = {cached / (one + rerun):.2f}  (target <= 1.2)")
    print(f"cache speed-up of the sweep: {plain / cached:.1f}x")


if __name__ == "__main__":
    main()
