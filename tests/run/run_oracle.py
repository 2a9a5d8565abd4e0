"""Independent reference computation of the evaluation: files read with PIL, scores from the model,
metrics from sklearn / numpy (no winclip_lit data or metrics code)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

from winclip_lit import WinCLIP


def f1_max(labels: np.ndarray, scores: np.ndarray) -> float:
    """Best F1 over all thresholds."""
    precision, recall, _ = precision_recall_curve(labels, scores)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    return float(f1.max())


def aupro(masks: np.ndarray, maps: np.ndarray, fpr_limit: float = 0.3) -> float:
    """MVTec AD AUPRO: 8-connected regions, every distinct score a threshold, area up to ``fpr_limit``."""
    from scipy import ndimage

    weights = np.zeros(masks.shape, dtype=np.float64)
    regions = []
    for i, mask in enumerate(masks):
        labelled, count = ndimage.label(mask, structure=np.ones((3, 3)))
        for r in range(1, count + 1):
            regions.append((i, labelled == r))
    for i, region in regions:
        weights[i][region] = 1.0 / (region.sum() * len(regions))
    scores, weights, normal = maps.ravel(), weights.ravel(), (masks.ravel() == 0)
    order = np.argsort(-scores, kind="stable")
    scores, weights, normal = scores[order], weights[order], normal[order]
    last = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]  # last index of each distinct score
    fpr = np.r_[0.0, np.cumsum(normal)[last] / normal.sum()]
    pro = np.r_[0.0, np.cumsum(weights)[last]]
    keep = fpr <= fpr_limit
    x, y = fpr[keep], pro[keep]
    if x[-1] < fpr_limit:
        j = np.searchsorted(fpr, fpr_limit)
        t = (fpr_limit - fpr[j - 1]) / (fpr[j] - fpr[j - 1])
        x, y = np.r_[x, fpr_limit], np.r_[y, pro[j - 1] + t * (pro[j] - pro[j - 1])]
    return float(np.trapezoid(y, x) / fpr_limit)


def operating_points(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """TPR at FPR <= 1 % / 5 % and TNR at FNR <= 1 % / 5 %: the best points of sklearn's full ROC curve,
    the limits compared on counts (FP x 100 <= percent x negatives)."""
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    n_neg, n_pos = int((labels == 0).sum()), int((labels == 1).sum())
    fp, tp = np.rint(fpr * n_neg), np.rint(tpr * n_pos)
    out = {}
    for percent in (1, 5):
        out[f"image_tpr_fpr{percent}"] = float(tp[fp * 100 <= percent * n_neg].max() / n_pos)
        out[f"image_tnr_fnr{percent}"] = float(
            (n_neg - fp[(n_pos - tp) * 100 <= percent * n_pos]).max() / n_neg
        )
    return out


def category_files(root: Path, category: str) -> tuple[list[Path], list[Path | None], list[int]]:
    """Test images (sorted by defect folder, then name), their masks and labels, MVTec-AD layout."""
    images, masks, labels = [], [], []
    for defect in sorted(d.name for d in (root / category / "test").iterdir()):
        for image in sorted((root / category / "test" / defect).iterdir()):
            images.append(image)
            labels.append(int(defect != "good"))
            masks.append(
                None
                if defect == "good"
                else root / category / "ground_truth" / defect / f"{image.stem}_mask.png"
            )
    return images, masks, labels


def evaluate_category(
    model: WinCLIP, root: Path, category: str, references: list[str], original_size: bool = False
) -> dict[str, float]:
    """Every metric of one category, computed directly (at the model input size, or at each image's
    own size with the maps upsampled bilinearly)."""
    images, mask_files, labels = category_files(root, category)
    height, width = Image.open(images[0]).size[::-1] if original_size else (model.image_size,) * 2
    batch = torch.stack([model.transform(Image.open(p)) for p in images])
    model.set_class_name(category)
    refs = [model.transform(Image.open(root / name)) for name in references]
    model.set_reference_images(torch.stack(refs) if refs else None)
    out = model(batch)
    scores = out.image_scores.numpy().astype(np.float64)
    maps = torch.nn.functional.interpolate(out.anomaly_maps[:, None], size=(height, width), mode="bilinear")
    maps = maps[:, 0].numpy().astype(np.float64)
    masks = np.stack(
        [
            np.zeros((height, width), bool)
            if m is None
            else np.asarray(Image.open(m).convert("L").resize((width, height), Image.Resampling.NEAREST)) > 0
            for m in mask_files
        ]
    )
    return oracle_metrics(np.asarray(labels), scores, masks, maps)


def oracle_metrics(
    labels: np.ndarray, scores: np.ndarray, masks: np.ndarray, maps: np.ndarray
) -> dict[str, float]:
    """Every metric of a category by sklearn and the numpy AUPRO/F1-max oracles above: the seven headline
    metrics, the operating points and mad (the mean of the seven)."""
    headline = {
        "image_auroc": roc_auc_score(labels, scores),
        "image_ap": average_precision_score(labels, scores),
        "image_f1max": f1_max(labels, scores),
        "pixel_auroc": roc_auc_score(masks.ravel(), maps.ravel()),
        "pixel_ap": average_precision_score(masks.ravel(), maps.ravel()),
        "pixel_f1max": f1_max(masks.ravel(), maps.ravel()),
        "pixel_aupro": aupro(masks, maps),
    }
    return {**headline, **operating_points(labels, scores), "mad": float(np.mean(list(headline.values())))}
