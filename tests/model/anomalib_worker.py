"""Runs the real anomalib 2.7.0 WinCLIP on PNG files, in the python of the anomalib env (not the project's).

Usage: ``python anomalib_worker.py REQUEST OUTPUT``. REQUEST is a ``torch.save``-d dict with
``model_configs`` (the folder of winclip-lit's open_clip model configs), ``model_name`` (the tiny backbone),
``size`` (its input size), ``class_name``, ``test`` and ``reference`` (lists of PNG paths). OUTPUT receives
the CLIP's ``state_dict`` (random weights, seed 0: nothing is downloaded), anomalib's pre-processed
``test`` / ``reference`` tensors, and its ``zero_shot`` / ``few_shot`` ``(pred_score, anomaly_map)``.

Exit status :data:`ENV_UNUSABLE` with one line on stderr when this python cannot run anomalib 2.7.0 with an
open_clip it supports; any other failure keeps its traceback. Imports nothing of winclip-lit (it runs
under open_clip 2.24, the project under open_clip >= 2.26).
"""

from __future__ import annotations

import sys

ENV_UNUSABLE = 3
ANOMALIB_VERSION = "2.7.0"


def _unusable(why: str) -> None:
    print(f"{sys.executable}: {why}", file=sys.stderr)
    sys.exit(ENV_UNUSABLE)


def _import_anomalib():
    """anomalib's WinCLIP modules and ``read_image``, or exit ENV_UNUSABLE saying why not."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        from anomalib.data.utils import read_image
        from anomalib.models.image.winclip import WinClip, torch_model
    except Exception as exc:  # any import failure means this env cannot run anomalib
        _unusable(f"cannot import anomalib's WinCLIP: {type(exc).__name__}: {exc}")
    try:
        versions = version("anomalib"), version("open_clip_torch")
    except PackageNotFoundError as exc:
        _unusable(f"no installed version of {exc}")
    if versions[0] != ANOMALIB_VERSION:
        _unusable(f"has anomalib {versions[0]}, not {ANOMALIB_VERSION}")
    if tuple(int(p) for p in versions[1].split(".")[:3]) >= (2, 26, 1):
        _unusable(f"has open_clip_torch {versions[1]}; anomalib's windows need < 2.26.1")
    return WinClip, torch_model, read_image


def main(request_path: str, output_path: str) -> None:
    WinClip, torch_model, read_image = _import_anomalib()  # noqa: N806 - anomalib's class name
    import open_clip
    import torch

    request = torch.load(request_path, weights_only=True)
    open_clip.add_model_config(request["model_configs"])
    # anomalib builds ViT-B-16-plus-240 with downloaded weights; the tiny random model instead.
    torch_model.BACKBONE, torch_model.PRETRAINED = request["model_name"], None
    torch.manual_seed(0)
    model = torch_model.WinClipModel(class_name=request["class_name"]).eval()
    pre = WinClip.configure_pre_processor().transform
    pre.transforms[0].size = [request["size"], request["size"]]  # the tiny model's input size, not 240

    def load(paths: list[str]) -> torch.Tensor:
        batch = torch.stack([read_image(p, as_tensor=True) for p in paths])
        return pre(batch).as_subclass(torch.Tensor)

    test, reference = load(request["test"]), load(request["reference"])
    with torch.no_grad():
        zero = model(test)
        model.setup(reference_images=reference)
        few = model(test)
    torch.save(
        {
            "state_dict": model.clip.state_dict(),
            "test": test,
            "reference": reference,
            "zero_shot": (zero.pred_score, zero.anomaly_map),
            "few_shot": (few.pred_score, few.anomaly_map),
        },
        output_path,
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
