"""Samples per anomaly type: each type's anomalous images together with all normal images of the category
(MVTec LOCO's logical and structural anomalies, as its papers report them beside the total); their metrics
come from ``AnomalyMetrics.compute_with_subsets``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
