"""`winclip-lit predict` with an exported file behaves as with PyTorch; `winclip-lit export` checks its opset.

Every test here runs the real console command in subprocesses and checks exit status and files on disk.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
from deploy_support import TINY, cli_env, winclip_lit_command, write_images
from PIL import Image

from winclip_lit.deploy.sidecar import sidecar_path

pytestmark = pytest.mark.slow

BACKENDS = ("torch", "onnxruntime", "openvino")
EXPECTED_IMAGES = ["sub/a.png", "x.jpg", "x.png"]
"""The readable images of the mixed folder, by relative path in listing order."""
EXPECTED_OVERLAYS = ["sub/a_png.png", "x_jpg.png", "x_png.png"]
"""Their overlays: relative path with the extension folded in (x.png and x.jpg must not collide)."""


def start(tmp_path: Path, task: str, *overrides: str) -> subprocess.Popen:
    """Start ``winclip-lit <task> <overrides>`` (tiny backbone, offline, outputs under ``tmp_path``)."""
    return subprocess.Popen(
        [*winclip_lit_command(), task, *TINY, *overrides],
        cwd=tmp_path,
        env=cli_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen) -> tuple[int, list[str]]:
    """Exit status and the non-empty stderr lines of a started command."""
    _, stderr = proc.communicate(timeout=300)
    return proc.returncode, [line for line in stderr.splitlines() if line.strip()]


def run(tmp_path: Path, task: str, *overrides: str) -> tuple[int, list[str]]:
    return finish(start(tmp_path, task, *overrides))


def one_error_line(status: int, lines: list[str], task: str, *phrases: str) -> None:
    assert status == 2, lines
    assert len(lines) == 1 and lines[0].startswith(f"winclip-lit {task}: error: "), lines
    for phrase in phrases:
        assert phrase in lines[0], lines


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    """`winclip-lit export export.categories=[screw]`: the zero-shot tiny model as screw.onnx."""
    tmp = tmp_path_factory.mktemp("export")
    status, lines = run(tmp, "export", "export.categories=[screw]", f"hydra.run.dir={tmp / 'run'}")
    assert status == 0, lines
    return tmp / "run" / "screw.onnx"


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory) -> Path:
    """Images in a subfolder, x.png next to x.jpg (different pictures), and a corrupt file."""
    folder = tmp_path_factory.mktemp("mixed") / "images"
    first, second, third = write_images(folder / "source", 3, seed=7)
    (folder / "sub").mkdir()
    shutil.copy(first, folder / "sub" / "a.png")
    shutil.copy(second, folder / "x.png")
    Image.open(third).convert("RGB").save(folder / "x.jpg", quality=95)
    shutil.rmtree(folder / "source")
    (folder / "y_broken.png").write_bytes(b"\x89PNG not really an image")
    return folder


@pytest.fixture(scope="module")
def clean_folder(tmp_path_factory) -> Path:
    """Two readable images, nothing else."""
    folder = tmp_path_factory.mktemp("clean") / "images"
    write_images(folder, 2, seed=3)
    return folder


def read_rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "scores.csv").open() as handle:
        return list(csv.DictReader(handle))


def test_every_backend_lists_names_skips_and_scores_alike(exported, mixed_folder, tmp_path):
    """Before: the exported backends found no images in subfolders (exit 2, "contains no images"), the
    corrupt file stopped them without scores.csv, and x.png/x.jpg both wrote overlays/x.png."""
    procs = {
        backend: start(
            tmp_path,
            "predict",
            f"predict.input_dir={mixed_folder}",
            f"predict.backend={backend}",
            *(["predict.category=screw"] if backend == "torch" else [f"predict.model={exported}"]),
            "loader.batch_size=2",
            f"hydra.run.dir={tmp_path / backend}",
        )
        for backend in BACKENDS
    }
    rows = {}
    for backend, proc in procs.items():
        status, lines = finish(proc)
        run_dir = tmp_path / backend
        assert status == 2, (backend, lines)
        assert lines[-1].startswith("winclip-lit predict: error: 1 unreadable image(s) skipped"), lines
        assert any(line.startswith(f"skipped {mixed_folder / 'y_broken.png'}: ") for line in lines), lines
        assert (run_dir / "skipped.txt").read_text() == f"{mixed_folder / 'y_broken.png'}\n"
        rows[backend] = read_rows(run_dir)
        assert [
            Path(r["image"]).relative_to(mixed_folder).as_posix() for r in rows[backend]
        ] == EXPECTED_IMAGES
        assert [r["overlay"] for r in rows[backend]] == EXPECTED_OVERLAYS
        written = sorted(
            p.relative_to(run_dir / "overlays").as_posix() for p in run_dir.rglob("overlays/**/*.png")
        )
        assert written == sorted(EXPECTED_OVERLAYS), backend
        for row in rows[backend]:
            assert row["anomalous"] == str(int(float(row["image_score"]) >= 0.5))
            assert np.asarray(Image.open(run_dir / "overlays" / row["overlay"])).shape == (64, 128, 3)
    reference = rows["torch"]
    for backend in BACKENDS[1:]:
        assert [r["image"] for r in rows[backend]] == [r["image"] for r in reference]
        assert [r["anomalous"] for r in rows[backend]] == [r["anomalous"] for r in reference]
        for column in ("image_score", "max_pixel_score"):
            got = np.array([float(r[column]) for r in rows[backend]])
            expected = np.array([float(r[column]) for r in reference])
            assert np.abs(got - expected).max() < 1e-5, (backend, column, got, expected)
    scores = np.array([float(r["image_score"]) for r in reference])
    assert len(set(scores.round(6))) == 3  # three different pictures, three different scores


@pytest.mark.parametrize(
    ("override", "key"),
    [("predict.category=bottle", "predict.category=bottle"), ("ckpt_path={ckpt}", "ckpt_path=")],
)
def test_category_or_checkpoint_with_an_exported_model_is_refused(
    exported, clean_folder, tmp_path, override, key
):
    """Before: both were silently ignored (exit 0, the graph's own category scored)."""
    checkpoint = tmp_path / "checkpoint.pt"
    checkpoint.write_bytes(b"")
    status, lines = run(
        tmp_path,
        "predict",
        f"predict.input_dir={clean_folder}",
        "predict.backend=onnxruntime",
        f"predict.model={exported}",
        override.format(ckpt=checkpoint),
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    one_error_line(status, lines, "predict", key, "predict.backend=onnxruntime")
    assert not (tmp_path / "run" / "scores.csv").exists()


def test_sidecar_image_size_is_checked_against_the_graph(exported, clean_folder, tmp_path):
    """Before: a sidecar whose image_size differs from the graph's input ended in a runtime traceback."""
    copy = tmp_path / "model" / "screw.onnx"
    copy.parent.mkdir()
    shutil.copy(exported, copy)
    data = json.loads(sidecar_path(exported).read_text())
    data["preprocessing"]["image_size"] = 32
    sidecar_path(copy).write_text(json.dumps(data))
    for backend in BACKENDS[1:]:
        status, lines = run(
            tmp_path,
            "predict",
            f"predict.input_dir={clean_folder}",
            f"predict.backend={backend}",
            f"predict.model={copy}",
            f"hydra.run.dir={tmp_path / backend}",
        )
        one_error_line(status, lines, "predict", "image_size 32", "64 x 64")
        assert not (tmp_path / backend / "scores.csv").exists()


def test_export_opset_is_range_checked_and_the_sidecar_records_the_graphs(tmp_path):
    """Before: export.opset=5 was accepted, the graph came out as opset 18 and the sidecar said 5."""
    low = start(
        tmp_path, "export", "export.categories=[screw]", "export.opset=5", f"hydra.run.dir={tmp_path / 'low'}"
    )
    high = start(
        tmp_path,
        "export",
        "export.categories=[screw]",
        "export.opset=21",
        f"hydra.run.dir={tmp_path / 'high'}",
    )
    one_error_line(*finish(low), "export", "export.opset=5", "18")
    assert not list(tmp_path.glob("low/*.onnx"))
    status, lines = finish(high)
    assert status == 0, lines
    graph = onnx.load(str(tmp_path / "high" / "screw.onnx"), load_external_data=False)
    versions = {entry.domain: entry.version for entry in graph.opset_import}
    assert versions.get("", versions.get("ai.onnx")) == 21
    assert json.loads(sidecar_path(tmp_path / "high" / "screw.onnx").read_text())["opset"] == 21
