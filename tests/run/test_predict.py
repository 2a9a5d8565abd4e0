"""predict.py (scores CSV and overlay PNGs, from a checkpoint or zero-shot from config) and the
offline smoke run of evaluate.py on a plain folder of images."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from run_support import TINY, make_config, read_metrics, run_cli

from winclip_lit.engine.context import RunContext
from winclip_lit.engine.errors import ConfigError
from winclip_lit.tasks.predict import predict


def read_scores(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
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


def test_unreadable_images_are_skipped_named_and_the_rest_scored(data_dir: Path, tmp_path: Path) -> None:
    """Before: one unreadable file stopped the run and no scores.csv was written."""
    import shutil

    from winclip_lit.engine.errors import PartialResultError

    folder = tmp_path / "images"
    shutil.copytree(data_dir / "folder" / "abnormal_0", folder)
    (folder / "zz_broken.png").write_bytes(b"\x89PNG not really")
    readable = sorted(p.name for p in folder.iterdir() if p.name != "zz_broken.png")
    with pytest.raises(PartialResultError, match=r"^1 unreadable image\(s\) skipped .*skipped.txt"):
        predict(make_config(*TINY, f"predict.input_dir={folder}"), RunContext(tmp_path / "run", "predict"))
    rows = read_scores(tmp_path / "run" / "scores.csv")
    assert [Path(r["image"]).name for r in rows] == readable
    assert (tmp_path / "run" / "skipped.txt").read_text().strip().endswith("zz_broken.png")


def test_overlay_names_are_unique_and_point_to_the_right_image(data_dir: Path, tmp_path: Path) -> None:
    """Before: good1.png and good1.jpg (or a/x.png and b/x.png) wrote the same overlays/<stem>.png."""
    source = sorted((data_dir / "folder" / "abnormal_0").iterdir())
    folder = tmp_path / "images"
    for sub, name, origin in (
        ("", "x.png", source[0]),
        ("", "x.jpg", source[1]),
        ("a", "x.png", source[0]),
        ("b", "x.png", source[1]),
    ):
        (folder / sub).mkdir(parents=True, exist_ok=True)
        Image.open(origin).convert("RGB").save(folder / sub / name)
    scores = read_scores(
        predict(make_config(*TINY, f"predict.input_dir={folder}"), RunContext(tmp_path / "run", "predict"))
    )
    overlays = [row["overlay"] for row in scores]
    assert len(set(overlays)) == 4
    assert overlays == ["a/x_png.png", "b/x_png.png", "x_jpg.png", "x_png.png"]
    for row in scores:
        assert (tmp_path / "run" / "overlays" / row["overlay"]).is_file()


@pytest.mark.slow
def test_two_process_predict_equals_one_process(data_dir: Path, tmp_path: Path) -> None:
    folder = data_dir / "mvtec_anomaly_detection" / "bottle" / "test"
    one = read_scores(
        predict(
            make_config(*TINY, f"predict.input_dir={folder}", "loader.batch_size=2"),
            RunContext(tmp_path / "one", "predict"),
        )
    )
    two = read_scores(
        predict(
            make_config(
                *TINY,
                f"predict.input_dir={folder}",
                "loader.batch_size=2",
                "trainer=ddp",
                "trainer.accelerator=cpu",
                "trainer.devices=2",
            ),
            RunContext(tmp_path / "two", "predict"),
        )
    )
    assert [r["image"] for r in two] == [r["image"] for r in one]
    for a, b in zip(one, two, strict=True):
        assert float(a["image_score"]) == pytest.approx(float(b["image_score"]), abs=1e-6)
        assert float(a["max_pixel_score"]) == pytest.approx(float(b["max_pixel_score"]), abs=1e-6)


@pytest.mark.slow
def test_masks_are_at_each_images_own_size_and_agree_with_max_pixel_score(tmp_path: Path) -> None:
    """Before: masks/ held the map at the model's 64 px whatever the image, so it could not be laid on it."""
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    sizes = {"wide.png": (48, 120), "tall.png": (150, 40), "small.png": (20, 30)}  # (height, width)
    for name, (height, width) in sizes.items():
        Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(folder / name)
    for threshold in ("0.0", "0.5", "1.0"):
        run_dir = tmp_path / f"run_{threshold}"
        run_cli(
            tmp_path,
            "predict.py",
            *TINY,
            f"predict.input_dir={folder}",
            f"predict.threshold={threshold}",
            f"hydra.run.dir={run_dir}",
        )
        rows = read_scores(run_dir / "scores.csv")
        assert sorted(Path(r["image"]).name for r in rows) == sorted(sizes)
        for row in rows:
            mask = np.asarray(Image.open(run_dir / "masks" / row["overlay"]))
            assert mask.shape == sizes[Path(row["image"]).name]
            assert set(np.unique(mask)) <= {0, 255}
            peak = float(row["max_pixel_score"])
            if abs(peak - float(threshold)) > 1e-6:
                assert (mask.max() == 255) == (peak >= float(threshold))
        if threshold == "0.0":
            assert all(np.asarray(Image.open(run_dir / "masks" / r["overlay"])).min() == 255 for r in rows)
        if threshold == "1.0":
            assert all(np.asarray(Image.open(run_dir / "masks" / r["overlay"])).max() == 0 for r in rows)
