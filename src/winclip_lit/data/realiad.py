"""Real-IAD (Wang et al., CVPR 2024) read through its official split JSONs.

``root/realiad_<resolution>/<category>/...`` holds the images (``resolution``: 256, 512, 1024 or raw) and
``root/<json_variant>/<category>.json`` (also ``root/<json_variant>/<json_variant>/``) the split: ``meta``
plus ``train`` and ``test`` lists of entries ``{"category", "anomaly_class", "image_path", "mask_path"}``,
paths relative to the category's image folder (``meta.prefix``), masks beside their images. An entry is
normal when its ``anomaly_class`` is ``meta.normal_class`` (``OK``): the views of a defective sample
that do not show the defect are normal, as the JSON says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from winclip_lit.data.base import AnomalyDataModule
from winclip_lit.data.dataset import TestRecord
from winclip_lit.data.errors import DatasetError
from winclip_lit.data.io import read_json

REALIAD_CATEGORIES = (
    "audiojack",
    "bottle_cap",
    "button_battery",
    "end_cap",
    "eraser",
    "fire_hood",
    "mint",
    "mounts",
    "pcb",
    "phone_battery",
    "plastic_nut",
    "plastic_plug",
    "porcelain_doll",
    "regulator",
    "rolled_strip_base",
    "sim_card_set",
    "switch",
    "tape",
    "terminalblock",
    "toothbrush",
    "toy",
    "toy_brick",
    "transistor1",
    "u_block",
    "usb",
    "usb_adaptor",
    "vcpill",
    "wooden_beads",
    "woodstick",
    "zipper",
)
REALIAD_RESOLUTIONS = ("256", "512", "1024", "raw")
REALIAD_JSON_VARIANTS = ("realiad_jsons", "realiad_jsons_sv", "realiad_jsons_fuiad")
#: Where Real-IAD can be had: the authors' Hugging Face repository (access on request).
REALIAD_SOURCE = (
    "https://huggingface.co/datasets/Real-IAD/Real-IAD (access on request; see realiad4ad.github.io)"
)


class RealIADDataModule(AnomalyDataModule):
    """Real-IAD test sets (the JSON's ``test`` list) and k-shot references (its normal ``train`` entries).

    Args:
        root: The folder that holds ``realiad_<resolution>/`` and ``<json_variant>/``.
        categories: "all", one category name, a comma-separated string or a list of names.
        resolution: Image folder ``realiad_<resolution>``: 256, 512, 1024 or raw.
        json_variant: Split files: ``realiad_jsons`` (multi-view), ``realiad_jsons_sv`` (single view) or
            ``realiad_jsons_fuiad`` (fully unsupervised; references are still only its normal entries).
        **kwargs: Common options of :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "Real-IAD"
    known_categories = REALIAD_CATEGORIES
    download_hint = (
        f"download Real-IAD from {REALIAD_SOURCE} and point root at the folder that holds realiad_jsons/"
    )

    def __init__(
        self,
        root: str | Path,
        categories: Any = "all",
        resolution: int | str = 1024,
        json_variant: str = "realiad_jsons",
        **kwargs: Any,
    ) -> None:
        self.resolution = str(resolution).strip().lower()
        if self.resolution not in REALIAD_RESOLUTIONS:
            raise DatasetError(
                f"resolution={resolution!r} is not a Real-IAD release; use one of {', '.join(REALIAD_RESOLUTIONS)}"
            )
        if json_variant not in REALIAD_JSON_VARIANTS:
            raise DatasetError(
                f"json_variant={json_variant!r} is unknown; use one of {', '.join(REALIAD_JSON_VARIANTS)}"
            )
        self.json_variant = json_variant
        self._splits: dict[str, dict[str, Any]] = {}
        super().__init__(root, categories, **kwargs)

    @property
    def image_root(self) -> Path:
        """``root/realiad_<resolution>``."""
        return self.root / f"realiad_{self.resolution}"

    @property
    def json_dir(self) -> Path:
        """The folder of the category JSONs (the nested ``<variant>/<variant>/`` form too)."""
        nested = self.root / self.json_variant / self.json_variant
        return nested if nested.is_dir() else self.root / self.json_variant

    def _check_root(self) -> None:
        super()._check_root()
        for folder in (self.image_root, self.json_dir):
            if not folder.is_dir():
                raise DatasetError(
                    f"Real-IAD folder {folder} does not exist; extract realiad_{self.resolution}.zip and "
                    f"{self.json_variant}.zip under {self.root} (or set dataset.resolution / dataset.json_variant)"
                )

    def _split(self, category: str) -> dict[str, Any]:
        if category not in self._splits:
            path = self.json_dir / f"{category}.json"
            split = read_json(
                path,
                "Real-IAD split file",
                f"re-extract {self.json_variant} or choose other categories",
                "re-extract it",
            )
            if not isinstance(split, dict) or not all(
                isinstance(split.get(k), list) for k in ("train", "test")
            ):
                raise DatasetError(
                    f"Real-IAD split file {path} lacks its 'train' and 'test' lists; re-extract {self.json_variant}"
                )
            split["_path"] = path
            self._splits[category] = split
        return self._splits[category]

    def _check_category(self, category: str) -> None:
        self._split(category)

    def _file(self, category: str, relative: str, what: str) -> Path:
        split = self._split(category)
        prefix = str((split.get("meta") or {}).get("prefix") or f"{category}/")
        candidates = [
            self.image_root / prefix / relative,
            self.image_root / category / relative,
            self.image_root / relative,
        ]
        for candidate in dict.fromkeys(candidates):
            if candidate.is_file():
                return candidate
        raise DatasetError(
            f"Real-IAD {what} {candidates[0]} listed in {split['_path']} does not exist; extract "
            f"realiad_{self.resolution} completely (or set dataset.resolution)"
        )

    def _entries(self, category: str, part: str) -> list[tuple[dict[str, Any], bool]]:
        """(entry, is normal) of the ``train`` or ``test`` list."""
        split = self._split(category)
        normal = str((split.get("meta") or {}).get("normal_class") or "OK")
        out = []
        for entry in split[part]:
            if not isinstance(entry, dict) or not entry.get("image_path") or "anomaly_class" not in entry:
                raise DatasetError(
                    f"Real-IAD split file {split['_path']} has a {part} entry without image_path or "
                    f"anomaly_class ({str(entry)[:80]}); re-extract {self.json_variant}"
                )
            out.append((entry, str(entry["anomaly_class"]) == normal))
        return out

    def _test_records(self, category: str) -> list[TestRecord]:
        records = []
        for entry, normal in self._entries(category, "test"):
            image = self._file(category, entry["image_path"], "image")
            if normal:
                records.append(TestRecord(image, None, 0, "good"))
                continue
            if not entry.get("mask_path"):
                raise DatasetError(
                    f"Real-IAD test image {image} is anomalous ({entry['anomaly_class']}) but has no mask_path "
                    f"in {self._split(category)['_path']}; re-extract {self.json_variant}"
                )
            mask = self._file(category, entry["mask_path"], "mask")
            records.append(TestRecord(image, mask, 1, str(entry["anomaly_class"])))
        return sorted(records, key=lambda r: r.image.as_posix())

    def _reference_pool(self, category: str) -> list[Path]:
        pool = [
            self._file(category, e["image_path"], "image")
            for e, normal in self._entries(category, "train")
            if normal
        ]
        return sorted(pool, key=lambda p: p.as_posix())
