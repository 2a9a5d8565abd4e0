"""Shared multi-category datamodule: category selection, k-shot references, test dataloader."""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import lightning as L
import torch
from lightning.pytorch.utilities.rank_zero import rank_zero_only
from PIL import Image
from torch.utils.data import DataLoader

from winclip_lit.data.dataset import AnomalyTestDataset, EvalSize, TestRecord
from winclip_lit.data.errors import DatasetError, warn_dataset
from winclip_lit.data.io import image_size_hw, load_image, lossy_mask_reason, open_image
from winclip_lit.data.sampling import calibration_files, sample_reference_files, split_validation
from winclip_lit.model.preprocess import OPENAI_MEAN, OPENAI_STD, ImageTransform

log = logging.getLogger(__name__)

MASK_PROBES = 16
"""Masks per category checked for lossy values when the category is set up (see ``mask_threshold``)."""


def parse_eval_size(eval_size: Any, image_size: int) -> EvalSize:
    """Normalise the ``eval_size`` option.

    Args:
        eval_size: None (the model input size), an int, an (h, w) pair, or "original".
        image_size: The model input size S.

    Returns:
        (h, w) or "original".
    """
    if eval_size is None:
        return (image_size, image_size)
    if isinstance(eval_size, str):
        if eval_size.strip().lower() == "original":
            return "original"
        if eval_size.strip().isdigit():
            eval_size = int(eval_size)
    if isinstance(eval_size, int) and not isinstance(eval_size, bool):
        pair = (eval_size, eval_size)
    elif not isinstance(eval_size, str) and isinstance(eval_size, Iterable):
        pair = tuple(eval_size)
    else:
        pair = ()
    if len(pair) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair):
        raise DatasetError(
            f"eval_size={eval_size!r} is invalid; use None, a positive int, [h, w] or 'original'"
        )
    return (int(pair[0]), int(pair[1]))


