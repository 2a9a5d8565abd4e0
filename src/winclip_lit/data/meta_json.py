"""Any dataset described by a ``meta.json`` (the APRIL-GAN / AnomalyCLIP / AdaCLIP convention).

``root/meta.json`` is ``{"train": {cls: [entry, ...]}, "test": {cls: [entry, ...]}}`` with entries
``{"img_path", "mask_path" ("" without a mask), "cls_name", "specie_name", "anomaly" (0/1)}``. Paths are
relative to ``root`` or, as some generator scripts write them, already prefixed with it; both are accepted.
The categories are the class names. References come only from ``train`` entries with ``anomaly`` 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from winclip_lit.data.base import AnomalyDataModule
from winclip_lit.data.dataset import TestRecord
from winclip_lit.data.errors import DatasetError, warn_dataset
from winclip_lit.data.io import read_json

META_FILE = "meta.json"
_KEYS = ("img_path", "mask_path", "anomaly")


def read_meta(path: Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The ``train`` and ``test`` parts of a meta.json (``train`` may be absent: zero-shot only).

    Raises:
        DatasetError: If the file is missing, not JSON, or not shaped ``{"test": {cls: [entry, ...]}}``.
    """
    meta = read_json(
        path,
        "meta.json",
        "write it with the dataset's generator script (APRIL-GAN/AnomalyCLIP convention) or point "
        "dataset.root at the folder that holds it",
        "regenerate it",
    )
    parts = {}
    for split in ("train", "test"):
        part = meta.get(split, {}) if isinstance(meta, dict) else None
        if not isinstance(part, dict) or not all(isinstance(v, list) for v in part.values()):
            raise DatasetError(
                f"meta.json {path}: {split!r} must map each class name to a list of entries; regenerate it"
            )
        parts[split] = part
    if not parts["test"]:
        raise DatasetError(f"meta.json {path} has no 'test' entries; regenerate it")
    return parts


class MetaJsonDataModule(AnomalyDataModule):
    """Test sets and k-shot references of a dataset described by ``root/meta.json``.

    A class whose test entries have no masks is image-level (``has_masks(cls)`` False: image metrics
    only); a class whose test images are all anomalous has no image-level ground truth
    (``has_both_labels(cls)`` False: pixel metrics only), said once per datamodule. A class without
    normal ``train`` entries is zero-shot only.

    Args:
        root: The folder that holds ``meta.json``.
        categories: "all", one class name, a comma-separated string or a list of names.
        **kwargs: Common options of :class:`~winclip_lit.data.base.AnomalyDataModule`.
    """

    dataset_name = "meta.json"
    download_hint = "point dataset.root at the folder that holds meta.json and the images it lists"

    def __init__(self, root: str | Path, categories: Any = "all", **kwargs: Any) -> None:
        self._meta: dict[str, dict[str, list[dict[str, Any]]]] = {}
        super().__init__(root, categories, **kwargs)
        self._report_label_gaps()

    @property
    def meta_file(self) -> Path:
        """The meta.json in use."""
        return self.root / META_FILE

    def _check_root(self) -> None:
        super()._check_root()
        self._meta = read_meta(self.meta_file)
        self.known_categories = tuple(sorted(self._meta["test"]))

    def _entries(self, split: str, category: str) -> list[dict[str, Any]]:
        entries = self._meta[split].get(category, [])
        for entry in entries:
            missing = [k for k in _KEYS if not isinstance(entry, dict) or k not in entry]
            if missing:
                raise DatasetError(
                    f"meta.json {self.meta_file}: a {split} entry of class {category!r} lacks "
                    f"{', '.join(missing)}; each entry needs img_path, mask_path and anomaly"
                )
            if entry["anomaly"] not in (0, 1, "0", "1"):
                raise DatasetError(
                    f"meta.json {self.meta_file}: {entry['img_path']} has anomaly={entry['anomaly']!r}; "
                    "expected 0 (normal) or 1 (anomalous)"
                )
        return entries

    def _file(self, relative: str, what: str) -> Path:
        """``relative`` under the root, or as written when it already carries the root (any form)."""
        path = Path(relative)
        candidates = [self.root / path, path]
        if self.root.name in path.parts:  # e.g. "data/mvtec/bottle/..." for the root ".../mvtec"
            after = path.parts[len(path.parts) - path.parts[::-1].index(self.root.name) :]
            candidates.append(self.root.joinpath(*after))
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        raise DatasetError(
            f"{what} {relative!r} listed in {self.meta_file} does not exist (looked for {self.root / path}); "
            "fix meta.json or dataset.root"
        )

    def _test_records(self, category: str) -> list[TestRecord]:
        records = []
        for entry in self._entries("test", category):
            image = self._file(entry["img_path"], "image")
            if int(entry["anomaly"]) == 0:
                records.append(TestRecord(image, None, 0, "good"))
                continue
            mask = self._file(entry["mask_path"], "mask") if entry.get("mask_path") else None
            records.append(TestRecord(image, mask, 1, str(entry.get("specie_name") or "anomaly")))
        with_mask = {r.mask is not None for r in records if r.label == 1}
        if len(with_mask) > 1:
            lacking = next(r.image for r in records if r.label == 1 and r.mask is None)
            raise DatasetError(
                f"meta.json {self.meta_file}: class {category!r} gives masks for some anomalous test images "
                f"but not for {lacking}; give every anomalous image a mask_path or none"
            )
        return sorted(records, key=lambda r: r.image.as_posix())

    def _reference_pool(self, category: str) -> list[Path]:
        pool = [
            self._file(e["img_path"], "image")
            for e in self._entries("train", category)
            if int(e["anomaly"]) == 0
        ]
        if not pool and self.k_shot > 0:
            raise DatasetError(
                f"meta.json {self.meta_file} has no normal train entries for class {category!r}, so it is "
                f"zero-shot only: use shot.k=0 (got k_shot={self.k_shot})"
            )
        return sorted(pool, key=lambda p: p.as_posix())

    def has_masks(self, category: str | None = None) -> bool:
        """Whether the anomalous test images of ``category`` (default: any configured one) have masks."""
        names = [category] if category is not None else self.categories
        return any(r.mask is not None for c in names for r in self._records[c])

    def has_both_labels(self, category: str) -> bool:
        """Whether ``category`` has normal and anomalous test images (image metrics are defined)."""
        return len({r.label for r in self._records[category]}) == 2

    def _report_label_gaps(self) -> None:
        only_anomalous = [c for c in self.categories if all(r.label == 1 for r in self._records[c])]
        if only_anomalous:
            warn_dataset(
                f"meta.json {self.meta_file}: every test image of {', '.join(only_anomalous)} is anomalous, "
                "so image-level metrics are undefined there; only pixel metrics are meaningful"
            )
