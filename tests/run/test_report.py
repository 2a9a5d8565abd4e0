"""Multirun sweeps (one folder per job) and report.py's aggregation and paper matching."""

from __future__ import annotations

import json
import os
import statistics
from collections import Counter
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from run_support import make_config, read_metrics, run_cli

from winclip_lit.metrics import METRIC_KEYS
from winclip_lit.tasks.report import PAPER, build_report, report

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.slow
def test_multirun_with_ddp_jobs_gives_one_dir_per_job_and_a_report(
    mvtec_args: list[str], tmp_path: Path
) -> None:
    """A sweep whose every job runs on 2 DDP processes: the extra ranks must not re-run the sweep."""
    sweep = tmp_path / "sweep"
    ddp = ["trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2"]
    run_cli(tmp_path, "evaluate.py", "-m", *mvtec_args, *ddp, "shot=0,1", f"hydra.sweep.dir={sweep}")
    jobs = sorted(p.parent for p in sweep.rglob("metrics.json"))
    assert [p.name.split("_")[0] for p in jobs] == ["0", "1"]
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == [p.name for p in jobs]
    assert all((job / ".ddp" / "job.yaml").is_file() for job in jobs)
    assert [read_metrics(p)["config"]["shot"]["k"] for p in jobs] == [0, 1]
    assert read_metrics(jobs[0])["references"] == {"bottle": [], "metal_nut": []}
    assert all(len(refs) == 1 for refs in read_metrics(jobs[1])["references"].values())

    report(sweep)  # the report.py CLI itself is exercised in test_cli_errors.py
    rows = (sweep / "report.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[1].startswith("shot.k=0,") and rows[2].startswith("shot.k=1,")
    image_auroc = 100 * read_metrics(jobs[1])["mean"]["image_auroc"]
    assert f"{image_auroc:.1f} ± –" in rows[2]  # one seed: no spread to show
    assert (sweep / "report.md").read_text().startswith("| setting | seeds | image AUROC")


def write_run(folder: Path, config: dict, mean: dict[str, float]) -> None:
    folder.mkdir(parents=True)
    payload = {"categories": {"bottle": mean}, "mean": mean, "references": {}, "config": config}
    (folder / "metrics.json").write_text(json.dumps(payload))


def test_report_groups_seeds_and_matches_paper_rows(tmp_path: Path) -> None:
    paper_cfg = make_config("shot=1")
    tiny_cfg = make_config("shot=1", "backbone=tiny_random")
    values = [0.90, 0.93, 0.96]
    for seed, value in enumerate(values):
        for name, cfg in (("paper", paper_cfg), ("tiny", tiny_cfg)):
            cfg.seed = seed
            cfg.loader.batch_size = 1 + seed  # run-time keys do not split settings

            config = OmegaConf.to_container(cfg, resolve=True)
            write_run(tmp_path / f"{name}{seed}", config, dict.fromkeys(METRIC_KEYS, value))
    header, rows = build_report(tmp_path)
    assert header[:3] == ["setting", "seeds", "image AUROC"]
    assert len(rows) == 2
    by_model = {row[0]: row for row in rows}
    paper_row = by_model['backbone.model_name="ViT-B-16-plus-240", backbone.pretrained="laion400m_e31"']
    tiny_row = by_model['backbone.model_name="winclip-tiny-vit", backbone.pretrained=null']
    mean, std = 100 * statistics.fmean(values), 100 * statistics.stdev(values)
    assert paper_row[1] == "0,1,2"
    assert paper_row[2] == f"{mean:.1f} ± {std:.1f} ({PAPER[('mvtec', 1)]['image_auroc']:.1f})"
    assert paper_row[-1] == "MVTec-AD WinCLIP+ 1-shot (WinCLIP paper, CVPR 2023)"
    assert tiny_row[2] == f"{mean:.1f} ± {std:.1f}" and tiny_row[-1] == "-"


def test_suite_report_puts_published_figures_with_their_source(tmp_path: Path) -> None:
    from winclip_lit.tasks.report import PUBLISHED

    for dataset in ("mvtec", "mpdd", "ksdd2"):
        config = OmegaConf.to_container(make_config(f"dataset={dataset}"), resolve=True)
        write_run(tmp_path / dataset, config, dict.fromkeys(METRIC_KEYS, 0.5))
    header, rows = build_report(tmp_path)
    by_dataset = {row[0]: row for row in rows}
    assert by_dataset['dataset.name="mpdd"'][-1] == "MPDD WinCLIP zero-shot (AnomalyCLIP, ICLR 2024, Table 1)"
    image_auroc = header.index("image AUROC")
    assert (
        by_dataset['dataset.name="mpdd"'][image_auroc]
        == f"50.0 ± – ({PUBLISHED[('mpdd', 0)]['image_auroc']:.1f})"
    )
    assert by_dataset['dataset.name="mvtec"'][-1] == "MVTec-AD WinCLIP zero-shot (WinCLIP paper, CVPR 2023)"
    assert by_dataset['dataset.name="ksdd2"'][-1] == "-"


def test_suite_presets_sweep_every_dataset() -> None:
    import yaml
    from run_support import REPO

    # every dataset config but the two generic ones (folder, meta_json: no root of their own)
    generic = ("folder", "meta_json")
    datasets = sorted(p.stem for p in (REPO / "conf" / "dataset").glob("*.yaml") if p.stem not in generic)
    for preset in ("zero_shot_suite", "few_shot_suite"):
        params = make_config(f"experiment={preset}", hydra=True).hydra.sweeper.params
        assert sorted(params["dataset"].split(",")) == datasets
        parts = [
            make_config(f"experiment={preset}", f"suite={part}", hydra=True).hydra.sweeper.params["dataset"]
            for part in ("industrial", "medical")
        ]
        industrial, medical = (set(part.split(",")) for part in parts)
        assert not industrial & medical and sorted(industrial | medical) == datasets
        assert "headct" in medical and "mvtec_loco" in industrial
    few = yaml.safe_load((REPO / "conf" / "experiment" / "few_shot_suite.yaml").read_text())
    assert (
        few["hydra"]["sweeper"]["params"]["shot"] == "1,2,4"
        and few["hydra"]["sweeper"]["params"]["seed"] == "0,1,2"
    )


def test_report_warns_of_a_repeated_seed_naming_the_keys_that_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for devices in (1, 2):
        cfg = make_config("shot=1", "backbone=tiny_random", f"trainer.devices={devices}")
        write_run(tmp_path / f"run{devices}", OmegaConf.to_container(cfg, resolve=True), {"image_auroc": 0.5})
    _, rows = build_report(tmp_path)
    assert [row[1] for row in rows] == ["0,0"]
    err = capsys.readouterr().err
    assert "seed 0 appears 2 times" in err and "differ only in trainer.devices" in err


def test_report_lists_a_job_with_partial_results_as_unfinished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = OmegaConf.to_container(make_config("backbone=tiny_random"), resolve=True)
    write_run(tmp_path / "0_done", config, {"image_auroc": 0.5})
    killed = tmp_path / "1_killed"
    killed.mkdir()
    lines = [json.dumps({"category": c, "metrics": {}}) for c in ("bottle", "screw")]
    (killed / "metrics.partial.jsonl").write_text("\n".join(lines) + "\n")
    build_report(tmp_path)
    err = " ".join(capsys.readouterr().err.split())
    assert "report: unfinished 1_killed: 2 categories in metrics.partial.jsonl, no metrics.json" in err
    assert f"resume=true hydra.run.dir='{killed}'" in err


def test_report_lists_each_folder_and_reads_each_metrics_json_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table, the notes, the ledger and the figures come from one walk of the folder and one parse of
    each metrics.json: a sweep of thousands of jobs on a network disk is not read again for each of them."""
    for k in (0, 1):
        for seed in (0, 1):
            cfg = make_config(f"shot={k}", "backbone=tiny_random")
            cfg.seed = seed
            config = OmegaConf.to_container(cfg, resolve=True)
            write_run(tmp_path / f"k{k}_s{seed}", config, {"image_auroc": 0.5 + seed / 10})
            (tmp_path / f"k{k}_s{seed}" / ".hydra").mkdir()
    (tmp_path / "killed").mkdir()
    (tmp_path / "killed" / "metrics.partial.jsonl").write_text(json.dumps({"category": "bottle"}) + "\n")
    results = sorted(tmp_path.glob("*/metrics.json"))
    reads: Counter[Path] = Counter()
    listings: Counter[Path] = Counter()
    read_text, scandir = Path.read_text, os.scandir

    def counted_read_text(self: Path, *args: object, **kwargs: object) -> str:
        if self.name == "metrics.json":
            reads[self] += 1
        return read_text(self, *args, **kwargs)  # type: ignore[arg-type]

    def counted_scandir(path: object = ".") -> object:
        if isinstance(path, (str, os.PathLike)) and Path(path).is_relative_to(tmp_path):
            listings[Path(path)] += 1
        return scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", counted_read_text)
    monkeypatch.setattr(os, "scandir", counted_scandir)
    report(tmp_path)
    monkeypatch.undo()
    assert reads == Counter(dict.fromkeys(results, 1))
    assert listings and max(listings.values()) == 1, listings
    assert len((tmp_path / "ledger.csv").read_text().splitlines()) == 1 + len(results)
    assert (tmp_path / "figures" / "sweep_shots.png").is_file()