def parse_mask_threshold(value: Any) -> float | None:
    """Check the ``mask_threshold`` option: None, or a number in [0, 1)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= float(value) < 1.0:
        return float(value)
    raise DatasetError(
        f"mask_threshold={value!r} must be null or a number in [0, 1): a mask pixel is anomalous when its "
        "value is > threshold x full scale (e.g. 0.5 for JPEG masks); null keeps the > 0 rule"
    )


class AnomalyDataModule(L.LightningDataModule):
    """Base of the MVTec-AD, VisA and folder datamodules.

    One object serves every configured category: ``select(category)`` then ``setup("test")`` and
    ``test_dataloader()`` give that category's test set; ``reference_files`` / ``reference_images`` give
    its seeded k-shot references. Subclasses only list files (``_check_root``, ``_check_category``,
    ``_test_records``, ``_reference_pool``).

    Args:
        root: Dataset root folder.
        categories: "all", one category name, a comma-separated string or a list of names.
        transform: PIL image -> (3,S,S) tensor applied to test and reference images alike; None builds
            ``ImageTransform(image_size)`` with the OpenAI CLIP mean/std.
        image_size: Model input size S.
        eval_size: Size of the returned masks: None (S, S), an int, (h, w) or "original".
        k_shot: Number of reference images per category (0: zero-shot).
        seed: Seed of the reference draw.
        batch_size: Test batch size.
        num_workers: Dataloader worker processes (decode and resize run there).
        pin_memory: Pin batches; None means True when CUDA is available.
        persistent_workers: Keep workers alive between iterations of one dataloader (num_workers > 0).
        mask_threshold: None (default): a mask pixel is anomalous when its value is > 0 (clean 0/255 masks,
            VisA's class ids). A number ``t`` in [0, 1): when its value is > ``t`` x the full scale (255
            for 8-bit masks), for lossy masks (JPEG, faint background). Lossy-looking masks are reported
            once per datamodule with a :class:`~winclip_lit.data.errors.DatasetWarning` while ``t`` is None.
    """

    dataset_name: ClassVar[str] = "dataset"
    known_categories: ClassVar[tuple[str, ...]] = ()
    download_hint: ClassVar[str] = ""
    #: Anomaly types whose metrics are reported beside the total (MVTec LOCO's logical and structural).
    reported_defect_types: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        root: str | Path,
        categories: str | Iterable[str] = "all",
        transform: Callable[[Image.Image], torch.Tensor] | None = None,
        image_size: int = 240,
        eval_size: Any = None,
        k_shot: int = 0,
        seed: int = 0,
        batch_size: int = 8,
        num_workers: int = 2,
        pin_memory: bool | None = None,
        persistent_workers: bool = False,
        mask_threshold: float | None = None,
    ) -> None:
        super().__init__()
        self.mask_threshold = parse_mask_threshold(mask_threshold)
        self._lossy_masks_reported = False
        self.root = Path(root).expanduser()
        self.image_size = int(image_size)
        if transform is None:
            transform = ImageTransform(self.image_size, OPENAI_MEAN, OPENAI_STD)
        transform_size = getattr(transform, "image_size", None)
        if transform_size is not None and int(transform_size) != self.image_size:
            raise DatasetError(
                f"transform resizes to {transform_size} px but image_size={self.image_size}; "
                "pass the model's input size as image_size"
            )
        self.transform = transform
        self.eval_size = parse_eval_size(eval_size, self.image_size)
        self.k_shot = int(k_shot)
        if self.k_shot < 0:
            raise DatasetError(f"k_shot must be >= 0, got {self.k_shot}")
        self.seed = int(seed)
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.pin_memory = torch.cuda.is_available() if pin_memory is None else bool(pin_memory)
        self.persistent_workers = bool(persistent_workers) and self.num_workers > 0
        self._check_root()
        self.categories: list[str] = self._resolve_categories(categories)
        for category in self.categories:
            self._check_category(category)
        # Listing is cheap: missing masks or empty folders fail here, before any model is loaded.
        self._records: dict[str, list[TestRecord]] = {c: self._list_records(c) for c in self.categories}
        self._references: dict[str, list[Path]] = {}
        self._pools: dict[str, list[Path]] = {}
        self._validation: dict[str, list[TestRecord]] = {}
        for category in self.categories:  # k larger than a pool fails here too
            self.reference_files(category)
        self._category: str | None = self.categories[0] if len(self.categories) == 1 else None
        self._datasets: dict[str, AnomalyTestDataset] = {}
        self.test_dataset: AnomalyTestDataset | None = None

    # ----- hooks for subclasses -------------------------------------------------------------------
    def _check_root(self) -> None:
        """Raise if the dataset root is missing (cheap)."""
        if not self.root.is_dir():
            raise DatasetError(f"{self.dataset_name} root {self.root} does not exist; {self.download_hint}")

    def _check_category(self, category: str) -> None:
        """Raise if ``category`` is absent on disk (cheap; called at construction)."""

    @abstractmethod
    def _test_records(self, category: str) -> list[TestRecord]:
        """The category's test images in a deterministic (sorted) order; masks checked for presence."""
        raise NotImplementedError

    @abstractmethod
    def _reference_pool(self, category: str) -> list[Path]:
        """The category's normal images that references are drawn from (never tested)."""
        raise NotImplementedError

    def _pool(self, category: str) -> list[Path]:
        """``_reference_pool(category)``, listed once (references and calibration images draw from it)."""
        if category not in self._pools:
            self._pools[category] = self._reference_pool(category)
        return list(self._pools[category])

    def has_masks(self, category: str | None = None) -> bool:
        """Whether anomalous test images of ``category`` come with pixel ground truth."""
        return True

    def has_both_labels(self, category: str) -> bool:
        """Whether ``category``'s test set has normal and anomalous images (image metrics defined)."""
        return True

    # ----- categories ------------------------------------------------------------------------------
    def _resolve_categories(self, categories: str | Iterable[str]) -> list[str]:
        if isinstance(categories, str):
            names = (
                list(self.known_categories)
                if categories.strip().lower() == "all"
                else [c.strip() for c in categories.split(",") if c.strip()]
            )
        else:
            names = [str(c) for c in categories]
        if not names:
            raise DatasetError(f"no {self.dataset_name} category given; use 'all' or a category name")
        unknown = [c for c in names if c not in self.known_categories]
        if unknown:
            raise DatasetError(
                f"unknown {self.dataset_name} category {unknown[0]!r}; valid categories: "
                f"{', '.join(self.known_categories)} (or 'all')"
            )
        return list(dict.fromkeys(names))

    @property
    def category(self) -> str | None:
        """The currently selected category."""
        return self._category

    def select(self, category: str) -> AnomalyDataModule:
        """Make ``category`` the one that ``setup("test")`` and ``test_dataloader()`` serve."""
        self._category = self._validate(category)
        self.test_dataset = None
        return self

    def _validate(self, category: str) -> str:
        if category not in self.categories:
            raise DatasetError(
                f"category {category!r} is not configured for this {self.dataset_name} datamodule; "
                f"configured: {', '.join(self.categories)}"
            )
        return category

    def _current(self, category: str | None) -> str:
        if category is not None:
            return self._validate(category)
        if self._category is None:
            raise DatasetError(
                f"several categories are configured ({', '.join(self.categories)}); "
                "call select(category) first"
            )
        return self._category

    # ----- references ------------------------------------------------------------------------------
    def reference_files(self, category: str | None = None) -> list[Path]:
        """The ``k_shot`` seeded reference files of ``category`` (default: the selected one)."""
        category = self._current(category)
        if self.k_shot == 0:
            return []
        if category not in self._references:
            files = sample_reference_files(self._pool(category), self.k_shot, self.seed)
            log.info(
                "%s/%s: %d-shot references (seed %d): %s",
                self.dataset_name,
                category,
                self.k_shot,
                self.seed,
                ", ".join(self._relative(p) for p in files),
            )
            self._references[category] = files
        return list(self._references[category])

    def reference_names(self, category: str | None = None) -> list[str]:
        """Reference files as paths relative to the dataset root (for logging with results)."""
        return [self._relative(p) for p in self.reference_files(category)]

    def reference_images(self, category: str | None = None) -> torch.Tensor | None:
        """The references through the test transform, shape (k,3,S,S); None when ``k_shot == 0``."""
        files = self.reference_files(category)
        if not files:
            return None
        return torch.stack([self.transform(load_image(p)) for p in files])

    # ----- decision thresholds (docs/thresholds.md) ------------------------------------------------
    def calibration_dataset(self, category: str, n: int, skip: int | None = None) -> AnomalyTestDataset:
        """``n`` seeded normal calibration images of ``category``, never one of its references.

        Args:
            category: The category.
            n: Number of calibration images (``threshold.num_calibration``).
            skip: Number of references drawn with the same seed (default ``k_shot``).
        """
        category = self._validate(category)
        k = self.k_shot if skip is None else int(skip)
        files = calibration_files(self._pool(category), k, n, self.seed)
        records = [TestRecord(image=p, mask=None, label=0, defect="good") for p in files]
        return AnomalyTestDataset(records, self.transform, self.eval_size, category, self.mask_threshold)

    def hold_out_validation(self, share: float) -> None:
        """Move a seeded part (``share`` of each class) of every category's test images to its validation part.

        The validation images leave the test set (and so the metrics); call before ``setup``.
        """
        for category in self.categories:
            records = self._records[category]
            names = [self._relative(r.image) for r in records]
            held = set(split_validation([r.label for r in records], names, share, self.seed))
            self._validation[category] = [r for i, r in enumerate(records) if i in held]
            self._records[category] = [r for i, r in enumerate(records) if i not in held]
            self._datasets.pop(category, None)

    def validation_dataset(self, category: str) -> AnomalyTestDataset:
        """The validation part of ``category`` (see :meth:`hold_out_validation`)."""
        category = self._validate(category)
        records = self._validation.get(category, [])
        return AnomalyTestDataset(records, self.transform, self.eval_size, category, self.mask_threshold)

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    # ----- test data -------------------------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        """Build the test dataset of the selected category (cached per category)."""
        category = self._current(None)
        if category not in self._datasets:
            records = self._records[category]
            tested = {r.image.resolve() for r in records}
            overlap = [p for p in self.reference_files(category) if p.resolve() in tested]
            if overlap:
                raise DatasetError(
                    f"reference image {overlap[0]} is also a test image; "
                    "keep the reference pool and the test images apart"
                )
            if self.eval_size == "original":
                self._check_uniform_size(category, records)
            self._report_lossy_masks(records)
            self._datasets[category] = AnomalyTestDataset(
                records, self.transform, self.eval_size, category, self.mask_threshold
            )
        self.test_dataset = self._datasets[category]

    def _report_lossy_masks(self, records: list[TestRecord]) -> None:
        """Warn once per datamodule when probed masks look lossy under the ``> 0`` rule.

        Up to :data:`MASK_PROBES` masks per category, spread over its anomalous images, are decoded here
        in the main process (cheap); nothing is probed once a ``mask_threshold`` is set.
        """
        if self.mask_threshold is not None or self._lossy_masks_reported:
            return
        masks = [r.mask for r in records if r.mask is not None]
        picks = sorted({round(i * (len(masks) - 1) / (MASK_PROBES - 1)) for i in range(MASK_PROBES)})
        for path in (masks[i] for i in picks if masks):
            reason = lossy_mask_reason(open_image(path))
            if reason is not None:
                self._lossy_masks_reported = True
                message = (
                    f"{self.dataset_name} mask {path} looks lossy: it {reason}; the > 0 rule counts every "
                    "such pixel as anomalous and inflates the ground truth: set dataset.mask_threshold=0.5 "
                    "(value > 0.5 x full scale) or save clean 0/255 PNG masks (docs/data.md)"
                )
                log.info(message)  # the run's log file; the console gets the warning's one line
                if rank_zero_only.rank == 0:
                    warn_dataset(message)
                return

    def _list_records(self, category: str) -> list[TestRecord]:
        records = self._test_records(category)
        if not records:
            raise DatasetError(
                f"{self.dataset_name} category {category!r} has no test images under {self.root}"
            )
        return records

    def test_records(self, category: str | None = None) -> list[TestRecord]:
        """The test images of ``category`` (default: the selected one) in loader order."""
        return list(self._records[self._current(category)])

    def _check_uniform_size(self, category: str, records: list[TestRecord]) -> None:
        first = image_size_hw(records[0].image)
        for record in records[1:]:
            size = image_size_hw(record.image)
            if size != first:
                raise DatasetError(
                    f"eval_size='original' needs one image size per category, but in {category!r} "
                    f"{records[0].image} is {first[0]}x{first[1]} (h x w) and {record.image} is "
                    f"{size[0]}x{size[1]}; set a fixed eval_size such as {self.image_size} or [h, w]"
                )

    def test_dataloader(self) -> DataLoader:
        """Test loader of the selected category: sorted, unshuffled, all samples kept."""
        if self.test_dataset is None or self.test_dataset.category != self._category:
            self.setup("test")
        return DataLoader(
            self.test_dataset,
            batch_size=self.batch_size,
            shuffle=False,
            drop_last=False,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(root={str(self.root)!r}, categories={self.categories}, "
            f"k_shot={self.k_shot}, seed={self.seed}, eval_size={self.eval_size!r})"
        )

    __str__ = __repr__
