"""predict predict.split=...: the MVTec AD 2 submission layout (float16 TIFF maps at the image's size,
thresholded 0/255 PNGs), its config checks and the real command end to end."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
import torch.nn.functional as F
from PIL import Image
from run_support import TINY, make_config, run_cli

from winclip_lit.config.validate import validate
from winclip_lit.data.synthetic import make_mvtec_ad2
from winclip_lit.engine.context import RunContext
from winclip_lit.engine.errors import ConfigError
from winclip_lit.reporting.overlays import resize_map
from winclip_lit.reporting.submission import write_submission_image
from winclip_lit.tasks.predict import predict


def _image(path: Path, height: int, width: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((height, width, 3), 128, dtype=np.uint8)).save(path)
    return path


def test_upsampling_matches_a_hand_worked_case() -> None:
    # Half-pixel centres, 2 -> 4 columns: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
    values = resize_map(np.array([[0.0, 1.0], [0.0, 1.0]], dtype=np.float32), (2, 4))
    np.testing.assert_allclose(values, [[0.0, 0.25, 0.75, 1.0]] * 2, atol=1e-7)


@pytest.mark.parametrize(
    "source, size", [((16, 16), (37, 53)), ((24, 20), (7, 9)), ((5, 8), (5, 8)), ((3, 3), (240, 1))]
)
def test_resize_without_torch_equals_torch_bilinear(source: tuple[int, int], size: tuple[int, int]) -> None:
    raw = torch.rand(*source, generator=torch.Generator().manual_seed(sum(source)))
    expected = F.interpolate(raw[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
    np.testing.assert_allclose(resize_map(raw.numpy(), size), expected.numpy(), atol=1e-6)


def test_tiff_and_png_of_one_image(tmp_path: Path) -> None:
    root = tmp_path / "data"
    image = _image(root / "can" / "test_private" / "007_regular.png", 37, 53)
    raw = torch.rand(16, 16, generator=torch.Generator().manual_seed(0))
    threshold = 0.55
    tiff_path, png_path = write_submission_image(tmp_path / "sub", image, root, raw, threshold)

    assert tiff_path == tmp_path / "sub" / "anomaly_images" / "can" / "test_private" / "007_regular.tiff"
    assert png_path == (
        tmp_path / "sub" / "anomaly_images_thresholded" / "can" / "test_private" / "007_regular.png"
    )
    expected = F.interpolate(raw[None, None], size=(37, 53), mode="bilinear", align_corners=False)[
        0, 0
    ].numpy()
    stored = tifffile.imread(tiff_path)
    assert stored.dtype == np.float16 and stored.shape == (37, 53)
    np.testing.assert_allclose(
        stored.astype(np.float32), expected, rtol=0, atol=5e-4
    )  # float16 steps <= 2^-11
    binary = np.asarray(Image.open(png_path))
    assert binary.dtype == np.uint8 and binary.shape == (37, 53)
    assert set(np.unique(binary)) <= {0, 255}
    np.testing.assert_array_equal(binary == 255, expected >= threshold)
    assert 0 < (binary == 255).sum() < binary.size  # the threshold cuts through the map


def test_split_with_input_dir_or_an_exported_backend_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^predict.split=test_private and predict.input_dir=/x both"):
        validate(make_config("predict.split=test_private", "predict.input_dir=/x"), model=False)
    with pytest.raises(
        ConfigError, match=r"^predict.split=test_private writes .* predict.backend=torch only"
    ):
        validate(make_config("predict.split=test_private", "predict.backend=onnxruntime"), model=False)
    validate(make_config("predict.split=test_private"), model=False)
    validate(make_config("predict.split=[test_private,test_private_mixed]"), model=False)
    with pytest.raises(ConfigError, match=r"^predict.split=\[\]: a split name .* a list of them"):
        validate(make_config("predict.split=[]"), model=False)


def test_split_needs_a_dataset_with_submission_splits(tmp_path: Path) -> None:
    root = make_mvtec_ad2(tmp_path / "ad2").root
    with pytest.raises(ConfigError, match="dataset=mvtec has no unlabeled test split.*dataset=mvtec_ad2"):
        predict(make_config(*TINY, "predict.split=test_private"), RunContext(tmp_path / "a", "predict"))
    with pytest.raises(
        ConfigError, match="predict.split=train is not a submission split of dataset=mvtec_ad2"
    ):
        predict(
            make_config(
                *TINY, "dataset=mvtec_ad2", f"dataset.root={root}", "predict.split=[test_private,train]"
            ),
            RunContext(tmp_path / "b", "predict"),
        )


@pytest.mark.slow
def test_predict_writes_every_submission_file_with_the_checkpoint_thresholds(tmp_path: Path) -> None:
    data = make_mvtec_ad2(tmp_path / "ad2", categories=("can", "rice"), n_private=2)
    for category in ("can", "rice"):
        for split in ("test_private", "test_private_mixed"):
            assert len(list((data.root / category / split).glob("*.png"))) == 2
    dataset = ["dataset=mvtec_ad2", f"dataset.root={data.root}", "dataset.categories=[can,rice]"]
    train = tmp_path / "train"
    run_cli(
        tmp_path,
        "train.py",
        *TINY,
        *dataset,
        "threshold=fixed",
        "threshold.value=0.45",
        f"hydra.run.dir={train}",
    )

    run = tmp_path / "predict"
    result = run_cli(
        tmp_path,
        "predict.py",
        *TINY,
        "dataset=mvtec_ad2",
        f"dataset.root={data.root}",
        f"ckpt_path={train / 'checkpoint.pt'}",
        "predict.split=[test_private,test_private_mixed]",  # the whole upload, one folder
        f"hydra.run.dir={run}",
    )
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    for category in ("can", "rice"):
        for split in ("test_private", "test_private_mixed"):
            line = next(x for x in lines if x.startswith(f"{category}: 2 {split} images written"))
            assert "pixel threshold 0.45; fixed" in line
    assert any(f"in {run / 'submission'}: upload this folder" in x for x in lines)

    submission = run / "submission"
    expected = set()
    for category, split in itertools.product(("can", "rice"), ("test_private", "test_private_mixed")):
        for image in sorted((data.root / category / split).glob("*.png")):
            tiff = submission / "anomaly_images" / category / split / f"{image.stem}.tiff"
            png = submission / "anomaly_images_thresholded" / category / split / image.name
            expected |= {tiff, png}
            width, height = Image.open(image).size
            stored = tifffile.imread(tiff)
            assert stored.dtype == np.float16 and stored.shape == (height, width)
            assert np.isfinite(stored).all() and stored.min() >= 0.0 and stored.max() <= 1.0
            binary = np.asarray(Image.open(png))
            assert binary.dtype == np.uint8 and binary.shape == (height, width)
            assert set(np.unique(binary)) <= {0, 255}
            far = np.abs(stored.astype(np.float32) - 0.45) > 1e-3  # away from float16 rounding
            np.testing.assert_array_equal((binary == 255)[far], (stored.astype(np.float32) >= 0.45)[far])
    assert {p for p in submission.rglob("*") if p.is_file()} == expected
    with (run / "scores.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 8
