"""predict.py (scores CSV and overlay PNGs, from a checkpoint or zero-shot from config) and the
offline smoke run of evaluate.py on a plain folder of images."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from run_support import TINY, make_config, read_metrics, run_cli

from winclip_lit.run.context import RunContext
from winclip_lit.run.errors import ConfigError
from winclip_lit.run.predict import predict


def read_scores(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_predict_from_checkpoint_writes_scores_and_overlays(
    fit_run: Path, data_dir: Path, tmp_path: Path
) -> None:
    images = data_dir / "mvtec_anomaly_detection" / "bottle" / "test" / "broken"
    cfg = make_config(
        *TINY,
        f"ckpt_path={fit_run / 'checkpoint.pt'}",
        f"predict.input_dir={images}",
        "predict.category=bottle",
    )
    scores_file = predict(cfg, RunContext(tmp_path, "predict"))
    rows = read_scores(scores_file)
    assert [Path(r["image"]).name for r in rows] == sorted(p.name for p in images.iterdir())
    for row in rows:
        assert 0.0 <= float(row["image_score"]) <= 1.0 and 0.0 <= float(row["max_pixel_score"]) <= 1.0
        assert row["anomalous"] == str(int(float(row["image_score"]) >= 0.5))
        overlay = np.asarray(Image.open(tmp_path / "overlays" / row["overlay"]))
        assert overlay.shape == (64, 128, 3)  # [image | map overlay] at the model's 64 px


def test_predict_needs_a_category_for_a_multi_category_checkpoint(
    fit_run: Path, data_dir: Path, tmp_path: Path
) -> None:
    cfg = make_config(
        *TINY, f"ckpt_path={fit_run / 'checkpoint.pt'}", f"predict.input_dir={data_dir / 'folder' / 'normal'}"
    )
    with pytest.raises(ConfigError, match="predict.category=<bottle|metal_nut>"):
        predict(cfg, RunContext(tmp_path, "predict"))


def test_predict_zero_shot_from_config_and_few_shot_needs_checkpoint(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "folder" / "abnormal_0"
    scores = predict(make_config(*TINY, f"predict.input_dir={folder}"), RunContext(tmp_path, "predict"))
    assert len(read_scores(scores)) == len(list(folder.iterdir()))
    with pytest.raises(ConfigError, match="ckpt_path="):
        predict(make_config(*TINY, "shot=1", f"predict.input_dir={folder}"), RunContext(tmp_path, "predict"))


def test_offline_smoke_on_a_plain_folder(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "folder"
    run_cli(
        tmp_path,
        "evaluate.py",
        *TINY,
        "dataset=folder",
        f"dataset.normal_dir={folder / 'normal'}",
        f"dataset.abnormal_dirs=[{folder / 'abnormal_0'},{folder / 'abnormal_1'}]",
        f"dataset.mask_dir={folder / 'masks'}",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    result = read_metrics(tmp_path / "run")
    assert list(result["categories"]) == ["object"]
    assert all(0.0 <= v <= 1.0 for v in result["mean"].values())
