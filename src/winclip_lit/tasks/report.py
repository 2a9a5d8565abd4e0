"""report.py: every metrics.json below a folder -> one table of mean ± std over seeds per setting, next to
the paper's figures (arXiv 2303.14814; docs/algorithm.md 9) where a setting is the paper's."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from winclip_lit.config.errors import ConfigError
from winclip_lit.config.keys import LOCATION_KEYS, SEED_KEY, flatten, setting_of
from winclip_lit.engine.context import console
from winclip_lit.engine.outputs import FAILED_FILE
from winclip_lit.reporting.ledger import read_runs, write_ledger
from winclip_lit.reporting.tables import METRIC_LABELS, PARTIAL_FILE, markdown, mean_std, write_table

PAPER: dict[tuple[str, int], dict[str, float]] = {
    ("mvtec", 0): {
        "image_auroc": 91.8,
        "image_ap": 96.5,
        "image_f1max": 92.9,
        "pixel_auroc": 85.1,
        "pixel_f1max": 31.7,
        "pixel_aupro": 64.6,
    },
    ("mvtec", 1): {"image_auroc": 93.1, "pixel_auroc": 95.2, "pixel_aupro": 87.1},
    ("mvtec", 2): {"image_auroc": 94.4, "pixel_auroc": 96.0, "pixel_aupro": 88.4},
    ("mvtec", 4): {"image_auroc": 95.2, "pixel_auroc": 96.2, "pixel_aupro": 89.0},
    ("visa", 0): {
        "image_auroc": 78.1,
        "image_ap": 81.2,
        "image_f1max": 79.0,
        "pixel_auroc": 79.6,
        "pixel_f1max": 14.8,
        "pixel_aupro": 56.8,
    },
    ("visa", 1): {"image_auroc": 83.8, "pixel_auroc": 96.4},
    ("visa", 2): {"image_auroc": 84.6, "pixel_auroc": 96.8},
    ("visa", 4): {"image_auroc": 87.3, "pixel_auroc": 97.2, "pixel_aupro": 87.6},
}
"""The paper's figures in percent (arXiv 2303.14814; docs/algorithm.md 9), keyed by (dataset, shots)."""

PUBLISHED: dict[tuple[str, int], dict[str, float]] = {
    ("mpdd", 0): {"image_auroc": 63.6, "pixel_auroc": 76.4, "pixel_aupro": 48.9},
    ("btad", 0): {"image_auroc": 68.2, "pixel_auroc": 72.7, "pixel_aupro": 27.3},
    ("ksdd", 0): {"image_auroc": 84.3, "pixel_auroc": 68.8, "pixel_aupro": 24.2},
    ("dagm", 0): {"image_auroc": 91.8, "pixel_auroc": 87.6, "pixel_aupro": 65.7},
    ("dtd_synthetic", 0): {"image_auroc": 93.2, "pixel_auroc": 83.9, "pixel_aupro": 57.8},
}
"""WinCLIP zero-shot on the other benchmark sets as AnomalyCLIP reports it (ICLR 2024, arXiv 2310.18961,
Table 1; its "SDD" is KolektorSDD), in percent. No published WinCLIP figure for KolektorSDD2 is known to us."""

DATASET_NAMES = {
    "mvtec": "MVTec-AD",
    "visa": "VisA",
    "mpdd": "MPDD",
    "btad": "BTAD",
    "ksdd": "KolektorSDD",
    "ksdd2": "KolektorSDD2",
    "dagm": "DAGM",
    "dtd_synthetic": "DTD-Synthetic",
    "realiad": "Real-IAD",
    "mvtec_ad2": "MVTec AD 2",
    "mvtec_loco": "MVTec LOCO AD",
    "headct": "HeadCT",
    "brainmri": "BrainMRI",
    "br35h": "Br35H",
    "isic": "ISIC",
    "colondb": "CVC-ColonDB",
    "clinicdb": "CVC-ClinicDB",
    "kvasir": "Kvasir",
    "endo": "Endo",
    "tn3k": "TN3K",
}


