"""Metrics per anomaly type: each type's anomalous images together with all normal images of the category
(MVTec LOCO's logical and structural anomalies, as its papers report them beside the total)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from winclip_lit.metrics.collection import AnomalyMetrics

NORMAL_DEFECT = "good"
"""The ``defect`` of normal test images."""


def defect_type_samples(defects: Mapping[int, str], types: Sequence[str]) -> dict[str, list[int]]:
    """Sample ids per anomaly type: the normal samples and those of that type (types absent are left out).

    Examples:
        >>> defect_type_samples({0: "good", 1: "logical", 2: "structural"}, ["logical", "structural", "x"])
        {'logical': [0, 1], 'structural': [0, 2]}
    """
    normal = [i for i, d in sorted(defects.items()) if d == NORMAL_DEFECT]
    groups = {}
    for kind in types:
        mine = [i for i, d in sorted(defects.items()) if d == kind]
        if mine:
            groups[kind] = sorted(normal + mine)
    return groups


def metrics_by_defect_type(
    metrics: AnomalyMetrics, groups: Mapping[str, Sequence[int]]
) -> dict[str, dict[str, float]]:
    """``{type: {metric: value}}`` of one category from its metric collection (updated with sample ids).

    Args:
        metrics: The category's metric collection after its updates.
        groups: The sample ids of each type's subset (:func:`defect_type_samples`); empty: none.

    A collective call under DDP (every rank must call it with the same groups).
    """
    return {kind: metrics.compute_subset(ids) for kind, ids in groups.items()}
