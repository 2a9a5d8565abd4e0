"""evaluate.py / train.py on synthetic MVTec-AD with the tiny backbone: numbers against an independent
computation, checkpoint round trip, 2-process DDP.

The CLI runs (shot2_run, fit_run) are subprocesses; follow-up evaluations run in-process on the
composed config, because every new process spends ~10 s importing torch, open_clip and Lightning."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
import torch
from run_oracle import evaluate_category
from run_support import CATEGORIES, make_config, read_metrics

from winclip_lit import TINY_MODEL_NAME, WinCLIP
from winclip_lit.engine.checkpoint import Checkpoint
from winclip_lit.engine.context import RunContext
from winclip_lit.engine.errors import ConfigError
from winclip_lit.metrics import METRIC_KEYS
from winclip_lit.tasks.evaluate import evaluate


@pytest.mark.slow
def test_metrics_json_matches_direct_computation(shot2_run: Path, data_dir: Path) -> None:
    result = read_metrics(shot2_run)
    assert set(result) >= {"categories", "mean", "references", "config"}
    assert list(result["categories"]) == list(CATEGORIES)
    torch.manual_seed(result["config"]["torch_seed"])
    model = WinCLIP.from_pretrained(TINY_MODEL_NAME, None)
    root = data_dir / "mvtec_anomaly_detection"
    for category in CATEGORIES:
        references = result["references"][category]
        assert len(references) == len(set(references)) == 2
        assert all(name.startswith(f"{category}/train/good/") for name in references)
        expected = evaluate_category(model, root, category, references)
        got = result["categories"][category]
        assert set(got) == set(METRIC_KEYS)
        for key in METRIC_KEYS:
            assert 0.0 <= got[key] <= 1.0
            assert got[key] == pytest.approx(expected[key], abs=1e-4), (category, key)
    for key in METRIC_KEYS:
        mean = sum(result["categories"][c][key] for c in CATEGORIES) / len(CATEGORIES)
        assert result["mean"][key] == pytest.approx(mean, abs=1e-12)
    assert result["config"]["shot"] == {"k": 2} and result["config"]["seed"] == 0
    assert result["config"]["backbone"]["model_name"] == TINY_MODEL_NAME


@pytest.mark.slow
def test_tables_are_percent_with_one_decimal(shot2_run: Path) -> None:
    result = read_metrics(shot2_run)
    with (shot2_run / "metrics.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "category" and [r[0] for r in rows[1:]] == [*CATEGORIES, "mean"]
    assert rows[-1][1] == f"{100 * result['mean']['image_auroc']:.1f}"
    assert rows[1][7] == f"{100 * result['categories'][CATEGORIES[0]]['pixel_aupro']:.1f}"
    assert rows[0][8:] == ["TPR@FPR1%", "TPR@FPR5%", "TNR@FNR1%", "TNR@FNR5%", "mAD"]
    assert rows[-1][-1] == f"{100 * result['mean']['mad']:.1f}"
    markdown = (shot2_run / "metrics.md").read_text().splitlines()
    assert markdown[0].startswith("| category | image AUROC") and len(markdown) == 2 + len(CATEGORIES) + 1


@pytest.mark.slow
def test_checkpoint_gives_identical_metrics_without_references(
    shot2_run: Path, fit_run: Path, data_dir: Path, mvtec_args: list[str], tmp_path: Path
) -> None:
    checkpoint = fit_run / "checkpoint.pt"
    # The evaluation must not need the reference images: delete them from a copy of the dataset (the
    # datamodule still lists the category's train folder, so the other training images stay).
    root = tmp_path / "mvtec_anomaly_detection"
    shutil.copytree(data_dir / "mvtec_anomaly_detection", root)
    for names in read_metrics(shot2_run)["references"].values():
        for name in names:
            (root / name).unlink()
    args = [a for a in mvtec_args if not a.startswith("dataset.root=")] + [f"dataset.root={root}"]
    # shot=0 on the command line is replaced by the checkpoint's 2-shot groups.
    cfg = make_config(*args, "shot=0", f"ckpt_path={checkpoint}")
    evaluate(cfg, RunContext(tmp_path / "run", "evaluate"))
    restored, direct = read_metrics(tmp_path / "run"), read_metrics(shot2_run)
    assert restored["categories"] == direct["categories"]
    assert restored["references"] == direct["references"]
    assert restored["config"]["shot"]["k"] == 2


@pytest.mark.slow
def test_two_process_ddp_equals_one_process(shot2_run: Path, mvtec_args: list[str], tmp_path: Path) -> None:
    """Rank 0 runs in this process, rank 1 in a child started by winclip_lit.engine.distributed (gloo)."""
    cfg = make_config(
        *mvtec_args,
        "shot=2",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "loader.batch_size=2",
    )
    evaluate(cfg, RunContext(tmp_path, "evaluate"))
    assert read_metrics(tmp_path)["categories"] == read_metrics(shot2_run)["categories"]
    assert (tmp_path / ".ddp" / "job.yaml").is_file()
    assert not torch.distributed.is_initialized()


@pytest.mark.slow
def test_feature_cache_reuses_features_with_identical_metrics(
    shot2_run: Path, mvtec_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = make_config(*mvtec_args, "shot=2", "cache.enabled=true", f"cache.dir={tmp_path / 'cache'}")
    first = evaluate(cfg, RunContext(tmp_path / "first", "evaluate"))
    again = evaluate(cfg, RunContext(tmp_path / "again", "evaluate"))
    images = 2 * (3 + 2 * 2 + 2)  # per category: 3 good + 2 defects x 2 test images, 2 references
    err = capsys.readouterr().err
    assert f"0 reused, {images} encoded" in err and f"{images} reused, 0 encoded" in err
    assert first["categories"] == read_metrics(shot2_run)["categories"]
    assert again["categories"] == first["categories"]


def test_original_resolution_evaluation_upsamples_maps(
    data_dir: Path, mvtec_args: list[str], tmp_path: Path
) -> None:
    """dataset.eval_size=original: 48x64 masks, maps resized bilinearly from 64x64 before the metrics."""
    result = evaluate(
        make_config(*mvtec_args, "dataset.eval_size=original", "dataset.categories=[bottle]"),
        RunContext(tmp_path, "evaluate"),
    )
    torch.manual_seed(0)
    model = WinCLIP.from_pretrained(TINY_MODEL_NAME, None)
    expected = evaluate_category(
        model, data_dir / "mvtec_anomaly_detection", "bottle", [], original_size=True
    )
    for key in METRIC_KEYS:
        assert result["categories"]["bottle"][key] == pytest.approx(expected[key], abs=1e-4), key


@pytest.mark.slow
def test_checkpoint_of_other_image_features_is_refused(
    fit_run: Path, mvtec_args: list[str], tmp_path: Path
) -> None:
    checkpoint = Checkpoint.load(fit_run / "checkpoint.pt")
    checkpoint.states["bottle"]["_extra_state"]["feature_fingerprint"] = "another-backbone"
    changed = checkpoint.save(tmp_path / "changed.pt")
    with pytest.raises(ConfigError, match="category 'bottle' was built with other image features"):
        evaluate(make_config(*mvtec_args, f"ckpt_path={changed}"), RunContext(tmp_path, "evaluate"))


@pytest.mark.slow
def test_scoring_options_given_with_a_checkpoint_apply_as_in_a_direct_run(
    fit_run: Path, mvtec_args: list[str], tmp_path: Path
) -> None:
    checkpoint = fit_run / "checkpoint.pt"
    given = ("model.temperature=0.01", "model.few_shot_weight=0.25")
    restored = evaluate(
        make_config(*mvtec_args, f"ckpt_path={checkpoint}", *given),
        RunContext(tmp_path / "ckpt", "evaluate", overrides=(*given, f"ckpt_path={checkpoint}")),
    )
    direct = evaluate(make_config(*mvtec_args, "shot=2", *given), RunContext(tmp_path / "direct", "evaluate"))
    assert restored["config"]["model"]["temperature"] == 0.01
    for category in CATEGORIES:
        for key, value in direct["categories"][category].items():
            assert restored["categories"][category][key] == pytest.approx(value, abs=1e-6), (category, key)
    default = (
        read_metrics(fit_run.parent / "run") if (fit_run.parent / "run" / "metrics.json").exists() else None
    )
    assert default is None or default["categories"] != restored["categories"]


@pytest.mark.slow
def test_a_conflicting_feature_option_with_a_checkpoint_is_one_line(
    fit_run: Path, mvtec_args: list[str], tmp_path: Path
) -> None:
    checkpoint = fit_run / "checkpoint.pt"
    for given in ("window.stride=2", "shot=1", "seed=3"):
        cfg = make_config(*mvtec_args, f"ckpt_path={checkpoint}", given)
        with pytest.raises(
            ConfigError, match=r"^ckpt_path=.*: (window.stride=2|shot.k=1|seed=3) \(the checkpoint has"
        ):
            evaluate(cfg, RunContext(tmp_path, "evaluate", overrides=(given,)))


@pytest.mark.slow
def test_prompts_given_with_a_checkpoint_are_encoded_anew(
    fit_run: Path, mvtec_args: list[str], tmp_path: Path
) -> None:
    checkpoint = fit_run / "checkpoint.pt"
    given = ("prompt=single_template",)
    restored = evaluate(
        make_config(*mvtec_args, f"ckpt_path={checkpoint}", *given),
        RunContext(tmp_path / "ckpt", "evaluate", overrides=given),
    )
    direct = evaluate(make_config(*mvtec_args, "shot=2", *given), RunContext(tmp_path / "direct", "evaluate"))
    for category in CATEGORIES:
        for key, value in direct["categories"][category].items():
            assert restored["categories"][category][key] == pytest.approx(value, abs=1e-6), (category, key)