def published_row(dataset: str, shots: int) -> tuple[dict[str, float], str] | None:
    """The published WinCLIP figures of a (dataset, shots) setting with their source, or None."""
    name = DATASET_NAMES.get(dataset, dataset)
    mode = "WinCLIP zero-shot" if shots == 0 else f"WinCLIP+ {shots}-shot"
    if (dataset, shots) in PAPER:
        return PAPER[(dataset, shots)], f"{name} {mode} (WinCLIP paper, CVPR 2023)"
    if (dataset, shots) in PUBLISHED:
        return PUBLISHED[(dataset, shots)], f"{name} {mode} (AnomalyCLIP, ICLR 2024, Table 1)"
    return None


def paper_setting(dataset: str, shots: int) -> dict[str, Any]:
    """The setting of the paper preset ``dataset=<dataset> shot=<shots>`` composed from conf/."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from winclip_lit.config import CONFIG_DIR
    from winclip_lit.config.hydra_setup import prepare_hydra

    prepare_hydra()
    overrides = [f"dataset={dataset}", f"shot={shots}"]
    if GlobalHydra.instance().is_initialized():
        cfg = compose("config", overrides=overrides)
    else:
        with initialize_config_dir(CONFIG_DIR, version_base="1.3"):
            cfg = compose("config", overrides=overrides)
    return setting_of(OmegaConf.to_container(cfg, resolve=True))


@dataclass
class Group:
    """The runs of one setting (differing only in seed and in keys that change no result)."""

    setting: dict[str, Any]
    seeds: list[Any] = field(default_factory=list)
    means: list[Mapping[str, float | None]] = field(default_factory=list)
    paper_row: str | None = None
    paper: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    configs: list[dict[str, Any]] = field(default_factory=list)

    def stats(self, key: str) -> tuple[float, float | None] | None:
        """Mean and sample std (None for one run) of a metric in percent over the seeds."""
        values = [100.0 * m[key] for m in self.means if m.get(key) is not None]
        if len(values) != len(self.means) or not values:
            return None
        return mean_std(values)

    def repeated_seeds(self) -> list[str]:
        """One line per seed that this group holds more than once, naming the keys its runs differ in."""
        notes = []
        for seed in dict.fromkeys(self.seeds):
            runs = [i for i, s in enumerate(self.seeds) if s == seed]
            if len(runs) < 2:
                continue
            flat = [self.configs[i] for i in runs]
            keys = sorted({k for config in flat for k in config})
            differing = [k for k in keys if len({json.dumps(c.get(k), default=str) for c in flat}) > 1]
            what = (
                f"they differ only in {', '.join(differing)}, which change no result"
                if differing
                else "their configs are identical"
            )
            files = ", ".join(str(self.files[i].parent) for i in runs)
            notes.append(f"seed {seed} appears {len(runs)} times ({files}); {what}")
        return notes


def cell(stats: tuple[float, float | None] | None) -> str:
    """``mean ± std`` in percent with one decimal; ``mean ± –`` for a single seed, ``-`` without values."""
    if stats is None:
        return "-"
    mean, std = stats
    return f"{mean:.1f} ± {'–' if std is None else f'{std:.1f}'}"


@dataclass
class Found:
    """What one walk of a run or sweep folder finds (both sorted, nothing below a ``.ddp`` folder)."""

    results: list[Path]
    """Every metrics.json."""
    jobs: list[Path]
    """Every folder that ran: holds ``.hydra/`` or ``metrics.partial.jsonl``."""


def walk(root: Path) -> Found:
    """Walk ``root`` once (one directory listing per folder, symlinked folders not followed, like
    ``Path.rglob``) for its metrics.json files and job folders."""
    results, jobs = [], set()
    folders = [root] if root.is_dir() else []
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except PermissionError:
            continue
        for entry in entries:
            path = folder / entry.name
            wanted = entry.name in ("metrics.json", ".hydra", PARTIAL_FILE)
            if wanted and (not entry.is_symlink() or path.exists()):  # a dangling link is no result
                if entry.name == "metrics.json":
                    results.append(path)
                else:
                    jobs.add(folder)
            if entry.name != ".ddp" and entry.is_dir(follow_symlinks=False):
                folders.append(path)
    return Found(
        sorted(p for p in results if ".ddp" not in p.parts), sorted(j for j in jobs if ".ddp" not in j.parts)
    )


def _finished_count(partial: Path) -> int:
    """How many categories ``metrics.partial.jsonl`` holds (unreadable lines not counted)."""
    categories = set()
    for line in partial.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            categories.add(json.loads(line)["category"])
        except (ValueError, KeyError, TypeError):
            continue
    return len(categories)


def unfinished_jobs(root: Path, found: Found | None = None) -> list[str]:
    """Job folders below ``root`` that ran (``.hydra/`` or ``metrics.partial.jsonl``) but hold no
    metrics.json, each as ``skipped <job>: <reason>`` or ``unfinished <job>: <what to do>``.
    ``found`` is :func:`walk` of ``root`` (walked here if not given)."""
    found = walk(root) if found is None else found
    results = set(found.results)
    notes = []
    for job in found.jobs:
        if job / "metrics.json" in results or job == root and results:
            continue
        failed = job / FAILED_FILE
        reason = (
            failed.read_text().splitlines()[0] if failed.is_file() else "no metrics.json (failed or killed)"
        )
        name = job.relative_to(root) if job != root else job
        partial = job / PARTIAL_FILE
        if partial.is_file():
            notes.append(
                f"unfinished {name}: {_finished_count(partial)} categories in {PARTIAL_FILE}, no metrics.json "
                f"({reason}); finish it with its overrides and resume=true hydra.run.dir='{job}'"
            )
        else:
            notes.append(f"skipped {name}: {reason}")
    return notes


def _seed(config: Mapping[str, Any]) -> Any:
    flat = flatten(config)
    return flat.get(SEED_KEY, flat.get("shot.seed"))


def group_runs(runs: Iterable[tuple[Path, Any]]) -> tuple[list[Group], list[str]]:
    """Group the parsed runs (``ledger.read_runs``) by setting, in order of first appearance; also the
    unreadable files with the reason."""
    groups: dict[str, Group] = {}
    broken = []
    for path, data in runs:
        try:
            if isinstance(data, Exception):
                raise data
            config, mean = data["config"], data["mean"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            broken.append(f"{path}: unreadable ({type(error).__name__}: {' '.join(str(error).split())[:80]})")
            continue
        config = {k: v for k, v in config.items() if k != "shot"} | {
            "shot": {k: v for k, v in dict(config.get("shot", {})).items() if k != "seed"}
        }
        setting = setting_of(config)
        key = json.dumps(setting, sort_keys=True, default=str)
        group = groups.setdefault(key, Group(setting))
        group.seeds.append(_seed(data["config"]))
        group.means.append(mean)
        group.files.append(path)
        group.configs.append(flatten(config))
    return list(groups.values()), broken


def match_paper(groups: Sequence[Group]) -> None:
    """Attach the published row (and its source) to every group whose setting is the paper preset of its
    dataset and shots."""
    presets: dict[tuple[str, int], dict[str, Any]] = {}
    for group in groups:
        key = (str(group.setting.get("dataset.name")), int(group.setting.get("shot.k", -1)))
        published = published_row(*key)
        if published is None:
            continue
        if key not in presets:
            presets[key] = paper_setting(*key)
        if _without_locations(group.setting) == _without_locations(presets[key]):
            group.paper, group.paper_row = published


def _without_locations(setting: Mapping[str, Any]) -> dict[str, Any]:
    """A setting without the keys that only say where the data lives (a benchmark is its dataset.name)."""
    return {k: v for k, v in setting.items() if k not in LOCATION_KEYS}


def label(setting: Mapping[str, Any], varying: Sequence[str]) -> str:
    """Short name of a setting: its values of the keys that vary across the report."""
    if not varying:
        return "all runs"
    return ", ".join(f"{key}={json.dumps(setting.get(key), default=str)}" for key in varying)


def varying_keys(groups: Sequence[Group]) -> list[str]:
    """The setting keys whose value differs between the groups (of the dataset keys only dataset.name when
    the dataset varies)."""
    keys = sorted({k for g in groups for k in g.setting})
    varying = [k for k in keys if len({json.dumps(g.setting.get(k), default=str) for g in groups}) > 1]
    if "dataset.name" in varying:  # the other dataset keys follow from the dataset
        varying = [k for k in varying if k == "dataset.name" or not k.startswith("dataset.")]
    return varying


def collect_groups(
    root: Path, found: Found | None = None, runs: Sequence[tuple[Path, Any]] | None = None
) -> list[Group]:
    """The groups of every run below ``root``, matched to the published rows; prints the skipped and
    unfinished jobs and the repeated seeds. ``found`` is :func:`walk` of ``root`` and ``runs`` its parsed
    results (``ledger.read_runs``); both are made here if not given."""
    found = walk(root) if found is None else found
    if not found.results:
        raise ConfigError(f"no metrics.json below {root}; point report.py dir=... at a run or sweep folder")
    groups, broken = group_runs(read_runs(found.results) if runs is None else runs)
    for note in [*(f"skipped {b}" for b in broken), *unfinished_jobs(root, found)]:
        console.print(f"report: {note}")
    if not groups:
        raise ConfigError(f"no readable metrics.json below {root}")
    match_paper(groups)
    varying = varying_keys(groups)
    for group in groups:
        for note in group.repeated_seeds():
            console.print(f"report: warning: setting {label(group.setting, varying)} holds {note}")
    return groups


def report_table(groups: Sequence[Group]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the report of ``groups`` (:func:`collect_groups`)."""
    from winclip_lit.metrics import METRIC_KEYS

    varying = varying_keys(groups)
    header = ["setting", "seeds", *(METRIC_LABELS[k] for k in METRIC_KEYS), "published (in brackets)"]
    rows = []
    for group in groups:
        cells = []
        for key in METRIC_KEYS:
            text = cell(group.stats(key))
            if key in group.paper:
                text += f" ({group.paper[key]:.1f})"
            cells.append(text)
        seeds = ",".join(str(s) for s in group.seeds)
        rows.append([label(group.setting, varying), seeds, *cells, group.paper_row or "-"])
    return header, rows


