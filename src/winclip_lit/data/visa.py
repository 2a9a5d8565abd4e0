"""VisA, raw release layout read through the official split file ``root/split_csv/1cls.csv``."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any

from winclip_lit.data.base import AnomalyDataModule
from winclip_lit.data.dataset import TestRecord
from winclip_lit.data.errors import DatasetError

VISA_CATEGORIES = (
    "candle",
    "capsules",
    "cashew",
    "chewinggum",
    "fryum",
    "macaroni1",
    "macaroni2",
    "pcb1",
    "pcb2",
    "pcb3",
    "pcb4",
    "pipe_fryum",
)
VISA_SPLIT_FILE = Path("split_csv") / "1cls.csv"
_COLUMNS = ("object", "split", "label", "image", "mask")


def read_split_csv(path: Path) -> dict[str, list[dict[str, str]]]:
    """Rows of a VisA split file grouped by object (category), in file order.

    Raises:
        DatasetError: If the file is missing or lacks one of the columns object,split,label,image,mask.
    """
    if not path.is_file():
        raise DatasetError(
            f"VisA split file {path} does not exist; download_dataset('visa', root) fetches it, or copy "
            "split_csv/1cls.csv of the VisA release into the dataset root"
        )
    try:
        # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is skipped instead of renaming the first column.
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in _COLUMNS if c not in header]
            if missing:
                raise DatasetError(
                    f"VisA split file {path} lacks column(s) {', '.join(missing)}; expected the header "
                    f"{','.join(_COLUMNS)} of the official 1cls.csv"
                )
            rows: dict[str, list[dict[str, str]]] = defaultdict(list)
            for row in reader:
                clean = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
                rows[clean["object"]].append(clean)
    except (UnicodeDecodeError, csv.Error) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(
            f"VisA split file {path} is not a readable UTF-8 CSV ({reason}); replace it with split_csv/1cls.csv "
            "of the VisA release (download_dataset('visa', root) fetches it)"
        ) from exc
    return dict(rows)


class VisADataModule(AnomalyDataModule):
    """VisA test sets and k-shot references (the split file's train/normal rows).

    Args: see :class:`~winclip_lit.data.base.AnomalyDataModule`; ``split_file`` overrides the split CSV
    (default ``root/split_csv/1cls.csv``; a relative path is taken relative to ``root``).
    """

    dataset_name = "VisA"
    known_categories = VISA_CATEGORIES
    download_hint = (
        "download and extract VisA there with winclip_lit.data.download_dataset('visa', root), "
        "or point root at the folder that holds candle/, capsules/, ... and split_csv/"
    )

    def __init__(
        self, root: str | Path, *args: Any, split_file: str | Path | None = None, **kwargs: Any
    ) -> None:
        self._split_file = split_file
        self._rows: dict[str, list[dict[str, str]]] | None = None
        super().__init__(root, *args, **kwargs)

    @property
    def split_file(self) -> Path:
        """The split CSV in use."""
        if self._split_file is None:
            return self.root / VISA_SPLIT_FILE
        path = Path(self._split_file).expanduser()
        return path if path.is_absolute() else self.root / path

    def _category_rows(self, category: str) -> list[dict[str, str]]:
        if self._rows is None:
            self._rows = read_split_csv(self.split_file)
        rows = self._rows.get(category, [])
        if not rows:
            raise DatasetError(
                f"VisA split file {self.split_file} has no rows for category {category!r}; "
                "use the official 1cls.csv or choose other categories"
            )
        return rows

    def _check_category(self, category: str) -> None:
        self._category_rows(category)
        if not (self.root / category).is_dir():
            raise DatasetError(
                f"VisA folder {self.root / category} does not exist; the dataset under {self.root} is "
                "incomplete, re-extract it (download_dataset('visa', root)) or choose other categories"
            )

    def _existing(self, relative: str, what: str) -> Path:
        path = self.root / relative
        if not path.is_file():
            raise DatasetError(
                f"{what} {path} listed in {self.split_file} does not exist; re-extract VisA under {self.root}"
            )
        return path

    def _reference_pool(self, category: str) -> list[Path]:
        pool = [
            self._existing(row["image"], "VisA image")
            for row in self._category_rows(category)
            if row["split"] == "train" and row["label"] == "normal"
        ]
        return sorted(pool, key=lambda p: p.as_posix())

    def _test_records(self, category: str) -> list[TestRecord]:
        records: list[TestRecord] = []
        for row in self._category_rows(category):
            if row["split"] != "test":
                continue
            image = self._existing(row["image"], "VisA image")
            if row["label"] == "normal":
                records.append(TestRecord(image, None, 0, "good"))
            elif row["label"] == "anomaly":
                if not row["mask"] or not (self.root / row["mask"]).is_file():
                    expected = self.root / row["mask"] if row["mask"] else "a mask path in the CSV"
                    raise DatasetError(
                        f"test image {image} has no mask: expected {expected}; re-extract VisA "
                        f"or fix {self.split_file}"
                    )
                records.append(TestRecord(image, self.root / row["mask"], 1, "anomaly"))
            else:
                raise DatasetError(
                    f"VisA split file {self.split_file} has label {row['label']!r} for {image}; "
                    "expected 'normal' or 'anomaly'"
                )
        return sorted(records, key=lambda r: r.image.as_posix())