def build_report(root: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the report of every run below ``root``."""
    return report_table(collect_groups(root))


def report(root: str | Path, output_dir: str | Path | None = None, figures: bool = True) -> Path:
    """Write ``report.md`` / ``report.csv`` (and the sweep figures) for every run below ``root``.

    Args:
        root: A run or sweep folder (searched recursively for metrics.json).
        output_dir: Where to write the tables (default: ``root``).
        figures: Also draw ``figures/sweep_shots.png`` (each metric against k, ± std over seeds) or
            ``figures/sweep_settings.png`` (bars per setting next to the paper's figures).

    Returns:
        The Markdown file.
    """
    root = Path(root).expanduser()
    out = Path(output_dir or root)
    found = walk(root)  # the folder is walked and every metrics.json parsed once, for all the outputs
    runs = read_runs(found.results)
    groups = collect_groups(root, found, runs)
    header, rows = report_table(groups)
    md, _ = write_table(out / "report", header, rows)
    ledger = write_ledger(out / "ledger.csv", runs, root)
    print(markdown(header, rows))
    drawn = {}
    if figures:
        from winclip_lit.reporting.sweep_plots import draw_sweep_figures

        drawn = draw_sweep_figures(out / "figures", [(g.setting, g.means) for g in groups], paper=PAPER)
    note = "".join(f", {p}" for p in drawn.values()) + f" and {ledger}"
    console.print(
        f"{len(rows)} setting(s) below {root}; percent, mean ± std over seeds (paper) -> {md}{note}"
    )
    return md


def report_task(cfg: Any, run: Any) -> Path:
    """The ``report`` task of the command line (``dir``, ``output_dir``, ``figures``)."""
    if OmegaConf.is_missing(cfg, "dir") or not cfg.dir:
        raise ConfigError(
            "report needs a folder: pass dir=<sweep or run folder>, e.g. dir=outputs/evaluate-multirun/<date_time>"
        )
    return report(cfg.dir, cfg.output_dir, bool(cfg.get("figures", True)))
